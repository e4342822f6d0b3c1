"""Fits collapse to a canonical order, and flat / edge verdicts do not depend on row order."""

from __future__ import annotations

import warnings

import attrs
import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import ConvergenceError, ConvergenceWarning, CrmkitError
from crmkit.value import BetaGeo, GammaGamma
from crmkit.value._canonical import canonical_rows
from crmkit.value._identify import EDGE, at_edge, diagnose


def _boundary_view() -> pd.DataFrame:
    """60 customers buying at one common Poisson rate: the BG/NBD maximum is at alpha -> inf.

    With no heterogeneity of the purchase rate, the likelihood rises toward
    ``r, alpha -> infinity`` (``r / alpha`` fixed) and levels off there.
    """
    truth = BetaGeo.from_params(r=1e4, alpha=1e4 / 0.3, a=1.0, b=4.0)
    view = pd.DataFrame(truth.sample(60, 30.0, seed=1))[["frequency", "recency", "T"]]
    return view.reset_index(drop=True)


def _outcome(view: pd.DataFrame) -> tuple[object, ...]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = BetaGeo().fit(view)
        except CrmkitError as exc:
            return ("raised", type(exc).__name__, str(exc))
    se = attrs.astuple(model.standard_errors_)
    numbers = np.array([*attrs.astuple(model.params_), *se, model.log_likelihood_])
    return ("fitted", numbers.tobytes(), tuple(str(w.message) for w in caught))


def test_the_60_customer_boundary_case_has_one_outcome_in_20_orders() -> None:
    view = _boundary_view()
    # the case is what it claims: the fit levels off toward r, alpha -> infinity
    profile = [
        float(BetaGeo.from_params(r=k * 0.3, alpha=k, a=1.2, b=5.0).log_likelihood(view).sum())
        for k in (10.0, 1e3, 1e6)
    ]
    assert profile[0] < profile[1] < profile[2] + 1e-6
    rng = np.random.default_rng(2024)
    outcomes = {_outcome(view.iloc[rng.permutation(len(view))]) for _ in range(20)}
    assert len(outcomes) == 1, outcomes
    (outcome,) = outcomes
    assert outcome[0] == "fitted"
    messages = outcome[2]
    assert isinstance(messages, tuple) and len(messages) == 1
    assert "BetaGeo: the likelihood is flat" in messages[0]
    assert "r" in messages[0] and "alpha" in messages[0]


def test_the_flat_fit_names_its_undefined_standard_errors() -> None:
    with pytest.warns(ConvergenceWarning, match="likelihood is flat") as caught:
        model = BetaGeo().fit(_boundary_view())
    ses = attrs.asdict(model.standard_errors_)
    assert np.isnan(ses["r"]) and np.isnan(ses["alpha"])
    assert np.isnan(model.covariance_).all()
    assert all(name in str(caught[0].message) for name, se in ses.items() if np.isnan(se))


def test_canonical_rows_ignore_order_and_merge_duplicates() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, 500).astype(float)
    t = rng.integers(0, 3, 500) * 0.5
    w = rng.uniform(0.1, 2.0, 500)
    cols, cw = canonical_rows([x, t], w)
    order = rng.permutation(500)
    cols2, cw2 = canonical_rows([x[order], t[order]], w[order])
    assert cw.tobytes() == cw2.tobytes()
    assert all(a.tobytes() == b.tobytes() for a, b in zip(cols, cols2, strict=True))
    assert len(cw) == len({(a, b) for a, b in zip(x, t, strict=True)})
    assert cw.sum() == pytest.approx(w.sum(), rel=1e-12)
    # -0.0 and 0.0 are one row
    c, ww = canonical_rows([np.array([0.0, -0.0])], np.ones(2))
    assert c[0].tolist() == [0.0] and ww.tolist() == [2.0]


def test_canonical_rows_do_not_mutate_the_input() -> None:
    x = np.array([2.0, 1.0, 2.0])
    w = np.array([1.0, 2.0, 3.0])
    canonical_rows([x], w)
    assert x.tolist() == [2.0, 1.0, 2.0] and w.tolist() == [1.0, 2.0, 3.0]


def test_diagnose_finds_a_ridge_that_a_noisy_hessian_hides() -> None:
    def ridge(theta: np.ndarray) -> tuple[float, np.ndarray]:
        u = theta[0] - theta[1]  # only the ratio of the two parameters matters
        return float(u**2 + theta[2] ** 2), np.array([2 * u, -2 * u, 2 * theta[2]])

    # positive definite, yet wrong: its weakest curvature (0.5 per squared
    # log-unit) claims a change of 0.25 for a factor e, far above the tolerance
    noisy = np.diag([0.5, 2.0, 2.0])
    assert diagnose(ridge, np.array([5.0, 5.0, 0.0]), noisy, ["r", "alpha", "a"]).flat == (
        "r",
        "alpha",
    )


def test_a_parameter_on_the_edge_is_flagged() -> None:
    assert at_edge(np.array([EDGE, 0.0, -EDGE])).tolist() == [True, False, True]


def test_unbounded_likelihood_raises_naming_the_limits() -> None:
    with pytest.raises(ConvergenceError, match="ran to the edge of the parameter space"):
        BetaGeo().fit({"frequency": [2, 3], "recency": [0.0, 0.0], "T": [10.0, 10.0]})
    with pytest.raises(ConvergenceError, match="q -> infinity"):
        GammaGamma().fit({"frequency": [10] * 6, "monetary_value": [10.0] * 6})
