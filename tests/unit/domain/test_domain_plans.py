"""Care plans, account plans and assessments: validation, JSON and Markdown."""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest

from crmkit.domain import (
    AccountPlan,
    CareIntensity,
    CarePlan,
    CustomerAssessment,
    CustomerStatus,
    LifecycleStage,
    NextStep,
)
from crmkit.exceptions import InvalidTransitionError, SchemaError


def _plan(**kw: object) -> CarePlan:
    base: dict[str, object] = {
        "care_model": "A",
        "intensity": "high",
        "cadence_days": 30,
        "channel": "visit",
        "owner_role": "key account manager",
    }
    base.update(kw)
    return CarePlan(**base)  # type: ignore[arg-type]


def test_care_plan_converts_and_validates() -> None:
    p = _plan(activities=["review", "visit"], reasons=("top decile",), budget_share=0.25)
    assert p.intensity is CareIntensity.HIGH
    assert p.activities == ("review", "visit")
    assert hash(p) == hash(
        _plan(activities=("review", "visit"), reasons=["top decile"], budget_share=0.25)
    )
    assert [i.rank for i in CareIntensity] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"intensity": "extreme"}, "intensity"),
        ({"cadence_days": 0}, "cadence_days"),
        ({"cadence_days": 7.5}, "cadence_days"),
        ({"budget_share": 1.2}, "budget_share"),
        ({"budget_share": -0.1}, "budget_share"),
        ({"activities": "visit"}, "activities"),
        ({"activities": ["ok", ""]}, "activities"),
        ({"reasons": [3]}, "reasons"),
        ({"care_model": ""}, "care_model"),
    ],
)
def test_care_plan_bad_fields(kw: dict[str, object], field: str) -> None:
    with pytest.raises(SchemaError, match=rf"CarePlan\['{field}'\]"):
        _plan(**kw)


def test_care_plan_to_dict_is_json_ready() -> None:
    d = _plan(activities=["a"]).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["intensity"] == "high" and d["activities"] == ["a"]


def test_next_step_validation() -> None:
    with pytest.raises(SchemaError, match=r"NextStep\['due_in_days'\].*-1"):
        NextStep(action="Call", owner_role="seller", due_in_days=-1)
    with pytest.raises(SchemaError, match=r"NextStep\['action'\]"):
        NextStep(action=" ", owner_role="seller", due_in_days=1)


def _account_plan() -> AccountPlan:
    return AccountPlan(
        customer_id="C42",
        short_term_goals=["Renew the service contract"],
        long_term_goals=["Become main supplier | all sites"],
        situation={
            "revenue": 125000.0,
            "n_products": 4,
            "products": ["toner", "paper"],
            "trend": -0.2,
            "key_account": True,
            "customer_since": dt.date(2019, 3, 1),
            "last_nps": None,
        },
        development_points=["No service contract yet"],
        buying_process=[("Anna Virtanen", "purchaser", False), (17, "ceo", True)],
        next_steps=[
            NextStep(
                action="Book annual review",
                owner_role="seller",
                due_in_days=14,
                reason="contract ends",
            ),
            NextStep(action="Send offer", owner_role="sales support", due_in_days=30),
        ],
    )


def test_account_plan_to_dict_round_trips_through_json() -> None:
    plan = _account_plan()
    d = plan.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["situation"]["customer_since"] == "2019-03-01"
    assert d["situation"]["products"] == ["toner", "paper"]
    assert d["buying_process"][1] == {"contact": 17, "role": "ceo", "decision_maker": True}
    assert d["next_steps"][0]["due_in_days"] == 14


def test_account_plan_is_immutable_and_compares_by_value() -> None:
    plan = _account_plan()
    with pytest.raises(TypeError):
        plan.situation["revenue"] = 0.0  # type: ignore[index]
    assert plan.situation["products"] == ("toner", "paper")
    assert plan == _account_plan()
    assert plan != attrs.evolve(plan, development_points=())
    with pytest.raises(TypeError):
        hash(plan)


def test_account_plan_markdown() -> None:
    md = _account_plan().to_markdown()
    lines = md.splitlines()
    assert lines[0] == "# Account plan: C42"
    for heading in (
        "## Current situation",
        "## Goals",
        "### Short term",
        "### Long term",
        "## Development points",
        "## Buying process",
        "## Next steps",
    ):
        assert heading in lines
    assert "| revenue | 125,000.00 |" in lines
    assert "| n_products | 4 |" in lines
    assert "| products | toner, paper |" in lines
    assert "| key_account | yes |" in lines
    assert "| customer_since | 2019-03-01 |" in lines
    assert "| last_nps | – |" in lines
    assert "- Become main supplier \\| all sites" in lines
    assert "| 17 | ceo | yes |" in lines
    assert "| Book annual review | seller | 14 | contract ends |" in lines
    assert "| Send offer | sales support | 30 | – |" in lines
    # Every table row has the same number of cells as its header.
    for block in md.split("\n\n"):
        rows = [r for r in block.splitlines() if r.startswith("|")]
        if rows:
            assert len({r.replace("\\|", "").count("|") for r in rows}) == 1
    assert md.endswith("\n")


def test_empty_account_plan_markdown_marks_empty_sections() -> None:
    md = AccountPlan(customer_id=5).to_markdown()
    assert md.count("_none_") == 6
    assert md.startswith("# Account plan: 5\n")


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"situation": {"x": object()}}, "situation['x']"),
        ({"situation": {"x": float("nan")}}, "situation['x']"),
        ({"situation": {3: 1}}, "situation"),
        ({"situation": [1]}, "situation"),
        ({"buying_process": [("a", "b")]}, "buying_process"),
        ({"buying_process": [("a", "b", "yes")]}, "buying_process"),
        ({"buying_process": "abc"}, "buying_process"),
        ({"next_steps": ["call"]}, "next_steps"),
        ({"short_term_goals": "grow"}, "short_term_goals"),
    ],
)
def test_account_plan_bad_fields(kw: dict[str, object], field: str) -> None:
    with pytest.raises(SchemaError) as exc:
        AccountPlan(customer_id="C1", **kw)  # type: ignore[arg-type]
    assert f"AccountPlan[{field!r}]" in str(exc.value)


def test_assessment_to_dict_and_labels() -> None:
    a = CustomerAssessment(
        customer_id="C1",
        stage="retention",
        status="lapsed",
        clv=1200.5,
        p_alive=0.1,
        loyalty=0.3,
        segment="loyal",
        portfolio="B",
        churn_risk=0.9,
        churn_reasons=["complaint open", "decision maker left"],
        care_plan=_plan(),
        expected_purchases=0.4,
        stage_reasons=["retention: 9 purchases over 90 weeks", "lapsed: no purchase for 30 weeks"],
        segments={"portfolio": "B", "segment": "loyal"},
        reasons={"stage_reasons": "retention: ...; lapsed: ...", "portfolio_reasons": "B: why"},
        churn_risks={"alive": 0.9, "signals": 0.4},
    )
    d = a.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["stage"] == "retention" and d["status"] == "lapsed"
    assert d["stage_label"] == "retention (lapsed)"
    assert d["reasons"]["portfolio_reasons"] == "B: why" and d["segments"]["portfolio"] == "B"
    assert d["stage_reasons"][1] == "lapsed: no purchase for 30 weeks"
    assert d["churn_risks"] == {"alive": 0.9, "signals": 0.4} and d["expected_purchases"] == 0.4
    assert d["care_plan"]["care_model"] == "A"
    assert d["churn_reasons"] == ["complaint open", "decision maker left"]
    assert a.stage is LifecycleStage.RETENTION and a.status is CustomerStatus.LAPSED
    assert hash(a) == hash(attrs.evolve(a))


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"p_alive": 1.01}, "p_alive"),
        ({"churn_risk": -0.5}, "churn_risk"),
        ({"clv": float("nan")}, "clv"),
        ({"stage": "lapsed"}, "stage"),
        ({"care_plan": {"care_model": "A"}}, "care_plan"),
        ({"churn_reasons": "late"}, "churn_reasons"),
        ({"stage_reasons": "late"}, "stage_reasons"),
        ({"expected_purchases": -1.0}, "expected_purchases"),
        ({"reasons": ["a"]}, "reasons"),
        ({"reasons": {"stage_reasons": 3}}, "reasons"),
        ({"segments": {"": "A"}}, "segments"),
        ({"churn_risks": {"alive": "high"}}, "churn_risks"),
        ({"churn_risks": {"alive": float("inf")}}, "churn_risks"),
    ],
)
def test_assessment_bad_fields(kw: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"customer_id": "C1", "stage": "development"}
    base.update(kw)
    with pytest.raises(SchemaError, match=rf"CustomerAssessment\['{field}'\]"):
        CustomerAssessment(**base)  # type: ignore[arg-type]


def test_assessment_refuses_lapsed_prospect() -> None:
    with pytest.raises(InvalidTransitionError):
        CustomerAssessment(customer_id="C1", stage="acquisition", status="lapsed")


def test_assessment_mappings_are_read_only_copies() -> None:
    given = {"stage_reasons": "development: 4 purchases"}
    a = CustomerAssessment(customer_id="C1", stage="development", reasons=given)
    given["stage_reasons"] = "changed"
    assert a.reasons["stage_reasons"] == "development: 4 purchases"
    with pytest.raises(TypeError):
        a.reasons["x"] = "y"  # type: ignore[index]
    b = CustomerAssessment(customer_id="C1", stage="development", reasons=dict(a.reasons))
    assert a == b and hash(a) == hash(b)
    assert a != attrs.evolve(a, reasons={"stage_reasons": "other"})
