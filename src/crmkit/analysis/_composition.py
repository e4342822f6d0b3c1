"""The customer base against the market: over- and under-represented profiles."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import pandas as pd
from scipy import stats

from crmkit.analysis._engine import engine_profile_counts, is_engine_frame
from crmkit.data import CustomerData
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["CompositionResult", "composition_vs_market"]

_OWNER = "composition_vs_market"


@attrs.frozen
class CompositionResult:
    """The customer base by profile, compared with a market reference.

    Parameters
    ----------
    table : DataFrame
        One row per profile (see :func:`composition_vs_market`).
    statistic : float
        Pearson's chi-square goodness-of-fit statistic.
    pvalue : float
        Its p-value (chi-square with ``dof`` degrees of freedom).
    dof : int
        Profiles minus one.
    n_customers : int
        Customers counted.
    market_kind : {"counts", "shares"}
        How the market reference was read.

    Examples
    --------
    >>> import pandas as pd
    >>> base = pd.DataFrame({"industry": ["it"] * 30 + ["retail"] * 10})
    >>> result = composition_vs_market(base, {"it": 0.5, "retail": 0.5})
    >>> result.dof, round(result.statistic, 3)
    (1, 10.0)
    """

    table: pd.DataFrame
    statistic: float
    pvalue: float
    dof: int
    n_customers: int
    market_kind: str

    def __str__(self) -> str:
        flagged = self.table.loc[self.table["flag"] != "as expected"]
        lines = [
            f"{self.n_customers} customers in {len(self.table)} profiles; chi-square "
            f"{self.statistic:.2f} on {self.dof} df, p = {self.pvalue:.3g}"
        ]
        for key, row in flagged.iterrows():
            lines.append(
                f"  {key}: {row['flag']}-represented ({row['count']:.0f} vs "
                f"{row['expected']:.1f} expected, ratio {row['ratio']:.2f})"
            )
        return "\n".join(lines)


def _customers_frame(customers: object) -> pd.DataFrame:
    if isinstance(customers, CustomerData):
        frame = customers.get("customers")
        if frame is None:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="customers",
                        column="<frame>",
                        check=f"is missing; {_OWNER} needs customer attributes",
                    )
                ]
            )
        return frame
    if isinstance(customers, pd.Series):
        return customers.to_frame()
    if isinstance(customers, pd.DataFrame):
        return customers
    raise SchemaError(
        [
            SchemaFailure(
                frame="customers",
                column="<frame>",
                check=f"is a {type(customers).__name__}; "
                f"{_OWNER} needs a customer view, a customers frame or "
                "CustomerData",
            )
        ]
    )


def _observed(frame: pd.DataFrame, by: list[str]) -> pd.Series:
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="customers", column=c, check=f"is missing (required by {_OWNER})"
                )
                for c in missing
            ]
        )
    ids = frame["customer_id"] if "customer_id" in frame.columns else frame.index.to_series()
    dup = ids.duplicated(keep=False).to_numpy()
    failures = []
    if dup.any():
        failures.append(
            SchemaFailure(
                frame="customers",
                column="customer_id",
                check="has duplicate customer ids (each customer must be counted once)",
                n_failing=int(dup.sum()),
                rows=tuple(frame.index[dup][:5].tolist()),
                values=tuple(ids[dup][:5].tolist()),
            )
        )
    for c in by:
        na = frame[c].isna().to_numpy()
        if na.any():
            failures.append(
                SchemaFailure(
                    frame="customers",
                    column=c,
                    check="contains missing values (fill them, "
                    "e.g. with 'unknown', or drop those customers)",
                    n_failing=int(na.sum()),
                    rows=tuple(frame.index[na][:5].tolist()),
                )
            )
    if failures:
        raise SchemaError(failures)
    if len(frame) == 0:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="customers", column="<frame>", check=f"is empty; {_OWNER} needs customers"
                )
            ]
        )
    sizes = frame.groupby(by, observed=True, sort=False).size()
    if len(by) == 1:
        index = pd.Index(sizes.index.astype(object))
    else:
        index = pd.MultiIndex.from_tuples(sizes.index.tolist())
    counts: pd.Series = pd.Series(sizes.to_numpy(dtype=np.float64), index=index)
    return counts


def _market_series(market: object, by: list[str], value_column: str | None) -> pd.Series:
    if isinstance(market, Mapping):
        market = pd.Series(dict(market), dtype="float64")
    if isinstance(market, pd.DataFrame):
        missing = [c for c in by if c not in market.columns]
        if missing:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="market", column=c, check=f"is missing (required by {_OWNER})"
                    )
                    for c in missing
                ]
            )
        rest = [c for c in market.columns if c not in by]
        if value_column is None:
            numeric = [c for c in rest if pd.api.types.is_numeric_dtype(market[c].dtype)]
            if len(numeric) != 1:
                raise SchemaError(
                    [
                        SchemaFailure(
                            frame="market",
                            column="<frame>",
                            check=f"has numeric columns {numeric}; name the one with "
                            "counts or shares with value_column=",
                        )
                    ]
                )
            value_column = numeric[0]
        elif value_column not in market.columns:
            raise SchemaError(
                [SchemaFailure(frame="market", column=value_column, check="is missing")]
            )
        index = (
            pd.Index(market[by[0]])
            if len(by) == 1
            else pd.MultiIndex.from_frame(market[by].astype(object))
        )
        market = pd.Series(market[value_column].to_numpy(), index=index, name=value_column)
    if not isinstance(market, pd.Series):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="market",
                    column="<frame>",
                    check=f"is a {type(market).__name__}; "
                    f"{_OWNER} needs a Series, mapping or DataFrame of "
                    "counts or shares by profile",
                )
            ]
        )
    if market.index.nlevels != len(by):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="market",
                    column="<index>",
                    check=f"has {market.index.nlevels} "
                    f"levels; profiles are defined by {len(by)} columns "
                    f"{by}",
                )
            ]
        )
    failures = []
    if not pd.api.types.is_numeric_dtype(market.dtype) or pd.api.types.is_bool_dtype(market.dtype):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="market",
                    column=str(market.name),
                    check=f"is not numeric (dtype {market.dtype})",
                )
            ]
        )
    v = market.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(v) | (v < 0)
    if bad.any():
        failures.append(
            SchemaFailure(
                frame="market",
                column=str(market.name),
                check="must be finite and >= 0",
                n_failing=int(bad.sum()),
                rows=tuple(market.index[bad][:5].tolist()),
                values=tuple(v[bad][:5].tolist()),
            )
        )
    dup = market.index.duplicated(keep=False)
    if dup.any():
        failures.append(
            SchemaFailure(
                frame="market",
                column="<index>",
                check="has duplicate profiles",
                n_failing=int(dup.sum()),
                rows=tuple(market.index[dup][:5].tolist()),
            )
        )
    if failures:
        raise SchemaError(failures)
    if not v.sum() > 0:
        raise SchemaError(
            [SchemaFailure(frame="market", column=str(market.name), check="sums to 0")]
        )
    result: pd.Series = pd.Series(v, index=market.index)
    return result


def _kind(values: np.ndarray, market_kind: str) -> str:
    if market_kind in ("counts", "shares"):
        return market_kind
    if market_kind != "auto":
        raise InvalidParameterError(
            f"The 'market_kind' parameter of {_OWNER} must be one of {{'auto', 'counts', "
            f"'shares'}}. Got {market_kind!r} instead."
        )
    total = float(values.sum())
    if abs(total - 1.0) <= 1e-6:
        return "shares"
    if np.all(values == np.round(values)) and total > 1.0:
        return "counts"
    raise SchemaError(
        [
            SchemaFailure(
                frame="market",
                column="<values>",
                check=f"sum to {total:.6g}: neither shares (sum 1) nor whole counts; "
                "say which with market_kind='shares' (they are then rescaled) or 'counts'",
            )
        ]
    )


def composition_vs_market(
    customers: object,
    market: pd.Series | pd.DataFrame | Mapping[Any, float],
    by: str | Sequence[str] = "industry",
    *,
    market_kind: str = "auto",
    value_column: str | None = None,
    alpha: float = 0.05,
    correction: str = "bonferroni",
) -> CompositionResult:
    """Which profiles (industries, sizes ...) are over- or under-represented among our customers.

    Our customers are counted by ``by``; the market reference gives each
    profile's share of the market (or its count of firms). With ``n``
    customers and market share ``p``, a profile is expected to have ``n p``
    customers; ``ratio`` = observed / expected is the representation index
    (> 1: over-represented). Pearson's chi-square goodness-of-fit test
    (:func:`scipy.stats.chisquare`) asks whether the base as a whole follows
    the market; per profile, the adjusted (standardised) residual ``(O - E)
    / sqrt(n p (1 - p))`` is approximately standard normal under the market
    composition and flags the profiles that deviate (Agresti 2013, 2.4.5).
    When the market gives counts, ``penetration`` is our share of the
    market in each profile (seed 004: "our share per profile").

    Parameters
    ----------
    customers : DataFrame, Series or CustomerData
        The customer base: a customer view, a customers frame (one row per
        customer; a ``customer_id`` column is checked for duplicates), a
        Series of profiles, or CustomerData (its customers records). A
        polars, DuckDB, Dask or Spark frame is counted by profile inside its
        engine; only the counts are collected.
    market : Series, mapping or DataFrame
        Counts or shares by profile: a Series indexed by profile (a
        MultiIndex for several ``by`` columns), a mapping, or a DataFrame
        with the ``by`` columns and one numeric column.
    by : str or sequence of str, default="industry"
        The profile column(s).
    market_kind : {"auto", "counts", "shares"}, default="auto"
        ``"auto"`` reads values summing to 1 as shares and whole numbers
        summing to more than 1 as counts; ``"shares"`` rescales any values
        (percentages, too) to sum to 1.
    value_column : str, optional
        The market DataFrame's value column, when it has several numeric ones.
    alpha : float, default=0.05
        Significance level of the per-profile flags.
    correction : {"bonferroni", "none"}, default="bonferroni"
        Multiple-testing correction of the flags over the profiles.

    Returns
    -------
    CompositionResult
        ``table`` is indexed by profile (market order) with ``count``,
        ``share``, ``market_share``, ``expected``, ``ratio``, ``residual``
        (Pearson, ``(O - E) / sqrt(E)``), ``adjusted_residual``,
        ``p_value`` (two-sided, from the adjusted residual), ``flag``
        (``"over"``, ``"under"`` or ``"as expected"``) and, for market
        counts, ``market_count`` and ``penetration``. A profile the market
        gives share 0 (and we have no customers in) has NaN ``ratio`` and
        ``residual`` and is left out of the test.

    Raises
    ------
    SchemaError
        For missing columns or profile values, duplicate customers, a
        customer profile the market lacks (or gives share 0), or a bad
        market table.
    InvalidParameterError
        For a bad ``market_kind``, ``alpha`` or ``correction``.

    Warns
    -----
    DataWarning
        When some expected counts are below 5 (the chi-square approximation
        is then rough).

    References
    ----------
    .. [1] Agresti, A. (2013). Categorical Data Analysis, 3rd ed. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> base = pd.DataFrame({"industry": ["ict"] * 50 + ["retail"] * 30 + ["health"] * 20})
    >>> market = pd.Series({"ict": 2000, "retail": 5000, "health": 3000})
    >>> result = composition_vs_market(base, market)
    >>> result.table[["count", "expected", "ratio", "flag", "penetration"]]
            count  expected  ratio          flag  penetration
    ict      50.0      20.0  2.500          over     0.025000
    retail   30.0      50.0  0.600         under     0.006000
    health   20.0      30.0  0.667  as expected     0.006667
    >>> result.pvalue < 0.001
    True
    """
    cols = [by] if isinstance(by, str) else list(by)
    if not cols or not all(isinstance(c, str) for c in cols):
        raise InvalidParameterError(
            f"The 'by' parameter of {_OWNER} must be a column name or "
            f"a list of them. Got {by!r} instead."
        )
    if not (isinstance(alpha, float) and 0.0 < alpha < 1.0):
        raise InvalidParameterError(
            f"The 'alpha' parameter of {_OWNER} must be a float > 0 and < 1. Got {alpha!r} instead."
        )
    if correction not in ("bonferroni", "none"):
        raise InvalidParameterError(
            f"The 'correction' parameter of {_OWNER} must be one of "
            f"{{'bonferroni', 'none'}}. Got {correction!r} instead."
        )
    if is_engine_frame(customers):
        observed = engine_profile_counts(customers, cols, _OWNER)
    else:
        observed = _observed(_customers_frame(customers), cols)
    ref = _market_series(market, cols, value_column)
    kind = _kind(ref.to_numpy(), market_kind)
    unknown = observed.index.difference(ref.index, sort=False)
    zero = ref.index[ref.to_numpy() == 0].intersection(observed.index, sort=False)
    failures = []
    if len(unknown):
        failures.append(
            SchemaFailure(
                frame="customers",
                column="+".join(cols),
                check="has profiles the market reference lacks",
                n_failing=int(observed[unknown].sum()),
                rows=(),
                values=tuple(unknown[:5].tolist()),
            )
        )
    if len(zero):
        failures.append(
            SchemaFailure(
                frame="market",
                column="+".join(cols),
                check="gives share 0 to profiles we have customers in",
                n_failing=len(zero),
                rows=(),
                values=tuple(zero[:5].tolist()),
            )
        )
    if failures:
        raise SchemaError(failures)
    count = observed.reindex(ref.index, fill_value=0.0).to_numpy(dtype=np.float64)
    n = float(count.sum())
    p = ref.to_numpy() / ref.to_numpy().sum()
    keep = p > 0
    expected = n * p
    if (expected[keep] < 5).any():
        warnings.warn(
            f"{_OWNER}: {int((expected[keep] < 5).sum())} profiles expect fewer than "
            "5 customers; the chi-square test is approximate (merge small profiles)",
            DataWarning,
            stacklevel=2,
        )
    statistic, pvalue = stats.chisquare(count[keep], expected[keep])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(keep, count / expected, np.nan)
        residual = np.where(keep, (count - expected) / np.sqrt(expected), np.nan)
        adj_den = np.sqrt(n * p * (1.0 - p))
        adjusted = np.where(keep & (adj_den > 0), (count - expected) / adj_den, 0.0)
    cell_p = 2.0 * stats.norm.sf(np.abs(adjusted))
    k = int(keep.sum())
    level = alpha / k if correction == "bonferroni" and k > 0 else alpha
    flag = np.where(cell_p < level, np.where(adjusted > 0, "over", "under"), "as expected")
    table = pd.DataFrame(
        {
            "count": count,
            "share": count / n,
            "market_share": p,
            "expected": expected,
            "ratio": ratio,
            "residual": residual,
            "adjusted_residual": adjusted,
            "p_value": cell_p,
            "flag": flag,
        },
        index=ref.index,
    )
    if kind == "counts":
        table["market_count"] = ref.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            table["penetration"] = np.where(ref.to_numpy() > 0, count / ref.to_numpy(), np.nan)
    return CompositionResult(
        table=table,
        statistic=float(statistic),
        pvalue=float(pvalue),
        dof=max(k - 1, 0),
        n_customers=int(n),
        market_kind=kind,
    )
