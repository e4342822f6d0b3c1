"""Checks of function arguments, each defined once for every layer.

Part of the kernel. Estimators declare their hyperparameters'
constraints (:mod:`crmkit._params`); plain functions check an argument with
these helpers, which say what was wrong in the same words:

- :func:`check_int` and :func:`check_fraction` for integer and share
  parameters (the declarative :class:`~crmkit._params.Interval`, one value);
- :func:`as_values` for one finite number per customer (a Series, array or
  list), with a :class:`~crmkit.exceptions.SchemaError` naming the rows;
- :func:`label_series` for one label per customer (a Series with unique
  customer ids, as the migration tables compare);
- :func:`failure_at` to make the schema failure of the rows where a mask
  holds (how many, the first ids, the first values), by keyword;
- :func:`raise_if` to raise every collected schema failure at once, and
  :func:`first_line` to say an error in one line (CLI, report notes).

Examples
--------
>>> from crmkit._checks import check_int
>>> check_int(0, "k", "f")
Traceback (most recent call last):
...
crmkit.exceptions.InvalidParameterError: The 'k' parameter of f must be an int >= 1. Got 0 instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, SupportsInt, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Interval, instance_of, validate_params
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = [
    "SHOWN",
    "as_values",
    "check_fraction",
    "check_int",
    "check_row",
    "failure_at",
    "first_labels",
    "first_line",
    "label_series",
    "raise_if",
    "warn_user",
]

F = npt.NDArray[np.float64]

#: How many offending rows (and values) a schema failure shows.
SHOWN = 5


def first_labels(labels: Sequence[Any] | pd.Index, mask: Any) -> tuple[Any, ...]:
    """The first :data:`SHOWN` labels where ``mask`` holds (for a failure message).

    Parameters
    ----------
    labels : sequence or Index, shape (n,)
        Row labels (customer ids).
    mask : array-like of bool, shape (n,)
        Which rows fail.

    Returns
    -------
    tuple

    Examples
    --------
    >>> first_labels(["a", "b", "c"], np.array([False, True, True]))
    ('b', 'c')
    """
    return tuple(pd.Index(labels)[np.asarray(mask, dtype=bool)][:SHOWN].tolist())


def failure_at(
    *,
    frame: str,
    column: str,
    check: str,
    mask: Any,
    labels: Sequence[Any] | pd.Index,
    values: Any = None,
) -> SchemaFailure:
    """The schema failure of the rows where ``mask`` holds.

    Counts them and shows the first :data:`SHOWN` row labels (and values).

    Parameters
    ----------
    frame, column, check : str
        As in :class:`~crmkit.exceptions.SchemaFailure`.
    mask : array-like of bool, shape (n,)
        Which rows fail.
    labels : sequence or Index, shape (n,)
        Row labels (customer ids).
    values : array-like, shape (n,), optional
        The rows' values, to show the failing ones.

    Returns
    -------
    SchemaFailure

    Examples
    --------
    >>> x = np.array([1.0, -2.0, -3.0])
    >>> print(failure_at(frame="view", column="clv", check="must be >= 0", mask=x < 0,
    ...                  labels=["a", "b", "c"], values=x).describe())
    view['clv']: must be >= 0 (2 rows; rows ['b', 'c']; values [-2.0, -3.0])
    """
    bad = np.asarray(mask, dtype=bool)
    shown = () if values is None else tuple(np.asarray(values)[bad][:SHOWN].tolist())
    return SchemaFailure(
        frame=frame,
        column=column,
        check=check,
        n_failing=int(bad.sum()),
        rows=first_labels(labels, bad),
        values=shown,
    )


def check_fraction(value: object, name: str, owner: str, *, closed: bool = False) -> float:
    """Check a share parameter: a float in (0, 1), or (0, 1] when ``closed``.

    Parameters
    ----------
    value : object
        The candidate.
    name, owner : str
        Parameter and function names for the message.
    closed : bool, default=False
        Whether 1 is allowed.

    Returns
    -------
    float

    Raises
    ------
    InvalidParameterError
        Otherwise.

    Examples
    --------
    >>> check_fraction(0.2, "customers", "demo")
    0.2
    """
    high = "right" if closed else "neither"
    validate_params(owner, {name: value}, {name: [Interval("real", 0, 1, closed=high)]})
    return float(value)  # type: ignore[arg-type]


def check_int(value: object, name: str, owner: str, low: int = 1) -> int:
    """Check an integer parameter ``>= low``.

    Parameters
    ----------
    value : object
        The candidate.
    name, owner : str
        Parameter and function names for the message.
    low : int, default=1
        Smallest accepted value.

    Returns
    -------
    int

    Raises
    ------
    InvalidParameterError
        Otherwise.

    Examples
    --------
    >>> check_int(10, "q", "demo")
    10
    """
    validate_params(owner, {name: value}, {name: [Interval("int", low, None)]})
    return int(cast("SupportsInt", value))


def as_values(values: object, owner: str) -> tuple[F, pd.Index]:
    """Read a 1-D set of customer values (Series, array or list) as finite floats.

    Parameters
    ----------
    values : Series, ndarray, list or tuple
        One value per customer; a Series keeps its index as customer ids.
    owner : str
        Function name for messages.

    Returns
    -------
    values : ndarray of float, shape (n_customers,)
    index : Index
        The Series index, or a RangeIndex.

    Raises
    ------
    SchemaError
        For an empty, non-numeric, multi-dimensional input or missing or
        infinite values (naming the first rows).

    Examples
    --------
    >>> x, idx = as_values([3, 1], "demo")
    >>> x.tolist(), list(idx)
    ([3.0, 1.0], [0, 1])
    """
    name = "values"
    if isinstance(values, pd.Series):
        name = str(values.name) if values.name is not None else "values"
        series = values
    elif isinstance(values, (np.ndarray, list, tuple)):
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="values",
                        column=name,
                        check=f"must be one-dimensional (got shape {arr.shape}); {owner} "
                        "needs one value per customer",
                    )
                ]
            )
        series = pd.Series(arr)
    else:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="values",
                    column="<frame>",
                    check=f"is a {type(values).__name__}; {owner} needs a pandas "
                    "Series, numpy array or list of numbers (one per customer)",
                )
            ]
        )
    if len(series) == 0:
        raise SchemaError(
            [SchemaFailure(frame="values", column=name, check=f"is empty; {owner} needs customers")]
        )
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="values",
                    column=name,
                    check=f"is not numeric (dtype {series.dtype}); {owner} needs numbers",
                )
            ]
        )
    x = series.to_numpy(dtype=np.float64, na_value=np.nan)
    failures = []
    nan = np.isnan(x)
    if nan.any():
        failures.append(
            SchemaFailure(
                frame="values",
                column=name,
                check="contains missing values",
                n_failing=int(nan.sum()),
                rows=first_labels(series.index, nan),
            )
        )
    inf = np.isinf(x)
    if inf.any():
        failures.append(
            SchemaFailure(
                frame="values",
                column=name,
                check="is not finite",
                n_failing=int(inf.sum()),
                rows=first_labels(series.index, inf),
                values=tuple(x[inf][:SHOWN]),
            )
        )
    if failures:
        raise SchemaError(failures)
    return x, series.index


def raise_if(fails: list[SchemaFailure]) -> None:
    """Raise one :class:`SchemaError` listing ``fails`` if there are any.

    Parameters
    ----------
    fails : list of SchemaFailure
        Collected problems.

    Raises
    ------
    SchemaError

    Examples
    --------
    >>> from crmkit.exceptions import SchemaFailure
    >>> raise_if([])  # nothing collected: nothing raised
    >>> raise_if([SchemaFailure(frame="view", column="T", check="is missing")])
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - view['T']: is missing
    """
    if fails:
        raise SchemaError(fails)


def first_line(exc: BaseException) -> str:
    """The most useful single line of an error message.

    For a :class:`~crmkit.exceptions.SchemaError` that is its first
    problem (plus how many more); otherwise the message's first line.

    Parameters
    ----------
    exc : BaseException
        The error.

    Returns
    -------
    str

    Examples
    --------
    >>> from crmkit.exceptions import SchemaError, SchemaFailure
    >>> first_line(SchemaError([SchemaFailure(frame="view", column="T", check="is missing"),
    ...                         SchemaFailure(frame="view", column="x", check="is missing")]))
    "view['T']: is missing (and 1 more problem)"
    """
    failures = getattr(exc, "failures", None)
    if failures:
        text = str(failures[0].describe())
        more = len(failures) - 1
        if more:
            text += f" (and {more} more problem{'s' if more > 1 else ''})"
        return text
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def label_series(labels: object, side: str) -> tuple[pd.Series, list[SchemaFailure]]:
    """Read one label per customer: a Series indexed by unique customer ids.

    Parameters
    ----------
    labels : object
        The candidate (a :class:`pandas.Series` of labels).
    side : str
        What it is, for messages (``"before"``, ``"after"``).

    Returns
    -------
    labels : pandas.Series
        ``labels`` itself.
    failures : list of SchemaFailure
        Duplicate customer ids, if any, for the caller to add its own
        checks to and raise together (:func:`raise_if`).

    Raises
    ------
    SchemaError
        When ``labels`` is not a Series.

    Examples
    --------
    >>> s, failures = label_series(pd.Series(["A", "B"], index=[1, 1]), "before")
    >>> print(failures[0].describe())
    before['<index>']: has duplicate customer ids (2 rows; rows [1, 1])
    """
    if not isinstance(labels, pd.Series):
        raise SchemaError(
            [
                SchemaFailure(
                    frame=side,
                    column="<frame>",
                    check=f"is not a pandas Series (got {type(labels).__name__})",
                )
            ]
        )
    failures = []
    if not labels.index.is_unique:
        dup = np.asarray(labels.index.duplicated(keep=False))
        failures.append(
            SchemaFailure(
                frame=side,
                column="<index>",
                check="has duplicate customer ids",
                n_failing=int(dup.sum()),
                rows=first_labels(labels.index, dup),
            )
        )
    return labels, failures


def warn_user(message: str, category: type[Warning]) -> None:
    """Warn with the location of the user's call: the first frame outside crmkit.

    A fixed ``stacklevel`` points at crmkit's own lines when the warning is
    raised a few calls deep (``summarize`` -> ``from_frames``); this walks
    up to the first caller outside the package, so that the warning names
    (and, under the default filters, shows once) the user's line.

    Parameters
    ----------
    message : str
        The warning, as a sentence.
    category : type of Warning
        Its class (e.g. :class:`~crmkit.exceptions.DataWarning`).

    Examples
    --------
    >>> import warnings
    >>> from crmkit.exceptions import DataWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_user("dropped 2 transaction rows", DataWarning)
    >>> caught[0].filename.startswith("<doctest")
    True
    """
    import os
    import sys
    import warnings

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame = sys._getframe(1)
    level = 2  # 1 is this function, 2 its caller
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        package
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


_ROW = instance_of(
    (Mapping, pd.Series),
    "a mapping of column name -> value or a pandas Series (e.g. view.loc[customer_id])",
)


def check_row(row: object, who: str) -> Mapping[str, Any] | pd.Series:
    """Check that ``row`` is one customer's values: a mapping or a pandas Series.

    Parameters
    ----------
    row : object
        The argument to check.
    who : str
        The caller, for the message.

    Returns
    -------
    mapping or pandas.Series
        ``row`` itself.

    Raises
    ------
    InvalidParameterError
        When ``row`` is neither a mapping nor a Series (also a ``TypeError``).

    Examples
    --------
    >>> check_row({"clv": 1.0}, "demo")
    {'clv': 1.0}
    >>> check_row([1.0], "demo")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: The 'row' parameter of demo must be a mapping of
    column name -> value or a pandas Series (e.g. view.loc[customer_id]). Got [1.0] instead.
    """
    validate_params(who, {"row": row}, {"row": [_ROW]})
    return cast("Mapping[str, Any] | pd.Series", row)
