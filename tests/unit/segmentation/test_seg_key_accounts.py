"""KeyAccountSegmenter: value share, customer share and flag rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import DataWarning, SchemaError
from crmkit.segmentation import KeyAccountSegmenter


def _view(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"revenue": values}, index=pd.Index([f"c{i}" for i in range(len(values))], name="id")
    )


def test_value_share_takes_the_fewest_largest_customers() -> None:
    rng = np.random.default_rng(3)
    values = rng.pareto(1.5, 500) * 100
    view = _view(values.tolist())
    for share in (0.2, 0.5, 0.8, 1.0):
        seg = KeyAccountSegmenter(share=share).fit(view)
        key = (seg.assign(view) == "key account").to_numpy()
        ranked = np.sort(values)[::-1]
        n_direct = int(np.argmax(np.cumsum(ranked) >= share * values.sum() * (1 - 1e-12))) + 1
        assert key.sum() == n_direct
        assert values[key].sum() >= share * values.sum() * (1 - 1e-12)
        assert values[key].min() >= values[~key].max(initial=-np.inf)


def test_customer_share_and_ties() -> None:
    view = _view([10.0, 9.0, 9.0, 1.0, 0.5, 0.2, 0.1, 0.0, 0.0, 0.0])
    labels = KeyAccountSegmenter(rule="customer_share", share=0.2).fit(view).assign(view)
    # the top 20 % is two customers, but the tie at 9 brings in the third
    assert labels.tolist()[:4] == ["key account"] * 3 + ["other"]


def test_flag_rule_reads_bool_like_values() -> None:
    view = pd.DataFrame(
        {"key_account": [True, None, 1, 0, np.nan], "revenue": [1.0] * 5},
        index=pd.Index(list("abcde"), name="id"),
    )
    seg = KeyAccountSegmenter(rule="flag").fit(view)
    assert seg.assign(view).tolist() == ["key account", "other", "key account", "other", "other"]
    assert seg.threshold_ is None
    bad = view.assign(key_account=["yes", "no", "yes", "no", "no"])
    with pytest.raises(SchemaError, match="is not a true/false flag"):
        seg.assign(bad)


def test_describe_and_labels() -> None:
    view = _view([700.0, 200.0, 60.0, 40.0])
    seg = KeyAccountSegmenter(share=0.8, labels=("KAM", "rest")).fit(view)
    described = seg.describe()
    assert described.index.tolist() == ["KAM", "rest"]
    assert described["value_share"].tolist() == pytest.approx([0.9, 0.1])
    assert described.loc["KAM", "rule"] == "revenue >= 200"


def test_no_positive_value_means_no_key_account() -> None:
    view = _view([0.0, -1.0])
    with pytest.warns(DataWarning, match="nobody is a key account"):
        seg = KeyAccountSegmenter().fit(view)
    assert (seg.assign(view) == "other").all()
    assert seg.describe()["value_share"].isna().all()
