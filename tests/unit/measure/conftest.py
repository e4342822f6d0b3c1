"""Shared fixtures of the measurement tests: one synthetic CRM for the whole session."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from crmkit.datasets._synthetic import make_crm
from crmkit.exceptions import DataWarning


@pytest.fixture(scope="session")
def synthetic() -> tuple[Any, Any]:
    """``make_crm(6000, seed=0)`` and its CustomerData (campaigns end before ``as_of``)."""
    crm = make_crm(6000, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # a couple of identical order lines
        data = crm.data
    return crm, data
