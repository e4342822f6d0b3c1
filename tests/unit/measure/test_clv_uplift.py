"""clv_uplift: exact toy baselines, the planted campaign against BG/NBD, refusals."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.data import CustomerData
from crmkit.exceptions import DataWarning, SchemaError
from crmkit.measure import clv_uplift
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._gammagamma import GammaGamma


class Steady:
    """One purchase every 10 days, for everyone (time unit: days)."""

    def conditional_expected_purchases(self, view: pd.DataFrame, t: object) -> pd.Series:
        return pd.Series(
            np.asarray(t, dtype=float) / 10.0 + 0.0 * view["T"].to_numpy(), index=view.index
        )


def _toy(
    groups: list[str], extra_for: tuple[int, ...] = (1, 2), extra_on: tuple[str, ...] = ("03-25",)
) -> CustomerData:
    days = pd.date_range("2024-01-01", periods=9, freq="10D")  # the last on 2024-03-21
    ids = list(range(1, len(groups) + 1))
    tx = pd.DataFrame(
        {
            "customer_id": [c for c in ids for _ in days],
            "amount": 100.0,
            "cost": 60.0,
            "date": list(days) * len(ids),
        }
    )
    extra = pd.DataFrame(
        {
            "customer_id": [c for c in extra_for for _ in extra_on],
            "amount": 100.0,
            "cost": 60.0,
            "date": [pd.Timestamp(f"2024-{d}") for _ in extra_for for d in extra_on],
        }
    )
    touches = pd.DataFrame(
        {
            "campaign_id": "K",
            "customer_id": ids,
            "date": pd.Timestamp("2024-03-21"),
            "group": groups,
        }
    )
    return CustomerData.from_frames(
        pd.concat([tx, extra], ignore_index=True),
        touches=touches,
        time_unit="D",
        as_of="2024-04-30",
    )


def test_toy_baseline_is_exact() -> None:
    data = _toy(["treatment", "treatment", "control", "control"])
    res = clv_uplift(data, "K", purchase_model=Steady(), window=20, n_boot=100, seed=0)
    assert res.calibration_end == pd.Timestamp("2024-03-20")
    assert res.horizon == pytest.approx(20.0) and res.time_unit == "D"
    assert (res.expected_treatment, res.observed_treatment) == (2.0, 2.0)
    assert (res.expected_control, res.observed_control) == (2.0, 1.0)
    assert res.purchase_uplift == pytest.approx(1.0)
    # value of a purchase: mean spend per purchase day (100) x margin share (40 %)
    assert res.value_basis == "margin" and res.value_per_purchase == pytest.approx(40.0)
    assert res.value_uplift == pytest.approx(40.0) and res.total_value_uplift == 80.0
    assert res.unadjusted_value_uplift == pytest.approx(40.0)
    assert list(res.customers.columns) == [
        "group",
        "observed",
        "expected",
        "excess",
        "value_per_purchase",
        "excess_value",
    ]
    revenue = clv_uplift(
        data, "K", purchase_model=Steady(), window=20, margin=1.0, n_boot=100, seed=0
    )
    assert revenue.value_uplift == pytest.approx(100.0)


def test_without_control_the_model_is_the_baseline() -> None:
    data = _toy(["treatment"] * 3, extra_for=(1, 2, 3), extra_on=("03-25", "03-28"))
    res = clv_uplift(data, "K", purchase_model=Steady(), window=20, n_boot=100, seed=0)
    assert not res.has_control and res.n_control == 0
    assert res.purchase_uplift == pytest.approx(1.0)  # 3 observed vs 2 expected
    assert np.isnan(res.unadjusted_value_uplift) and np.isnan(res.observed_control)
    assert res.value_p_value == 0.0  # every customer exceeds the baseline by exactly 1


def test_customers_without_history_are_left_out() -> None:
    data = _toy(["treatment", "treatment", "control", "control"])
    frames = dict(data.frames)
    frames["touches"] = pd.concat([frames["touches"], pd.DataFrame({
        "campaign_id": ["K"], "customer_id": [99], "date": [pd.Timestamp("2024-03-21")],
        "group": ["control"]})], ignore_index=True)  # fmt: skip
    more = CustomerData.from_frames(**frames, time_unit="D", as_of="2024-04-30")
    with pytest.warns(DataWarning, match="no purchases before"):
        res = clv_uplift(more, "K", purchase_model=Steady(), window=20, n_boot=100, seed=0)
    assert res.n_excluded == 1 and res.n_control == 2


def test_refusals() -> None:
    data = _toy(["treatment", "control", "control"])
    with pytest.raises(SchemaError, match="1 treatment customers"):
        clv_uplift(data, "K", purchase_model=Steady(), window=20)
    early = _toy(["treatment", "treatment"])
    frames = dict(early.frames)
    frames["touches"] = frames["touches"].assign(date=pd.Timestamp("2023-12-01"))
    with pytest.raises(SchemaError, match="no purchases before"):
        clv_uplift(
            CustomerData.from_frames(**frames, time_unit="D", as_of="2024-04-30"),
            "K",
            purchase_model=Steady(),
            window=20,
        )


def test_planted_campaign_in_clv_units(synthetic) -> None:
    crm, data = synthetic
    res = clv_uplift(data, "K1", seed=0)
    assert res.significant and res.value_uplift > 0
    # approximate truth: each treated customer alive in the window buys once more with
    # probability campaign_uplift (same-day overlaps with regular purchases ignored)
    camp = crm.frames["campaigns"].set_index("campaign_id").loc["K1"]
    treated = res.customers.index[res.customers["group"] == "treatment"]
    death = crm.truth.loc[treated, "death_date"]
    length = (camp["end"] - camp["start"]).days + 1
    alive = ((death - camp["start"]).dt.days / length).clip(0, 1).fillna(1.0)
    truth = crm.params["campaign_uplift"] * alive.mean()
    lo, hi = res.purchase_ci
    assert lo <= truth <= hi
    # the baseline is well calibrated on the untreated: control excess within 10 %
    assert abs(res.observed_control / res.expected_control - 1.0) < 0.10
    # and it removes variance: excess values vary less than observed values
    c = res.customers
    assert c["excess_value"].std() < (c["observed"] * c["value_per_purchase"]).std()


def test_null_campaign_and_models_given(synthetic) -> None:
    _, data = synthetic
    unfitted_bg, unfitted_gg = BetaGeo(), GammaGamma()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        res = clv_uplift(data, "K2", purchase_model=unfitted_bg, spend_model=unfitted_gg, seed=0)
    assert not res.significant
    lo, hi = res.value_ci
    assert lo <= 0.0 <= hi
    assert not hasattr(unfitted_bg, "params_") and not hasattr(unfitted_gg, "params_")
    assert res.customers["value_per_purchase"].nunique() > 1  # per-customer spend
