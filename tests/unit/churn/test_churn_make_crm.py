"""Acceptance on make_crm: known churners, planted early-warning signals.

``truth.churned`` marks customers alive at the as-of date who die by the end
of the holdout. Customers already gone at the as-of date cannot churn in the
holdout (their label is False by definition), so the signal detectors are
evaluated on the customers at risk: those alive at the as-of date. The
purchase-history detectors (AliveChurn, SurvivalChurn) estimate whether a
customer has left or leaves, so they are checked against "gone by the end of
the holdout" over all customers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.churn import AliveChurn, LogisticChurn, SignalRules, SurvivalChurn, evaluate_churn
from crmkit.data import summarize
from crmkit.datasets import make_crm

#: detector signal (SignalRules) or column (LogisticChurn) -> planted truth signal
PLANTED = {
    "nps_detractor": "negative_feedback", "low_csat": "negative_feedback",
    "last_nps": "negative_feedback", "mean_csat": "negative_feedback",
    "recent_complaint": "complaint", "open_complaint": "complaint",
    "days_since_complaint": "complaint", "n_complaints_open": "complaint",
    "falling_purchases": "falling_purchases", "purchase_trend": "falling_purchases",
    "address_change": "address_change", "days_since_address_change": "address_change",
    "key_contact_left": "contact_left", "n_decision_makers_left": "contact_left",
    "days_since_contact_left": "contact_left",
}  # fmt: skip


@pytest.fixture(scope="module")
def crm() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    data = make_crm(3000, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        view = summarize(data.data)
    truth = data.truth.reindex(view.index)
    train = np.random.default_rng(0).random(len(view)) < 0.5
    return view, truth, train


def _top_reason_matches(scored: pd.DataFrame, truth: pd.DataFrame) -> tuple[int, float]:
    planted = truth.loc[scored.index, [c for c in truth.columns if c.startswith("signal_")]]
    flagged = scored["churn_risk"] >= scored["churn_risk"].quantile(0.9)
    chosen = flagged & planted.any(axis=1) & (scored["reasons"] != "")
    top = scored.loc[chosen, "reasons"].str.split(" (", regex=False).str[0]
    hits = [t in PLANTED and bool(planted.loc[i, f"signal_{PLANTED[t]}"]) for i, t in top.items()]
    return len(hits), float(np.mean(hits))


def test_signal_rules_with_default_weights_find_the_churners(crm) -> None:  # type: ignore[no-untyped-def]
    view, truth, _ = crm
    at_risk = truth["alive_at_as_of"].to_numpy()
    rules = SignalRules().fit(view)  # no labels: the documented default weights
    result = evaluate_churn(rules, view, truth.loc[at_risk, "churned"])
    assert result.roc_auc >= 0.75
    assert result.lift_top_decile >= 3.0
    n, share = _top_reason_matches(rules.score(view[at_risk]), truth)
    assert n >= 50 and share >= 0.8


def test_signal_rules_with_learned_weights_on_other_customers(crm) -> None:  # type: ignore[no-untyped-def]
    view, truth, train = crm
    at_risk = truth["alive_at_as_of"].to_numpy()
    fit_rows = at_risk & train
    rules = SignalRules().fit(view[fit_rows], truth.loc[fit_rows, "churned"])
    assert rules.learned_
    result = evaluate_churn(rules, view, truth.loc[at_risk & ~train, "churned"])
    assert result.roc_auc >= 0.75


def test_logistic_churn_learns_the_churners_and_names_planted_reasons(crm) -> None:  # type: ignore[no-untyped-def]
    view, truth, train = crm
    at_risk = truth["alive_at_as_of"].to_numpy()
    fit_rows = at_risk & train
    model = LogisticChurn().fit(view[fit_rows], truth.loc[fit_rows, "churned"])
    test_rows = at_risk & ~train
    result = evaluate_churn(model, view, truth.loc[test_rows, "churned"])
    assert result.roc_auc >= 0.75
    assert result.lift_top_decile >= 3.0
    n, share = _top_reason_matches(model.score(view[test_rows]), truth)
    assert n >= 30 and share >= 0.6


def test_purchase_history_detectors_find_who_is_gone_by_the_holdout_end(crm) -> None:  # type: ignore[no-untyped-def]
    view, truth, _ = crm
    gone = ~truth["alive_at_as_of"] | truth["churned"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alive = AliveChurn().fit(view)
    survival = SurvivalChurn(columns=()).fit(view)
    assert evaluate_churn(alive, view, gone).roc_auc >= 0.75
    assert evaluate_churn(survival, view, gone).roc_auc >= 0.8
    no_purchase = truth["holdout_purchases"] == 0
    assert evaluate_churn(survival, view, no_purchase).roc_auc >= 0.85
