"""Tracking plots: cumulative and per-period purchases, holdout by frequency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from crmkit.exceptions import InvalidParameterError, SchemaError
from crmkit.plotting import plot_holdout_by_frequency, plot_tracking
from crmkit.value import BetaGeo, evaluate_holdout, tracking_series


@pytest.fixture(scope="module")
def tracking() -> pd.DataFrame:
    model = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    rng = np.random.default_rng(0)
    first = rng.uniform(0.0, 12.0, 50)
    repeats = np.sort(rng.uniform(0.0, 60.0, 120))
    return tracking_series(model, first, repeats, end=60.0, step=1.0)


def test_cumulative_lines_plot_the_series(tracking: pd.DataFrame, ax: Axes) -> None:
    plot_tracking(tracking, calibration_end=39.0, ax=ax)
    actual, predicted, marker = ax.lines
    np.testing.assert_array_equal(actual.get_xdata(), tracking.index.to_numpy())
    np.testing.assert_array_equal(actual.get_ydata(), tracking["actual_cumulative"].to_numpy())
    np.testing.assert_array_equal(
        predicted.get_ydata(), tracking["predicted_cumulative"].to_numpy()
    )
    assert marker.get_xdata()[0] == 39.0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "actual",
        "predicted",
        "end of calibration",
    ]


def test_incremental_lines_plot_purchases_per_period(tracking: pd.DataFrame, ax: Axes) -> None:
    plot_tracking(tracking.rename_axis("weeks since launch"), cumulative=False, ax=ax)
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), tracking["actual"].to_numpy())
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), tracking["predicted"].to_numpy())
    assert ax.get_xlabel() == "weeks since launch"
    assert "per period" in ax.get_ylabel()


def test_tracking_rejects_bad_input(tracking: pd.DataFrame, ax: Axes) -> None:
    with pytest.raises(SchemaError, match="actual_cumulative"):
        plot_tracking(tracking.drop(columns="actual_cumulative"), ax=ax)
    with pytest.raises(SchemaError, match="numeric times"):
        plot_tracking(tracking.set_axis([str(i) for i in range(len(tracking))]), ax=ax)
    with pytest.raises(InvalidParameterError, match="cumulative"):
        plot_tracking(tracking, cumulative="yes", ax=ax)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="calibration_end"):
        plot_tracking(tracking, calibration_end=float("inf"), ax=ax)
    with pytest.raises(SchemaError, match="DataFrame"):
        plot_tracking([1, 2], ax=ax)  # type: ignore[arg-type]


def test_holdout_by_frequency_from_an_evaluation(ax: Axes) -> None:
    model = BetaGeo.from_params(r=0.5, alpha=5.0, a=0.8, b=3.0)
    view = model.sample(200, 39.0, seed=2)
    cal_hold = view.assign(
        frequency_holdout=np.random.default_rng(3).poisson(1.0, 200), duration_holdout=39.0
    )
    ev = evaluate_holdout(model, cal_hold, max_frequency=4)
    plot_holdout_by_frequency(ev, ax=ax)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), ev.by_frequency["actual"])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), ev.by_frequency["predicted"])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(ev.by_frequency.index)
    with pytest.raises(SchemaError, match="predicted"):
        plot_holdout_by_frequency(pd.DataFrame({"actual": [1.0]}), ax=ax)
