"""clv, historic_value and customer_equity."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import (
    CrmkitError,
    InvalidParameterError,
    NotFittedError,
    SchemaError,
)
from crmkit.value._clv import PurchaseModelLike, SpendModelLike, clv, historic_value
from crmkit.value._equity import CustomerEquity, customer_equity
from crmkit.value._gammagamma import GammaGamma
from tests.unit.value._cdnow_ref import cdnow_summary


@attrs.frozen
class RateParams:
    r: float
    alpha: float


class GammaPoisson:
    """Test-only purchase model: gamma-distributed Poisson rates, nobody drops out.

    Closed forms: ``E[X(t) | x, T] = t (r + x) / (alpha + T)`` and
    ``E[X(t)] = r t / alpha``.
    """

    def __init__(self, r: float, alpha: float, covariance: Any = None) -> None:
        self.params_ = RateParams(r, alpha)
        self.covariance_ = covariance

    def rate(self, view: pd.DataFrame) -> pd.Series:
        p = self.params_
        return (p.r + view["frequency"]) / (p.alpha + view["T"])

    def conditional_expected_purchases(self, view: pd.DataFrame, t: float) -> pd.Series:
        return (self.rate(view) * t).rename("conditional_expected_purchases")

    def expected_purchases(self, t: Any) -> Any:
        return self.params_.r / self.params_.alpha * np.asarray(t, dtype=float)

    def p_alive(self, view: pd.DataFrame) -> pd.Series:
        return pd.Series(1.0, index=view.index, name="p_alive")


def make_view(n: int, seed: int = 0, unit: float = 1.0) -> pd.DataFrame:
    """Customers with weekly histories; ``unit`` converts weeks to the view's time unit."""
    rng = np.random.default_rng(seed)
    freq = rng.poisson(2.0, n)
    T = rng.uniform(20, 40, n)
    recency = np.where(freq > 0, T * rng.uniform(0.2, 1.0, n), 0.0)
    money = np.where(freq > 0, rng.gamma(4.0, 10.0, n), 0.0)
    return pd.DataFrame(
        {"frequency": freq, "recency": recency * unit, "T": T * unit, "monetary_value": money},
        index=pd.Index([f"id{i}" for i in range(n)], name="customer_id"),
    )


SPEND = GammaGamma.from_params(p=6.0, q=4.0, gamma=15.0)
TOY = GammaPoisson(r=0.5, alpha=8.0)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return cdnow_summary(rounded=True)


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> tuple[Any, GammaGamma]:
    from crmkit.value._bgnbd import BetaGeo

    return BetaGeo().fit(cdnow), GammaGamma().fit(cdnow)


# ------------------------------------------------------------------- clv
def test_protocols_are_met() -> None:
    assert isinstance(TOY, PurchaseModelLike)
    assert isinstance(SPEND, SpendModelLike)


def test_closed_form_with_constant_rates() -> None:
    view = make_view(50)
    value = clv(TOY, SPEND, view, horizon=52, discount_rate=0.1, margin=0.4)
    assert value.name == "clv"
    assert value.index.equals(view.index)
    # 12 monthly steps of 52 / 12 weeks, each discounted from its end in years
    ends = 52 * np.arange(1, 13) / 12
    factor = np.sum((52 / 12) * 1.1 ** (-(ends * 7 / 365.25)))
    expected = 0.4 * SPEND.expected_spend(view) * TOY.rate(view) * factor
    np.testing.assert_allclose(value.to_numpy(), expected.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize(("unit", "days"), [("D", 1.0), ("M", 365.25 / 12)])
def test_time_unit_conversion(unit: str, days: float) -> None:
    weekly = make_view(30)
    other = make_view(30, unit=7.0 / days)
    toy_other = GammaPoisson(r=0.5, alpha=8.0 * 7.0 / days)  # same rates per day
    a = clv(TOY, SPEND, weekly, horizon=52, discount_rate=0.08, steps=12)
    b = clv(
        toy_other,
        SPEND,
        other,
        horizon=52 * 7 / days,
        discount_rate=0.08,
        steps=12,
        time_unit=unit,
    )
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-10)


def test_no_discount_is_spend_times_expected_purchases(
    cdnow: pd.DataFrame, fitted: tuple[Any, GammaGamma]
) -> None:
    bg, gg = fitted
    value = clv(bg, gg, cdnow, horizon=39, discount_rate=0.0)
    expected = gg.expected_spend(cdnow) * bg.conditional_expected_purchases(cdnow, 39.0)
    np.testing.assert_allclose(value.to_numpy(), expected.to_numpy(), rtol=1e-10)


def test_monotone_in_horizon_and_discount(
    cdnow: pd.DataFrame, fitted: tuple[Any, GammaGamma]
) -> None:
    bg, gg = fitted
    by_horizon = np.array(
        [clv(bg, gg, cdnow, horizon=h, discount_rate=0.1).to_numpy() for h in (13, 26, 52, 104)]
    )
    assert np.all(np.diff(by_horizon, axis=0) >= -1e-12)
    assert np.all(np.diff(by_horizon.sum(axis=1)) > 0)
    by_rate = np.array(
        [clv(bg, gg, cdnow, horizon=52, discount_rate=d).to_numpy() for d in (0.0, 0.05, 0.2, 1)]
    )
    assert np.all(np.diff(by_rate, axis=0) <= 1e-12)
    assert np.all(np.diff(by_rate.sum(axis=1)) < 0)
    assert np.all(by_rate > 0) and np.all(np.isfinite(by_rate))


def test_finer_steps_discount_less() -> None:
    view = make_view(20)
    coarse = clv(TOY, SPEND, view, horizon=104, discount_rate=0.2, steps=1)
    fine = clv(TOY, SPEND, view, horizon=104, discount_rate=0.2, steps=104)
    assert np.all(fine > coarse)


def test_margin_scales() -> None:
    view = make_view(10)
    full = clv(TOY, SPEND, view, horizon=26, discount_rate=0.1)
    part = clv(TOY, SPEND, view, horizon=26, discount_rate=0.1, margin=0.25)
    np.testing.assert_allclose(part.to_numpy(), 0.25 * full.to_numpy(), rtol=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": float("inf")}, "horizon"),
        ({"horizon": "52"}, "horizon"),
        ({"discount_rate": -0.1}, "discount_rate"),
        ({"discount_rate": float("nan")}, "discount_rate"),
        ({"time_unit": "Y"}, "time_unit"),
        ({"steps": 0}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"margin": 1.5}, "margin"),
        ({"margin": 0}, "margin"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], name: str) -> None:
    args: dict[str, Any] = {"horizon": 52, "discount_rate": 0.1, **kwargs}
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of clv"):
        clv(TOY, SPEND, make_view(5), **args)


def test_non_finite_model_output_is_reported() -> None:
    class Broken(GammaPoisson):
        def conditional_expected_purchases(self, view: pd.DataFrame, t: float) -> pd.Series:
            out = super().conditional_expected_purchases(view, t)
            return out.where(view["frequency"] != 0, np.nan)

    view = make_view(10)
    first_zero = view.index[view["frequency"] == 0][0]
    with pytest.raises(CrmkitError, match=f"non-finite values for rows \\['{first_zero}'"):
        clv(Broken(0.5, 8.0), SPEND, view, horizon=10, discount_rate=0.1)


def test_unfitted_and_bad_views(cdnow: pd.DataFrame) -> None:
    from crmkit.value._bgnbd import BetaGeo

    with pytest.raises(NotFittedError):
        clv(BetaGeo(), SPEND, cdnow, horizon=10, discount_rate=0.1)
    with pytest.raises(NotFittedError):
        clv(TOY, GammaGamma(), cdnow, horizon=10, discount_rate=0.1)
    bad = cdnow.copy()
    bad.loc[bad.index[3], "monetary_value"] = np.nan
    with pytest.raises(SchemaError, match="monetary_value"):
        clv(TOY, SPEND, bad, horizon=10, discount_rate=0.1)


def test_view_not_mutated(cdnow: pd.DataFrame, fitted: tuple[Any, GammaGamma]) -> None:
    view = cdnow.copy()
    before = view.copy()
    clv(fitted[0], fitted[1], view, horizon=52, discount_rate=0.1)
    customer_equity(
        fitted[0],
        fitted[1],
        view,
        horizon=52,
        discount_rate=0.1,
        interval="delta",
    )
    pd.testing.assert_frame_equal(view, before)


# -------------------------------------------------------- historic_value
def test_historic_value() -> None:
    view = pd.DataFrame(
        {"revenue": [100.0, -20.0, 0.0], "margin": [30.0, -5.0, 0.0]},
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    out = historic_value(view)
    assert list(out.columns) == ["revenue", "margin"]
    assert out.index.equals(view.index)
    assert out["margin"].tolist() == [30.0, -5.0, 0.0]
    assert historic_value(view, margin=0.5)["margin"].tolist() == [50.0, -10.0, 0.0]
    assert list(historic_value(view[["revenue"]]).columns) == ["revenue"]


def test_historic_value_bad_input() -> None:
    with pytest.raises(SchemaError, match=r"\['revenue'\]: is missing"):
        historic_value(pd.DataFrame({"margin": [1.0]}))
    view = pd.DataFrame({"revenue": [1.0, np.nan, np.inf]}, index=["a", "b", "c"])
    with pytest.raises(SchemaError) as info:
        historic_value(view)
    assert info.value.failures[0].rows == ("b", "c")
    with pytest.raises(SchemaError, match="must be numeric"):
        historic_value(pd.DataFrame({"revenue": ["1"]}))
    with pytest.raises(InvalidParameterError, match="'margin' parameter"):
        historic_value(pd.DataFrame({"revenue": [1.0]}), margin=2.0)


# ------------------------------------------------------------ equity
def test_equity_total_and_bootstrap_interval() -> None:
    view = make_view(400, seed=1)
    ce = customer_equity(TOY, SPEND, view, horizon=52, discount_rate=0.1, n_boot=400, seed=3)
    assert isinstance(ce, CustomerEquity)
    total = clv(TOY, SPEND, view, horizon=52, discount_rate=0.1).sum()
    assert ce.total == pytest.approx(total, rel=1e-12)
    assert ce.lower < ce.total < ce.upper
    assert ce.n_customers == 400
    assert ce.interval == "bootstrap" and ce.level == 0.95
    assert ce.by_segment is None
    # reproducible with a seed
    again = customer_equity(TOY, SPEND, view, horizon=52, discount_rate=0.1, n_boot=400, seed=3)
    assert (again.lower, again.upper) == (ce.lower, ce.upper)


def test_bootstrap_and_delta_agree() -> None:
    view = make_view(1000, seed=2)
    kw: dict[str, Any] = {"horizon": 52, "discount_rate": 0.1}
    boot = customer_equity(TOY, SPEND, view, n_boot=1000, seed=0, **kw)
    delta = customer_equity(TOY, SPEND, view, interval="delta", **kw)
    assert boot.total == delta.total
    assert delta.lower < delta.total < delta.upper
    assert boot.std_error == pytest.approx(delta.std_error, rel=0.12)
    assert (delta.upper - delta.lower) == pytest.approx(2 * 1.959964 * delta.std_error)


@pytest.mark.parametrize("interval", ["bootstrap", "delta"])
def test_relative_width_shrinks_with_more_customers(interval: str) -> None:
    widths = []
    for n in (200, 5000):
        ce = customer_equity(
            TOY,
            SPEND,
            make_view(n, seed=n),
            horizon=52,
            discount_rate=0.1,
            interval=interval,
            n_boot=300,
            seed=1,
        )
        assert ce.lower < ce.total < ce.upper
        widths.append((ce.upper - ce.lower) / ce.total)
    assert widths[1] < 0.5 * widths[0]  # about sqrt(200 / 5000) = 0.2


@pytest.mark.parametrize("interval", ["bootstrap", "delta"])
def test_segments(interval: str) -> None:
    view = make_view(600, seed=4)
    view["segment"] = np.where(view["frequency"] > 2, "heavy", "light")
    ce = customer_equity(
        TOY,
        SPEND,
        view,
        horizon=52,
        discount_rate=0.1,
        segment="segment",
        interval=interval,
        n_boot=200,
        seed=0,
    )
    table = ce.by_segment
    assert table is not None
    assert list(table.index) == ["heavy", "light"]
    assert table["total"].sum() == pytest.approx(ce.total, rel=1e-12)
    assert table["n_customers"].sum() == 600
    assert (table["lower"] < table["total"]).all() and (table["total"] < table["upper"]).all()
    assert table.index.name == "segment"


def test_parameter_uncertainty_widens_the_interval(
    cdnow: pd.DataFrame, fitted: tuple[Any, GammaGamma]
) -> None:
    bg, gg = fitted
    kw: dict[str, Any] = {"horizon": 52, "discount_rate": 0.1, "interval": "delta"}
    plain = customer_equity(bg, gg, cdnow, **kw)
    full = customer_equity(bg, gg, cdnow, parameter_uncertainty=True, **kw)
    assert full.total == plain.total
    assert full.std_error > plain.std_error
    assert full.lower < full.total < full.upper


def test_parameter_uncertainty_bootstrap() -> None:
    view = make_view(300, seed=5)
    cov = np.array([[0.01, 0.1], [0.1, 2.0]])
    toy = GammaPoisson(0.5, 8.0, covariance=cov)
    spend = GammaGamma().fit(view)
    kw: dict[str, Any] = {"horizon": 52, "discount_rate": 0.1, "n_boot": 60, "seed": 2}
    plain = customer_equity(toy, spend, view, **kw)
    full = customer_equity(toy, spend, view, parameter_uncertainty=True, **kw)
    assert full.total == plain.total
    assert full.lower < full.total < full.upper
    assert full.std_error > plain.std_error
    assert toy.params_ == RateParams(0.5, 8.0)  # the caller's models are untouched


def test_parameter_uncertainty_needs_a_covariance() -> None:
    with pytest.raises(InvalidParameterError, match="covariance_"):
        customer_equity(
            TOY,
            SPEND,
            make_view(20),
            horizon=52,
            discount_rate=0.1,
            interval="delta",
            parameter_uncertainty=True,
        )


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"interval": "normal"}, "interval"),
        ({"n_boot": 5}, "n_boot"),
        ({"level": 1.0}, "level"),
        ({"seed": -1}, "seed"),
        ({"parameter_uncertainty": 1}, "parameter_uncertainty"),
    ],
)
def test_equity_bad_arguments(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of customer_equity"):
        customer_equity(TOY, SPEND, make_view(5), horizon=52, discount_rate=0.1, **kwargs)


def test_equity_bad_segments() -> None:
    view = make_view(5)
    with pytest.raises(SchemaError, match=r"\['region'\]: is missing"):
        customer_equity(TOY, SPEND, view, horizon=5, discount_rate=0.1, segment="region")
    view["region"] = ["n", None, "s", "s", "n"]
    with pytest.raises(SchemaError) as info:
        customer_equity(TOY, SPEND, view, horizon=5, discount_rate=0.1, segment="region")
    assert info.value.failures[0].rows == ("id1",)


# ---------------------------------------------------- the real BetaGeo model
def test_real_betageo_end_to_end(cdnow: pd.DataFrame, fitted: tuple[Any, GammaGamma]) -> None:
    bg, gg = fitted
    value = clv(bg, gg, cdnow, horizon=52, discount_rate=0.1)
    assert value.index.equals(cdnow.index)
    assert np.all(np.isfinite(value)) and np.all(value > 0)
    # customers who bought more, more recently, are worth more
    best = value[(cdnow["frequency"] >= 5) & (cdnow["recency"] > 30)].mean()
    lapsed = value[(cdnow["frequency"] >= 5) & (cdnow["recency"] < 10)].mean()
    assert best > lapsed
    ce = customer_equity(bg, gg, cdnow, horizon=52, discount_rate=0.1, n_boot=200, seed=0)
    assert ce.total == pytest.approx(value.sum(), rel=1e-12)
    assert ce.lower < ce.total < ce.upper
