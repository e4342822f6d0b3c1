"""A fit is a function of the multiset of customers: row order changes nothing.

For every value model fitted on per-customer rows, a shuffled copy of the
same view (and of its weights) must give bit-identical parameters, standard
errors and log-likelihood, and the same warnings, or the same error. The
views are small samples, some drawn from near-degenerate parameters, so
that identified, flat and failing fits all occur.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.exceptions import CrmkitError
from crmkit.value import BetaGeo, BetaGeoBetaBinom, GammaGamma, ModifiedBetaGeo, ParetoNBD

#: Heterogeneous (identified) and near-homogeneous (flat toward a limit) truths.
PURCHASE_TRUTHS = [
    {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5},
    {"r": 1e4, "alpha": 1e4 / 0.3, "a": 1.0, "b": 4.0},
]
PARETO_TRUTHS = [
    {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0},
    {"r": 2.0, "alpha": 8.0, "s": 1e3, "beta": 1e5},
]
BGBB_TRUTHS = [
    {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8},
    {"alpha": 1e3, "beta": 2e3, "gamma": 0.66, "delta": 2.8},
]
GG_TRUTHS = [{"p": 6.0, "q": 4.0, "gamma": 15.0}, {"p": 1e5, "q": 3.0, "gamma": 1e-3}]


def _view(kind: str, truth: int, n: int, seed: int) -> tuple[type, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    if kind in ("BetaGeo", "ModifiedBetaGeo"):
        model: type = BetaGeo if kind == "BetaGeo" else ModifiedBetaGeo
        view = model.from_params(**PURCHASE_TRUTHS[truth]).sample(
            n, rng.choice([20.0, 30.0, 39.0], n), seed=seed
        )
    elif kind == "ParetoNBD":
        model = ParetoNBD
        view = model.from_params(**PARETO_TRUTHS[truth]).sample(
            n, rng.choice([20.0, 30.0, 39.0], n), seed=seed
        )
    elif kind == "BetaGeoBetaBinom":
        model = BetaGeoBetaBinom
        view = model.from_params(**BGBB_TRUTHS[truth]).sample(n, 6, seed=seed)
    else:
        model = GammaGamma
        view = model.from_params(**GG_TRUTHS[truth]).sample(n, rng.integers(0, 6, n), seed=seed)
    return model, pd.DataFrame(view).reset_index(drop=True)


def _outcome(fit: Callable[[], Any]) -> tuple[Any, ...]:
    """Everything a user sees of a fit, in a form compared bit for bit."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = fit()
        except CrmkitError as exc:
            return ("raised", type(exc).__name__, str(exc))
    seen = tuple(f"{w.category.__name__}: {w.message}" for w in caught)
    numbers = np.array(
        [
            *attrs.astuple(model.params_),
            *attrs.astuple(model.standard_errors_),
            model.log_likelihood_,
            model.n_customers_,
        ],
        dtype=np.float64,
    )
    return ("fitted", numbers.tobytes(), seen, model.converged_)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    kind=st.sampled_from(
        ["BetaGeo", "ModifiedBetaGeo", "ParetoNBD", "BetaGeoBetaBinom", "GammaGamma"]
    ),
    truth=st.integers(0, 1),
    n=st.integers(20, 90),
    seed=st.integers(0, 2**31 - 1),
    weighted=st.booleans(),
    data=st.data(),
)
def test_shuffled_views_fit_bit_identically(
    kind: str, truth: int, n: int, seed: int, weighted: bool, data: st.DataObject
) -> None:
    model, view = _view(kind, truth, n, seed)
    order = np.asarray(data.draw(st.permutations(range(n)), label="order"))
    weights = np.random.default_rng(seed + 1).uniform(0.5, 3.0, n) if weighted else None
    shuffled = view.iloc[order].reset_index(drop=True)
    shuffled_weights = None if weights is None else weights[order]
    first = _outcome(lambda: model().fit(view, weights=weights))
    again = _outcome(lambda: model().fit(shuffled, weights=shuffled_weights))
    assert first == again, (kind, truth, n, seed, weighted)


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_reversed_rows_of_a_flat_fit_warn_alike(model: type) -> None:
    """The same outcome when the data cannot identify the model (the fragile case)."""
    view = pd.DataFrame(
        BetaGeo.from_params(**PURCHASE_TRUTHS[1]).sample(60, 30.0, seed=1)
    ).reset_index(drop=True)
    first = _outcome(lambda: model().fit(view))
    again = _outcome(lambda: model().fit(view.iloc[::-1]))
    assert first == again
