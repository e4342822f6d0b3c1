"""Concentration of value in the customer base: Pareto tables, Lorenz, Gini, HHI.

The 20/80 rule (seed 004) says the best fifth of the customers brings about
four fifths of the value; sometimes it is 10/90. These functions measure how
far a customer base is from even: the value share of the top customers, the
share of customers needed for a given share of value, the Lorenz curve, the
Gini coefficient, the Herfindahl-Hirschman index of customer shares and the
dependence on the few largest customers.

Negative values (refunds, loss-making customers) are handled explicitly.
The Pareto table keeps them by default (shares of the *net* total, so the
cumulative share of a profit table can rise above 1 and fall back: the
"whale curve"). Every other measure is defined for non-negative values only:
by default a negative value raises a :class:`~crmkit.exceptions.SchemaError`
naming the customers; ``negative="clip"`` counts them as 0 and warns with a
:class:`~crmkit.exceptions.DataWarning`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.analysis._engine import (
    engine_value_counts,
    gini_from_counts,
    is_engine_frame,
    pareto_groups,
    value_counts,
)
from crmkit.analysis._inputs import (
    F,
    apply_negative_policy,
    as_values,
    check_fraction,
    check_int,
    view_values,
)
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = [
    "gini",
    "herfindahl",
    "lorenz_curve",
    "pareto_customers",
    "pareto_share",
    "pareto_table",
    "top_n_dependence",
]


def _positive_total(x: F, owner: str, name: str) -> float:
    total = float(x.sum())
    if not total > 0:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="values",
                    column=name,
                    check=(
                        f"sums to {total:.6g}; {owner} needs a "
                        "positive total to compute shares of it"
                    ),
                )
            ]
        )
    return total


def _nonnegative(values: object, negative: str, owner: str) -> tuple[F, pd.Index, float]:
    x, index = as_values(values, owner)
    name = str(values.name) if isinstance(values, pd.Series) and values.name else "values"
    x = apply_negative_policy(x, index, negative, owner, name)
    return x, index, _positive_total(x, owner, name)


def _top_curve(x: F, total: float) -> F:
    """Cumulative value share of the top k customers, k = 0..n."""
    return np.concatenate([[0.0], np.cumsum(np.sort(x)[::-1]) / total])


def pareto_table(
    view: object, by: str = "revenue", q: int = 10, *, negative: str = "keep"
) -> pd.DataFrame:
    """Share of value by customer decile (or any number of equal groups), top group first.

    Customers are ranked by ``by`` (highest first) and cut into ``q`` groups
    of equal size (the first ``n % q`` groups hold one customer more; ties
    keep the view's row order). Each row gives a group's customers, value,
    share of the total and the cumulative shares down to that group: the
    cumulative value share in row 2 of a decile table is the share of the
    top 20 % of customers (the 20/80 rule), row 1 the 10/90 rule.

    Parameters
    ----------
    view : DataFrame or Series
        Customer view indexed by customer id, or the values themselves. A
        polars, DuckDB, Dask or Spark view (``customer_id`` a column) is
        aggregated inside its engine; only its distinct values are
        collected, and the table is the one pandas gives.
    by : str, default="revenue"
        Value column of a view (revenue, margin, clv ...).
    q : int, default=10
        Number of groups; the view needs at least ``q`` customers.
    negative : {"keep", "clip", "raise"}, default="keep"
        ``"keep"``: negative values stay; shares are of the net total, so with
        loss-makers the cumulative share rises above 1 before the bottom
        groups bring it back to 1. ``"clip"``: count them as 0 (with a
        :class:`~crmkit.exceptions.DataWarning`). ``"raise"``: refuse them.

    Returns
    -------
    DataFrame
        Indexed by group (``decile`` when ``q == 10``, else ``group``; 1 =
        top), with ``n_customers``, ``customer_share``,
        ``cum_customer_share``, ``value``, ``value_share``,
        ``cum_value_share``, ``mean_value``, ``min_value`` and ``max_value``.

    Raises
    ------
    SchemaError
        For a missing or non-numeric column, missing values, fewer than
        ``q`` customers, a total that is not positive, or negative values
        under ``negative="raise"``.
    InvalidParameterError
        For a bad ``q`` or ``negative``.

    See Also
    --------
    crmkit.segmentation.DecileSegmenter : value-quantile groups (ties share a group).
    decile_profiles : what the customers of each decile have in common.

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame({"revenue": [500.0, 200.0, 100.0, 100.0, 50.0, 50.0]},
    ...                     index=pd.Index(list("abcdef"), name="customer_id"))
    >>> table = pareto_table(view, q=3)
    >>> table[["n_customers", "value", "value_share", "cum_value_share"]]
           n_customers  value  value_share  cum_value_share
    group
    1                2  700.0         0.70             0.70
    2                2  200.0         0.20             0.90
    3                2  100.0         0.10             1.00
    """
    owner = "pareto_table"
    q = check_int(q, "q", owner, low=1)
    if negative not in ("keep", "clip", "raise"):
        raise InvalidParameterError(
            "The 'negative' parameter of pareto_table must be one of {'clip', 'keep', "
            f"'raise'}}. Got {negative!r} instead."
        )
    if is_engine_frame(view):
        name = by
        values, counts = engine_value_counts(view, by, owner, negative)
    else:
        x, index = view_values(view, by, owner)
        if isinstance(view, pd.DataFrame):
            name = by
        else:
            name = str(view.name) if isinstance(view, pd.Series) and view.name else "values"
        if negative != "keep":
            x = apply_negative_policy(x, index, negative, owner, name)
        values, counts = value_counts(x)
    n = int(counts.sum())
    if n < q:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column=name,
                    check=(
                        f"has {n} customers; pareto_table needs at least q={q} to fill every group"
                    ),
                )
            ]
        )
    total = _positive_total(values * counts, owner, name)
    sizes, sums, mins, maxs = pareto_groups(values, counts, q)
    table: pd.DataFrame = pd.DataFrame(
        {
            "n_customers": sizes,
            "customer_share": sizes / n,
            "cum_customer_share": np.cumsum(sizes) / n,
            "value": sums,
            "value_share": sums / total,
            "cum_value_share": np.cumsum(sums) / total,
            "mean_value": sums / sizes,
            "min_value": mins,
            "max_value": maxs,
        },
        index=pd.Index(np.arange(1, q + 1), name="decile" if q == 10 else "group"),
    )
    return table


def pareto_share(values: object, customers: float = 0.2, *, negative: str = "raise") -> float:
    """Share of the total value held by the top ``customers`` share of customers.

    The top-customers curve (customers ranked by value, highest first) is
    interpolated linearly between whole customers, so the result is exact
    when ``customers * n`` is a whole number.

    Parameters
    ----------
    values : Series, ndarray or list
        One non-negative value per customer.
    customers : float, default=0.2
        Share of customers, in (0, 1]: 0.2 for the 20/80 rule, 0.1 for 10/90.
    negative : {"raise", "clip"}, default="raise"
        How negative values are handled (see the module notes).

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    SchemaError
        For empty, non-numeric, missing or negative values, or a zero total.
    InvalidParameterError
        For ``customers`` outside (0, 1].

    Examples
    --------
    >>> pareto_share([80, 5, 5, 5, 5, 0, 0, 0, 0, 0], customers=0.2)
    0.85
    """
    c = check_fraction(customers, "customers", "pareto_share", closed=True)
    x, _, total = _nonnegative(values, negative, "pareto_share")
    curve = _top_curve(x, total)
    grid = np.arange(len(x) + 1) / len(x)
    return float(np.interp(c, grid, curve))


def pareto_customers(values: object, share: float = 0.8, *, negative: str = "raise") -> float:
    """Smallest share of customers that together bring ``share`` of the value.

    The customers are taken from the highest value down until their value
    reaches ``share`` of the total; the result is their number over all
    customers (0.2 when the 20/80 rule holds exactly).

    Parameters
    ----------
    values : Series, ndarray or list
        One non-negative value per customer.
    share : float, default=0.8
        Share of the value, in (0, 1].
    negative : {"raise", "clip"}, default="raise"
        How negative values are handled (see the module notes).

    Returns
    -------
    float
        In (0, 1].

    Raises
    ------
    SchemaError
        For empty, non-numeric, missing or negative values, or a zero total.
    InvalidParameterError
        For ``share`` outside (0, 1].

    Examples
    --------
    >>> pareto_customers([80, 5, 5, 5, 5, 0, 0, 0, 0, 0], share=0.8)
    0.1
    """
    s = check_fraction(share, "share", "pareto_customers", closed=True)
    x, _, total = _nonnegative(values, negative, "pareto_customers")
    curve = _top_curve(x, total)
    k = int(np.searchsorted(curve, s * (1.0 - 1e-12), side="left"))
    return min(k, len(x)) / len(x)


def lorenz_curve(values: object, *, negative: str = "raise") -> pd.DataFrame:
    """The Lorenz curve: cumulative value share of the poorest customers.

    Parameters
    ----------
    values : Series, ndarray or list
        One non-negative value per customer.
    negative : {"raise", "clip"}, default="raise"
        How negative values are handled (see the module notes).

    Returns
    -------
    DataFrame
        ``n + 1`` rows from (0, 0) to (1, 1): ``customer_share`` and
        ``value_share`` held by the lowest-value customers. The area between
        the diagonal and the curve is half the Gini coefficient.

    Raises
    ------
    SchemaError
        For empty, non-numeric, missing or negative values, or a zero total.

    Examples
    --------
    >>> lorenz_curve([1.0, 3.0])
       customer_share  value_share
    0             0.0         0.00
    1             0.5         0.25
    2             1.0         1.00
    """
    x, _, total = _nonnegative(values, negative, "lorenz_curve")
    n = len(x)
    result: pd.DataFrame = pd.DataFrame(
        {
            "customer_share": np.arange(n + 1) / n,
            "value_share": np.concatenate([[0.0], np.cumsum(np.sort(x)) / total]),
        }
    )
    return result


def gini(values: object, *, negative: str = "raise", by: str = "revenue") -> float:
    """Gini coefficient of customer value: 0 = all equal, towards 1 = one customer has all.

    ``G = sum_i sum_j |x_i - x_j| / (2 n^2 mean(x))``, computed from the
    sorted values as ``sum_i (2 i - n - 1) x_(i) / (n sum x)``. Its largest
    value for ``n`` customers is ``1 - 1/n``.

    Parameters
    ----------
    values : Series, ndarray, list or DataFrame
        One non-negative value per customer, or a customer view of any
        engine (pandas, polars, DuckDB, Dask, Spark; computed inside the
        engine, only the distinct values are collected).
    negative : {"raise", "clip"}, default="raise"
        How negative values are handled (see the module notes).
    by : str, default="revenue"
        The value column of a customer view.

    Returns
    -------
    float
        In [0, 1); the same on every engine and for any row order.

    Raises
    ------
    SchemaError
        For empty, non-numeric, missing or negative values, or a zero total.

    References
    ----------
    .. [1] Gini, C. (1912). Variabilità e mutabilità. Bologna.

    Examples
    --------
    >>> gini([1.0, 1.0, 1.0, 1.0])
    0.0
    >>> gini([0.0, 0.0, 0.0, 4.0])
    0.75
    """
    if is_engine_frame(values) or isinstance(values, pd.DataFrame):
        if negative not in ("raise", "clip"):
            apply_negative_policy(np.zeros(0), pd.RangeIndex(0), negative, "gini")
        if isinstance(values, pd.DataFrame):
            x, index = view_values(values, by, "gini")
            distinct, counts = value_counts(apply_negative_policy(x, index, negative, "gini", by))
        else:
            distinct, counts = engine_value_counts(values, by, "gini", negative)
        total = _positive_total(distinct * counts, "gini", by)
    else:
        x, _, _ = _nonnegative(values, negative, "gini")
        distinct, counts = value_counts(x)
        total = float(np.sum(distinct * counts))
    return gini_from_counts(distinct, counts, total)


def herfindahl(values: object, *, normalized: bool = False, negative: str = "raise") -> float:
    """Herfindahl-Hirschman index of the customers' shares of value.

    ``H = sum_i s_i^2`` with ``s_i = x_i / sum x``: ``1/n`` when all
    customers are equal, 1 when one customer brings everything; ``1/H`` is
    the "effective number" of equal customers. Multiply by 10,000 for the
    points scale used in competition policy.

    Parameters
    ----------
    values : Series, ndarray or list
        One non-negative value per customer.
    normalized : bool, default=False
        Return ``(H - 1/n) / (1 - 1/n)``, in [0, 1] whatever ``n`` (0 for a
        single customer).
    negative : {"raise", "clip"}, default="raise"
        How negative values are handled (see the module notes).

    Returns
    -------
    float

    Raises
    ------
    SchemaError
        For empty, non-numeric, missing or negative values, or a zero total.

    References
    ----------
    .. [1] Hirschman, A. O. (1964). The paternity of an index. American
       Economic Review 54(5), 761.

    Examples
    --------
    >>> herfindahl([50.0, 30.0, 20.0])
    0.38
    >>> round(1 / herfindahl([1.0] * 8), 6)  # eight equal customers
    8.0
    """
    if not isinstance(normalized, bool):
        raise InvalidParameterError(
            f"The 'normalized' parameter of herfindahl must be a bool. Got {normalized!r} instead."
        )
    x, _, total = _nonnegative(values, negative, "herfindahl")
    h = float(np.sum((x / total) ** 2))
    if not normalized:
        return h
    n = len(x)
    return 0.0 if n == 1 else max((h - 1.0 / n) / (1.0 - 1.0 / n), 0.0)


def top_n_dependence(values: object, n: int = 10, *, negative: str = "raise") -> pd.DataFrame:
    """The ``n`` largest customers and how much of the value depends on them.

    Parameters
    ----------
    values : Series, ndarray or list
        One non-negative value per customer; a Series names the customers by
        its index.
    n : int, default=10
        How many of the largest customers to list (fewer when the base is
        smaller).
    negative : {"raise", "clip"}, default="raise"
        How negative values are handled (see the module notes).

    Returns
    -------
    DataFrame
        Indexed by customer id (largest first; ties keep the input order),
        with ``rank``, ``value``, ``share`` of the total and ``cum_share``;
        the last ``cum_share`` is the dependence on the top ``n``.

    Raises
    ------
    SchemaError
        For empty, non-numeric, missing or negative values, or a zero total.
    InvalidParameterError
        For ``n < 1``.

    Examples
    --------
    >>> import pandas as pd
    >>> revenue = pd.Series([10.0, 60.0, 30.0], index=pd.Index(["a", "b", "c"],
    ...                     name="customer_id"), name="revenue")
    >>> top_n_dependence(revenue, n=2)
                 rank  value  share  cum_share
    customer_id
    b               1   60.0    0.6        0.6
    c               2   30.0    0.3        0.9
    """
    n = check_int(n, "n", "top_n_dependence", low=1)
    x, index, total = _nonnegative(values, negative, "top_n_dependence")
    order = np.argsort(-x, kind="stable")[:n]
    top = x[order]
    result: pd.DataFrame = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1, dtype=np.int64),
            "value": top,
            "share": top / total,
            "cum_share": np.cumsum(top) / total,
        },
        index=index[order],
    )
    return result
