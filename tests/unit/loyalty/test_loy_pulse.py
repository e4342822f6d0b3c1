"""The customer pulse: window arithmetic, drop detection, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.data import CustomerData
from crmkit.exceptions import InvalidParameterError, SchemaError
from crmkit.loyalty import cx_pulse


def _daily(
    kind: str,
    before: np.ndarray,
    after: np.ndarray,
    values: np.ndarray,
    per_day: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Answers every day of 2024-01-01 .. 2024-09-30, distribution changing on 2024-07-01."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", "2024-09-30", freq="D")
    date = np.repeat(days.to_numpy(), per_day)
    late = date >= np.datetime64("2024-07-01")
    score = np.where(
        late, rng.choice(values, len(date), p=after), rng.choice(values, len(date), p=before)
    )
    return pd.DataFrame(
        {
            "customer_id": np.arange(len(date)),
            "date": date,
            "kind": kind,
            "score": score.astype(float),
        }
    )


def test_window_counts_and_values_by_hand() -> None:
    fb = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "date": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-10", "2024-01-12"]),
            "kind": "nps",
            "score": [10.0, 0.0, 9.0, 9.0],
        }
    )
    pulse = cx_pulse(fb, window="7D", freq="D", min_responses=2)
    assert pulse.index[0] == pd.Timestamp("2024-01-01")
    assert pulse.index[-1] == pd.Timestamp("2024-01-12")
    assert len(pulse) == 12
    # 2024-01-07: window Jan 1..7 holds answers 1 and 2 -> NPS 0
    row = pulse.loc["2024-01-07"]
    assert (row["n"], row["value"]) == (2, 0.0)
    # 2024-01-08: window Jan 2..8 holds answer 2 only; the window before (Dec 26..Jan 1) answer 1
    row = pulse.loc["2024-01-08"]
    assert (row["n"], row["value"], row["n_previous"], row["previous"]) == (1, -100.0, 1, 100.0)
    assert not row["tested"] and np.isnan(row["p_drop"]) and not row["significant_drop"]
    # 2024-01-12: window Jan 6..12 holds answers 3, 4; before (Dec 30..Jan 5) answers 1, 2
    row = pulse.loc["2024-01-12"]
    assert (row["n"], row["value"], row["previous"], row["change"]) == (2, 100.0, 0.0, 100.0)
    assert row["tested"] and row["p_drop"] > 0.5
    assert row["low"] <= row["value"] <= row["high"]
    # a window with no answers: nothing to measure, NaN and untested
    empty = cx_pulse(fb, window="1D", freq="D").loc["2024-01-02"]
    assert empty["n"] == 0 and np.isnan(empty["value"]) and not empty["tested"]
    assert pulse.attrs == {"metric": "nps", "window_days": 7, "level": 0.95}


NPS_VALUES = np.arange(11)
GOOD = np.array([0.02] * 7 + [0.1, 0.1, 0.3, 0.36])
BAD = np.array([0.06] * 7 + [0.12, 0.12, 0.17, 0.17])


def test_a_real_drop_in_nps_is_flagged_and_a_stable_pulse_rarely_is() -> None:
    fb = _daily("nps", GOOD, BAD, NPS_VALUES, seed=1)
    pulse = cx_pulse(fb, window="30D", freq="W")
    after = pulse.loc["2024-07-20":"2024-08-10"]
    before = pulse.loc[:"2024-06-30"]
    assert after["significant_drop"].all()
    assert before["tested"].sum() > 15
    assert before["significant_drop"].sum() <= 3
    stable = cx_pulse(_daily("nps", GOOD, GOOD, NPS_VALUES, seed=2), window="30D")
    assert stable["significant_drop"].mean() < 0.15


@pytest.mark.parametrize(
    ("metric", "values", "before", "after"),
    [
        (
            "csat",
            np.arange(1, 6),
            np.array([0.05, 0.05, 0.1, 0.4, 0.4]),
            np.array([0.15, 0.15, 0.2, 0.3, 0.2]),
        ),
        (
            "ces",
            np.arange(1, 8),
            np.array([0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.3]),
            np.array([0.1, 0.1, 0.15, 0.2, 0.2, 0.15, 0.1]),
        ),
    ],
)
def test_drops_in_csat_and_ces_are_flagged(
    metric: str, values: np.ndarray, before: np.ndarray, after: np.ndarray
) -> None:
    pulse = cx_pulse(_daily(metric, before, after, values, seed=3), window="30D", metric=metric)
    assert pulse.loc["2024-07-20":"2024-08-10", "significant_drop"].all()
    assert pulse.loc[:"2024-06-30", "significant_drop"].sum() <= 3
    assert ((pulse["low"] <= pulse["value"]) & (pulse["value"] <= pulse["high"])).all()


def test_the_last_point_is_the_as_of_day_of_customer_data() -> None:
    fb = _daily("nps", GOOD, GOOD, NPS_VALUES, per_day=1)
    # a purchase for every customer that answered: the feedback all joins
    ids = np.unique(fb["customer_id"].to_numpy())
    tx = pd.DataFrame({"customer_id": ids, "date": "2024-01-01", "amount": 1.0})
    data = CustomerData.from_frames(tx, feedback=fb, as_of="2024-10-15")
    pulse = cx_pulse(data, freq="M")
    assert pulse.index[-1] == pd.Timestamp("2024-10-15")
    assert pulse.loc["2024-10-15", "n"] == 75  # Jul 18 .. Sep 30: 14 + 31 + 30 days


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"window": "12h"}, InvalidParameterError),
        ({"window": "soon"}, InvalidParameterError),
        ({"metric": "ltv"}, InvalidParameterError),
        ({"freq": "H"}, InvalidParameterError),
        ({"min_responses": 1}, InvalidParameterError),
        ({"metric": "csat"}, SchemaError),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], error: type) -> None:
    fb = _daily("nps", GOOD, GOOD, NPS_VALUES, per_day=1)
    with pytest.raises(error):
        cx_pulse(fb, **kwargs)  # type: ignore[arg-type]
