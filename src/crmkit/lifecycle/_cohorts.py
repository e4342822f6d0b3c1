"""Cohort retention: which share of each first-purchase cohort buys in later periods."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmkit._params import Options, instance_of, validate_params
from crmkit.data import ColumnMap, CustomerData

__all__ = ["CohortRetention", "cohort_retention"]

_FREQS = frozenset({"W", "M", "Q", "Y"})
_RECORDS = instance_of((CustomerData, pd.DataFrame), "CustomerData or a pandas transactions frame")


@attrs.frozen(eq=False)
class CohortRetention:
    """Customers of each first-purchase cohort active in each later period.

    Parameters
    ----------
    sizes : pandas.Series
        Customers per cohort (index: ``PeriodIndex`` named ``"cohort"``).
    counts : pandas.DataFrame
        Customers of the cohort (rows) who bought in the period that many
        periods after their first (columns ``0, 1, ...`` named
        ``"periods_since_first"``); nullable integers, missing where that
        period lies after ``as_of``.
    shares : pandas.DataFrame
        ``counts`` divided by the cohort size (column 0 is 1); missing where
        the period lies after ``as_of``.
    as_of : pandas.Timestamp
        The last day of the data; its period is usually incomplete.

    Attributes
    ----------
    sizes : pandas.Series
    counts : pandas.DataFrame
    shares : pandas.DataFrame
    as_of : pandas.Timestamp

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [1.0, 1.0, 1.0],
    ...                    "date": ["2024-01-10", "2024-04-02", "2024-02-01"]})
    >>> cohort_retention(tx, freq="Q").sizes.tolist()
    [2]
    """

    sizes: pd.Series
    counts: pd.DataFrame
    shares: pd.DataFrame
    as_of: pd.Timestamp

    def average(self) -> pd.Series:
        """Customer-weighted mean share active, by periods since the first.

        Each column averages the cohorts observed that far (weighted by
        their size), so later columns rest on fewer, older cohorts.

        Returns
        -------
        pandas.Series
            Indexed by periods since the first purchase, named ``"share_active"``.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [1.0, 1.0, 1.0],
        ...                    "date": ["2024-01-10", "2024-04-02", "2024-02-01"]})
        >>> cohort_retention(tx, freq="Q").average().tolist()
        [1.0, 0.5]
        """
        counts = self.counts.astype("float64").to_numpy()
        observed = ~np.isnan(counts)
        sizes = self.sizes.to_numpy(dtype=np.float64)
        weight = (observed * sizes[:, None]).sum(axis=0)
        active = np.where(observed, counts, 0.0).sum(axis=0)
        result: pd.Series = pd.Series(
            active / np.where(weight > 0, weight, 1.0),
            index=self.counts.columns,
            name="share_active",
        )
        return result


def cohort_retention(
    records: CustomerData | pd.DataFrame,
    *,
    freq: str = "Q",
    as_of: Any = None,
    columns: ColumnMap | Mapping[str, str] | None = None,
) -> CohortRetention:
    """Cohort retention table: share of each first-purchase cohort active later.

    Customers are grouped by the period (``freq``) of their first purchase;
    a customer is *active* in a period when it bought in it. The table gives,
    for every cohort and every number of periods since its first, the share
    of the cohort active then (column 0 is 1 by definition).

    Parameters
    ----------
    records : CustomerData or pandas.DataFrame
        Validated records, or a transactions frame (``customer_id``,
        ``date``, ``amount``; other names through ``columns``).
    freq : {"W", "M", "Q", "Y"}, default="Q"
        Period length: week, month, quarter, year.
    as_of : date-like, optional
        For a transactions frame: the last day of the data (default the last
        transaction day). For ``CustomerData`` its own ``as_of`` is used.
    columns : ColumnMap or mapping, optional
        The frame's column names by role (``{"customer_id": "id"}``).

    Returns
    -------
    CohortRetention
        ``sizes``, ``counts`` and ``shares`` (cohorts by periods since the
        first purchase); periods after ``as_of`` are missing, and the period
        holding ``as_of`` is counted although it may be incomplete.

    Raises
    ------
    InvalidParameterError
        For an unknown ``freq`` or a ``records`` of the wrong type.
    SchemaError
        For invalid transactions.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3],
    ...                    "date": ["2024-01-05", "2024-04-10", "2024-02-01", "2024-08-01",
    ...                             "2024-05-20"],
    ...                    "amount": [5.0, 5.0, 8.0, 8.0, 3.0]})
    >>> cohort_retention(tx, freq="Q", as_of="2024-09-30").shares
    periods_since_first    0    1    2
    cohort
    2024Q1               1.0  0.5  0.5
    2024Q2               1.0  0.0  NaN
    """
    validate_params(
        "cohort_retention",
        {"freq": freq, "records": records},
        {"freq": [Options(_FREQS)], "records": [_RECORDS]},
    )
    if isinstance(records, CustomerData):
        data = records
    else:
        data = CustomerData.from_frames(transactions=records, columns=columns, as_of=as_of)
    tx = data.transactions
    period = tx["date"].dt.to_period(freq)
    ordinal = np.asarray(period.array.asi8, dtype=np.int64)
    codes, ids = pd.factorize(tx["customer_id"], sort=True)
    n = len(ids)
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, ordinal)
    offset = ordinal - first[codes]
    last = pd.Period(data.as_of, freq=freq).ordinal
    lo = int(first.min())
    n_cohorts = last - lo + 1
    n_offsets = n_cohorts
    # distinct (customer, offset) pairs: a customer counts once per period
    pair = np.unique(codes.astype(np.int64) * n_offsets + offset)
    cust, off = pair // n_offsets, pair % n_offsets
    cohort = first[cust] - lo
    grid = np.bincount(cohort * n_offsets + off, minlength=n_cohorts * n_offsets).reshape(
        n_cohorts, n_offsets
    )
    sizes_all = np.bincount(first - lo, minlength=n_cohorts)
    present = sizes_all > 0
    horizon = last - lo - np.arange(n_cohorts)  # last observed offset per cohort
    observed = np.arange(n_offsets)[None, :] <= horizon[:, None]
    start = pd.Period(ordinal=lo, freq=freq)
    cohorts = pd.period_range(start=start, periods=n_cohorts, freq=freq)[present]
    cohorts = cohorts.rename("cohort")
    cols = pd.RangeIndex(n_offsets, name="periods_since_first")
    grid, observed, sizes = grid[present], observed[present], sizes_all[present]
    counts = pd.DataFrame(grid, index=cohorts, columns=cols).astype("Int64").where(observed)
    shares = pd.DataFrame(
        np.where(observed, grid / np.maximum(sizes, 1)[:, None], np.nan),
        index=cohorts,
        columns=cols,
    )
    size_series: pd.Series = pd.Series(sizes.astype(np.int64), index=cohorts, name="n_customers")
    return CohortRetention(size_series, counts, shares, data.as_of)
