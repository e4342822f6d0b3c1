"""Scores and labels are aligned by customer id, whatever the order of either."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import SchemaError
from crmkit.plotting import roc_points


def test_labels_in_another_order_give_the_same_curve() -> None:
    ids = [f"c{i:03d}" for i in range(200)]
    rng = np.random.default_rng(0)
    risk = pd.Series(rng.random(200), index=ids)
    churned = pd.Series(rng.random(200) < risk.to_numpy(), index=ids)
    shuffled = churned.sample(frac=1.0, random_state=1)
    extra = pd.concat([shuffled, pd.Series([True], index=["zzz"])])  # labels may have more
    base = roc_points(risk, churned)
    pd.testing.assert_frame_equal(roc_points(risk, shuffled), base)
    pd.testing.assert_frame_equal(roc_points(risk, extra), base)


def test_a_scored_customer_without_label_is_refused() -> None:
    risk = pd.Series([0.1, 0.9, 0.5], index=["a", "b", "c"])
    with pytest.raises(SchemaError, match="no label"):
        roc_points(risk, pd.Series([True, False], index=["b", "a"]))
