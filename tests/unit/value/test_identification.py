"""Fits where the data cannot identify the parameters warn instead of passing silently."""

from __future__ import annotations

import warnings

import attrs
import numpy as np
import pytest

from crmkit.exceptions import ConvergenceWarning
from crmkit.value import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD

IDENTICAL = {"frequency": [2, 2, 2, 2], "recency": [10.0] * 4, "T": [20.0] * 4}


@pytest.mark.parametrize("model", [BetaGeo, ParetoNBD, ModifiedBetaGeo])
def test_identical_customers_warn_and_name_the_parameters(model: type) -> None:
    with pytest.warns(ConvergenceWarning, match="likelihood is flat") as caught:
        fitted = model().fit(IDENTICAL)
    message = str(caught[0].message)
    ses = attrs.asdict(fitted.standard_errors_)
    undefined = [name for name, se in ses.items() if not np.isfinite(se)]
    assert undefined, "the warning must come with undefined standard errors"
    for name in undefined:
        assert name in message
    assert "penalizer" in message and model.__name__ in message


def test_penalizer_identifies_the_same_data() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = BetaGeo(penalizer=0.1).fit(IDENTICAL)
    assert np.all(np.isfinite(attrs.astuple(fitted.standard_errors_)))


def test_a_well_identified_fit_does_not_warn() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, 300)
    spend = np.where(x > 0, rng.gamma(6.0, 1.0 / rng.gamma(4.0, 1 / 15.0, 300)), 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        GammaGamma().fit({"frequency": x, "monetary_value": spend})
