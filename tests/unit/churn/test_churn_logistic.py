"""LogisticChurn against a direct Newton solution; features, explanations, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from crmkit.churn import DEFAULT_CHURN_COLUMNS, FeatureMap, LogisticChurn, default_log_columns
from crmkit.exceptions import InvalidParameterError, ModelFileError, NotFittedError, SchemaError


def _data(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.exponential(30.0, size=n)
    nps = np.round(np.clip(7 - 2 * a + rng.normal(size=n), 0, 10))
    nps = np.where(rng.random(n) < 0.25, np.nan, nps)
    view = pd.DataFrame(
        {"last_nps": nps, "days_since_last": b, "key_account": rng.random(n) < 0.2},
        index=pd.Index([f"c{i:05d}" for i in range(n)], name="customer_id"),
    )
    logit = -2.0 + 1.2 * a + 0.02 * b + 0.8 * np.isnan(nps)
    y = pd.Series(rng.random(n) < expit(logit), index=view.index, name="churned")
    return view, y


def _newton(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Penalised logistic regression by Newton's method (intercept first)."""
    d = np.column_stack([np.ones(len(x)), x])
    pen = np.full(d.shape[1], l2)
    pen[0] = 1e-4
    theta = np.zeros(d.shape[1])
    for _ in range(50):
        p = expit(d @ theta)
        grad = d.T @ (p - y) + pen * theta
        hess = (d * (p * (1 - p))[:, None]).T @ d + np.diag(pen)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.max(np.abs(step)) < 1e-12:
            break
    return theta


def test_coefficients_match_a_direct_newton_solution() -> None:
    view, y = _data()
    cols = ("last_nps", "days_since_last", "key_account")
    model = LogisticChurn(columns=cols, l2=2.0).fit(view, y)
    # the same design built by hand: days on the signed log scale, standardised, NPS indicator
    days = np.log1p(view["days_since_last"].to_numpy())
    nps = view["last_nps"].to_numpy()
    key = view["key_account"].to_numpy(dtype=float)
    miss = np.isnan(nps)

    def std(v: np.ndarray) -> np.ndarray:
        ok = ~np.isnan(v)
        return np.where(ok, (v - v[ok].mean()) / v[ok].std(), 0.0)

    x = np.column_stack([std(nps), std(days), std(key), miss.astype(float)])
    theta = _newton(x, y.to_numpy(dtype=float), 2.0)
    assert model.converged_
    assert model.intercept_ == pytest.approx(theta[0], abs=1e-5)
    np.testing.assert_allclose(model.coef_, theta[1:4], atol=1e-5)
    np.testing.assert_allclose(model.missing_coef_, [theta[4], 0.0, 0.0], atol=1e-5)
    assert model.coef_[0] < 0 and model.missing_coef_[0] > 0  # low NPS / no NPS: more churn


def test_contributions_add_up_to_the_log_odds_and_name_the_reasons() -> None:
    view, y = _data(800, seed=1)
    model = LogisticChurn(columns=("last_nps", "days_since_last"), min_contribution=0.0).fit(
        view, y
    )
    out = model.score(view)
    parts = model.contributions(view)
    log_odds = model.intercept_ + parts.sum(axis=1)
    np.testing.assert_allclose(out["churn_risk"], expit(log_odds), rtol=1e-12)
    np.testing.assert_allclose(out["signal_last_nps"], parts["last_nps"], rtol=0, atol=0)
    top = parts.idxmax(axis=1)
    for cid in view.index[:50]:
        if parts.loc[cid].max() > 0:
            assert out.loc[cid, "reasons"].startswith(f"{top[cid]} (")
        else:
            assert out.loc[cid, "reasons"] == ""


def test_a_missing_value_contributes_its_indicator_coefficient() -> None:
    view, y = _data(800, seed=2)
    model = LogisticChurn(columns=("last_nps",)).fit(view, y)
    missing = view.loc[view["last_nps"].isna()].iloc[:3]
    np.testing.assert_allclose(
        model.contributions(missing)["last_nps"], model.missing_coef_[0], rtol=1e-12
    )
    # a column without missing values when fitted: a NaN later sits at the mean (0)
    full = view.dropna()
    model2 = LogisticChurn(columns=("last_nps",)).fit(full, y[full.index])
    probe = full.iloc[:1].assign(last_nps=np.nan)
    assert model2.contributions(probe)["last_nps"].iloc[0] == 0.0


def test_feature_map_and_default_log_columns() -> None:
    assert set(default_log_columns(DEFAULT_CHURN_COLUMNS)) == {
        "frequency", "recency", "T", "days_since_last", "mean_interpurchase", "monetary_value",
        "n_complaints_open", "days_since_complaint", "days_since_address_change",
        "n_decision_makers_left", "days_since_contact_left",
    }  # fmt: skip
    view = pd.DataFrame({"n_x": [-3.0, 0.0, 3.0], "c": [1.0, 1.0, 1.0]})
    fm = FeatureMap.fit(view, ("n_x", "c"), ("n_x",))
    z, ind = fm.transform(view)
    np.testing.assert_allclose(z[:, 0], np.array([-1, 0, 1]) * np.sqrt(1.5), rtol=1e-12)
    np.testing.assert_array_equal(z[:, 1], 0.0)  # a constant column: scale 1, centred
    assert ind.shape == (3, 0)


def test_labels_are_required_and_checked() -> None:
    view, y = _data(50)
    with pytest.raises(InvalidParameterError, match="must be churn labels"):
        LogisticChurn(columns=("last_nps",)).fit(view)
    with pytest.raises(SchemaError, match="not a pandas Series"):
        LogisticChurn(columns=("last_nps",)).fit(view, y.to_numpy())  # type: ignore[arg-type]
    with pytest.raises(NotFittedError):
        LogisticChurn(columns=("last_nps",)).score(view)
    with pytest.raises(InvalidParameterError, match="'l2'"):
        LogisticChurn(columns=("last_nps",), l2=0.0).fit(view, y)


def test_one_class_labels_give_finite_small_risks() -> None:
    view, _ = _data(40)
    y = pd.Series(False, index=view.index)
    out = LogisticChurn(columns=("last_nps", "days_since_last")).fit(view, y).score(view)
    risk = out["churn_risk"].to_numpy()
    assert np.isfinite(risk).all() and (risk < 0.01).all()


def test_infinite_values_are_refused_with_the_column_named() -> None:
    view, y = _data(30)
    bad = view.assign(days_since_last=np.r_[np.inf, view["days_since_last"].to_numpy()[1:]])
    with pytest.raises(SchemaError, match="days_since_last"):
        LogisticChurn(columns=("days_since_last",)).fit(bad, y)


@pytest.mark.parametrize("columns", [["frequency", 3], [1.5, None, "n_x"], "frequency", None, 7])
def test_default_log_columns_refuses_what_is_not_column_names(columns: object) -> None:
    with pytest.raises(InvalidParameterError) as info:
        default_log_columns(columns)  # type: ignore[arg-type]
    assert isinstance(info.value, TypeError)
    assert str(info.value) == (
        "The 'columns' parameter of default_log_columns must be a sequence of column names "
        f"(str). Got {columns!r} instead."
    )


def test_a_saved_state_with_mismatched_coefficients_is_a_model_file_error() -> None:
    view, y = _data(300)
    saved = LogisticChurn(columns=("last_nps", "days_since_last")).fit(view, y).to_dict()
    saved["state"]["__dict__"]["coef"] = {"__ndarray__": [1.0], "dtype": "<f8", "shape": [1]}
    with pytest.raises(ModelFileError, match=r"LogisticChurn: 'coef' and 'missing_coef' .*\(2\)"):
        LogisticChurn.from_dict(saved)
