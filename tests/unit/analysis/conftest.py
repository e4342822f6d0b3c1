"""Shared fixtures of the crmkit.analysis tests: one synthetic CRM, built once."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from crmkit.data import summarize
from crmkit.datasets._synthetic import SyntheticCRM, make_crm


@pytest.fixture(scope="session")
def crm() -> SyntheticCRM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = make_crm(1500, seed=0)
        out.data  # noqa: B018 - build the cached CustomerData once
    return out


@pytest.fixture(scope="session")
def crm_view(crm: SyntheticCRM) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        view: pd.DataFrame = summarize(crm.data)
    return view
