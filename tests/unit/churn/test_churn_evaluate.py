"""evaluate_churn: each score against a direct computation, ties, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit.churn import evaluate_churn
from crmkit.churn._evaluate import roc_auc, top_rate
from crmkit.exceptions import InvalidParameterError, NotFittedError, SchemaError


class Fixed:
    """A 'detector' returning preset risks, to test the evaluation alone."""

    def __init__(self, risk: pd.Series) -> None:
        self.risk = risk

    def score(self, view: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"churn_risk": self.risk.reindex(view.index).to_numpy()},
                            index=view.index)  # fmt: skip


def _case(n: int = 500, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"c{i:04d}" for i in range(n)], name="customer_id")
    risk = pd.Series(np.round(rng.random(n), 2), index=ids)  # rounded: many ties
    outcome = pd.Series(rng.random(n) < risk.to_numpy(), index=ids)
    view = pd.DataFrame({"x": np.zeros(n)}, index=ids)
    return view, risk, outcome


def test_auc_is_the_share_of_correctly_ordered_pairs() -> None:
    _, risk, outcome = _case(300)
    r, y = risk.to_numpy(), outcome.to_numpy()
    pos, neg = r[y], r[~y]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert roc_auc(r, y) == pytest.approx(pairs, rel=1e-12)


def test_top_rate_shares_ties_at_the_cut() -> None:
    risk = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    y = np.array([False, True, True, False, True])
    # top 2: the 0.9 stayer plus one of three tied customers (2 of 3 churned)
    assert top_rate(risk, y, 2) == pytest.approx((0 + 2 / 3) / 2)
    assert top_rate(risk, y[::-1].copy()[::-1], 2) == top_rate(risk[::-1], y[::-1], 2)


def test_every_score_matches_a_direct_computation() -> None:
    view, risk, outcome = _case()
    res = evaluate_churn(Fixed(risk), view, outcome, k=40, n_bins=5)
    r, y = risk.to_numpy(), outcome.to_numpy().astype(float)
    assert res.n_customers == 500 and res.n_churners == int(y.sum())
    assert res.base_rate == pytest.approx(y.mean())
    assert res.brier == pytest.approx(np.mean((r - y) ** 2))
    assert res.k == 40
    assert res.precision_at_k == pytest.approx(top_rate(r, y.astype(bool), 40))
    assert res.lift_top_decile == pytest.approx(top_rate(r, y.astype(bool), 50) / y.mean())
    cal = res.calibration
    assert cal["n_customers"].sum() == 500
    edges = np.linspace(0, 1, 6)
    for b, row in cal.iterrows():
        inside = (r >= edges[b]) & ((r < edges[b + 1]) | ((b == 4) & (r <= 1.0)))
        assert row["n_customers"] == inside.sum()
        assert row["mean_risk"] == pytest.approx(r[inside].mean())
        assert row["churn_rate"] == pytest.approx(y[inside].mean())
    assert set(res.summary()) >= {"roc_auc", "lift_top_decile", "precision_at_k", "brier"}


def test_a_subset_of_the_view_is_evaluated_in_outcome_order() -> None:
    view, risk, outcome = _case()
    part = outcome.iloc[::3].iloc[::-1]
    res = evaluate_churn(Fixed(risk), view, part)
    assert res.n_customers == len(part)
    assert res.roc_auc == pytest.approx(roc_auc(risk[part.index].to_numpy(), part.to_numpy()))


@pytest.mark.parametrize(
    ("outcome_change", "kwargs", "error", "match"),
    [
        ("unknown_id", {}, SchemaError, "missing from the view"),
        ("one_class", {}, SchemaError, "single class"),
        ("not_bool", {}, SchemaError, "True/False"),
        (None, {"k": 0}, InvalidParameterError, "'k'"),
        (None, {"k": 10_000}, InvalidParameterError, "at most the 30 customers"),
    ],
)
def test_errors(
    outcome_change: str | None, kwargs: dict[str, Any], error: type, match: str
) -> None:
    view, risk, outcome = _case(30)
    if outcome_change == "unknown_id":
        outcome = pd.concat([outcome, pd.Series([True], index=["zzz"])])
    elif outcome_change == "one_class":
        outcome = pd.Series(False, index=outcome.index)
    elif outcome_change == "not_bool":
        outcome = pd.Series(np.arange(30) % 3, index=outcome.index)
    with pytest.raises(error, match=match):
        evaluate_churn(Fixed(risk), view, outcome, **kwargs)


def test_an_unfitted_detector_raises() -> None:
    from crmkit.churn import SignalRules

    view = pd.DataFrame({"last_nps": [1.0, 9.0]}, index=pd.Index(["a", "b"], name="customer_id"))
    with pytest.raises(NotFittedError):
        evaluate_churn(SignalRules(signals=("nps_detractor",)), view,
                       pd.Series([True, False], index=view.index))  # fmt: skip
