"""CLV from a model's ``_conditional_path`` equals CLV from one call per sub-period."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit.data import summarize
from crmkit.datasets import make_crm
from crmkit.value import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD, clv


class _PerCall:
    """The same model seen only through the public protocol (no path)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def conditional_expected_purchases(self, view: Any, t: Any) -> pd.Series:
        return self.model.conditional_expected_purchases(view, t)

    def expected_purchases(self, t: Any) -> Any:
        return self.model.expected_purchases(t)


@pytest.mark.parametrize("model", [ParetoNBD, BetaGeo, ModifiedBetaGeo])
def test_path_is_identical(model: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        view = summarize(make_crm(800, seed=3).data)
        fitted = model().fit(view)
        spend = GammaGamma().fit(view[view["frequency"] > 0])
    fast = clv(fitted, spend, view, horizon=52.0, discount_rate=0.1)
    slow = clv(_PerCall(fitted), spend, view, horizon=52.0, discount_rate=0.1)
    assert np.array_equal(fast.to_numpy(), slow.to_numpy())
