"""pipeline_report: a hand-computed pipeline, statuses, staleness, validation."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError
from crmkit.lifecycle import PIPELINE_STAGES, pipeline_report

NaT = None


def _opps() -> pd.DataFrame:
    rows = {
        #      identified    marketing     offer         negotiation   order      value status
        "A": ("2024-01-01", "2024-01-11", "2024-01-21", "2024-02-10", "2024-03-01", 100, "Won"),
        "B": ("2024-01-05", "2024-01-15", "2024-02-04", NaT, NaT, 50, "lost"),
        "C": ("2024-02-01", NaT, "2024-02-21", "2024-03-02", "2024-03-22", 200, None),
        "D": ("2024-03-01", "2024-03-31", NaT, NaT, NaT, 40, "LOST"),
        "E": ("2024-05-01", "2024-05-11", "2024-06-10", NaT, NaT, 300, "open"),
        "F": ("2024-06-01", NaT, NaT, NaT, NaT, 60, None),
        "G": ("2024-04-01", "2024-04-21", "2024-05-01", "2024-06-20", NaT, 500, "open"),
    }
    frame = pd.DataFrame.from_dict(
        rows, orient="index", columns=[*PIPELINE_STAGES, "value", "status"]
    )
    frame.index.name = "opportunity"
    return frame


def test_hand_computed_pipeline() -> None:
    report = pipeline_report(_opps(), as_of="2024-06-30", value="value", status="status")
    st = report.stages
    assert st.index.tolist() == list(PIPELINE_STAGES)
    assert st["n_reached"].tolist() == [7, 6, 5, 3, 2]
    np.testing.assert_allclose(
        st["conversion_to_next"].to_numpy()[:-1], [6 / 7, 5 / 6, 3 / 5, 2 / 3]
    )
    assert np.isnan(st["conversion_to_next"].iloc[-1])
    np.testing.assert_allclose(st["p_order"], [0.5, 0.5, 2 / 3, 1.0, 1.0])
    np.testing.assert_allclose(st["median_days_in_stage"].to_numpy()[:-1], [15, 15, 20, 20])
    assert np.isnan(st["median_days_in_stage"].iloc[-1])
    assert st["n_open"].tolist() == [1, 0, 1, 1, 0]
    np.testing.assert_allclose(st["expected_orders"], [0.5, 0, 2 / 3, 1.0, 0])
    np.testing.assert_allclose(st["expected_value"], [30.0, 0, 200.0, 500.0, 0])
    assert (report.n_won, report.n_lost, report.n_open) == (2, 2, 3)
    assert report.win_rate == pytest.approx(0.5)
    assert report.forecast_orders == pytest.approx(0.5 + 2 / 3 + 1)
    assert report.forecast_value == pytest.approx(730.0)
    opp = report.opportunities
    assert opp["current_stage"].astype(str).to_dict() == {
        "A": "order",
        "B": "offer",
        "C": "order",
        "D": "marketing",
        "E": "offer",
        "F": "identified",
        "G": "negotiation",
    }
    assert opp["status"].astype(str).tolist() == [
        "won",
        "lost",
        "won",
        "lost",
        "open",
        "open",
        "open",
    ]
    assert opp.loc[["E", "F", "G"], "days_in_stage"].tolist() == [20.0, 29.0, 10.0]
    np.testing.assert_allclose(opp["p_order"], [1, 0, 1, 0, 2 / 3, 0.5, 1])
    np.testing.assert_allclose(opp["expected_value"], [100, 0, 200, 0, 200, 30, 500])
    assert report.as_of == pd.Timestamp("2024-06-30")


def test_funnel_is_monotone_and_counts_skipped_stages() -> None:
    report = pipeline_report(_opps(), as_of="2024-06-30")
    counts = report.stages["n_reached"].to_numpy()
    assert (np.diff(counts) <= 0).all()
    # C skipped marketing but reached the offer: counted in marketing's funnel
    assert counts[1] == 6


def test_without_status_all_opportunities_are_the_basis() -> None:
    report = pipeline_report(_opps().drop(columns="status"), as_of="2024-06-30", value="value")
    # p_order = won among everybody who reached the stage
    np.testing.assert_allclose(report.stages["p_order"], [2 / 7, 2 / 6, 2 / 5, 2 / 3, 1.0])
    assert report.win_rate == pytest.approx(2 / 7)
    assert report.n_lost == 0 and report.n_open == 5


def test_stale_after_closes_idle_open_opportunities() -> None:
    report = pipeline_report(
        _opps(), as_of="2024-06-30", value="value", status="status", stale_after=15
    )
    # E (20 days in its stage) and F (29 days) are lost now; G (10 days) stays open
    assert (report.n_won, report.n_lost, report.n_open) == (2, 4, 1)
    np.testing.assert_allclose(report.stages["p_order"], [2 / 6, 2 / 5, 2 / 4, 1.0, 1.0])
    assert report.forecast_orders == pytest.approx(1.0)
    assert report.forecast_value == pytest.approx(500.0)
    assert report.win_rate == pytest.approx(2 / 6)
    with pytest.raises(InvalidParameterError, match="stale_after"):
        pipeline_report(_opps(), stale_after=-1)


def test_open_opportunities_without_history_warn_and_are_left_out() -> None:
    opps = pd.DataFrame(
        {
            "identified": ["2024-01-01", "2024-01-02"],
            "offer": [None, "2024-01-10"],
            "order": [None, None],
            "status": ["lost", "open"],
        },
        index=["x", "y"],
    )
    with pytest.warns(DataWarning, match="offer"):
        report = pipeline_report(
            opps, stage_dates=["identified", "offer", "order"], status="status"
        )
    assert report.forecast_orders == 0.0
    assert np.isnan(report.stages.loc["offer", "p_order"])
    assert np.isnan(report.opportunities.loc["y", "p_order"])


def test_stage_dates_mapping_and_default_as_of() -> None:
    opps = _opps().rename(columns={s: f"reached_{s}" for s in PIPELINE_STAGES})
    mapping = {s: f"reached_{s}" for s in PIPELINE_STAGES}
    report = pipeline_report(opps, stage_dates=mapping)
    assert report.stages.index.tolist() == list(PIPELINE_STAGES)
    assert report.as_of == pd.Timestamp("2024-06-20")  # the latest date
    assert report.forecast_value is None and "expected_value" not in report.stages


def test_dates_out_of_order_name_the_rows() -> None:
    opps = _opps()
    opps.loc["B", "offer"] = "2024-01-10"  # before its marketing date 01-15
    opps.loc["G", "negotiation"] = "2024-03-01"  # before its offer 05-01
    with pytest.raises(SchemaError, match="out of order") as info:
        pipeline_report(opps)
    by_column = {f.column: f.rows for f in info.value.failures}
    assert by_column == {"offer": ("B",), "negotiation": ("G",)}


def test_skipped_stage_compares_with_the_last_known_date() -> None:
    opps = _opps()
    opps.loc["C", "offer"] = "2024-01-15"  # marketing missing, identified 02-01
    with pytest.raises(SchemaError) as info:
        pipeline_report(opps)
    assert info.value.failures[0].rows == ("C",)


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        (lambda f: f.assign(offer=f["offer"].where(f.index != "E", "soon")), "offer", "not dates"),
        (lambda f: f.assign(value=f["value"].where(f.index != "E", -5)), "value", "negative"),
        (
            lambda f: f.assign(value=f["value"].where(f.index != "G", np.nan)),
            "value",
            "missing for open",
        ),
        (
            lambda f: f.assign(status=f["status"].where(f.index != "E", "maybe")),
            "status",
            "values other than",
        ),
        (
            lambda f: f.assign(status=f["status"].where(f.index != "E", "won")),
            "status",
            "without an order date",
        ),
        (
            lambda f: f.assign(status=f["status"].where(f.index != "A", "lost")),
            "status",
            "with an order date",
        ),
        (lambda f: f.drop(columns="marketing"), "marketing", "missing"),
        (
            lambda f: f.assign(order=f["order"].where(f.index != "A", "2024-12-01")),
            "order",
            "after as_of",
        ),
    ],
)
def test_invalid_inputs_raise_schema_errors(
    change: Callable[[pd.DataFrame], pd.DataFrame], column: str, words: str
) -> None:
    with pytest.raises(SchemaError, match=words) as info:
        pipeline_report(change(_opps()), as_of="2024-06-30", value="value", status="status")
    assert any(f.column == column for f in info.value.failures)


def test_frame_level_problems() -> None:
    with pytest.raises(SchemaError, match="not a pandas DataFrame"):
        pipeline_report([1, 2])  # type: ignore[arg-type]
    opps = _opps()
    empty_row = opps.copy()
    for s in PIPELINE_STAGES:
        empty_row.loc["F", s] = None
    with pytest.raises(SchemaError, match="without any stage date") as info:
        pipeline_report(empty_row)
    assert info.value.failures[0].rows == ("F",)
    dup = pd.concat([opps, opps.iloc[[0]]])
    with pytest.raises(SchemaError, match="duplicate"):
        pipeline_report(dup)
    with pytest.raises(SchemaError, match="at least two stages"):
        pipeline_report(opps, stage_dates=["identified"])
    with pytest.raises(SchemaError, match="numbers"):
        pipeline_report(opps.assign(identified=1))


def test_input_is_not_modified() -> None:
    opps = _opps()
    snapshot = opps.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipeline_report(opps, as_of="2024-06-30", value="value", status="status")
    pd.testing.assert_frame_equal(opps, snapshot)


def test_synthetic_pipeline_is_consistent() -> None:
    from crmkit.datasets import make_crm

    crm = make_crm(300, seed=2)
    truth = crm.prospect_truth
    mapping = {s: f"reached_{s}" for s in PIPELINE_STAGES}
    report = pipeline_report(truth, stage_dates=mapping, as_of=crm.holdout_end, stale_after=180)
    st = report.stages
    assert st["n_reached"].iloc[0] == len(truth)
    assert st["n_reached"].iloc[-1] == truth["reached_order"].notna().sum() == report.n_won
    assert (np.diff(st["p_order"].to_numpy()) >= 0).all()  # later stages convert better
    assert report.forecast_orders == pytest.approx(st["expected_orders"].sum())
    assert 0 < report.forecast_orders < report.n_open
