"""crmkit._text: pieces formatted once per distinct value, joined, equal per-customer f-strings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit import _text
from crmkit._text import coded, formatted, join_texts


def _parts() -> tuple[list[Any], list[str]]:
    rng = np.random.default_rng(3)
    n = 400
    values = np.round(rng.normal(0, 20, n), 1)
    values[:6] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e300]
    labels = rng.integers(0, 3, n)
    shown = rng.random(n) < 0.6
    parts: list[Any] = [
        coded(labels, ["a: ", "bb: ", ""]),
        "x = ",
        formatted(values, "{:+.1f}".format),
        "",
        coded(labels, [" (", " [", " {"], where=shown),
        formatted(values * 3, "{:.3g}".format, where=shown),
        " end",
    ]
    names = ["a: ", "bb: ", ""]
    brackets = [" (", " [", " {"]
    expected = [
        f"{names[k]}x = {v:+.1f}" + (f"{brackets[k]}{v * 3:.3g}" if s else "") + " end"
        for k, v, s in zip(labels.tolist(), values.tolist(), shown.tolist(), strict=True)
    ]
    return parts, expected


def test_join_equals_the_per_customer_texts() -> None:
    parts, expected = _parts()
    out = join_texts(parts, len(expected))
    assert out.tolist() == expected
    assert out.dtype == pd.array([], dtype="str").dtype


def test_join_without_pyarrow_gives_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    parts, expected = _parts()
    monkeypatch.setattr(_text, "_arrow", lambda: None)
    assert join_texts(parts, len(expected)).tolist() == expected


def test_edge_cases() -> None:
    assert join_texts(["a", ""], 2).tolist() == ["a", "a"]
    assert join_texts([""], 3).tolist() == ["", "", ""]
    assert join_texts([formatted(np.zeros(0), str)], 0).tolist() == []
    # -0.0 and 0.0 are formatted apart, as an f-string writes them
    assert formatted(np.array([0.0, -0.0]), "{:.1f}".format).values().tolist() == ["0.0", "-0.0"]


@pytest.mark.parametrize("few", [0, 4096])
def test_fixed_equals_the_format_of_each_value(few: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_text, "_FEW", few)  # 0: the numpy rounding path for every value
    rng = np.random.default_rng(0)
    values = np.concatenate([
        rng.normal(0, 5, 3000), np.round(rng.normal(0, 5, 1000), 2) / 2,
        [0.0, -0.0, np.nan, np.inf, -np.inf, 1e300, -1e-300, 0.005, 0.015, 0.125, 2.5, -2.5,
         1e8 + 0.5, 9.95, 1.005],
    ])  # fmt: skip
    for decimals in range(4):
        for sign in ("", "+"):
            got = _text.fixed(values, decimals, sign).values().tolist()
            assert got == [format(v, f"{sign}.{decimals}f") for v in values.tolist()]
    per_row = rng.integers(0, 3, len(values))
    shown = values > 0
    got = _text.fixed(values, per_row, where=shown).values().tolist()
    assert got == [
        format(v, f".{d}f") if s else ""
        for v, d, s in zip(values.tolist(), per_row.tolist(), shown.tolist(), strict=True)
    ]
