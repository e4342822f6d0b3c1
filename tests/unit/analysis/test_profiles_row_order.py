"""Decile profiles never depend on row order, ties on the value included."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.analysis import decile_profiles
from crmkit.analysis._inputs import rank_groups
from crmkit.testing import make_customer_view


def test_tied_values_fall_into_the_same_deciles_in_any_row_order() -> None:
    view = make_customer_view(300, seed=1)
    view["revenue"] = np.round(view["revenue"], -2)  # many ties across decile edges
    assert view["revenue"].duplicated().sum() > 100
    first = decile_profiles(view)
    for seed in range(3):
        shuffled = view.sample(frac=1.0, random_state=seed)
        pd.testing.assert_frame_equal(decile_profiles(shuffled), first)


def test_ties_are_ordered_by_label() -> None:
    x = np.array([1.0, 1.0, 1.0, 1.0])
    groups = rank_groups(x, 2, ties=pd.Index([4, 3, 2, 1]))
    assert groups.tolist() == [1, 1, 0, 0]
    mixed = rank_groups(x, 2, ties=pd.Index(["b", 1, "a", 2], dtype=object))
    assert sorted(mixed.tolist()) == [0, 0, 1, 1]
