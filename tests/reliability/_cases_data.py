"""Battery cases for the records -> customer view stage: customer ids and dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from crmkit.exceptions import InvalidParameterError, SchemaError
from tests.reliability._harness import (
    FIRST_ROW,
    Case,
    Context,
    Handled,
    Raises,
    base_tx,
    put,
    summarize,
)

R = FIRST_ROW  # the first row label


def _ids(tx: pd.DataFrame, values: Any) -> pd.DataFrame:
    return tx.assign(customer_id=pd.Series(values, index=tx.index))


def _same_view(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def _clean_view(result: pd.DataFrame, ctx: Context) -> None:
    _same_view(result, summarize(base_tx()))


# ------------------------------------------------------------------- ids
def _ints_and_strs() -> pd.DataFrame:
    tx = base_tx()
    return _ids(tx, [str(v) if i in (3, 9) else v for i, v in enumerate(tx["customer_id"])])


def _check_extremes(view: pd.DataFrame, ctx: Context) -> None:
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    assert view.index.tolist() == [lo, hi] and view.index.dtype == np.int64
    assert view["n_transactions"].sum() == len(base_tx())


def _check_uint64(view: pd.DataFrame, ctx: Context) -> None:
    assert view.index.tolist() == [2**63 + 1, 2**64 - 1]


def _check_text_ids(view: pd.DataFrame, ctx: Context) -> None:
    assert view.index.tolist() == ["007", "7"]  # kept exactly, never read as numbers


def _check_categories(view: pd.DataFrame, ctx: Context) -> None:
    assert view.index.tolist() == list(range(40)), "unused categories must not become customers"
    _same_view(view, summarize(base_tx()))


# ------------------------------------------------------------------- dates
def _check_utc(view: pd.DataFrame, ctx: Context) -> None:
    # 2023-01-01 00:30 in Helsinki (UTC+2) is 2022-12-31 22:30 UTC
    assert view.loc[0, "first_purchase"] == pd.Timestamp("2022-12-31")


def _check_day_first(view: pd.DataFrame, ctx: Context) -> None:
    # the first value (13/01) fixes the format: 01/02/2023 is 1 February
    assert view.loc[0, "first_purchase"] == pd.Timestamp("2023-01-13")
    assert view.loc[0, "last_purchase"] == pd.Timestamp("2023-02-01")


def _late_rows() -> pd.DataFrame:
    tx = base_tx()
    return put(tx, "date", {R + 1: pd.Timestamp("2024-03-01"), R + 2: pd.Timestamp("2025-01-01")})


def _check_late(view: pd.DataFrame, ctx: Context) -> None:
    kept = base_tx().drop(index=[R + 1, R + 2])
    assert view["n_transactions"].sum() == len(kept)
    assert np.isclose(view["revenue"].sum(), kept["amount"].sum(), rtol=1e-12, atol=0)


def _check_aware_as_of(view: pd.DataFrame, ctx: Context) -> None:
    _same_view(view, summarize(base_tx(), as_of="2024-01-01"))


CASES: list[Case] = [
    # ---- customer ids
    Case(
        "ids_nan_in_float_column",
        "summarize",
        lambda c: summarize(
            put(base_tx(), "customer_id", {R + 2: np.nan}).astype({"customer_id": float})
        ),
        Raises(SchemaError, "customer_id", ("contains null ids",), (R + 2,)),
    ),
    Case(
        "ids_none_in_text_column",
        "summarize",
        lambda c: summarize(
            _ids(
                base_tx(),
                [None if i == 4 else f"c{v}" for i, v in enumerate(base_tx()["customer_id"])],
            )
        ),
        Raises(SchemaError, "customer_id", ("contains null ids",), (R + 4,)),
    ),
    Case(
        "ids_pd_NA_in_string_dtype",
        "summarize",
        lambda c: summarize(
            _ids(
                base_tx(),
                pd.array(
                    [None if i == 1 else f"c{v}" for i, v in enumerate(base_tx()["customer_id"])],
                    dtype="string",
                ),
            )
        ),
        Raises(SchemaError, "customer_id", ("contains null ids",), (R + 1,)),
    ),
    Case(
        "ids_categorical_with_missing",
        "summarize",
        lambda c: summarize(
            _ids(
                base_tx(),
                pd.Categorical(
                    [None if i == 6 else v for i, v in enumerate(base_tx()["customer_id"])],
                    categories=range(50),
                ),
            )
        ),
        Raises(SchemaError, "customer_id", ("contains null ids",), (R + 6,)),
    ),
    Case(
        "ids_mixing_int_and_str",
        "summarize",
        lambda c: summarize(_ints_and_strs()),
        Raises(
            SchemaError,
            "customer_id",
            ("mixes id types", "int", "2 str", "7 and '7'"),
            (R + 3, R + 9),
        ),
    ),
    Case(
        "ids_mixing_int_and_float",
        "summarize",
        lambda c: summarize(
            _ids(
                base_tx(),
                pd.Series(
                    [2.5 if i == 0 else v for i, v in enumerate(base_tx()["customer_id"])],
                    dtype=object,
                ).to_numpy(),
            )
        ),
        Raises(SchemaError, "customer_id", ("mixes id types", "1 float"), (R,)),
    ),
    Case(
        "ids_boolean",
        "summarize",
        lambda c: summarize(_ids(base_tx(), base_tx()["customer_id"].to_numpy() % 2 == 0)),
        Raises(SchemaError, "customer_id", ("is boolean",), (R,)),
    ),
    Case(
        "ids_categorical_unused_categories",
        "summarize",
        lambda c: summarize(
            _ids(base_tx(), pd.Categorical(base_tx()["customer_id"], categories=range(100)))
        ),
        Handled(_check_categories),
    ),
    Case(
        "ids_int64_extremes",
        "summarize",
        lambda c: summarize(
            _ids(
                base_tx(),
                np.where(
                    base_tx()["customer_id"] % 2 == 0,
                    np.iinfo(np.int64).max,
                    np.iinfo(np.int64).min,
                ),
            )
        ),
        Handled(_check_extremes),
    ),
    Case(
        "ids_uint64_beyond_int64",
        "summarize",
        lambda c: summarize(
            _ids(
                base_tx(),
                np.where(
                    base_tx()["customer_id"] % 2 == 0, np.uint64(2**64 - 1), np.uint64(2**63 + 1)
                ),
            )
        ),
        Handled(_check_uint64),
    ),
    Case(
        "ids_numeric_text_kept_as_text",
        "summarize",
        lambda c: summarize(
            _ids(base_tx(), np.where(base_tx()["customer_id"] % 2 == 0, "007", "7"))
        ),
        Handled(_check_text_ids),
    ),
    # ---- dates
    Case(
        "dates_NaT",
        "summarize",
        lambda c: summarize(
            put(base_tx(), "date", {R + 5: pd.NaT}).astype({"date": "datetime64[ns]"})
        ),
        Raises(SchemaError, "date", ("missing dates",), (R + 5,)),
    ),
    Case(
        "dates_unparseable_text",
        "summarize",
        lambda c: summarize(
            put(
                base_tx().assign(date=base_tx()["date"].dt.strftime("%Y-%m-%d")),
                "date",
                {R + 7: "31.13.2023"},
            )
        ),
        Raises(SchemaError, "date", ("not dates", "'31.13.2023'"), (R + 7,)),
    ),
    Case(
        "dates_mixed_tz_aware_and_naive",
        "summarize",
        lambda c: summarize(put(base_tx(), "date", {R + 2: pd.Timestamp("2023-06-01", tz="UTC")})),
        Raises(SchemaError, "date", ("timezone-aware and naive",)),
    ),
    Case(
        "dates_tz_aware_converted_to_utc",
        "summarize",
        lambda c: summarize(
            put(base_tx(), "date", {R: pd.Timestamp("2023-01-01 00:30")})
            .astype({"date": "datetime64[ns]"})
            .assign(date=lambda d: d["date"].dt.tz_localize("Europe/Helsinki"))
        ),
        Handled(_check_utc),
    ),
    Case(
        "dates_epoch_integer_seconds",
        "summarize",
        lambda c: summarize(base_tx().assign(date=base_tx()["date"].astype("int64") // 10**9)),
        Raises(SchemaError, "date", ("holds numbers", "not read as epoch", "unit='s'"), (R,)),
    ),
    Case(
        "dates_epoch_float_days",
        "summarize",
        lambda c: summarize(
            base_tx().assign(
                date=(base_tx()["date"].astype("int64") // 86_400 // 10**9).astype(float)
            )
        ),
        Raises(SchemaError, "date", ("holds numbers", "float64"), (R,)),
    ),
    Case(
        "dates_numbers_among_text",
        "summarize",
        lambda c: summarize(
            put(
                base_tx().assign(date=base_tx()["date"].dt.strftime("%Y-%m-%d")),
                "date",
                {R + 3: 1672531200},
            )
        ),
        Raises(SchemaError, "date", ("numbers among dates",), (R + 3,)),
    ),
    Case(
        "dates_placeholder_9999_12_31",
        "summarize",
        lambda c: summarize(
            put(
                base_tx().assign(date=base_tx()["date"].dt.strftime("%Y-%m-%d")),
                "date",
                {R + 4: "9999-12-31"},
            )
        ),
        Raises(SchemaError, "date", ("outside the supported range", "'9999-12-31'"), (R + 4,)),
    ),
    Case(
        "dates_year_0001_objects",
        "summarize",
        lambda c: summarize(put(base_tx(), "date", {R + 8: dt.date(1, 1, 1)})),
        Raises(SchemaError, "date", ("outside the supported range",), (R + 8,)),
    ),
    Case(
        "dates_mixed_day_month_formats",
        "summarize",
        lambda c: summarize(
            base_tx().iloc[:4].assign(date=["01/02/2023", "13/01/2023", "05/06/2023", "2023-07-01"])
        ),
        Raises(
            SchemaError, "date", ("mixes date formats", "day-first and month-first"), (R, R + 2)
        ),
    ),
    Case(
        "dates_one_day_first_format",
        "summarize",
        lambda c: summarize(
            base_tx().iloc[:2].assign(customer_id=0, date=["13/01/2023", "01/02/2023"])
        ),
        Handled(_check_day_first),
    ),
    Case(
        "dates_after_as_of_dropped",
        "summarize",
        lambda c: summarize(_late_rows()),
        Handled(_check_late, warns=r"dropped 2 transaction rows dated after as_of=2024-01-01"),
    ),
    Case(
        "as_of_before_all_data",
        "summarize",
        lambda c: summarize(base_tx(), as_of="2020-01-01"),
        Raises(
            SchemaError,
            "date",
            ("all transactions are after as_of=2020-01-01", "nothing to analyse"),
        ),
    ),
    Case(
        "as_of_unparseable",
        "summarize",
        lambda c: summarize(base_tx(), as_of="end of year"),
        Raises(InvalidParameterError, None, ("as_of must be a date", "'end of year'")),
    ),
    Case(
        "as_of_integer",
        "summarize",
        lambda c: summarize(base_tx(), as_of=20240101),
        Raises(InvalidParameterError, None, ("as_of must be a date", "number 20240101")),
    ),
    Case(
        "as_of_tz_aware",
        "summarize",
        lambda c: summarize(base_tx(), as_of=pd.Timestamp("2024-01-01 12:00", tz="UTC")),
        Handled(_check_aware_as_of),
    ),
]
