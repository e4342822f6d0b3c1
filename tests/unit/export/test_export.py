"""Spreadsheet-safe, atomic table export (``crmkit.write_table``, ``crmkit.spreadsheet_safe``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit._export import FORMULA_TRIGGERS, atomic_write, table_format
from crmkit.exceptions import InvalidParameterError

ATTACKS = ['=HYPERLINK("http://evil.example")', "+cmd|' /C calc'!A0", "@SUM(1+1)",
           "-2+3+cmd|' /C calc'!A0", "\t=1", "\r=1", "\uff1dSUM(A1)"]


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_text_is_quoted_everywhere(text: str) -> None:
    df = pd.DataFrame({"note": [text, "fine"], text: [1, 2]},
                      index=pd.Index([text, "x"], name="customer_id"))
    safe, n = crmkit.spreadsheet_safe(df)
    assert n == 3
    assert safe.index.tolist() == ["'" + text, "x"]
    assert safe["note"].tolist() == ["'" + text, "fine"]
    assert list(safe.columns) == ["note", "'" + text]


def test_numbers_dates_and_numeric_text_are_untouched() -> None:
    df = pd.DataFrame({"x": [-1.5, 2.0], "n": [-3, 4], "when": pd.to_datetime(["2024-01-01"] * 2),
                       "flag": [True, False], "code": ["-5", "+1.5e3"]},
                      index=pd.Index([-7, 8], name="customer_id"))
    safe, n = crmkit.spreadsheet_safe(df)
    assert n == 0 and safe is df


def test_the_input_is_not_modified_and_dtypes_are_kept() -> None:
    df = pd.DataFrame({"s": pd.array(["=1", "a"], dtype="string"), "c": pd.Categorical(["@x", "y"]),
                       "o": np.array([1, "-cmd"], dtype=object)})
    before = df.copy(deep=True)
    safe, n = crmkit.spreadsheet_safe(df)
    pd.testing.assert_frame_equal(df, before)
    assert n == 3
    assert safe["s"].dtype == df["s"].dtype and safe["s"].tolist() == ["'=1", "a"]
    assert safe["c"].tolist() == ["'@x", "y"] and safe["o"].tolist() == [1, "'-cmd"]


def test_multiindex_levels_are_quoted() -> None:
    index = pd.MultiIndex.from_arrays([["=a", "b"], [1, 2]], names=["id", "k"])
    safe, n = crmkit.spreadsheet_safe(pd.DataFrame({"v": [1, 2]}, index=index))
    assert n == 1 and safe.index.get_level_values(0).tolist() == ["'=a", "b"]


def test_write_table_csv_safe_and_raw(tmp_path: Path) -> None:
    df = pd.DataFrame({"v": [1.5, -2.0]}, index=pd.Index(ATTACKS[:2], name="customer_id"))
    target = tmp_path / "v.csv"
    assert crmkit.write_table(df, target) == 2
    back = pd.read_csv(target, dtype={"customer_id": str})
    assert back["customer_id"].tolist() == ["'" + a for a in ATTACKS[:2]]
    assert back["v"].tolist() == [1.5, -2.0]
    assert crmkit.write_table(df, target, safe=False) == 0
    assert pd.read_csv(target, dtype={"customer_id": str})["customer_id"].tolist() == ATTACKS[:2]


def test_a_carriage_return_stays_inside_its_cell(tmp_path: Path) -> None:
    df = pd.DataFrame({"note": ["a\rb", "c"]})
    crmkit.write_table(df, tmp_path / "v.csv", index=False, safe=False)
    assert pd.read_csv(tmp_path / "v.csv")["note"].tolist() == ["a\rb", "c"]


def test_tsv_gz_and_parquet(tmp_path: Path) -> None:
    df = pd.DataFrame({"v": ["=x"]}, index=pd.Index(["a"], name="customer_id"))
    crmkit.write_table(df, tmp_path / "v.tsv")
    assert (tmp_path / "v.tsv").read_text().splitlines() == ["customer_id\tv", "a\t'=x"]
    crmkit.write_table(df, tmp_path / "v.csv.gz")
    assert pd.read_csv(tmp_path / "v.csv.gz")["v"].tolist() == ["'=x"]
    pytest.importorskip("pyarrow")
    assert crmkit.write_table(df, tmp_path / "v.parquet") == 0  # not opened by spreadsheets
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "v.parquet"), df)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "v.csv"
    target.write_text("old")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), atomic_write(target) as tmp:
        tmp.write_text("half")
        raise Boom
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["v.csv"]


def test_bad_arguments_are_crmkit_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match=r"got '\.xlsx'"):
        crmkit.write_table(pd.DataFrame({"a": [1]}), tmp_path / "v.xlsx")
    with pytest.raises(InvalidParameterError, match="does not exist"):
        crmkit.write_table(pd.DataFrame({"a": [1]}), tmp_path / "no" / "v.csv")
    with pytest.raises(InvalidParameterError, match="expects a pandas DataFrame"):
        crmkit.spreadsheet_safe([1, 2])  # type: ignore[arg-type]
    assert table_format("a.CSV") == "csv"
    assert {"=", "+", "-", "@", "\t", "\r"} <= FORMULA_TRIGGERS
