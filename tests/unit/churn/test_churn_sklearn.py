"""SklearnChurn: the adapter with a protocol-following classifier; no saving."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from crmkit.churn import LogisticChurn, SklearnChurn
from crmkit.exceptions import InvalidParameterError, ModelFileError, NotFittedError


class NearestMean:
    """A tiny classifier following scikit-learn's protocol: the closer class mean wins softly."""

    def __init__(self, temperature: float = 1.0) -> None:
        self.temperature = temperature

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"temperature": self.temperature}

    def fit(self, X: np.ndarray, y: np.ndarray) -> NearestMean:
        self.classes_ = np.array([False, True])
        self.means_ = np.vstack([X[~y].mean(axis=0), X[y].mean(axis=0)])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        d = ((X[:, None, :] - self.means_[None, :, :]) ** 2).sum(axis=2)
        p1 = expit((d[:, 0] - d[:, 1]) / self.temperature)
        return np.column_stack([1 - p1, p1])


def _data(n: int = 400) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(5)
    a = rng.normal(size=n)
    view = pd.DataFrame(
        {"last_nps": np.round(7 - 2 * a), "days_since_last": rng.uniform(0, 90, n)},
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )
    return view, pd.Series(rng.random(n) < expit(-1 + 2 * a), index=view.index)


def test_adapter_fits_a_clone_and_scores_its_churn_probability() -> None:
    view, y = _data()
    clf = NearestMean(temperature=2.0)
    det = SklearnChurn(clf, columns=("last_nps", "days_since_last")).fit(view, y)
    assert det.estimator_ is not clf and not hasattr(clf, "means_")
    out = det.score(view)
    expected = det.estimator_.predict_proba(det.features_.design(view))[:, 1]
    np.testing.assert_allclose(out["churn_risk"], expected)
    np.testing.assert_array_equal(out["signal_model"], out["churn_risk"])
    churners = out.loc[y, "churn_risk"].mean()
    assert churners > out.loc[~y, "churn_risk"].mean()


def test_adapter_cannot_be_saved_and_needs_labels() -> None:
    view, y = _data(50)
    det = SklearnChurn(NearestMean(), columns=("last_nps",))
    with pytest.raises(InvalidParameterError, match="labels"):
        det.fit(view)
    with pytest.raises(NotFittedError):
        det.score(view)
    det.fit(view, y)
    with pytest.raises(ModelFileError, match="pickle"):
        det.to_dict()
    with pytest.raises(ModelFileError, match="pickle"):
        det.save("never-written.json")
    with pytest.raises(InvalidParameterError, match="predict_proba"):
        SklearnChurn(object(), columns=("last_nps",)).fit(view, y)


def test_with_scikit_learn_logistic_regression_it_matches_logistic_churn() -> None:
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    view, y = _data()
    cols = ("last_nps", "days_since_last")
    # LogisticRegression penalises 1 / (2 C) ||w||^2 with an unpenalised intercept
    det = SklearnChurn(sklearn_linear.LogisticRegression(C=1.0, tol=1e-10), columns=cols)
    ours = LogisticChurn(columns=cols, l2=1.0).fit(view, y)
    np.testing.assert_allclose(
        det.fit(view, y).score(view)["churn_risk"], ours.score(view)["churn_risk"], atol=1e-4
    )
