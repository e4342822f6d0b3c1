"""The customer-pulse plot, from a real cx_pulse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from crmkit.exceptions import SchemaError
from crmkit.loyalty import cx_pulse
from crmkit.plotting import plot_nps_pulse


@pytest.fixture(scope="module")
def pulse() -> pd.DataFrame:
    days = pd.date_range("2024-01-01", "2024-08-31", freq="D")
    rng = np.random.default_rng(0)
    good = rng.choice([10, 9, 8, 5], len(days), p=[0.5, 0.3, 0.15, 0.05])
    bad = rng.choice([10, 7, 4, 2], len(days), p=[0.15, 0.25, 0.3, 0.3])
    scores = np.where(days < "2024-05-15", good, bad)
    fb = pd.DataFrame(
        {"customer_id": range(len(days)), "date": days, "kind": "nps", "score": scores}
    )
    return cx_pulse(fb, window="30D", freq="W")


def test_line_band_and_drop_markers(pulse: pd.DataFrame, ax: Axes) -> None:
    assert pulse["significant_drop"].any()
    plot_nps_pulse(pulse, ax=ax)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), pulse["value"], equal_nan=True)
    drops = pulse.loc[pulse["significant_drop"], "value"].to_numpy()
    np.testing.assert_allclose(ax.lines[1].get_ydata(), drops)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(np.nanmin(pulse["low"]))
    assert band.max() == pytest.approx(np.nanmax(pulse["high"]))
    assert ax.get_ylabel() == "NPS (points)"
    assert "30-day" in ax.get_title()


def test_no_drop_no_marker_and_other_metrics(pulse: pd.DataFrame, ax: Axes) -> None:
    quiet = pulse.assign(significant_drop=False)
    quiet.attrs = {"metric": "csat"}
    plot_nps_pulse(quiet, ax=ax)
    assert len(ax.lines) == 1
    assert ax.get_ylabel() == "CSAT (% satisfied)"


def test_pulse_needs_dates_and_columns(pulse: pd.DataFrame, ax: Axes) -> None:
    with pytest.raises(SchemaError, match="DatetimeIndex"):
        plot_nps_pulse(pulse.reset_index(drop=True), ax=ax)
    with pytest.raises(SchemaError, match="low"):
        plot_nps_pulse(pulse.drop(columns="low"), ax=ax)


def test_plotting_does_not_import_matplotlib_until_called() -> None:
    import subprocess
    import sys

    code = "import sys, crmkit.plotting, crmkit.report; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"
