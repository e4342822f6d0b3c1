"""Properties of the value models' predictions and of the view they read.

For any parameters and any valid customer history: P(alive) is in [0, 1];
expected purchases and spend are finite and >= 0; expected purchases never
fall as the horizon grows; survival never rises. And for any transactions
(refunds included, any time unit) ``summarize`` gives ``0 <= recency <= T``
and an integer ``frequency >= 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmkit
from crmkit.testing import strategies as cst
from crmkit.value import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeo,
)

pytestmark = pytest.mark.filterwarnings("ignore::crmkit.exceptions.DataWarning")

#: A model parameter: log-uniform over [0.01, 100].
param = st.floats(-2.0, 2.0).map(lambda e: float(10.0**e))
CONTINUOUS = {
    "BetaGeo": (BetaGeo, ("r", "alpha", "a", "b")),
    "ModifiedBetaGeo": (ModifiedBetaGeo, ("r", "alpha", "a", "b")),
    "ParetoNBD": (ParetoNBD, ("r", "alpha", "s", "beta")),
}


@st.composite
def purchase_views(draw: st.DrawFn, max_customers: int = 12) -> pd.DataFrame:
    """Valid (frequency, recency, T) histories, extremes included."""
    n = draw(st.integers(1, max_customers))
    rows = []
    for _ in range(n):
        T = draw(st.one_of(st.just(0.0), st.floats(0.0, 520.0), st.just(5000.0)))
        x = draw(st.one_of(st.integers(0, 5), st.integers(0, 400)))
        share = draw(st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)))
        rows.append((x, share * T, T))
    frame = pd.DataFrame(rows, columns=["frequency", "recency", "T"])
    frame.index = pd.Index([f"c{i}" for i in range(n)], name="customer_id")
    return frame


@st.composite
def purchase_models(draw: st.DrawFn) -> Any:
    name = draw(st.sampled_from(sorted(CONTINUOUS)))
    cls, names = CONTINUOUS[name]
    return cls.from_params(**{p: draw(param) for p in names})


horizons = st.lists(st.floats(0.0, 260.0), min_size=2, max_size=5).map(sorted)


@given(purchase_models(), purchase_views(), horizons)
def test_purchase_predictions_are_finite_bounded_and_monotone(
    model: Any, view: pd.DataFrame, ts: list[float]
) -> None:
    p = model.p_alive(view).to_numpy()
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all(), (model, p)
    previous = np.zeros(len(view))
    for t in ts:
        e = model.conditional_expected_purchases(view, t).to_numpy()
        assert np.isfinite(e).all() and (e >= 0).all(), (model, t, e)
        assert (e >= previous - 1e-9 * np.maximum(1.0, e)).all(), (model, t, e, previous)
        previous = e
    new = model.expected_purchases(np.array(ts))
    assert np.isfinite(new).all() and (new >= 0).all()
    assert (np.diff(new) >= -1e-9 * np.maximum(1.0, new[1:])).all(), (model, ts, new)
    assert np.isfinite(model.log_likelihood(view).to_numpy()).all()


@given(purchase_models(), st.floats(0.0, 260.0))
def test_purchase_pmf_is_a_distribution(model: Any, t: float) -> None:
    n = np.arange(60)
    pmf = model.purchase_pmf(n, t)
    assert np.isfinite(pmf).all() and ((pmf >= 0) & (pmf <= 1)).all()
    assert pmf.sum() <= 1 + 1e-9


@st.composite
def discrete_views(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 10))
    rows = []
    for _ in range(n):
        periods = draw(st.integers(0, 30))
        recency = draw(st.integers(0, periods))
        frequency = draw(st.integers(min(1, recency), recency)) if recency else 0
        rows.append((frequency, recency, periods))
    return pd.DataFrame(rows, columns=["frequency", "recency", "periods"])


@given(
    st.tuples(param, param, param, param),
    discrete_views(),
    horizons.map(lambda h: [round(x) for x in h]),
)
def test_bgbb_predictions_are_finite_bounded_and_monotone(
    params: tuple[float, ...], view: pd.DataFrame, ts: list[int]
) -> None:
    model = BetaGeoBetaBinom.from_params(
        **dict(zip(("alpha", "beta", "gamma", "delta"), params, strict=True))
    )
    p = model.p_alive(view).to_numpy()
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    previous = np.zeros(len(view))
    for t in ts:
        e = model.conditional_expected_purchases(view, t).to_numpy()
        assert np.isfinite(e).all() and (e >= previous - 1e-9 * np.maximum(1.0, e)).all()
        previous = e


@given(
    st.tuples(param, param, param),
    st.lists(st.tuples(st.integers(0, 50), st.floats(0.01, 1e6)), min_size=1, max_size=10),
)
def test_expected_spend_is_finite_and_positive(
    params: tuple[float, ...], rows: list[tuple[int, float]]
) -> None:
    p, q, gamma = params
    model = GammaGamma.from_params(p=p, q=q + 1.0, gamma=gamma)  # q > 1: a finite mean
    view = pd.DataFrame(
        {"frequency": [x for x, _ in rows], "monetary_value": [m if x else 0.0 for x, m in rows]}
    )
    spend = model.expected_spend(view).to_numpy()
    assert np.isfinite(spend).all() and (spend > 0).all()
    # the estimate lies between the population mean and the customer's own mean
    mean = model.population_mean_spend()
    own = view["monetary_value"].to_numpy()
    lo, hi = (
        np.minimum(mean, np.where(view["frequency"] > 0, own, mean)),
        np.maximum(mean, np.where(view["frequency"] > 0, own, mean)),
    )
    assert ((spend >= lo * (1 - 1e-9)) & (spend <= hi * (1 + 1e-9))).all()


@given(param, param, st.lists(st.integers(0, 200), min_size=2, max_size=8).map(sorted))
def test_survival_never_rises(alpha: float, beta: float, ts: list[int]) -> None:
    model = ShiftedBetaGeo.from_params(alpha=alpha, beta=beta)
    s = model.survival(np.array(ts))
    assert np.isfinite(s).all() and ((s >= 0) & (s <= 1)).all()
    assert (np.diff(s) <= 1e-12).all()


@given(
    cst.transactions(max_customers=6, refunds=True),
    st.sampled_from(["D", "W", "M"]),
    st.integers(0, 400),
)
def test_view_invariants_with_refunds_and_any_time_unit(
    tx: pd.DataFrame, unit: str, days_after: int
) -> None:
    as_of = tx["date"].max() + pd.Timedelta(days=days_after)
    view = crmkit.summarize(tx, as_of=as_of, time_unit=unit)
    assert view["frequency"].dtype == np.int64 and (view["frequency"] >= 0).all()
    assert ((view["recency"] >= 0) & (view["recency"] <= view["T"])).all()
    assert np.isfinite(view[["recency", "T", "monetary_value", "revenue"]].to_numpy()).all()
    assert (view["n_transactions"] > view["frequency"]).all()
    assert (view.loc[view["frequency"] == 0, "monetary_value"] == 0).all()
