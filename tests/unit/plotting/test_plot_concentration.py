"""Concentration plots: Pareto curve, Lorenz curve, decile bars."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from crmkit.analysis import gini, pareto_share, pareto_table
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError
from crmkit.plotting import plot_decile_bars, plot_lorenz_curve, plot_pareto_curve


@pytest.fixture(scope="module")
def view() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {"revenue": rng.lognormal(4.0, 1.3, 250)},
        index=pd.Index([f"c{i}" for i in range(250)], name="customer_id"),
    )


def test_pareto_curve_is_the_top_customers_share(view: pd.DataFrame, ax: Axes) -> None:
    plot_pareto_curve(view, mark=0.1, ax=ax)
    curve = ax.lines[0]
    x, y = np.asarray(curve.get_xdata()), np.asarray(curve.get_ydata())
    ranked = np.sort(view["revenue"].to_numpy())[::-1]
    expected = np.concatenate([[0.0], np.cumsum(ranked) / ranked.sum()])
    np.testing.assert_allclose(x, np.arange(251) / 250)
    np.testing.assert_allclose(y, expected, atol=1e-12)
    share = pareto_share(view["revenue"], customers=0.1)
    assert ax.texts[0].get_text() == f"top 10% bring {share:.0%}"
    assert np.asarray(ax.lines[2].get_ydata())[1] == pytest.approx(share)


def test_pareto_curve_clips_refunds_with_a_warning(ax: Axes) -> None:
    with pytest.warns(DataWarning):
        plot_pareto_curve([10.0, -5.0, 30.0], ax=ax)
    assert np.asarray(ax.lines[0].get_ydata())[-1] == pytest.approx(1.0)
    with pytest.raises(SchemaError):
        plot_pareto_curve([10.0, -5.0, 30.0], negative="raise", ax=ax)
    with pytest.raises(InvalidParameterError):
        plot_pareto_curve([1.0, 2.0], mark=1.5, ax=ax)
    with pytest.raises(SchemaError, match="margin"):
        plot_pareto_curve(pd.DataFrame({"revenue": [1.0]}), by="margin", ax=ax)


def test_lorenz_curve_and_gini_in_the_title(view: pd.DataFrame, ax: Axes) -> None:
    plot_lorenz_curve(view, ax=ax)
    y = np.asarray(ax.lines[0].get_ydata())
    assert y[0] == 0.0 and y[-1] == pytest.approx(1.0)
    assert np.all(np.diff(y) >= 0)
    # the area between the diagonal and the curve is half the Gini coefficient
    x = np.asarray(ax.lines[0].get_xdata())
    area = float(np.sum((x[1:] - x[:-1]) * ((x[1:] - y[1:]) + (x[:-1] - y[:-1])) / 2))
    g = gini(view["revenue"])
    assert 2 * area == pytest.approx(g, abs=1e-9)
    assert ax.get_title() == f"Lorenz curve (Gini {g:.2f})"


def test_decile_bars_from_a_view_and_from_a_table(view: pd.DataFrame, ax: Axes) -> None:
    table = pareto_table(view)
    plot_decile_bars(view, ax=ax)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, table["value_share"])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), table["cum_value_share"])
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(i) for i in range(1, 11)]
    assert ax.get_title() == "Value by customer decile"
    from matplotlib.figure import Figure

    other = Figure().subplots()
    plot_decile_bars(table.head(3), ax=other)
    assert len(other.patches) == 3


def test_decile_bars_need_enough_customers(ax: Axes) -> None:
    with pytest.raises(SchemaError, match="at least q=10"):
        plot_decile_bars(pd.DataFrame({"revenue": [1.0, 2.0]}), ax=ax)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_decile_bars(pd.DataFrame({"revenue": [1.0, 2.0, 3.0]}), q=3, ax=ax)
    assert ax.get_title() == "Value by customer group"
