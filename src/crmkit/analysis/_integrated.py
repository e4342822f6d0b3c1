"""Integrated customer data (seed 003): pivots, visit histories, seller coverage, timelines.

Everything known about a customer is linked to it: purchases join products
and money to the customer (not only product x money), visit records give a
visit history per customer and per seller, and the same customer seen by
many people gives one company-wide picture.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from crmkit.analysis._engine import MICRO, engine_pivot_long, is_engine_frame, micro_units
from crmkit.analysis._inputs import check_int, frame_of
from crmkit.analysis._products import pivot_sum
from crmkit.data import CustomerData
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["seller_coverage", "value_pivot", "visit_history"]

_PERIODS = {"month": "M", "quarter": "Q", "year": "Y"}
_VALUES = ("revenue", "count", "quantity", "margin")


def value_pivot(data: object, by: str = "product", values: str = "revenue") -> pd.DataFrame:
    """Money (or counts) per customer and product, channel or period: a customer x ``by`` pivot.

    Parameters
    ----------
    data : CustomerData or DataFrame
        Records or a transactions frame with canonical column names; a
        polars, DuckDB, Dask or Spark frame is summed inside its engine (one
        validation pass, one ``group_by``) and only the sums per customer and
        level are collected.
    by : str, default="product"
        A transactions column (``"product"``, ``"channel"`` ...) or a period
        of the date: ``"month"``, ``"quarter"``, ``"year"``.
    values : {"revenue", "count", "quantity", "margin"}, default="revenue"
        Net amount, purchase lines (positive amount), units, or amount minus
        cost (every line needs its cost).

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted), one column per level of ``by``
        (category order, else sorted; periods as strings like ``"2025Q1"``),
        0 where there is nothing. Money and quantities are summed exactly in
        whole micro-units, so every engine gives the identical table.

    Raises
    ------
    SchemaError
        For missing columns, lines without a ``by`` value, or missing costs
        for ``values="margin"``.
    InvalidParameterError
        For another ``values``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 5.0, 7.0],
    ...                    "date": pd.to_datetime(["2025-01-05", "2025-04-01", "2025-02-01"]),
    ...                    "product": ["ink", "paper", "ink"]})
    >>> value_pivot(tx, by="quarter")
    quarter      2025Q1  2025Q2
    customer_id
    1              10.0     5.0
    2               7.0     0.0
    """
    owner = "value_pivot"
    if values not in _VALUES:
        raise InvalidParameterError(
            f"The 'values' parameter of {owner} must be one of "
            f"{{'count', 'margin', 'quantity', 'revenue'}}. Got "
            f"{values!r} instead."
        )
    if is_engine_frame(data):
        long = engine_pivot_long(data, by, values, owner)
        out = pivot_sum(
            long["customer_id"],
            long["key"],
            long["total"].to_numpy(),
            row_name="customer_id",
            column_name=by,
        )
    else:
        out = _pandas_pivot(data, by, values, owner)
    result: pd.DataFrame = out.astype(np.int64) if values == "count" else out / MICRO
    return result


def _pandas_pivot(data: object, by: str, values: str, owner: str) -> pd.DataFrame:
    """The pivot of a pandas frame or CustomerData (money in whole micro-units)."""
    period = _PERIODS.get(by)
    needed = ["customer_id", "amount", "date" if period else by]
    needed += {"quantity": ["quantity"], "margin": ["cost"]}.get(values, [])
    tx = frame_of(data, "transactions", owner, needed)
    if period:
        keys = pd.Series(
            pd.PeriodIndex(pd.to_datetime(tx["date"]), freq=period).astype(str), index=tx.index
        )
    else:
        keys = tx[by]
    failures = []
    na = keys.isna().to_numpy()
    if na.any():
        failures.append(
            SchemaFailure(
                frame="transactions",
                column=by,
                check="contains missing values (fill them or drop those lines)",
                n_failing=int(na.sum()),
                rows=tuple(tx.index[na][:5].tolist()),
            )
        )
    amount = tx["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    if values == "margin":
        cost = tx["cost"].to_numpy(dtype=np.float64, na_value=np.nan)
        miss = np.isnan(cost)
        if miss.any():
            failures.append(
                SchemaFailure(
                    frame="transactions",
                    column="cost",
                    check="contains missing values; margin needs every cost",
                    n_failing=int(miss.sum()),
                    rows=tuple(tx.index[miss][:5].tolist()),
                )
            )
        weights = micro_units(amount) - micro_units(cost)
    elif values == "count":
        weights = (amount > 0).astype(np.float64)
    elif values == "quantity":
        weights = micro_units(tx["quantity"].to_numpy(dtype=np.float64, na_value=0.0))
    else:
        weights = micro_units(amount)
    if failures:
        raise SchemaError(failures)
    out: pd.DataFrame = pivot_sum(
        tx["customer_id"], keys, weights, row_name="customer_id", column_name=by
    )
    return out


def _as_of(data: object, dates: pd.Series, as_of: Any) -> pd.Timestamp:
    if as_of is not None:
        try:
            ts = pd.Timestamp(as_of)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(f"as_of must be a date; got {as_of!r}") from exc
        result: pd.Timestamp = ts.normalize()
        return result
    if isinstance(data, CustomerData):
        return data.as_of
    result = pd.Timestamp(dates.max()).normalize() if len(dates) else pd.Timestamp("1970-01-01")
    return result


def _visits(interactions: pd.DataFrame, kind: str | None, owner: str) -> pd.DataFrame:
    if kind is None:
        return interactions
    if "kind" not in interactions.columns:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="interactions",
                    column="kind",
                    check=f"is missing; {owner} with kind={kind!r} needs it (or pass kind=None)",
                )
            ]
        )
    mask = interactions["kind"].astype(str).str.lower().to_numpy() == kind.lower()
    result: pd.DataFrame = interactions.loc[mask]
    return result


def _customers(data: object, interactions: pd.DataFrame) -> pd.Index:
    ids = [interactions["customer_id"]]
    if isinstance(data, CustomerData):
        ids.append(data.transactions["customer_id"])
        cust = data.get("customers")
        if cust is not None:
            ids.append(cust["customer_id"])
    # distinct ids of each source first (in its own dtype: fast), then across the sources;
    # the order of first appearance is that of the concatenated sources
    parts = [pd.Series(pd.unique(i.to_numpy())).to_numpy(dtype=object) for i in ids]
    uniq = pd.unique(np.concatenate(parts))
    try:
        uniq = np.sort(uniq)
    except TypeError:
        uniq = np.array(sorted(uniq, key=str), dtype=object)
    result: pd.Index = pd.Index(uniq, name="customer_id")
    return result


def _main_seller(visits: pd.DataFrame) -> pd.Series:
    counts = (
        visits.groupby(["customer_id", "seller"], observed=True, sort=True)
        .agg(n=("date", "size"), last=("date", "max"))
        .reset_index()
    )
    counts["seller_key"] = counts["seller"].astype(str)
    counts = counts.sort_values(
        ["customer_id", "n", "last", "seller_key"],
        ascending=[True, False, False, True],
        kind="stable",
    )
    first = counts.drop_duplicates("customer_id", keep="first")
    result: pd.Series = pd.Series(
        first["seller"].astype(object).to_numpy(), index=first["customer_id"].to_numpy()
    )
    return result


def _seller_names(known: pd.DataFrame) -> pd.Series:
    """Per customer, the distinct sellers (as text) sorted and joined with ", "."""
    code, names = pd.factorize(known["seller"].astype(str).to_numpy(), sort=True)
    customer, customers = pd.factorize(known["customer_id"].to_numpy())
    pairs = pd.unique(customer.astype(np.int64) * max(len(names), 1) + code)
    who, which = np.divmod(pairs, max(len(names), 1))
    if len(who) == 0:
        return pd.Series([], index=customers[:0], dtype=object)
    order = np.lexsort((which, who))  # by customer, then seller name
    who = who[order]
    text = np.asarray(names, dtype=object)[which[order]].tolist()
    bounds = np.flatnonzero(np.r_[True, who[1:] != who[:-1], True]).tolist()
    joined = [", ".join(text[a:b]) for a, b in itertools.pairwise(bounds)]
    return pd.Series(joined, index=customers[who[bounds[:-1]]], dtype=object)


def visit_history(
    data: CustomerData | pd.DataFrame,
    by: str = "customer",
    *,
    kind: str | None = "visit",
    as_of: Any = None,
) -> pd.DataFrame:
    """Visit history per customer or per seller.

    Parameters
    ----------
    data : CustomerData or DataFrame
        Records (their interactions), or an interactions frame
        (``customer_id``, ``date``, optional ``seller``, ``kind``).
    by : {"customer", "seller"}, default="customer"
        One row per customer (every known customer, visited or not, when
        ``data`` is CustomerData) or per seller.
    kind : str or None, default="visit"
        Interaction kind counted (case-insensitive); None counts every
        interaction.
    as_of : date-like, optional
        Day the "days since" are measured to; default the data's as-of day
        (or the last interaction).

    Returns
    -------
    DataFrame
        Per customer (index ``customer_id``): ``n_visits``, ``first_visit``,
        ``last_visit``, ``days_since_last_visit``, ``mean_days_between``,
        ``n_sellers``, ``main_seller`` (most visits; ties: latest visit, then
        name) and ``sellers``. Per seller (index ``seller``): ``n_visits``,
        ``n_customers``, ``visits_per_customer``, ``first_visit``,
        ``last_visit``, ``days_since_last_visit``. Dates are NaT, days
        NaN and sellers ``""`` where a customer has no visit (or a single one,
        for ``mean_days_between``).

    Raises
    ------
    SchemaError
        When interactions, or the ``seller``/``kind`` column needed, are
        missing.
    InvalidParameterError
        For a bad ``by`` or ``as_of``.

    Examples
    --------
    >>> import pandas as pd
    >>> ix = pd.DataFrame({"customer_id": [1, 1, 2], "seller": ["Ann", "Bo", "Ann"],
    ...                    "kind": ["visit"] * 3,
    ...                    "date": pd.to_datetime(["2025-01-01", "2025-03-02", "2025-02-01"])})
    >>> visit_history(ix, as_of="2025-03-31")[["n_visits", "days_since_last_visit", "sellers"]]
                 n_visits  days_since_last_visit  sellers
    customer_id
    1                   2                   29.0  Ann, Bo
    2                   1                   58.0      Ann
    >>> visit_history(ix, by="seller")[["n_visits", "n_customers"]]
            n_visits  n_customers
    seller
    Ann            2            2
    Bo             1            1
    """
    owner = "visit_history"
    if by not in ("customer", "seller"):
        raise InvalidParameterError(
            f"The 'by' parameter of {owner} must be one of "
            f"{{'customer', 'seller'}}. Got {by!r} instead."
        )
    needed = ["customer_id", "date"] + (["seller"] if by == "seller" else [])
    ix = frame_of(data, "interactions", owner, needed)
    day = _as_of(data, ix["date"], as_of)
    visits = _visits(ix, kind, owner)
    visits = visits.loc[pd.to_datetime(visits["date"]).to_numpy() <= day.to_datetime64()]
    visits = visits.assign(date=pd.to_datetime(visits["date"]))
    if by == "seller":
        visits = visits.loc[visits["seller"].notna().to_numpy()]
        g = visits.groupby(visits["seller"].astype(object), sort=True)
        out = pd.DataFrame(
            {
                "n_visits": g.size(),
                "n_customers": g["customer_id"].nunique(),
                "first_visit": g["date"].min(),
                "last_visit": g["date"].max(),
            }
        )
        out.index.name = "seller"
        out["visits_per_customer"] = out["n_visits"] / out["n_customers"]
        out["days_since_last_visit"] = (day - out["last_visit"]).dt.days.astype(np.float64)
        result: pd.DataFrame = out[
            [
                "n_visits",
                "n_customers",
                "visits_per_customer",
                "first_visit",
                "last_visit",
                "days_since_last_visit",
            ]
        ]
        return result
    index = _customers(data, ix)
    g = visits.groupby("customer_id", sort=False)
    n = g.size().reindex(index, fill_value=0).astype(np.int64)
    first, last = g["date"].min().reindex(index), g["date"].max().reindex(index)
    days_between = (last - first).dt.days / (n - 1).where(n > 1)
    out = pd.DataFrame(
        {
            "n_visits": n,
            "first_visit": first,
            "last_visit": last,
            "days_since_last_visit": (day - last).dt.days.astype(np.float64),
            "mean_days_between": days_between.astype(np.float64),
        },
        index=index,
    )
    if "seller" in visits.columns:
        known = visits.loc[visits["seller"].notna().to_numpy()]
        gs = known.groupby("customer_id", sort=False)["seller"]
        out["n_sellers"] = gs.nunique().reindex(index, fill_value=0).astype(np.int64)
        out["main_seller"] = _main_seller(known).reindex(index).fillna("").astype(object)
        out["sellers"] = _seller_names(known).reindex(index).fillna("").astype(object)
    result = out
    return result


def seller_coverage(
    data: CustomerData | pd.DataFrame, days: int = 90, *, kind: str | None = "visit"
) -> pd.DataFrame:
    """Accounts per seller and the accounts nobody has visited lately.

    Each account belongs to its main seller: the seller with the most
    interactions of any kind with it (ties: the latest, then the name).
    Accounts with no interaction at all form the row ``"(no seller)"``.

    Parameters
    ----------
    data : CustomerData or DataFrame
        Records (accounts = every customer with transactions, customer
        records or interactions), or an interactions frame (accounts = the
        customers in it).
    days : int, default=90
        An account is "not visited" when nobody visited it in the last
        ``days`` days up to the as-of day.
    kind : str or None, default="visit"
        Interaction kind that counts as a visit; None: any interaction.

    Returns
    -------
    DataFrame
        Indexed by ``seller``: ``n_accounts`` (main seller of),
        ``n_accounts_met`` (any interaction with), ``n_visits`` and
        ``n_visits_recent`` (last ``days`` days, to any account),
        ``n_not_visited`` (own accounts without a visit in ``days`` days),
        ``share_not_visited`` and, with transactions, ``revenue`` of the own
        accounts.

    Raises
    ------
    SchemaError
        When interactions or their ``seller`` column are missing.
    InvalidParameterError
        For a bad ``days``.

    Examples
    --------
    >>> import pandas as pd
    >>> ix = pd.DataFrame({"customer_id": [1, 1, 2, 3], "seller": ["Ann", "Ann", "Bo", "Ann"],
    ...                    "kind": ["visit", "call", "call", "visit"],
    ...                    "date": pd.to_datetime(["2025-06-01", "2025-06-10", "2025-06-20",
    ...                                            "2024-12-01"])})
    >>> seller_coverage(ix, days=60)[["n_accounts", "n_not_visited", "share_not_visited"]]
            n_accounts  n_not_visited  share_not_visited
    seller
    Ann              2              1                0.5
    Bo               1              1                1.0
    """
    owner = "seller_coverage"
    days = check_int(days, "days", owner)
    ix = frame_of(data, "interactions", owner, ["customer_id", "date", "seller"])
    day = _as_of(data, ix["date"], None)
    ix = ix.loc[pd.to_datetime(ix["date"]).to_numpy() <= day.to_datetime64()]
    ix = ix.assign(date=pd.to_datetime(ix["date"]))
    ix = ix.loc[ix["seller"].notna().to_numpy()]
    accounts = _customers(data, ix)
    main = _main_seller(ix).reindex(accounts).fillna("(no seller)").astype(object)
    visits = _visits(ix, kind, owner)
    recent = visits.loc[(visits["date"] > day - pd.Timedelta(days=days)).to_numpy()]
    visited = pd.Index(pd.unique(recent["customer_id"].to_numpy()))
    frame = pd.DataFrame(
        {"seller": main.to_numpy(), "not_visited": ~accounts.isin(visited)}, index=accounts
    )
    if isinstance(data, CustomerData):
        tx = data.transactions
        rev = tx.groupby("customer_id", sort=False)["amount"].sum()
        frame["revenue"] = rev.reindex(accounts, fill_value=0.0).to_numpy()
    g = frame.groupby("seller", sort=True)
    out = pd.DataFrame(
        {
            "n_accounts": g.size().astype(np.int64),
            "n_not_visited": g["not_visited"].sum().astype(np.int64),
        }
    )
    seller_key = ix["seller"].astype(object)
    met = ix.groupby(seller_key, sort=True)["customer_id"].nunique()
    n_vis = visits.groupby(visits["seller"].astype(object), sort=True).size()
    n_rec = recent.groupby(recent["seller"].astype(object), sort=True).size()
    index = out.index.union(met.index, sort=False)
    out = out.reindex(index, fill_value=0)
    out["n_accounts_met"] = met.reindex(index, fill_value=0).astype(np.int64)
    out["n_visits"] = n_vis.reindex(index, fill_value=0).astype(np.int64)
    out["n_visits_recent"] = n_rec.reindex(index, fill_value=0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_not_visited"] = np.where(
            out["n_accounts"] > 0, out["n_not_visited"] / np.maximum(out["n_accounts"], 1), 0.0
        )
    if "revenue" in frame.columns:
        out["revenue"] = g["revenue"].sum().reindex(index, fill_value=0.0)
    out.index.name = "seller"
    cols = [
        "n_accounts",
        "n_accounts_met",
        "n_visits",
        "n_visits_recent",
        "n_not_visited",
        "share_not_visited",
    ] + (["revenue"] if "revenue" in out.columns else [])
    order = sorted([s for s in out.index if s != "(no seller)"], key=str)
    order += ["(no seller)"] if "(no seller)" in out.index else []
    result: pd.DataFrame = out.loc[order, cols]
    return result
