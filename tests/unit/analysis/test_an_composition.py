"""composition_vs_market: representation ratios, chi-square test, residuals, penetration."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmkit.analysis import CompositionResult, composition_vs_market
from crmkit.datasets._synthetic import INDUSTRIES, INDUSTRY_SHARE, SyntheticCRM
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError


def _base(counts: dict[str, int]) -> pd.DataFrame:
    labels = [k for k, v in counts.items() for _ in range(v)]
    return pd.DataFrame(
        {"industry": labels}, index=pd.Index(range(len(labels)), name="customer_id")
    )


def test_statistics_match_scipy_and_formulas() -> None:
    base = _base({"ict": 50, "retail": 30, "health": 20})
    market = pd.Series({"ict": 2000, "retail": 5000, "health": 3000})
    result = composition_vs_market(base, market)
    assert isinstance(result, CompositionResult)
    assert result.market_kind == "counts" and result.dof == 2 and result.n_customers == 100
    observed = np.array([50.0, 30.0, 20.0])
    p = np.array([0.2, 0.5, 0.3])
    expected = 100 * p
    chi2, pvalue = stats.chisquare(observed, expected)
    assert result.statistic == pytest.approx(chi2)
    assert result.pvalue == pytest.approx(pvalue)
    t = result.table
    assert t.index.tolist() == ["ict", "retail", "health"]
    np.testing.assert_allclose(t["expected"], expected)
    np.testing.assert_allclose(t["ratio"], observed / expected)
    np.testing.assert_allclose(t["residual"], (observed - expected) / np.sqrt(expected))
    adjusted = (observed - expected) / np.sqrt(100 * p * (1 - p))
    np.testing.assert_allclose(t["adjusted_residual"], adjusted)
    np.testing.assert_allclose(t["p_value"], 2 * stats.norm.sf(np.abs(adjusted)))
    np.testing.assert_allclose(t["penetration"], observed / market.to_numpy())
    # Bonferroni over 3 profiles: health (p ~ 0.029) is not flagged, without correction it is
    assert t["flag"].tolist() == ["over", "under", "as expected"]
    loose = composition_vs_market(base, market, correction="none")
    assert loose.table["flag"].tolist() == ["over", "under", "under"]
    assert "over-represented" in str(result)


def test_shares_percentages_and_dataframe_market() -> None:
    base = _base({"a": 10, "b": 10})
    shares = composition_vs_market(base, {"a": 0.5, "b": 0.5})
    assert shares.market_kind == "shares"
    assert "penetration" not in shares.table.columns
    assert shares.statistic == pytest.approx(0.0)
    assert shares.table["flag"].tolist() == ["as expected"] * 2
    pct = composition_vs_market(base, {"a": 25.0, "b": 75.0}, market_kind="shares")
    np.testing.assert_allclose(pct.table["market_share"], [0.25, 0.75])
    frame = pd.DataFrame({"industry": ["a", "b"], "firms": [400, 600], "note": ["x", "y"]})
    counted = composition_vs_market(base, frame)
    np.testing.assert_allclose(counted.table["market_count"], [400, 600])
    with pytest.raises(SchemaError, match="neither shares"):
        composition_vs_market(base, {"a": 25.5, "b": 75.0})


def test_several_profile_columns() -> None:
    base = pd.DataFrame(
        {"industry": ["ict", "ict", "ict", "retail"], "size_class": ["s", "s", "l", "l"]}
    )
    market = pd.Series(
        [10, 10, 10, 10],
        index=pd.MultiIndex.from_tuples(
            [("ict", "s"), ("ict", "l"), ("retail", "s"), ("retail", "l")]
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        result = composition_vs_market(base, market, by=["industry", "size_class"])
    assert result.table["count"].tolist() == [2.0, 1.0, 0.0, 1.0]
    assert result.table.loc[("retail", "s"), "penetration"] == 0.0


def test_planted_over_representation_is_found(crm: SyntheticCRM) -> None:
    customers = crm.frames["customers"]
    true_market = pd.Series(INDUSTRY_SHARE, index=list(INDUSTRIES))
    # a market where ICT is half as common as among our customers' population
    skewed = true_market.copy()
    skewed["ict"] /= 2.0
    skewed /= skewed.sum()
    result = composition_vs_market(customers, skewed, market_kind="shares")
    assert result.table.loc["ict", "flag"] == "over"
    assert result.table.loc["ict", "ratio"] > 1.5
    assert result.pvalue < 1e-6
    fair = composition_vs_market(customers, true_market, market_kind="shares")
    assert fair.table.loc["ict", "flag"] == "as expected"
    assert fair.statistic < result.statistic
    # CustomerData works as input too
    from_data = composition_vs_market(crm.data, skewed, market_kind="shares")
    assert from_data.n_customers == len(crm.data.frames["customers"])


def test_bad_inputs_name_the_problem() -> None:
    base = _base({"ict": 5, "retail": 5})
    with pytest.raises(SchemaError, match="profiles the market reference lacks"):
        composition_vs_market(base, {"ict": 0.5, "health": 0.5})
    with pytest.raises(SchemaError, match="share 0"):
        composition_vs_market(base, {"ict": 1.0, "retail": 0.0})
    holes = base.astype(object)
    holes.iloc[3, 0] = None
    with pytest.raises(SchemaError, match="missing values") as err:
        composition_vs_market(holes, {"ict": 0.5, "retail": 0.5})
    assert err.value.failures[0].rows == (3,)
    dup = pd.DataFrame({"customer_id": [1, 1], "industry": ["ict", "ict"]})
    with pytest.raises(SchemaError, match="duplicate customer ids"):
        composition_vs_market(dup, {"ict": 1.0})
    with pytest.raises(SchemaError, match=r"customers\['region'\]: is missing"):
        composition_vs_market(base, {"ict": 1.0}, by="region")
    with pytest.raises(SchemaError, match="finite and >= 0"):
        composition_vs_market(base, {"ict": -1.0, "retail": 2.0})
    with pytest.raises(SchemaError, match="value_column"):
        composition_vs_market(base, pd.DataFrame({"industry": ["ict"], "a": [1.0], "b": [2.0]}))
    with pytest.raises(InvalidParameterError, match="'alpha'"):
        composition_vs_market(base, {"ict": 0.5, "retail": 0.5}, alpha=2.0)
    with pytest.raises(InvalidParameterError, match="'market_kind'"):
        composition_vs_market(base, {"ict": 0.5, "retail": 0.5}, market_kind="pct")
    with pytest.warns(DataWarning, match="fewer than 5"):
        composition_vs_market(base, {"ict": 0.9, "retail": 0.1})


def test_inputs_are_not_modified() -> None:
    base = _base({"ict": 30, "retail": 10})
    market = pd.Series({"ict": 100, "retail": 300})
    b0, m0 = base.copy(), market.copy()
    composition_vs_market(base, market)
    pd.testing.assert_frame_equal(base, b0)
    pd.testing.assert_series_equal(market, m0)
