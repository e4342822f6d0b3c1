"""Battery cases for fit -> predict -> Playbook."""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.exceptions import (
    ConvergenceError,
    InvalidParameterError,
    NotFittedError,
    SchemaError,
)
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._gammagamma import GammaGamma
from crmkit.value._paretonbd import ParetoNBD
from tests.reliability._harness import (
    AS_OF,
    FIRST_ROW,
    Case,
    Context,
    Handled,
    Raises,
    assess,
    base_tx,
    fit_models,
    summarize,
    view_of,
)

R = FIRST_ROW


def _refund_tx() -> pd.DataFrame:
    """Customer 0 returns more than it bought on its repeat days."""
    tx = base_tx()
    refund = pd.DataFrame(
        {"customer_id": [0], "date": [pd.Timestamp("2023-12-30")], "amount": [-5000.0]},
        index=[R + 9999],
    )
    return pd.concat([tx, refund])


def _check_refund_assessed(result: pd.DataFrame, ctx: Context) -> None:
    """A net refunder is assessed: its negative spend counts as none, nothing fails."""
    row = result.loc[0]
    assert row["clv"] >= 0 and np.isfinite(row["clv"])
    assert "revenue -" in row["portfolio_reasons"]  # the refund is visible, not hidden
    assert result["clv"].notna().all()


def _flat_fit() -> tuple[BetaGeo, list[str]]:
    """Four identical customers: BG/NBD converges where the likelihood is flat."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = BetaGeo().fit(view_of(frequency=[2] * 4, recency=[10.0] * 4, T=[20.0] * 4))
    return model, [f"{w.category.__name__}: {w.message}" for w in caught]


def _check_flat(result: tuple[BetaGeo, list[str]], ctx: Any) -> None:
    model, messages = result
    flat = [
        m for m in messages if m.startswith("ConvergenceWarning: BetaGeo: the likelihood is flat")
    ]
    assert len(flat) == 1, messages
    undefined = [n for n, v in attrs.asdict(model.standard_errors_).items() if not np.isfinite(v)]
    assert undefined and all(n in flat[0] for n in undefined)
    assert "penalizer" in flat[0]


def _free_orders_tx() -> pd.DataFrame:
    """Customer 1's repeat orders were free (amount 0)."""
    tx = base_tx()
    first = tx.index[tx["customer_id"] == 1][0]
    free = (tx["customer_id"] == 1) & (tx.index != first)
    return tx.assign(amount=tx["amount"].where(~free, 0.0))


def _nobody_repeats_tx() -> pd.DataFrame:
    tx = base_tx()
    return tx.loc[~tx["customer_id"].duplicated()]


def _extreme_view() -> pd.DataFrame:
    return view_of(
        frequency=[0, 10**6, 1000, 0, 5],
        recency=[0.0, 1e6, 0.0, 0.0, 1e-9],
        T=[1e6, 1e6, 1e6, 0.0, 1e-9],
    )


def _check_extreme(result: dict[str, pd.Series], ctx: Context) -> None:
    for name, series in result.items():
        values = series.to_numpy()
        assert np.isfinite(values).all() and (values >= 0).all(), (name, values)
    assert ((result["p_alive"] >= 0) & (result["p_alive"] <= 1)).all()


def _predict_all(model: BetaGeo | ParetoNBD, view: pd.DataFrame) -> dict[str, pd.Series]:
    return {
        "p_alive": model.p_alive(view),
        "expected_purchases": model.conditional_expected_purchases(view, 52.0),
    }


def _check_duplicate_labels(result: pd.Series, ctx: Context) -> None:
    assert result.index.tolist() == ["x"] * len(ctx.view)
    expected = ctx.bg.p_alive(ctx.view).to_numpy()
    assert np.array_equal(result.to_numpy(), expected)


def _check_new_customer(result: pd.DataFrame, ctx: Context) -> None:
    row = result.loc[77]
    assert row["stage"] == "onboarding" and row["status"] == "active"
    for col in ("clv", "p_alive", "expected_purchases", "churn_risk"):
        assert np.isfinite(row[col]), col
    # bought today (T = 0): certainly alive, valued like a new customer of the base
    assert row["p_alive"] == 1.0
    new_customer = ctx.playbook.purchase_model_.expected_purchases(52.0)
    assert row["expected_purchases"] == pytest.approx(float(new_customer), rel=1e-9)


def _new_customer_today() -> pd.DataFrame:
    tx = base_tx()
    new = pd.DataFrame(
        {"customer_id": [77], "date": [pd.Timestamp(AS_OF)], "amount": [12.5]}, index=[R + 7777]
    )
    return pd.concat([tx, new])


def _check_assessed(result: pd.DataFrame, ctx: Context) -> None:
    assert result.index.tolist() == list(range(40))
    values = result[["clv", "p_alive", "expected_purchases", "churn_risk"]].to_numpy(float)
    assert np.isfinite(values).all()


def _check_twenty_year_assessment(result: pd.DataFrame, ctx: Context) -> None:
    values = result[["clv", "p_alive", "expected_purchases", "churn_risk"]].to_numpy(float)
    assert np.isfinite(values).all() and (values >= 0).all()
    assert result.loc[100, "p_alive"] > 0.99  # bought yesterday, every day for 20 years


def _daily_twenty_years() -> pd.DataFrame:
    days = pd.date_range("2004-01-01", "2023-12-31", freq="D")
    daily = pd.DataFrame(
        {"customer_id": 100, "date": days, "amount": 10.0 + (np.arange(len(days)) % 7)}
    )
    return pd.concat([base_tx(), daily], ignore_index=True)


def _equity_with_uncertain_spend() -> Any:
    """Customer equity with parameter uncertainty where some Gamma-Gamma draws have q <= 1."""
    crm = crmkit.datasets.make_crm(150, seed=1)
    view = crmkit.summarize(crm.data)
    bg, gg = BetaGeo().fit(view), GammaGamma().fit(view)
    # q = 1.36 with a standard error of 0.18: seed 0 draws a q <= 1 once in 40 replicates
    return crmkit.value.customer_equity(
        bg,
        gg,
        view.iloc[:20],
        horizon=52.0,
        discount_rate=0.1,
        n_boot=40,
        seed=0,
        parameter_uncertainty=True,
    )


def _check_equity(result: Any, ctx: Context) -> None:
    assert np.isfinite([result.total, result.lower, result.upper, result.std_error]).all()
    assert result.lower <= result.total <= result.upper


CASES: list[Case] = [
    # ---- fit on degenerate data
    Case(
        "fit_empty_view",
        "fit",
        lambda c: BetaGeo().fit(summarize(base_tx()).iloc[:0]),
        Raises(SchemaError, "<frame>", ("has no customers", "BetaGeo.fit")),
    ),
    Case(
        "fit_one_customer",
        "fit",
        lambda c: BetaGeo().fit(summarize(base_tx().iloc[:3].assign(customer_id=0))),
        Raises(SchemaError, "<frame>", ("single customer", "at least two")),
    ),
    Case(
        "fit_nobody_repeats",
        "fit",
        lambda c: fit_models(_nobody_repeats_tx()),
        Raises(SchemaError, "frequency", ("no repeat buyers", "cannot be identified")),
    ),
    Case(
        "fit_paretonbd_nobody_repeats",
        "fit",
        lambda c: ParetoNBD().fit(summarize(_nobody_repeats_tx())),
        Raises(SchemaError, "frequency", ("no repeat buyers",)),
    ),
    Case(
        "gammagamma_one_repeat_buyer",
        "fit",
        lambda c: GammaGamma().fit(view_of(frequency=[0, 2, 0], monetary_value=[0.0, 10.0, 0.0])),
        Raises(SchemaError, "frequency", ("1 repeat buyer", "at least two")),
    ),
    Case(
        "gammagamma_refunds",
        "fit",
        lambda c: GammaGamma().fit(summarize(_refund_tx())),
        Raises(SchemaError, "monetary_value", ("is negative",), (0,)),
    ),
    Case(
        "gammagamma_zero_amounts",
        "fit",
        lambda c: GammaGamma().fit(summarize(_free_orders_tx())),
        Raises(
            SchemaError,
            "monetary_value",
            ("must be > 0 for repeat buyers", "zero or net-negative"),
            (1,),
        ),
    ),
    Case(
        "fit_flat_likelihood_warns",
        "fit",
        lambda c: _flat_fit(),
        Handled(_check_flat),
    ),
    Case(
        "fit_non_converging_identical_spend",
        "fit",
        lambda c: GammaGamma().fit(view_of(frequency=[10] * 6, monetary_value=[10.0] * 6)),
        Raises(
            ConvergenceError, None, ("GammaGamma ran to the edge", "q -> infinity", "penalizer")
        ),
    ),
    Case(
        "fit_astronomical_spend",
        "fit",
        lambda c: GammaGamma().fit(
            view_of(frequency=[1, 1, 1], monetary_value=[1e300, 2e300, 1e299])
        ),
        Raises(ConvergenceError, None, ("GammaGamma ran to the edge", "cannot identify the model")),
    ),
    Case(
        "fit_non_identifiable_purchase_data",
        "fit",
        lambda c: BetaGeo().fit(view_of(frequency=[2, 3], recency=[0.0, 0.0], T=[10.0, 10.0])),
        Raises(ConvergenceError, None, ("edge of the parameter space", "cannot identify")),
    ),
    Case(
        "fit_view_nan_frequency",
        "fit",
        lambda c: BetaGeo().fit(
            view_of(frequency=[1.0, np.nan, 2.0], recency=[1.0, 2.0, 3.0], T=[5.0] * 3)
        ),
        Raises(SchemaError, "frequency", ("NaN or infinite",), ("c1",)),
    ),
    Case(
        "fit_view_recency_after_T",
        "fit",
        lambda c: BetaGeo().fit(view_of(frequency=[1, 2, 3], recency=[1.0, 9.0, 3.0], T=[5.0] * 3)),
        Raises(SchemaError, "recency", ("is greater than T",), ("c1",)),
    ),
    Case(
        "fit_view_fractional_frequency",
        "fit",
        lambda c: BetaGeo().fit(
            view_of(frequency=[1, 2.5, 3], recency=[1.0, 2.0, 3.0], T=[5.0] * 3)
        ),
        Raises(SchemaError, "frequency", ("whole numbers",), ("c1",)),
    ),
    Case(
        "fit_view_numbers_as_text",
        "fit",
        lambda c: BetaGeo().fit(summarize(base_tx()).astype({"T": str})),
        Raises(SchemaError, "T", ("must be numeric",), (0,)),
    ),
    Case(
        "fit_negative_penalizer",
        "fit",
        lambda c: BetaGeo(penalizer=-1).fit(summarize(base_tx())),
        Raises(
            InvalidParameterError,
            None,
            ("The 'penalizer' parameter of BetaGeo must be a float >= 0. Got -1 instead.",),
        ),
    ),
    Case(
        "fit_negative_weights",
        "fit",
        lambda c: BetaGeo().fit(c.view, weights=np.r_[-1.0, np.ones(len(c.view) - 1)]),
        Raises(SchemaError, "weights", ("must be finite and > 0",), (0,)),
    ),
    # ---- predict
    Case(
        "predict_before_fit",
        "predict",
        lambda c: BetaGeo().p_alive(c.view),
        Raises(NotFittedError, None, ("not fitted yet", "call 'fit'")),
    ),
    Case(
        "gammagamma_predict_before_fit",
        "predict",
        lambda c: GammaGamma().expected_spend(c.view),
        Raises(NotFittedError, None, ("GammaGamma is not fitted",)),
    ),
    Case(
        "predict_with_nan_in_view",
        "predict",
        lambda c: c.bg.p_alive(c.view.assign(recency=c.view["recency"].where(c.view.index != 3))),
        Raises(SchemaError, "recency", ("NaN or infinite",), (3,)),
    ),
    Case(
        "predict_with_nan_horizon",
        "predict",
        lambda c: c.bg.conditional_expected_purchases(c.view, float("nan")),
        Raises(SchemaError, "t", ("must be finite and >= 0",)),
    ),
    Case(
        "predict_with_negative_horizon",
        "predict",
        lambda c: c.bg.expected_purchases([1.0, -2.0]),
        Raises(SchemaError, "t", ("must be finite and >= 0", "-2.0")),
    ),
    Case(
        "predict_with_missing_column",
        "predict",
        lambda c: c.bg.p_alive(c.view.drop(columns="T")),
        Raises(SchemaError, "T", ("is missing", "BetaGeo.p_alive")),
    ),
    Case(
        "predict_view_not_a_frame",
        "predict",
        lambda c: c.bg.p_alive([[1, 2.0, 3.0]]),
        Raises(InvalidParameterError, None, ("expects a customer view", "got list")),
    ),
    Case(
        "gammagamma_predict_nan_spend",
        "predict",
        lambda c: c.gg.expected_spend(c.view.assign(monetary_value=np.nan)),
        Raises(SchemaError, "monetary_value", ("NaN or infinite",), (0,)),
    ),
    Case(
        "predict_extreme_histories",
        "predict",
        lambda c: _predict_all(c.bg, _extreme_view()),
        Handled(_check_extreme),
    ),
    Case(
        "paretonbd_extreme_histories",
        "predict",
        lambda c: _predict_all(
            ParetoNBD.from_params(r=0.55, alpha=10.6, s=0.61, beta=11.7), _extreme_view()
        ),
        Handled(_check_extreme),
    ),
    Case(
        "equity_parameter_draws_outside_the_model",
        "predict",
        lambda c: _equity_with_uncertain_spend(),
        Handled(_check_equity, warns=r"\d+ parameter draws fell where the models cannot predict"),
    ),
    Case(
        "predict_non_unique_index",
        "predict",
        lambda c: c.bg.p_alive(c.view.set_axis(["x"] * len(c.view))),
        Handled(_check_duplicate_labels),
    ),
    # ---- Playbook
    Case(
        "playbook_before_fit",
        "playbook",
        lambda c: crmkit.compose.Playbook().assess(
            crmkit.CustomerData.from_frames(transactions=base_tx())
        ),
        Raises(NotFittedError, None, ("Playbook is not fitted",)),
    ),
    Case(
        "playbook_transactions_only",
        "playbook",
        lambda c: assess(c, base_tx()),
        Handled(_check_assessed),
    ),
    Case(
        "playbook_other_time_unit",
        "playbook",
        lambda c: assess(c, base_tx(), time_unit="D"),
        Raises(InvalidParameterError, None, ("time unit is 'D'", "fitted with 'W'")),
    ),
    Case(
        "playbook_assess_one_with_many",
        "playbook",
        lambda c: c.playbook.assess_one(
            crmkit.CustomerData.from_frames(transactions=base_tx(), as_of=AS_OF)
        ),
        Raises(SchemaError, "customer_id", ("holds 40 customers", "assess_one")),
    ),
    Case(
        "playbook_refunds",
        "playbook",
        lambda c: assess(c, _refund_tx()),
        Handled(_check_refund_assessed),
    ),
    Case(
        "playbook_bad_records",
        "playbook",
        lambda c: assess(
            c, base_tx().assign(amount=base_tx()["amount"].where(base_tx().index != R + 3))
        ),
        Raises(SchemaError, "amount", ("contains NaN",), (R + 3,)),
    ),
    Case(
        "playbook_new_customer_today",
        "playbook",
        lambda c: assess(c, _new_customer_today()),
        Handled(_check_new_customer),
    ),
    Case(
        "playbook_twenty_year_daily_history",
        "playbook",
        lambda c: assess(c, _daily_twenty_years()),
        Handled(_check_twenty_year_assessment),
    ),
]
