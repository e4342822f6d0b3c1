"""Grouping customers by covariate vector, and the shared pmf/sample definitions."""

from __future__ import annotations

import numpy as np
import pytest

from crmkit.exceptions import SchemaError
from crmkit.value import BetaGeo, ModifiedBetaGeo, ParetoNBD
from crmkit.value._covariates import unique_rows


@pytest.mark.parametrize(
    ("n", "k", "levels"),
    [(1000, 4, 2), (5000, 3, 5), (1000, 7, 1000), (10, 1, 1), (0, 2, 2)],
)
def test_unique_rows_equals_numpy_unique(n: int, k: int, levels: int) -> None:
    rng = np.random.default_rng(n + k)
    z = rng.integers(0, levels, (n, k)) * 0.5 - 1.0  # (1000, 7, 1000): too many combinations
    uz, inv = unique_rows(z)
    if n == 0:
        assert inv.shape == (0,)
        return
    want_uz, want_inv = np.unique(z, axis=0, return_inverse=True)
    np.testing.assert_array_equal(uz, want_uz)
    np.testing.assert_array_equal(inv, want_inv.reshape(-1))
    np.testing.assert_array_equal(uz[inv], z)


def test_purchase_pmf_and_sample_are_defined_once() -> None:
    for cls in (BetaGeo, ModifiedBetaGeo):
        assert cls.purchase_pmf is ParetoNBD.purchase_pmf
        assert cls.sample is ParetoNBD.sample
    m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    assert m.sample(4, [30.0, 31.0, 32.0, 33.0], seed=0)["T"].tolist() == [30, 31, 32, 33]
    with pytest.raises(SchemaError, match="T"):
        m.sample(3, [30.0, 31.0], seed=0)  # one T per customer, or a scalar
    np.testing.assert_allclose(m.purchase_pmf(np.arange(60), 39.0).sum(), 1.0, atol=1e-4)
