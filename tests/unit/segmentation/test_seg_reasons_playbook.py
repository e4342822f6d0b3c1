"""The playbook writes ``<segment column>_reasons`` next to each segment column."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.compose import Playbook
from crmkit.data import CustomerData
from crmkit.datasets import make_crm
from crmkit.segmentation import DecileSegmenter, RFMSegmenter


class _Tiers(DecileSegmenter):
    """A segmenter that gives no reasons (third-party style)."""

    explain = None  # type: ignore[assignment]
    reasons = None  # type: ignore[assignment]


@pytest.fixture(scope="module")
def assessed() -> tuple[Playbook, pd.DataFrame, CustomerData]:
    crm = make_crm(150, seed=3)
    playbook = Playbook(
        segmenter=[
            "portfolio",
            RFMSegmenter(output_name="rfm"),
            _Tiers(n_groups=3, output_name="tier"),
        ],
        churn=None,
        care=None,
    ).fit(crm.data)
    return playbook, playbook.assess(crm.data), crm.data


def test_reasons_columns_follow_their_segment_columns(
    assessed: tuple[Playbook, pd.DataFrame, CustomerData],
) -> None:
    _, out, _ = assessed
    cols = out.columns.tolist()
    for name in ("portfolio", "rfm", "tier"):
        assert cols[cols.index(name) + 1] == f"{name}_reasons"
        reasons = out[f"{name}_reasons"]
        assert reasons.notna().all() and all(isinstance(t, str) and t for t in reasons)
        labels = out[name].astype(str)
        assert all(t.startswith(lab) for t, lab in zip(reasons, labels, strict=True))
    assert out["tier_reasons"].iloc[0] == f"{out['tier'].iloc[0]}: assigned by _Tiers"
    assert out["portfolio_reasons"].str.contains(" and clv ").all()


def test_reasons_are_the_same_for_one_customer(
    assessed: tuple[Playbook, pd.DataFrame, CustomerData],
) -> None:
    playbook, out, data = assessed
    reason_columns = ["portfolio_reasons", "rfm_reasons", "tier_reasons"]
    for cid in out.index[:: len(out) // 6]:
        one = playbook.assess(data.for_customer(cid))
        assert one.loc[cid, reason_columns].tolist() == out.loc[cid, reason_columns].tolist()
