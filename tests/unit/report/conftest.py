"""Shared fixtures of the report tests: one synthetic CRM and its report, built once."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
import pytest

mpl = pytest.importorskip("matplotlib", reason="the report needs matplotlib")
mpl.use("Agg")

from crmkit.compose import Playbook  # noqa: E402
from crmkit.datasets import SyntheticCRM, make_crm  # noqa: E402
from crmkit.report import build_report  # noqa: E402


@pytest.fixture(scope="session")
def crm() -> SyntheticCRM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = make_crm(150, seed=8)
        out.data  # noqa: B018 - build the cached CustomerData once
    return out


@pytest.fixture(scope="session")
def steps() -> list[str]:
    return []


@pytest.fixture(scope="session")
def playbook(crm: SyntheticCRM) -> Any:
    """The report's default playbook, fitted on the synthetic CRM."""
    return Playbook().fit(crm.data)


@pytest.fixture(scope="session")
def full_report(crm: SyntheticCRM, playbook: Any, steps: list[str]) -> str:
    """The report of the synthetic CRM with a holdout and feedback: every section filled."""
    return build_report(
        crm.data,
        holdout=crm.frames["transactions"],
        top_n=7,
        playbook=playbook,
        title="Report <of> ACME & Co",
        progress=steps.append,
    )


@pytest.fixture(scope="session")
def small_tx() -> pd.DataFrame:
    """A few transactions (one repeat buyer: no purchase model), ids that need escaping."""
    return pd.DataFrame(
        {
            "customer_id": ["<b>a</b>", "b&c", "d", "<b>a</b>"],
            "amount": [5.0, 6.0, 7.0, 8.0],
            "date": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-10"],
        }
    )
