"""kpi_series: hand-worked periods, cross-checks on a synthetic CRM, equity, long form."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.data import CustomerData, summarize
from crmkit.datasets._synthetic import make_crm
from crmkit.exceptions import DataWarning, InvalidParameterError
from crmkit.measure import KPI_LEVELS, kpi_series
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._clv import clv
from crmkit.value._gammagamma import GammaGamma


def _frames() -> dict[str, pd.DataFrame]:
    d = pd.to_datetime
    tx = pd.DataFrame({
        "customer_id": [1, 2, 1, 3, 1, 1],
        "date": d(["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-10", "2024-03-01",
                   "2024-03-01"]),
        "amount": [10.0, 20.0, 15.0, 5.0, 8.0, 2.0], "cost": [4.0, 10.0, 5.0, 5.0, 3.0, 1.0],
    })  # fmt: skip
    fb = pd.DataFrame({
        "customer_id": [1, 2, 3, 1, 2, 3, 1],
        "kind": ["nps", "nps", "nps", "csat", "csat", "complaint", "ces"],
        "score": [10, 3, 9, 4, 2, np.nan, 5],
        "date": d(["2024-01-10", "2024-01-25", "2024-02-12", "2024-01-11", "2024-01-12",
                   "2024-03-03", "2024-03-04"]),
    })  # fmt: skip
    return {"transactions": tx, "feedback": fb}


@pytest.fixture(scope="module")
def data() -> CustomerData:
    return CustomerData.from_frames(**_frames(), as_of="2024-03-15")


def test_monthly_kpis_worked_by_hand(data: CustomerData) -> None:
    k = kpi_series(data, "M")
    assert [str(p) for p in k.index] == ["2024-01", "2024-02", "2024-03"]
    assert k["complete"].tolist() == [True, True, False]  # as_of is mid-March
    assert k["period_end"].tolist() == list(
        pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"])
    )
    assert k["customers_to_date"].tolist() == [2, 3, 3]
    assert k["active_customers"].tolist() == [2, 2, 1]
    assert k["new_customers"].tolist() == [2, 1, 0]
    assert k["retained_customers"].tolist() == [0, 1, 1]
    np.testing.assert_allclose(k["retention_rate"], [np.nan, 0.5, 0.5])
    assert k["n_purchases"].tolist() == [2, 2, 1]  # two lines on 03-01 are one purchase day
    np.testing.assert_allclose(k["revenue"], [30.0, 20.0, 10.0])
    np.testing.assert_allclose(k["margin"], [16.0, 10.0, 6.0])
    np.testing.assert_allclose(k["revenue_per_active"], [15.0, 10.0, 10.0])
    np.testing.assert_allclose(k["nps"], [0.0, 100.0, np.nan])
    np.testing.assert_allclose(k["csat"], [3.0, np.nan, np.nan])
    np.testing.assert_allclose(k["ces"], [np.nan, np.nan, 5.0])
    assert k["n_responses"].tolist() == [4, 1, 1]
    assert k["n_complaints"].tolist() == [0, 0, 1]
    np.testing.assert_allclose(k["complaints_per_100_active"], [0.0, 0.0, 100.0])
    np.testing.assert_allclose(k["pulse_nps"], [0.0, 100 / 3, 100 / 3])
    np.testing.assert_allclose(kpi_series(data, "M", pulse_periods=1)["pulse_nps"], k["nps"])


def test_long_form_start_and_weeks(data: CustomerData) -> None:
    long = kpi_series(data, "Q", long=True)
    assert list(long.columns) == ["period", "level", "kpi", "value"]
    assert set(long["kpi"]) <= set(KPI_LEVELS) and "customer_equity" not in set(long["kpi"])
    assert (long["level"] == long["kpi"].map(KPI_LEVELS)).all()
    nps = long.loc[long["kpi"] == "nps", "value"].iloc[0]
    assert nps == pytest.approx(100 * (2 - 1) / 3)
    trimmed = kpi_series(data, "M", start="2024-02-14")
    assert [str(p) for p in trimmed.index] == ["2024-02", "2024-03"]
    assert trimmed["new_customers"].tolist() == [1, 0]  # history before start still counts
    weeks = kpi_series(data, "W")
    assert weeks.index[0].start_time == pd.Timestamp("2024-01-01")  # Monday..Sunday weeks
    assert weeks["active_customers"].sum() == 6 - 1  # six lines, five purchase days


def test_without_feedback_there_are_no_cx_columns() -> None:
    tx = _frames()["transactions"]
    k = kpi_series({"transactions": tx})
    assert "nps" not in k.columns and "margin" in k.columns


def test_cross_check_on_synthetic_crm() -> None:
    crm = make_crm(600, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        data = crm.data
    k = kpi_series(data, "M")
    tx = data.transactions.assign(period=data.transactions["date"].dt.to_period("M"))
    active = tx.groupby("period")["customer_id"].nunique()
    assert k["active_customers"].to_dict() == active.reindex(k.index, fill_value=0).to_dict()
    np.testing.assert_allclose(
        k["revenue"], tx.groupby("period")["amount"].sum().reindex(k.index, fill_value=0.0)
    )
    assert k["new_customers"].sum() == tx["customer_id"].nunique()
    sets = tx.groupby("period")["customer_id"].agg(set)
    p = k.index[10]
    prev, now = sets.get(p - 1, set()), sets.get(p, set())
    assert k.loc[p, "retention_rate"] == pytest.approx(len(prev & now) / len(prev))
    fb = data.get("feedback").assign(period=lambda f: f["date"].dt.to_period("M"))
    nps = (
        fb.loc[fb["kind"] == "nps"]
        .groupby("period")["score"]
        .agg(lambda s: 100 * ((s >= 9).mean() - (s <= 6).mean()))
    )
    np.testing.assert_allclose(k["nps"].reindex(nps.index), nps)


def test_customer_equity_uses_clv_at_each_period_end(data: CustomerData) -> None:
    bg = BetaGeo.from_params(r=0.5, alpha=4.0, a=0.8, b=2.5)
    gg = GammaGamma.from_params(p=4.0, q=3.0, gamma=10.0)
    k = kpi_series(data, "M", bg, gg, horizon=26.0, discount_rate=0.05, margin=0.4)
    view = summarize(data, include_records=False)
    direct = clv(bg, gg, view, horizon=26.0, discount_rate=0.05, time_unit="W", margin=0.4)
    assert k["customer_equity"].iloc[-1] == pytest.approx(direct.sum())
    cut = CustomerData.from_frames(
        data.transactions.loc[data.transactions["date"] <= "2024-01-31"], as_of="2024-01-31"
    )
    first = clv(
        bg, gg, summarize(cut, include_records=False), horizon=26.0, discount_rate=0.05, margin=0.4
    )
    assert k["customer_equity"].iloc[0] == pytest.approx(first.sum())
    assert np.isfinite(kpi_series(data, "M", bg, gg)["customer_equity"]).all()


def test_refusals(data: CustomerData) -> None:
    with pytest.raises(InvalidParameterError, match="given together with purchase_model"):
        kpi_series(data, "M", BetaGeo.from_params(r=0.5, alpha=4.0, a=0.8, b=2.5))
    with pytest.raises(InvalidParameterError, match="'freq'"):
        kpi_series(data, "H")
    with pytest.raises(InvalidParameterError, match="'pulse_periods'"):
        kpi_series(data, pulse_periods=0)
    with pytest.raises(TypeError, match="CustomerData or a mapping"):
        kpi_series([1, 2])
    frames = _frames()
    before = {k: v.copy() for k, v in frames.items()}
    with pytest.warns(DataWarning, match="dropped 2 feedback rows"):  # as_of: last purchase
        kpi_series(frames)
    for key, frame in frames.items():
        pd.testing.assert_frame_equal(frame, before[key])
