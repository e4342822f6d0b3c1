"""evaluate_holdout and tracking_series."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import CrmkitError, InvalidParameterError, NotFittedError, SchemaError
from crmkit.value._evaluation import HoldoutEvaluation, evaluate_holdout, tracking_series
from tests.unit.value._cdnow_ref import CALIBRATION_END, DATA, cdnow_summary
from tests.unit.value.test_clv import GammaPoisson

HOLDOUT_END = pd.Timestamp("1998-06-30")
ORIGIN = pd.Timestamp("1997-01-01")
TOY = GammaPoisson(r=0.5, alpha=8.0)


@pytest.fixture(scope="module")
def purchase_days() -> pd.DataFrame:
    raw = pd.read_csv(
        DATA,
        sep=r"\s+",
        header=None,
        names=["master_id", "sample_id", "date", "cds", "dollars"],
        dtype={"master_id": str, "date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw.groupby(["master_id", "date"], as_index=False)["dollars"].sum()


@pytest.fixture(scope="module")
def cal_hold(purchase_days: pd.DataFrame) -> pd.DataFrame:
    cal = cdnow_summary(rounded=True)
    in_holdout = (purchase_days["date"] > CALIBRATION_END) & (purchase_days["date"] <= HOLDOUT_END)
    counts = purchase_days[in_holdout].groupby("master_id").size()
    return cal.assign(
        frequency_holdout=counts.reindex(cal.index).fillna(0).astype("int64"),
        duration_holdout=(HOLDOUT_END - CALIBRATION_END).days / 7.0,
    )


@pytest.fixture(scope="module")
def betageo(cal_hold: pd.DataFrame) -> Any:
    from crmkit.value._bgnbd import BetaGeo

    return BetaGeo().fit(cal_hold)


def small_cal_hold() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency": [0, 1, 3, 9, 2],
            "recency": [0.0, 5.0, 20.0, 30.0, 10.0],
            "T": [30.0, 32.0, 35.0, 38.0, 20.0],
            "frequency_holdout": [0, 2, 1, 7, 0],
            "duration_holdout": [10.0, 10.0, 10.0, 10.0, 25.0],
        },
        index=pd.Index(list("abcde"), name="customer_id"),
    )


# -------------------------------------------------------- evaluate_holdout
def test_hand_computed_metrics() -> None:
    data = small_cal_hold()
    ev = evaluate_holdout(TOY, data, max_frequency=3)
    assert isinstance(ev, HoldoutEvaluation)
    rate = (0.5 + data["frequency"]) / (8.0 + data["T"])
    predicted = rate * data["duration_holdout"]  # each customer's own holdout length
    np.testing.assert_allclose(ev.per_customer["predicted"], predicted, rtol=1e-14)
    error = predicted - data["frequency_holdout"]
    assert ev.mae == pytest.approx(float(np.abs(error).mean()))
    assert ev.rmse == pytest.approx(float(np.sqrt((error**2).mean())))
    assert ev.total_actual == 10.0
    assert ev.aggregate_error == pytest.approx(100 * (predicted.sum() - 10) / 10)
    assert list(ev.per_customer.columns) == ["frequency", "actual", "predicted", "error"]
    assert ev.per_customer.index.equals(data.index)
    table = ev.by_frequency
    assert list(table.index) == ["0", "1", "2", "3+"]
    assert table["n_customers"].tolist() == [1, 1, 1, 2]
    assert table.loc["3+", "actual"] == 4.0
    assert table.loc["3+", "predicted"] == pytest.approx(predicted[["c", "d"]].mean())


def test_no_holdout_purchases_has_no_aggregate_error() -> None:
    data = small_cal_hold().assign(frequency_holdout=0)
    ev = evaluate_holdout(TOY, data)
    assert ev.aggregate_error is None
    assert ev.total_actual == 0.0
    assert np.isfinite(ev.mae)


def test_cdnow_betageo_holdout(cal_hold: pd.DataFrame, betageo: Any) -> None:
    ev = evaluate_holdout(betageo, cal_hold)
    assert len(ev.per_customer) == 2357
    assert list(ev.by_frequency.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert ev.by_frequency["n_customers"].sum() == 2357
    assert ev.by_frequency.loc["0", "n_customers"] == 1411
    # Fader, Hardie & Lee (2005), conditional expectations: both rise with the
    # calibration frequency and the model follows the data
    assert np.all(np.diff(ev.by_frequency["predicted"]) > 0)
    assert np.all(np.diff(ev.by_frequency["actual"].iloc[[0, 2, 4, 6, 7]]) > 0)
    assert abs(ev.aggregate_error or 0.0) < 15
    assert ev.mae < ev.rmse < 2.0
    per = betageo.conditional_expected_purchases(cal_hold, 39.0)
    np.testing.assert_allclose(ev.per_customer["predicted"], per, rtol=1e-12)


@pytest.mark.parametrize(
    ("column", "value", "check"),
    [
        ("frequency_holdout", -1, "negative"),
        ("frequency_holdout", 1.5, "whole numbers"),
        ("frequency_holdout", np.nan, "NaN"),
        ("duration_holdout", 0.0, "must be > 0"),
        ("frequency", 0.5, "whole numbers"),
    ],
)
def test_bad_values_are_refused(column: str, value: float, check: str) -> None:
    data = small_cal_hold().astype({column: float})
    data.loc["c", column] = value
    with pytest.raises(SchemaError) as info:
        evaluate_holdout(TOY, data)
    failure = info.value.failures[0]
    assert (failure.column, failure.rows) == (column, ("c",))
    assert check in failure.check


def test_missing_columns_and_bad_arguments() -> None:
    with pytest.raises(SchemaError, match="duration_holdout"):
        evaluate_holdout(TOY, small_cal_hold().drop(columns="duration_holdout"))
    with pytest.raises(SchemaError, match="must be a DataFrame"):
        evaluate_holdout(TOY, small_cal_hold().to_dict())  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="max_frequency"):
        evaluate_holdout(TOY, small_cal_hold(), max_frequency=0)


def test_unfitted_model_and_no_mutation(cal_hold: pd.DataFrame) -> None:
    from crmkit.value._bgnbd import BetaGeo

    with pytest.raises(NotFittedError):
        evaluate_holdout(BetaGeo(), cal_hold)
    data = small_cal_hold()
    before = data.copy()
    evaluate_holdout(TOY, data)
    pd.testing.assert_frame_equal(data, before)


# ---------------------------------------------------------- tracking_series
def test_tracking_hand_computed() -> None:
    first = np.array([0.0, 0.0, 2.5, 4.0])
    repeats = np.array([1.0, 3.0, 3.0, 4.5, 6.0])
    out = tracking_series(TOY, first, repeats, end=6, step=1.0)
    assert list(out.index) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert out.index.name == "t"
    assert out["actual_cumulative"].tolist() == [1, 1, 3, 3, 4, 5]
    rate = 0.5 / 8.0
    expected = [rate * sum(max(t - s, 0.0) for s in first) for t in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)]
    np.testing.assert_allclose(out["predicted_cumulative"], expected, rtol=1e-14)
    np.testing.assert_allclose(out["predicted"].cumsum(), out["predicted_cumulative"])
    assert out["actual"].sum() == 5


def test_tracking_cdnow(purchase_days: pd.DataFrame, betageo: Any) -> None:
    first = purchase_days.groupby("master_id")["date"].min()
    repeat = purchase_days[purchase_days["date"] > purchase_days["master_id"].map(first)]
    week = pd.Timedelta(weeks=1)
    out = tracking_series(
        betageo, (first - ORIGIN) / week, (repeat["date"] - ORIGIN) / week, end=78
    )
    assert len(out) == 78
    assert np.all(np.diff(out["predicted_cumulative"]) > 0)
    assert np.all(np.diff(out["actual_cumulative"]) >= 0)
    assert out["actual_cumulative"].iloc[-1] == len(repeat)
    # the model fitted on weeks 1-39 tracks the whole 78 weeks closely
    final = out.iloc[-1]
    assert final["predicted_cumulative"] == pytest.approx(final["actual_cumulative"], rel=0.06)


def test_tracking_bad_input() -> None:
    with pytest.raises(SchemaError) as info:
        tracking_series(TOY, [0.0, np.nan, -1.0], [1.0], end=5)
    failure = info.value.failures[0]
    assert failure.frame == "first_purchase"
    assert failure.rows == (1, 2)
    with pytest.raises(SchemaError, match="repeat_times"):
        tracking_series(TOY, [0.0], ["x"], end=5)
    with pytest.raises(InvalidParameterError, match="'end' parameter"):
        tracking_series(TOY, [0.0], [1.0], end=0)
    with pytest.raises(InvalidParameterError, match="'step' parameter"):
        tracking_series(TOY, [0.0], [1.0], end=5, step=float("inf"))

    class Broken(GammaPoisson):
        def expected_purchases(self, t: Any) -> Any:
            return np.full(np.shape(t), np.nan)

    with pytest.raises(CrmkitError, match="non-finite"):
        tracking_series(Broken(1.0, 1.0), [0.0], [1.0], end=3)
