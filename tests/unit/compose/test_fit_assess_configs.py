"""``fit_assess`` reuses the view fitting computed; it equals fit then assess in every setup."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
import pytest

from crmkit.compose import Playbook
from crmkit.datasets import make_crm


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_crm(700, seed=2).data


@pytest.mark.parametrize("params", [
    {"care": "lifecycle"},
    {"segmenter": ("rfm", "portfolio")},
    {"churn": ("alive", "signals")},
    {"loyalty": False, "churn": None},
    {"purchase_model": "bgnbd"},
])  # fmt: skip
def test_fit_assess_equals_fit_then_assess(data: Any, params: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = Playbook(**params).fit_assess(data, include_view=True)
        expected = Playbook(**params).fit(data).assess(data, include_view=True)
    pd.testing.assert_frame_equal(got, expected)
