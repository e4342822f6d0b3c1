"""Notebook display: the HTML of models, plans, assessments and playbooks."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from crmkit._display import (
    account_plan_html,
    assessment_html,
    care_plan_html,
    format_value,
    html_table,
    playbook_html,
    value_model_html,
)
from crmkit.domain import AccountPlan, CarePlan, CustomerAssessment, NextStep
from crmkit.value import BetaGeo, GammaGamma

EVIL = '<script>alert("x")</script>'


def _text(fragment: str) -> str:
    """The visible text of an HTML fragment (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def test_fitted_model_shows_parameters_errors_and_fit() -> None:
    model = GammaGamma().fit(
        GammaGamma.from_params(p=6.0, q=4.0, gamma=15.0).sample(400, [1, 2, 3, 5] * 100, seed=1)
    )
    out = model._repr_html_()
    assert out == value_model_html(model)
    text = _text(out)
    summary = model.summary()
    for name, row in summary.iterrows():
        assert f"{name}" in text
        assert format_value(float(row["estimate"])) in text
        assert format_value(float(row["se"])) in text
    assert format_value(model.log_likelihood_) in text
    assert "converged" in text and "yes" in text and str(model.n_iter_) in text
    assert "GammaGamma(penalizer=0.0, spend_covariates=None)" in text


def test_unfitted_and_given_parameter_models() -> None:
    assert "not fitted" in _text(BetaGeo(penalizer=0.1)._repr_html_())
    given = _text(BetaGeo.from_params(r=0.24, alpha=4.4, a=0.79, b=2.4)._repr_html_())
    assert "from_params" in given and "0.24" in given


def test_plans_and_assessments_escape_every_text() -> None:
    care = CarePlan(
        care_model="A",
        intensity="high",
        cadence_days=30,
        channel="visit",
        owner_role=EVIL,
        activities=[EVIL, "review"],
        reasons=["big & loyal"],
    )
    plan = AccountPlan(
        customer_id=EVIL,
        short_term_goals=["Renew <contract>"],
        situation={"revenue": 12000.5, "products": ["toner", EVIL]},
        buying_process=[(EVIL, "purchaser", True)],
        next_steps=[NextStep(action=EVIL, owner_role="seller", due_in_days=7)],
    )
    assessment = CustomerAssessment(
        customer_id=EVIL,
        stage="retention",
        p_alive=0.42,
        churn_risk=0.7,
        churn_reasons=[EVIL],
        care_plan=care,
        segment=EVIL,
    )
    for obj, fn in (
        (care, care_plan_html),
        (plan, account_plan_html),
        (assessment, assessment_html),
    ):
        out = obj._repr_html_()  # type: ignore[attr-defined]
        assert out == fn(obj)
        assert "<script>" not in out and "&lt;script&gt;" in out
    assert "12,000.50" in account_plan_html(plan)
    assert "Renew &lt;contract&gt;" in account_plan_html(plan)
    text = _text(assessment_html(assessment))
    assert "42.0%" in text and "70.0%" in text and "contact every" in text
    assert "30 days" in _text(care_plan_html(care))


def test_playbook_card() -> None:
    compose = pytest.importorskip("crmkit.compose")
    book = compose.Playbook(segmenter="rfm", churn=None)
    text = _text(book._repr_html_())
    assert "segmenter" in text and "rfm" in text and "not fitted" in text

    class Fitted:
        order_ = ("stager", "segmenter:0")
        time_unit_ = "W"
        purchase_model_ = BetaGeo.from_params(r=0.24, alpha=4.4, a=0.79, b=2.4)

        def get_params(self, deep: bool = False) -> dict[str, Any]:
            return {"segmenter": EVIL}

    out = playbook_html(Fitted())
    assert "<script>" not in out
    assert "stager → segmenter:0" in _text(out) and "BetaGeo" in _text(out)


def test_values_and_tables() -> None:
    import numpy as np

    assert format_value(np.float64(0.5)) == "0.5"
    assert format_value(np.int64(12345)) == "12,345"
    assert format_value(float("nan")) == "–" and format_value(float("inf")) == "∞"
    assert format_value((1, "a<b")) == "1, a&lt;b"
    table = html_table([["x", 1.5], ["<y>", 2.0]], ["name", "value"])
    assert table.count("<tr>") == 3 and "&lt;y&gt;" in table
    assert 'text-align: right">1.5<' in table
