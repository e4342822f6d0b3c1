"""``numbers`` writes every value as ``number`` does, each distinct value once."""

from __future__ import annotations

import numpy as np

from crmkit.lifecycle._reasons import number, numbers


def test_numbers_equal_number_per_value() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([
        np.round(rng.uniform(0, 30, 500), 1), [9.94, 9.95, 9.96, -0.0, 0.0, -12.5],
        [np.nan, np.inf, -np.inf, np.nan],
    ])  # fmt: skip
    assert numbers(values) == [number(float(v)) for v in values]
    assert numbers(np.zeros(0)) == []
