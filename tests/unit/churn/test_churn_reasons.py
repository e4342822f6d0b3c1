"""The ``reasons`` text: the grouped, vectorised writer against a plain per-customer loop."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from crmkit.churn import SignalRules
from crmkit.churn._common import format_reasons, reason_codes, reasons_array, score_frame

NAN = float("nan")


def reference(rows: np.ndarray, names: Sequence[str], minimum: float, digits: int) -> list[str]:
    """One customer at a time: listed signals, largest first, ties in the order of names."""
    scale = 10.0**digits
    out = []
    for row in np.asarray(rows, dtype=float).tolist():
        listed = [(value, j) for j, value in enumerate(row) if value > minimum]
        listed.sort(key=lambda item: -item[0])  # a stable sort: ties keep the order of names
        out.append(
            "; ".join(f"{names[j]} ({round(v * scale) / scale:.{digits}f})" for v, j in listed)
        )
    return out


# Values chosen to collide: exact ties, ties after rounding (0.301 / 0.304), half-way points
# (0.125, 0.135 at two decimals), the minimum itself, signed zeros, NaN and values of all sizes.
POOL = [0.0, -0.0, 0.005, 0.0051, 0.1, 0.125, 0.135, 0.3, 0.301, 0.304, 0.30000000000000004,
        1.0, 2.5, 7e6, 3e9, -0.2, NAN]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(POOL),
    st.floats(-1e3, 1e3, allow_nan=False),
    st.floats(0.0, 1.0, allow_nan=False),
)


@st.composite
def matrices(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(0, 40))
    k = draw(st.integers(1, 12))  # more than 8 signals: several 64-bit words per customer
    pool = draw(st.lists(VALUES, min_size=1, max_size=6))  # few values per matrix: many ties
    c = draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from(pool)))
    return np.asfortranarray(c) if draw(st.booleans()) else c


@settings(max_examples=300, deadline=None, database=None)
@given(
    c=matrices(),
    minimum=st.sampled_from([0.0, 0.005, 0.1, 0.3, -0.5]),
    digits=st.integers(0, 3),
)
def test_reasons_equal_a_per_customer_loop(c: np.ndarray, minimum: float, digits: int) -> None:
    names = [f"signal{j}" for j in range(c.shape[1])]
    expected = reference(c, names, minimum, digits)
    assert format_reasons(c, names, minimum=minimum, digits=digits) == expected
    assert reasons_array(c, names, minimum=minimum, digits=digits).tolist() == expected


@settings(max_examples=40, deadline=None, database=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 9))
def test_reasons_equal_the_loop_on_many_customers_sharing_few_texts(seed: int, k: int) -> None:
    # shares on a coarse grid plus tiny offsets: most customers share a text with others, and
    # signals tie after rounding with either order of the exact values
    rng = np.random.default_rng(seed)
    n = 3000
    grid = rng.integers(0, 30, (n, k)) / 100.0
    c = grid + rng.choice([0.0, 0.0, 1e-4, -1e-4, 3e-3], (n, k))
    c[rng.random((n, k)) < 0.4] = 0.0
    names = [f"s{j}" for j in range(k)]
    assert format_reasons(c, names, minimum=0.005) == reference(c, names, 0.005, 2)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([[0.2, 0.2, 0.0]], ["a (0.20); b (0.20)"]),  # equal: the order of names
        ([[0.301, 0.304, 0.0]], ["b (0.30); a (0.30)"]),  # equal when rounded: exact order
        ([[0.304, 0.301, 0.0]], ["a (0.30); b (0.30)"]),
        ([[0.302, 0.301, 0.303]], ["c (0.30); a (0.30); b (0.30)"]),  # three tie when rounded
        ([[0.001, 0.005, 0.0]], [""]),  # at or below the minimum
        ([[NAN, 0.4, NAN]], ["b (0.40)"]),  # missing values are never listed
        ([[NAN, NAN, NAN]], [""]),
        ([[0.125, 0.135, 0.0]], ["b (0.14); a (0.12)"]),  # half to even
    ],
)
def test_reasons_for_ties_minimum_and_missing_values(
    rows: list[list[float]], expected: list[str]
) -> None:
    c = np.array(rows)
    assert format_reasons(c, ["a", "b", "c"], minimum=0.005) == expected
    # the same row among many others gets the same text
    many = np.vstack([np.full((50, 3), 0.25), c, np.array([[0.25, 0.1, 0.0]])])
    assert format_reasons(many, ["a", "b", "c"], minimum=0.005)[50] == expected[0]


def test_no_customers_and_no_signals() -> None:
    assert format_reasons(np.empty((0, 3)), ["a", "b", "c"]) == []
    assert reasons_array(np.empty((0, 3)), ["a", "b", "c"]).tolist() == []
    assert format_reasons(np.empty((2, 0)), []) == ["", ""]
    texts, codes = reason_codes(np.empty((0, 1)), ["a"])
    assert codes.shape == (0,) and isinstance(texts, list)


def test_one_signal() -> None:
    c = np.array([[0.5], [0.0], [0.004], [0.51]])
    assert format_reasons(c, ["model"], minimum=0.005) == ["model (0.50)", "", "", "model (0.51)"]


def test_codes_index_the_texts() -> None:
    c = np.array([[0.1, 0.3], [0.0, 0.0], [0.1, 0.3], [0.3, 0.1]])
    texts, codes = reason_codes(c, ["x", "y"])
    assert [texts[i] for i in codes] == reference(c, ["x", "y"], 0.0, 2)
    assert codes[0] == codes[2] != codes[3]


def test_score_frame_takes_a_list_or_a_string_array() -> None:
    index = pd.Index(["a", "b"], name="customer_id")
    parts = np.array([[0.3, 0.1], [0.0, 0.0]])
    signals = {"x": parts[:, 0], "y": parts[:, 1]}
    from_list = score_frame(index, np.array([0.4, 0.0]), ["x (0.30); y (0.10)", ""], signals)
    from_array = score_frame(
        index, np.array([0.4, 0.0]), reasons_array(parts, ["x", "y"], minimum=0.005), signals
    )
    pd.testing.assert_frame_equal(from_list, from_array)
    assert from_array["reasons"].dtype == pd.array(["x"], dtype="str").dtype
    assert from_array.columns.tolist() == ["churn_risk", "reasons", "signal_x", "signal_y"]
    parts[0, 0] = 9.0  # the frame holds its own copy
    assert from_array.loc["a", "signal_x"] == 0.3


def test_signal_rules_reasons_are_the_loop_over_its_signal_shares() -> None:
    rng = np.random.default_rng(7)
    n = 400
    view = pd.DataFrame(
        {
            "last_nps": np.where(rng.random(n) < 0.7, rng.integers(0, 11, n), NAN),
            "days_since_address_change": np.where(
                rng.random(n) < 0.3, rng.integers(0, 400, n), NAN
            ),
            "n_complaints_open": rng.poisson(0.3, n).astype(float),
            "purchase_trend": np.round(rng.uniform(-1, 1, n), 2),
        },
        index=pd.Index([f"c{i:04d}" for i in range(n)], name="customer_id"),
    )
    names = ("nps_detractor", "address_change", "open_complaint", "falling_purchases")
    rules = SignalRules(signals=names).fit(view)
    scored = rules.score(view)
    shares = scored[[f"signal_{name}" for name in names]].to_numpy()
    assert scored["reasons"].tolist() == reference(shares, names, rules.min_contribution, 2)
    assert (scored["reasons"] != "").any() and (scored["reasons"] == "").any()
