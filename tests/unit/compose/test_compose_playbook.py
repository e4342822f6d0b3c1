"""Playbook: composition, bulk == single customer, JSON round trip, errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import load
from crmkit.care import LifecycleCare, PortfolioCare
from crmkit.compose import (
    ObservedSpend,
    Playbook,
    assessment_from_row,
    demo_sections,
    lapsed_from,
)
from crmkit.data import CustomerData, summarize
from crmkit.datasets import make_crm
from crmkit.domain import CustomerAssessment
from crmkit.exceptions import DataWarning, InvalidParameterError, NotFittedError, SchemaError
from crmkit.plugins import CARE_PLAN_COLUMNS, STAGES, STATUSES
from crmkit.segmentation import PortfolioSegmenter

N_CUSTOMERS = 500


@pytest.fixture(scope="module")
def data() -> CustomerData:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return make_crm(N_CUSTOMERS, seed=0).data


@pytest.fixture(scope="module")
def fitted(data: CustomerData) -> Playbook:
    return Playbook().fit(data)


@pytest.fixture(scope="module")
def full(fitted: Playbook, data: CustomerData) -> pd.DataFrame:
    return fitted.assess(data, include_view=True)


def _subset(data: CustomerData, ids: Any) -> CustomerData:
    frames = {
        kind: frame.loc[frame["customer_id"].isin(list(ids)).to_numpy()]
        if "customer_id" in frame.columns
        else frame
        for kind, frame in data.frames.items()
    }
    return attrs.evolve(data, frames=frames)


def _check_single(pb: Playbook, data: CustomerData, full: pd.DataFrame, cid: Any) -> None:
    history = data.for_customer(cid)
    one = pb.assess(history, include_view=True)
    pd.testing.assert_frame_equal(one, full.loc[[cid]], check_exact=True)
    assert pb.assess_one(history) == assessment_from_row(full.loc[cid])


def _spread_sample(full: pd.DataFrame) -> list[Any]:
    """A customer of every stage x (churn override or not), and of every portfolio."""
    override = full["care_reasons"].str.startswith("churn risk")
    keys = [full["stage"].astype(str), full["status"].astype(str), override]
    by_stage = full.groupby(keys, sort=True).head(1).index
    by_portfolio = full.groupby(full["portfolio"].astype(str), sort=True).head(1).index
    return list(dict.fromkeys([*by_stage, *by_portfolio]))


# ----------------------------------------------------------------- the output


def test_assess_columns_and_contract(fitted: Playbook, data: CustomerData) -> None:
    out = fitted.assess(data)
    assert out.columns.tolist() == [
        "stage",
        "status",
        "stage_reasons",
        "clv",
        "p_alive",
        "expected_purchases",
        "loyalty",
        "portfolio",
        "portfolio_reasons",
        "churn_risk",
        "churn_reasons",
        *CARE_PLAN_COLUMNS,
    ]
    assert out.index.equals(summarize(data).index)
    assert tuple(out["stage"].cat.categories) == STAGES
    # "lapsed" is a status, never a stage; every customer has a stage reason
    assert tuple(out["status"].cat.categories) == STATUSES
    assert (out["status"] == "lapsed").any() and (out["status"] == "active").any()
    assert out["stage_reasons"].str.startswith(tuple(STAGES)).all()
    lapsed = (out["status"] == "lapsed").to_numpy()
    assert out.loc[lapsed, "stage_reasons"].str.contains("; lapsed: no purchase for").all()
    for col in ("clv", "p_alive", "expected_purchases", "loyalty", "churn_risk", "budget_share"):
        assert np.isfinite(out[col].to_numpy()).all(), col
    assert out["p_alive"].between(0, 1).all() and out["churn_risk"].between(0, 1).all()
    assert set(out["portfolio"].astype(str)) <= set("ABCD")
    assert (out["care_model"] == out["portfolio"].astype(str)).all()
    assert out["budget_share"].sum() == pytest.approx(1.0)  # fitted and assessed alike
    risky = out["churn_risk"] > 0.5
    assert risky.any()
    assert out.loc[risky, "care_reasons"].str.startswith("churn risk").all()
    assert set(fitted.timings_) == {
        "view",
        "value",
        "loyalty",
        "stager",
        "segmenter",
        "churn",
        "care",
        "assemble",
    }


def test_fit_records_setup_and_step_order(fitted: Playbook) -> None:
    assert fitted.order_ == ("stager", "segmenter:0", "churn", "care")
    assert fitted.time_unit_ == "W"
    assert "days_since_complaint" in fitted.schema_


def test_single_customer_equals_bulk_on_a_spread_sample(
    fitted: Playbook, data: CustomerData, full: pd.DataFrame
) -> None:
    sample = _spread_sample(full)
    assert len(sample) >= 8
    assert {str(full.loc[c, "stage"]) for c in sample} == set(full["stage"].astype(str))
    for cid in sample:
        _check_single(fitted, data, full, cid)


@pytest.mark.slow
def test_single_customer_equals_bulk_for_every_customer(
    fitted: Playbook, data: CustomerData, full: pd.DataFrame
) -> None:
    assert len(full) == N_CUSTOMERS
    for cid in full.index:
        _check_single(fitted, data, full, cid)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.integers(0, N_CUSTOMERS - 1), min_size=1, max_size=25, unique=True))
def test_any_batch_of_customers_gets_their_bulk_rows(
    fitted: Playbook, data: CustomerData, full: pd.DataFrame, positions: list[int]
) -> None:
    ids = full.index[sorted(positions)]
    batch = fitted.assess(_subset(data, ids), include_view=True)
    pd.testing.assert_frame_equal(batch, full.loc[ids], check_exact=True)


def test_assess_one_builds_the_assessment(
    fitted: Playbook, data: CustomerData, full: pd.DataFrame
) -> None:
    lapsed = full.index[(full["status"] == "lapsed").to_numpy()][0]
    a = fitted.assess_one(data.for_customer(lapsed))
    assert isinstance(a, CustomerAssessment)
    stage = str(full.loc[lapsed, "stage"])
    assert a.status.value == "lapsed" and a.stage_label == f"{stage} (lapsed)"
    assert a.stage.value == stage
    assert "; ".join(a.stage_reasons) == full.loc[lapsed, "stage_reasons"]
    assert a.reasons["portfolio_reasons"] == full.loc[lapsed, "portfolio_reasons"]
    assert a.segments == {"portfolio": str(full.loc[lapsed, "portfolio"])}
    assert a.clv == full.loc[lapsed, "clv"]
    assert a.portfolio == full.loc[lapsed, "portfolio"]
    assert a.care_plan is not None and a.care_plan.care_model == full.loc[lapsed, "care_model"]
    assert "; ".join(a.churn_reasons) == full.loc[lapsed, "churn_reasons"]
    with pytest.raises(SchemaError, match="holds 2 customers"):
        fitted.assess_one(_subset(data, full.index[:2]))


# --------------------------------------------------------------- persistence


def test_json_round_trip_gives_identical_output(
    fitted: Playbook, data: CustomerData, tmp_path: Path
) -> None:
    out = fitted.assess(data)
    text = json.dumps(fitted.to_dict(), allow_nan=False)
    pd.testing.assert_frame_equal(
        Playbook.from_dict(json.loads(text)).assess(data), out, check_exact=True
    )
    loaded = load(fitted.save(tmp_path / "playbook.json"))
    assert isinstance(loaded, Playbook)
    pd.testing.assert_frame_equal(loaded.assess(data), out, check_exact=True)
    one = data.for_customer(out.index[3])
    assert loaded.assess_one(one) == fitted.assess_one(one)


def test_saved_playbook_holds_no_customer_data(fitted: Playbook, data: CustomerData) -> None:
    text = json.dumps(fitted.to_dict())
    customers = data.frames["customers"]
    for value in (*customers["name"].astype(str)[:50], *customers["address"].astype(str)[:50]):
        assert value not in text
    shapes = [len(v["__ndarray__"]) for v in _arrays(json.loads(text))]
    assert max(shapes) < N_CUSTOMERS / 2  # aggregates only (quantile grids ...)


def _arrays(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if "__ndarray__" in node else []
        return found + [a for v in node.values() for a in _arrays(v)]
    if isinstance(node, list):
        return [a for v in node for a in _arrays(v)]
    return []


def test_unfitted_round_trip_and_not_fitted_errors(data: CustomerData) -> None:
    pb = Playbook(care="lifecycle")
    again = Playbook.from_dict(json.loads(json.dumps(pb.to_dict())))
    assert again.get_params() == pb.get_params()
    with pytest.raises(NotFittedError):
        again.assess(data)
    with pytest.raises(NotFittedError):
        again.assess_one(data.for_customer(1))


# ------------------------------------------------------------- configurations


def test_components_by_object_are_copied_not_fitted(data: CustomerData) -> None:
    from crmkit.value._bgnbd import BetaGeo

    model = BetaGeo(penalizer=0.001)
    seg = PortfolioSegmenter(output_name="portfolio", potential_column="expected_purchases")
    care = LifecycleCare(priority_quantile=0.9)
    pb = Playbook(purchase_model=model, segmenter=seg, care=care).fit(data)
    assert not hasattr(model, "params_") and not hasattr(seg, "thresholds_")
    assert not hasattr(care, "budget_total_")
    assert pb.get_params(deep=False)["care"] is care
    out = pb.assess(data)
    assert set(out["care_model"].astype(str)) <= {*STAGES, "lapsed"}  # lapsed: by status
    lapsed = (out["status"] == "lapsed").to_numpy()
    assert (out.loc[lapsed, "care_model"] == "lapsed").all()


def test_several_segmenters_and_churn_detectors(data: CustomerData) -> None:
    pb = Playbook(segmenter=["portfolio", "rfm"], churn=["signals", "alive"]).fit(data)
    out = pb.assess(data)
    for col in ("portfolio", "segment", "churn_risk_signals", "churn_risk_alive"):
        assert col in out.columns
    both = out[["churn_risk_signals", "churn_risk_alive"]].to_numpy()
    np.testing.assert_array_equal(out["churn_risk"].to_numpy(), both.max(axis=1))
    alive_wins = both[:, 1] > both[:, 0]
    reasons = out.loc[alive_wins, "churn_reasons"]
    assert (reasons.str.startswith("dropout") | (reasons == "")).all()  # "" below its minimum
    assert reasons.str.startswith("dropout").any()


def test_components_left_out(data: CustomerData) -> None:
    pb = Playbook(purchase_model=None, segmenter="rfm", churn=None, care=None, loyalty=False)
    out = pb.fit(data).assess(data)
    assert out.columns.tolist() == [
        "stage",
        "status",
        "stage_reasons",
        "segment",
        "segment_reasons",
    ]


def test_spend_model_none_values_purchases_at_observed_spend(data: CustomerData) -> None:
    pb = Playbook(spend_model=None, churn=None, care=None, segmenter=None).fit(data)
    out = pb.assess(data, include_view=True)
    spend = ObservedSpend().expected_spend(out)
    assert (out["clv"] >= 0).all()
    ratio = out["clv"] / (out["expected_purchases"] * spend)
    ok = out["expected_purchases"] > 1
    assert ratio[ok].between(0.85, 1.0).all()  # discounting only lowers the value


def test_model_stager_gets_the_playbook_horizon(data: CustomerData) -> None:
    pb = Playbook(stager="model", horizon=26.0, care="lifecycle").fit(data)
    assert pb.plugins_["stager"].horizon == 26.0
    assert set(pb.assess(data)["stage"].astype(str)) <= set(STAGES)


def test_missing_requirement_is_named(data: CustomerData) -> None:
    with pytest.raises(
        SchemaError,
        match=r"view\['portfolio'\]: is required by the playbook's "
        r"care \(PortfolioCare\)",
    ):
        Playbook(segmenter="rfm", care="portfolio").fit(data)
    with pytest.raises(SchemaError, match=r"view\['clv'\]"):
        Playbook(purchase_model=None, segmenter="portfolio").fit(data)


def test_clashing_outputs_and_bad_parameters(data: CustomerData) -> None:
    with pytest.raises(InvalidParameterError, match="same columns"):
        Playbook(segmenter=["rfm", "deciles"], care=None).fit(data)
    with pytest.raises(InvalidParameterError, match="purchase_model"):
        Playbook(purchase_model="magic").fit(data)
    with pytest.raises(InvalidParameterError, match="horizon"):
        Playbook(horizon=0).fit(data)
    with pytest.raises(InvalidParameterError, match="alike"):
        Playbook(churn=["signals", "signals"]).fit(data)


def test_bad_data(fitted: Playbook, data: CustomerData) -> None:
    with pytest.raises(InvalidParameterError, match=r"Playbook: 'data' must be CustomerData"):
        fitted.assess(summarize(data))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got DataFrame$"):
        fitted.assess(summarize(data))  # type: ignore[arg-type]
    daily = attrs.evolve(data, time_unit="D")
    with pytest.raises(InvalidParameterError, match="time unit"):
        fitted.assess(daily)


def test_care_model_plan_one_matches_the_playbook_row(fitted: Playbook, full: pd.DataFrame) -> None:
    care = fitted.plugins_["care"]
    assert isinstance(care, PortfolioCare)
    cid = full.index[10]
    plan = care.plan_one(full.loc[cid])
    assert plan == assessment_from_row(full.loc[cid]).care_plan


@pytest.mark.parametrize("row", [None, 3, "development", ["stage", "lapsed"], np.array([0.0])])
@pytest.mark.parametrize("function", [assessment_from_row, lapsed_from])
def test_row_readers_refuse_a_row_that_is_not_a_mapping(function: Any, row: Any) -> None:
    with pytest.raises(InvalidParameterError) as info:
        function(row)
    assert isinstance(info.value, TypeError)
    message = " ".join(str(info.value).split())
    assert message.startswith(f"The 'row' parameter of {function.__name__} must be a mapping")
    assert message.endswith(" instead.")
    assert "Got " in message


@pytest.mark.parametrize(
    ("row", "column", "check"),
    [
        ({"status": "active", "clv": 1.0}, "stage", "is missing"),
        ({"stage": "courtship"}, "stage", "is not a lifecycle stage"),
        ({"stage": "development", "clv": "a lot"}, "clv", "is not a number"),
        ({"stage": "retention", "churn_risk": [0.2]}, "churn_risk", "is not a number"),
        ({"stage": "lapsed", "frequency": "twice"}, "frequency", "is not a number"),
    ],
)
def test_assessment_from_row_names_the_bad_field(
    row: dict[str, Any], column: str, check: str
) -> None:
    with pytest.raises(SchemaError) as info:
        assessment_from_row(row)
    (failure,) = info.value.failures
    assert (failure.frame, failure.column) == ("row", column)
    assert failure.check.startswith(check)
    if column in row:
        assert failure.values == (row[column],)


def test_demo_sections_names_a_wrong_argument() -> None:
    with pytest.raises(InvalidParameterError, match=r"demo_sections: 'crm' must be .*; got list$"):
        demo_sections([1, 2])
