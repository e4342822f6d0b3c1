"""decile_profiles: deciles profiled with profile_segments, plus categorical summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.analysis import decile_profiles, pareto_table
from crmkit.exceptions import InvalidParameterError, SchemaError
from crmkit.testing import make_customer_view


def test_deciles_agree_with_the_pareto_table() -> None:
    view = make_customer_view(203, seed=5)
    prof = decile_profiles(view, by="revenue")
    table = pareto_table(view, by="revenue")
    assert prof.index.name == "decile"
    assert prof.index.tolist() == list(range(1, 11))
    np.testing.assert_array_equal(prof["n_customers"], table["n_customers"])
    np.testing.assert_allclose(prof["value_share"], table["value_share"])
    np.testing.assert_allclose(prof["cum_value_share"], table["cum_value_share"])
    np.testing.assert_allclose(prof["mean_revenue"], table["mean_value"])
    assert prof["mean_revenue"].is_monotonic_decreasing


def test_profile_means_match_a_direct_groupby() -> None:
    view = make_customer_view(120, seed=8)
    prof = decile_profiles(view, by="revenue", q=4)
    order = np.argsort(-view["revenue"].to_numpy(), kind="stable")
    group = np.empty(len(view), dtype=int)
    group[order] = np.repeat(np.arange(4), 30)
    grouped = view.groupby(group)
    np.testing.assert_allclose(prof["mean_frequency"], grouped["frequency"].mean().to_numpy())
    base = view["frequency"].mean()
    np.testing.assert_allclose(prof["lift_frequency"], grouped["frequency"].mean() / base)
    assert prof.index.name == "group"


def test_categorical_summaries_and_distinguishing_columns() -> None:
    view = pd.DataFrame(
        {
            "revenue": [900.0, 800.0, 700.0, 600.0, 50.0, 40.0, 30.0, 20.0],
            "n_products": [6.0, 5.0, 6.0, 5.0, 1.0, 1.0, 2.0, 1.0],
            "tenure": [10.0] * 8,
            "industry": ["ict", "ict", "ict", "retail", "retail", "retail", "retail", "ict"],
            "size_class": pd.Categorical(["large"] * 3 + ["small"] * 5),
        },
        index=pd.Index([f"c{i}" for i in range(8)], name="customer_id"),
    )
    prof = decile_profiles(view, q=2)
    assert prof.loc[1, "top_industry"] == "ict (75%)"
    assert prof.loc[2, "top_industry"] == "retail (75%)"
    assert prof.loc[1, "over_size_class"] == "large (2.0x)"
    assert prof.loc[2, "top_size_class"] == "small (100%)"
    # n_products differs most (tenure not at all, revenue itself is left out)
    assert prof.loc[1, "distinguishing"].startswith("n_products x1.")
    assert "tenure" not in prof.loc[1, "distinguishing"]
    assert "revenue" not in prof.loc[1, "distinguishing"]
    only = decile_profiles(view, q=2, columns=["n_products"], categorical=["industry"])
    assert "mean_tenure" not in only.columns and "top_size_class" not in only.columns


def test_errors_and_no_mutation() -> None:
    view = make_customer_view(30, seed=1)
    before = view.copy()
    decile_profiles(view, q=3)
    pd.testing.assert_frame_equal(view, before)
    with pytest.raises(SchemaError, match="needs at least q=40"):
        decile_profiles(view, q=40)
    with pytest.raises(SchemaError, match=r"view\['clv'\]: is missing"):
        decile_profiles(view, by="clv")
    with pytest.raises(SchemaError, match="nope"):
        decile_profiles(view, categorical=["nope"])
    with pytest.raises(SchemaError, match="DataFrame"):
        decile_profiles(view["revenue"])  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'min_count'"):
        decile_profiles(view, min_count=0)


def test_profitability_deciles_on_synthetic_crm(crm_view: pd.DataFrame) -> None:
    prof = decile_profiles(crm_view, by="margin")
    # seed 004: the top deciles are dominated by larger firms
    assert prof.loc[1, "mean_margin"] > prof.loc[10, "mean_margin"]
    assert prof.loc[1, "over_size_class"].startswith("large")
    assert prof.loc[10, "top_size_class"].startswith("micro")
