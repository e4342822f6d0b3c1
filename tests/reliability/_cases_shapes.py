"""Battery cases for the records -> customer view stage: amounts, shapes and names."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmkit.exceptions import InvalidParameterError, SchemaError
from tests.reliability._harness import (
    AS_OF,
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


# ------------------------------------------------------------------- amounts
def _refund() -> pd.DataFrame:
    tx = base_tx()
    refund = pd.DataFrame(
        {"customer_id": [0], "date": [pd.Timestamp("2023-12-30")], "amount": [-5000.0]},
        index=[R + 9999],
    )
    return pd.concat([tx, refund])


def _check_refund(view: pd.DataFrame, ctx: Context) -> None:
    tx = _refund()
    own = tx.loc[tx["customer_id"] == 0, "amount"].sum()
    assert np.isclose(view.loc[0, "revenue"], own, rtol=1e-12, atol=0)
    assert view.loc[0, "revenue"] < 0 and view.loc[0, "monetary_value"] < 0  # netted, kept


# ------------------------------------------------------------------- shapes
def _duplicated() -> pd.DataFrame:
    tx = base_tx()
    return pd.concat([tx, tx.iloc[[0, 5, 7]].set_axis([R + 9000, R + 9001, R + 9002])])


def _check_duplicated(view: pd.DataFrame, ctx: Context) -> None:
    assert view["n_transactions"].sum() == len(base_tx()) + 3  # kept, counted in the report


def _check_t_column(view: pd.DataFrame, ctx: Context) -> None:
    _clean_view(view, ctx)


def _twenty_years() -> pd.DataFrame:
    days = pd.date_range("2004-01-01", "2023-12-31", freq="D")
    rng = np.random.default_rng(0)
    daily = pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(100, 105), len(days)),
            "date": np.tile(days.to_numpy(), 5),
            "amount": np.round(rng.gamma(2.0, 10.0, 5 * len(days)), 2) + 0.01,
        }
    )
    return pd.concat([base_tx(), daily], ignore_index=True)


def _check_twenty_years(view: pd.DataFrame, ctx: Context) -> None:
    n_days = len(pd.date_range("2004-01-01", "2023-12-31", freq="D"))
    daily = view.loc[100:104]
    assert (daily["frequency"] == n_days - 1).all()
    assert np.allclose(daily["T"], (pd.Timestamp(AS_OF) - pd.Timestamp("2004-01-01")).days / 7)
    assert ((view["recency"] >= 0) & (view["recency"] <= view["T"])).all()
    assert np.isfinite(view[["recency", "T", "monetary_value", "revenue"]].to_numpy()).all()


def _check_one_customer(view: pd.DataFrame, ctx: Context) -> None:
    assert view.index.tolist() == [0] and view.loc[0, "n_transactions"] == 3


def _check_multiindex(view: pd.DataFrame, ctx: Context) -> None:
    _clean_view(view, ctx)


def _with_index(index: Any) -> pd.DataFrame:
    return base_tx().set_axis(index)


CASES: list[Case] = [
    # ---- amounts
    Case(
        "amount_nan",
        "summarize",
        lambda c: summarize(put(base_tx(), "amount", {R + 6: np.nan}).astype({"amount": float})),
        Raises(SchemaError, "amount", ("contains NaN", "a missing amount is not 0"), (R + 6,)),
    ),
    Case(
        "amount_inf",
        "summarize",
        lambda c: summarize(put(base_tx(), "amount", {R + 1: -np.inf}).astype({"amount": float})),
        Raises(SchemaError, "amount", ("infinite",), (R + 1,)),
    ),
    Case(
        "amount_1e300",
        "summarize",
        lambda c: summarize(put(base_tx(), "amount", {R + 2: 1e300}).astype({"amount": float})),
        Raises(SchemaError, "amount", ("implausibly large", "1e+300"), (R + 2,)),
    ),
    Case(
        "amount_int64_extremes",
        "summarize",
        lambda c: summarize(
            base_tx()
            .assign(amount=np.int64(10))
            .pipe(put, "amount", {R + 4: np.iinfo(np.int64).max})
            .astype({"amount": np.int64})
        ),
        Raises(SchemaError, "amount", ("implausibly large",), (R + 4,)),
    ),
    Case(
        "amount_numeric_strings",
        "summarize",
        lambda c: summarize(base_tx().assign(amount=base_tx()["amount"].map(str))),
        Raises(SchemaError, "amount", ("must be numeric", "pd.to_numeric"), (R,)),
    ),
    Case(
        "amount_nullable_int_with_NA",
        "summarize",
        lambda c: summarize(
            base_tx().assign(
                amount=pd.array(
                    [None if i == 3 else 10 for i in range(len(base_tx()))], dtype="Int64"
                )
            )
        ),
        Raises(SchemaError, "amount", ("contains NaN",), (R + 3,)),
    ),
    Case(
        "amount_boolean",
        "summarize",
        lambda c: summarize(base_tx().assign(amount=True)),
        Raises(SchemaError, "amount", ("must be numeric", "bool"), (R,)),
    ),
    Case(
        "refunds_netted_in_view",
        "summarize",
        lambda c: summarize(_refund()),
        Handled(_check_refund),
    ),
    # ---- shapes and names
    Case(
        "empty_frame",
        "summarize",
        lambda c: summarize(base_tx().iloc[:0]),
        Raises(SchemaError, "<frame>", ("is empty",)),
    ),
    Case(
        "empty_frame_without_columns",
        "summarize",
        lambda c: summarize(pd.DataFrame()),
        Raises(SchemaError, "customer_id", ("is missing",)),
    ),
    Case(
        "missing_amount_column",
        "summarize",
        lambda c: summarize(base_tx().rename(columns={"amount": "value"})),
        Raises(SchemaError, "amount", ("is missing", "columns present", "value")),
    ),
    Case(
        "duplicate_column_names",
        "summarize",
        lambda c: summarize(pd.concat([base_tx(), base_tx()[["amount"]]], axis=1)),
        Raises(SchemaError, "amount", ("appears more than once",)),
    ),
    Case(
        "duplicated_rows_counted",
        "summarize",
        lambda c: summarize(_duplicated()),
        Handled(_check_duplicated),
    ),
    Case(
        "non_unique_row_index",
        "summarize",
        lambda c: summarize(_with_index([7] * len(base_tx()))),
        Handled(lambda v, c: _clean_view(v, c)),
    ),
    Case(
        "multiindex_rows",
        "summarize",
        lambda c: summarize(
            _with_index(pd.MultiIndex.from_arrays([base_tx().index, base_tx().index % 3]))
        ),
        Handled(_check_multiindex),
    ),
    Case(
        "columns_named_like_view_columns",
        "summarize",
        lambda c: summarize(base_tx().assign(T="x", frequency=-1, recency=None, summary=0)),
        Handled(_check_t_column),
    ),
    Case(
        "columns_named_like_frame_methods",
        "summarize",
        lambda c: summarize(
            base_tx().rename(columns={"customer_id": "index", "date": "values", "amount": "sum"}),
            customer_id="index",
            date="values",
            amount="sum",
        ),
        Handled(_check_t_column),
    ),
    Case(
        "records_not_a_frame",
        "summarize",
        lambda c: summarize(base_tx().to_dict("list")),
        Raises(InvalidParameterError, None, ("summarize expects CustomerData", "got dict")),
    ),
    Case(
        "time_unit_unknown",
        "summarize",
        lambda c: summarize(base_tx(), time_unit="Y"),
        Raises(InvalidParameterError, None, ("time_unit must be one of", "'Y'")),
    ),
    Case(
        "twenty_year_daily_histories",
        "summarize",
        lambda c: summarize(_twenty_years()),
        Handled(_check_twenty_years),
    ),
    Case(
        "one_customer",
        "summarize",
        lambda c: summarize(base_tx().iloc[:3].assign(customer_id=0)),
        Handled(_check_one_customer),
    ),
]
