"""Checks of a customer view before a plugin reads it."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from crmkit._checks import SHOWN
from crmkit._checks import first_labels as _first
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["validate_view"]

_MAX_SHOWN = SHOWN


def _check_numeric(
    view: pd.DataFrame, column: str, nullable: bool, owner: str
) -> list[SchemaFailure]:
    selected: object = view[column]
    if not isinstance(selected, pd.Series):
        return [SchemaFailure(frame="view", column=column, check="appears more than once")]
    series = selected
    if not pd.api.types.is_numeric_dtype(series.dtype):
        return [
            SchemaFailure(
                frame="view",
                column=column,
                check=f"is not numeric (dtype {series.dtype}); {owner} needs numbers",
            )
        ]
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad_nan = np.isnan(values)
    failures = []
    if not nullable and bad_nan.any():
        failures.append(
            SchemaFailure(
                frame="view",
                column=column,
                check="contains missing values",
                n_failing=int(bad_nan.sum()),
                rows=_first(view.index, bad_nan),
            )
        )
    bad_inf = np.isinf(values)
    if bad_inf.any():
        failures.append(
            SchemaFailure(
                frame="view",
                column=column,
                check="is not finite",
                n_failing=int(bad_inf.sum()),
                rows=_first(view.index, bad_inf),
                values=tuple(values[bad_inf][:_MAX_SHOWN].tolist()),
            )
        )
    return failures


def validate_view(
    view: object,
    owner: str,
    *,
    required: Iterable[str] = (),
    numeric: Iterable[str] = (),
    nullable: Iterable[str] = (),
    min_customers: int = 0,
) -> pd.DataFrame:
    """Check that a customer view has what a plugin needs; list every problem.

    Parameters
    ----------
    view : object
        The candidate customer view (a DataFrame indexed by customer id).
    owner : str
        Who needs the columns (used in messages), e.g. ``"RFMSegmenter"``.
    required : iterable of str, default=()
        Columns that must exist.
    numeric : iterable of str, default=()
        Columns (among the present ones) that must be numeric and finite and,
        unless listed in ``nullable``, free of missing values.
    nullable : iterable of str, default=()
        Numeric columns where missing values are allowed.
    min_customers : int, default=0
        Fewest rows accepted.

    Returns
    -------
    pandas.DataFrame
        ``view`` itself (unchanged), for chaining.

    Raises
    ------
    SchemaError
        Listing every problem: not a DataFrame, duplicate customer ids,
        missing columns, non-numeric, missing or infinite values (with the
        first failing customer ids), too few customers.

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame({"revenue": [1.0, float("nan")]},
    ...                     index=pd.Index(["a", "b"], name="customer_id"))
    >>> validate_view(view, "Demo", required=("revenue", "T"), numeric=("revenue",))
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 2 problems in the input:
      - view['T']: is missing (required by Demo)
      - view['revenue']: contains missing values (1 row; rows ['b'])
    """
    if not isinstance(view, pd.DataFrame):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column="<frame>",
                    check=f"is not a pandas DataFrame (got {type(view).__name__}); "
                    f"{owner} reads a customer view",
                )
            ]
        )
    failures: list[SchemaFailure] = []
    for column in dict.fromkeys(required):
        if column not in view.columns:
            failures.append(
                SchemaFailure(
                    frame="view", column=column, check=f"is missing (required by {owner})"
                )
            )
    if not view.index.is_unique:
        dup = np.asarray(view.index.duplicated(keep=False))
        failures.append(
            SchemaFailure(
                frame="view",
                column="<index>",
                check="has duplicate customer ids",
                n_failing=int(dup.sum()),
                rows=_first(view.index, dup),
            )
        )
    allow_nan = set(nullable)
    for column in dict.fromkeys(numeric):
        if column in view.columns:
            failures.extend(_check_numeric(view, column, column in allow_nan, owner))
    if len(view) < min_customers:
        failures.append(
            SchemaFailure(
                frame="view",
                column="<frame>",
                check=f"has {len(view)} customers; {owner} needs at least {min_customers}",
            )
        )
    if failures:
        raise SchemaError(failures)
    return view
