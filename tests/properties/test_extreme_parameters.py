"""Extreme numbers for the numeric parameters of the public callables.

0, -0.0, tiny and huge floats, NaN, infinities, huge integers and booleans go
to ``clv``, ``customer_equity``, ``Playbook(horizon, discount_rate)`` and the
date/time-unit arguments of ``summarize``. Each call must either raise a
crmkit error or give valid (finite) output, quickly: never a bare numpy or
pandas error, a hang or a NaN.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit.exceptions import CrmkitError
from crmkit.value import BetaGeo, GammaGamma, clv, customer_equity

EXTREMES: list[Any] = [0, 0.0, -0.0, -1, -1e-300, 5e-324, 1e-300, 1e-9, 0.5, 1, 52, 5_218,
                       5_219, 1e5, 1e300, -1e300, math.nan, math.inf, -math.inf, 2**63, 2**64,
                       10**30, -(2**63), True, False, np.float64(1e308), np.int64(2**62)]

numbers = st.one_of(
    st.sampled_from(EXTREMES),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
)



def _or(low: float, high: float) -> st.SearchStrategy[Any]:
    """Extreme numbers, or ordinary ones in ``[low, high]`` (so that valid calls happen too)."""
    return st.one_of(numbers, st.floats(min_value=low, max_value=high))


#: The longest a single call may take: bounded parameters keep the work finite.
SECONDS = 10.0


@pytest.fixture(scope="module")
def fitted() -> tuple[crmkit.CustomerData, pd.DataFrame, BetaGeo, GammaGamma]:
    data = crmkit.datasets.make_crm(200, seed=1).data
    view = crmkit.summarize(data)
    return data, view, BetaGeo().fit(view), GammaGamma().fit(view)


def _outcome(call: Callable[[], Any]) -> Any:
    """The result of ``call``, or None when it raised a crmkit error; quick either way."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", crmkit.exceptions.DataWarning)
            result = call()
    except CrmkitError as exc:
        assert str(exc), "a crmkit error must say what is wrong"
        event(f"crmkit error: {type(exc).__name__}")
        result = None
    else:
        event("valid output")
    assert time.perf_counter() - start < SECONDS, "the call took too long"
    return result


def _finite(values: Any) -> None:
    arr = np.asarray(values, dtype=np.float64)
    assert np.isfinite(arr).all(), "valid output holds no NaN or infinity"


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(horizon=_or(1e-6, 6e3), discount_rate=_or(0.0, 10.0),
       steps=st.one_of(st.none(), numbers, st.integers(1, 400)), margin=_or(1e-9, 1.0),
       unit=st.sampled_from(["D", "W", "M"]))
def test_clv_extremes(fitted: Any, horizon: Any, discount_rate: Any, steps: Any, margin: Any,
                      unit: str) -> None:
    _, view, bg, gg = fitted
    out = _outcome(lambda: clv(bg, gg, view, horizon=horizon, discount_rate=discount_rate,
                               steps=steps, margin=margin, time_unit=unit))
    if out is not None:
        _finite(out)
        assert (out >= 0).all()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(horizon=_or(1e-6, 6e3), discount_rate=_or(0.0, 10.0),
       n_boot=st.one_of(numbers, st.integers(10, 60)), level=_or(1e-6, 1 - 1e-6))
def test_customer_equity_extremes(fitted: Any, horizon: Any, discount_rate: Any, n_boot: Any,
                                  level: Any) -> None:
    _, view, bg, gg = fitted
    if isinstance(n_boot, (int, np.integer)) and 10 <= n_boot <= 100_000:
        n_boot = min(int(n_boot), 50)  # valid sizes: keep the bootstrap small here
    out = _outcome(lambda: customer_equity(bg, gg, view, horizon=horizon,
                                           discount_rate=discount_rate, n_boot=n_boot,
                                           level=level, seed=0))
    if out is not None:
        _finite([out.total, out.lower, out.upper])


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(horizon=_or(1e-6, 6e3), discount_rate=_or(0.0, 10.0))
def test_playbook_extremes(fitted: Any, horizon: Any, discount_rate: Any) -> None:
    from crmkit.compose import Playbook

    data = fitted[0]

    def run() -> pd.DataFrame:
        book = Playbook(horizon=horizon, discount_rate=discount_rate)
        out: pd.DataFrame = book.fit(data).assess(data)
        return out

    out = _outcome(run)
    if out is not None:
        assert len(out) == data.n_customers
        for column in ("clv", "p_alive", "expected_purchases"):
            if column in out:
                _finite(out[column])


@settings(max_examples=40, deadline=None)
@given(as_of=st.one_of(numbers, st.dates().map(str), st.datetimes().map(str),
                       st.sampled_from(["2300-01-01", "9999-12-31", "1500-01-01",
                                        "2024-06-01T23:30-05:00", "2262-04-10", "2262-04-11"])))
def test_summarize_as_of_extremes(as_of: Any) -> None:
    tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [1.0, 2.0, 3.0],
                       "date": pd.to_datetime(["1990-01-01", "2000-01-01", "1995-06-01"])})
    view = _outcome(lambda: crmkit.summarize(tx, as_of=as_of))
    if view is not None:
        _finite(view[["frequency", "recency", "T", "monetary_value"]])
        assert (view["T"] >= view["recency"]).all()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(t=numbers, which=st.sampled_from(["conditional_expected_purchases", "expected_purchases",
                                         "p_alive"]))
def test_purchase_model_predictions_extremes(fitted: Any, t: Any, which: str) -> None:
    _, view, bg, _ = fitted

    def run() -> Any:
        if which == "conditional_expected_purchases":
            return bg.conditional_expected_purchases(view, t)
        if which == "expected_purchases":
            return bg.expected_purchases(t)
        return bg.p_alive(view.assign(T=view["T"] + (t if isinstance(t, float) else 0.0)))

    out = _outcome(run)
    if out is not None:
        _finite(out)
        assert (np.asarray(out, dtype=np.float64) >= 0).all()
