"""The default Playbook judged on real data (issue #17 acceptance).

CDNOW sample (bundled): calibration to 1997-09-30, holdout to 1998-06-30.
Apparel retailer (``../shared/data/apparel_transactions.csv``, skipped when
absent): calibration to 2006-12-31, holdout to 2010-12-20. Churned = no
purchase in the holdout. Scores are oriented "higher = riskier"; decile 1 is
the riskiest tenth, and a score ranks right when the observed churn rate
FALLS from decile 1 to decile 10 (Spearman of decile number vs churn rate
<= -0.9). See ``_real_data.py`` for the definitions.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.integration._real_data import APPAREL, DATASETS, Evaluation, evaluate

PLAYBOOK = "playbook churn_risk"
DAYS = "baseline: days since last purchase"
PNBD = "baseline: Pareto/NBD expected holdout purchases"


@pytest.fixture(scope="module")
def cdnow() -> Evaluation:
    ev = evaluate(DATASETS["cdnow"])
    assert ev is not None
    return ev


@pytest.fixture(scope="module")
def apparel() -> Evaluation:
    if not APPAREL.exists():
        pytest.skip(f"the apparel data is not available at {APPAREL}")
    ev = evaluate(DATASETS["apparel"])
    assert ev is not None
    return ev


def test_the_split_reproduces_the_published_baselines(cdnow: Evaluation) -> None:
    # the references on the same split: the harness measures what they measured
    assert cdnow.n_customers == 2357
    assert cdnow.scores[DAYS].auc == pytest.approx(0.771, abs=5e-4)
    assert cdnow.scores[PNBD].auc == pytest.approx(0.779, abs=5e-4)
    assert cdnow.scores["reference: BG/NBD 1 - P(alive)"].auc < 0.5  # the artefact it replaces


def test_default_playbook_runs_without_warnings(cdnow: Evaluation) -> None:
    assert cdnow.playbook_warnings == []
    assert not np.isnan(cdnow.assessment["churn_risk"].to_numpy(float)).any()


def test_cdnow_churn_risk_ranks_right(cdnow: Evaluation) -> None:
    result = cdnow.scores[PLAYBOOK]
    assert result.auc >= 0.77, result
    assert result.spearman <= -0.9, result  # churn rate falls from the riskiest decile down
    assert result.decile_rates[0] > 2 * result.decile_rates[-1]
    assert result.lift > 1.0


def test_cdnow_no_large_ties_between_different_histories(cdnow: Evaluation) -> None:
    size, _ = cdnow.worst_top_tie(100)
    assert size <= 3


def test_cdnow_reasons_differ_with_histories(cdnow: Evaluation) -> None:
    top = cdnow.assessment["churn_risk"].sort_values(ascending=False, kind="stable").index[:100]
    view = cdnow.view.loc[top, ["frequency", "recency", "T"]]
    reasons = cdnow.assessment.loc[top, "churn_reasons"]
    histories = view.apply(tuple, axis=1)
    assert reasons.str.contains(r"P\(no purchase in 52 weeks\) [01]\.\d\d").all()
    # one text per history: customers sharing a text share the rounded numbers of one history
    per_text = histories.groupby(reasons.to_numpy()).nunique()
    assert per_text.max() <= 3, per_text.sort_values().tail()


def test_cdnow_purchase_predictions(cdnow: Evaluation) -> None:
    mae, aggregate = cdnow.purchases["playbook purchase model"]
    base_mae, _ = cdnow.purchases["baseline: Pareto/NBD"]
    assert mae <= 1.05 * base_mae
    assert abs(aggregate) <= 25.0
    # P(no purchase) over the holdout is a probability of the churn event itself: its mean is
    # the predicted churn rate (the model under-predicts purchases, so it is somewhat high)
    assert abs(cdnow.calibration["playbook purchase model"] - cdnow.churn_rate) < 0.1


def test_apparel_churn_risk_beats_days_since_last_purchase(apparel: Evaluation) -> None:
    assert apparel.scores[DAYS].auc == pytest.approx(0.79, abs=5e-3)  # the reference
    assert apparel.scores[PLAYBOOK].auc >= apparel.scores[DAYS].auc
    assert apparel.scores[PLAYBOOK].spearman <= -0.9
    assert apparel.worst_top_tie(100)[0] <= 3


def test_apparel_playbook_runs_and_predicts(apparel: Evaluation) -> None:
    assert apparel.playbook_warnings == []
    mae, aggregate = apparel.purchases["playbook purchase model"]
    base_mae, _ = apparel.purchases["baseline: Pareto/NBD"]
    assert mae <= 1.05 * base_mae
    assert abs(aggregate) <= 25.0
