"""Recognising data frames of any engine, and the checks shared by the engine functions.

Part of the kernel: the narwhals adapter that lets every layer read a pandas,
polars, DuckDB, Dask or Spark frame the same way (:func:`crmkit.engines.engine_of`,
:func:`crmkit.value.sufficient_stats`, :func:`crmkit.engines.score`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import narwhals as nw
import pandas as pd

from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["SPARK", "engine_of", "first_rows", "is_spark", "require_columns", "to_narwhals"]

#: narwhals' Spark implementations (Spark Connect only in versions that know it).
SPARK: tuple[Any, ...] = tuple(
    getattr(nw.Implementation, name)
    for name in ("PYSPARK", "PYSPARK_CONNECT")
    if hasattr(nw.Implementation, name)
)


def is_spark(implementation: Any) -> bool:
    """Whether a narwhals implementation is Spark (classic or Spark Connect).

    Parameters
    ----------
    implementation : narwhals.Implementation
        A frame's ``implementation``.

    Returns
    -------
    bool

    Examples
    --------
    >>> import narwhals as nw
    >>> is_spark(nw.Implementation.PYSPARK), is_spark(nw.Implementation.PANDAS)
    (True, False)
    """
    return implementation in SPARK

_ID = "customer_id"


def to_narwhals(frame: Any, who: str, arg: str = "frame") -> Any:
    """Wrap ``frame`` with narwhals (a pandas view's named index becomes a column).

    Parameters
    ----------
    frame : DataFrame
        pandas, polars (eager or lazy), DuckDB, Dask, PySpark ... frame.
    who : str
        The caller, for the message.
    arg : str, default="frame"
        The caller's name for the argument, for the message.

    Returns
    -------
    narwhals.DataFrame or narwhals.LazyFrame

    Raises
    ------
    InvalidParameterError
        When narwhals does not know the object (also a ``TypeError``).

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"frequency": [1]}, index=pd.Index(["a"], name="customer_id"))
    >>> to_narwhals(v, "demo").columns
    ['customer_id', 'frequency']
    >>> to_narwhals([1, 2], "demo", "view")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: demo: 'view' must be a data frame ...; got list
    """
    if isinstance(frame, pd.DataFrame):
        if frame.index.name is not None and frame.index.name not in frame.columns:
            frame = frame.reset_index()
    try:
        with warnings.catch_warnings():
            # narwhals announces that Dask support moves to a plugin package
            warnings.filterwarnings("ignore", message=".*narwhals-dask.*", category=FutureWarning)
            return nw.from_native(frame)
    except TypeError:
        raise InvalidParameterError(
            f"{who}: {arg!r} must be a data frame (pandas, polars, DuckDB, Dask, "
            f"PySpark ...); got {type(frame).__name__}"
        ) from None


def engine_of(frame: Any) -> str:
    """Name of the engine behind a data frame.

    Parameters
    ----------
    frame : DataFrame
        Any frame narwhals knows.

    Returns
    -------
    str
        ``"pandas"``, ``"polars"``, ``"duckdb"``, ``"dask"``, ``"pyspark"``,
        ``"pyspark[connect]"``, ``"pyarrow"`` ...

    Raises
    ------
    InvalidParameterError
        For an object that is not a data frame (also a ``TypeError``).

    Examples
    --------
    >>> import pandas as pd
    >>> engine_of(pd.DataFrame({"a": [1]}))
    'pandas'
    """
    return str(to_narwhals(frame, "engine_of").implementation.value)


def require_columns(f: Any, columns: Sequence[str], who: str) -> dict[str, Any]:
    """Check that the columns exist and are numeric; return the schema.

    Parameters
    ----------
    f : narwhals frame
        The wrapped frame.
    columns : sequence of str
        Columns that must exist and be numeric (not boolean).
    who : str
        The caller, for messages.

    Returns
    -------
    dict
        Column name to narwhals dtype, for every column of the frame.

    Raises
    ------
    SchemaError
        Listing every missing or non-numeric column.

    Examples
    --------
    >>> import narwhals as nw, pandas as pd
    >>> f = nw.from_native(pd.DataFrame({"T": ["x"]}))
    >>> require_columns(f, ["T", "recency"], "demo")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 2 problems in the input:
      - view['T']: must be numeric, got String (demo)
      - view['recency']: is missing (required by demo)
    """
    schema = dict(f.collect_schema())
    fails: list[SchemaFailure] = []
    for c in columns:
        if c not in schema:
            fails.append(
                SchemaFailure(frame="view", column=c, check=f"is missing (required by {who})")
            )
        elif not schema[c].is_numeric() or schema[c] == nw.Boolean:
            fails.append(
                SchemaFailure(
                    frame="view", column=c, check=f"must be numeric, got {schema[c]} ({who})"
                )
            )
    if fails:
        raise SchemaError(sorted(fails, key=lambda x: str(x.column)))
    return schema


def first_rows(
    f: Any, mask: Any, column: str, limit: int = 5
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Customer ids and values of ``column`` in the first rows where ``mask`` holds.

    Only called on the error path (one small extra job). The ids are empty
    when the frame has no ``customer_id`` column.

    Parameters
    ----------
    f : narwhals frame
        The wrapped frame.
    mask : narwhals expression
        Boolean row condition.
    column : str
        The column whose values to report.
    limit : int, default=5
        How many rows.

    Returns
    -------
    ids : tuple
    values : tuple

    Examples
    --------
    >>> import narwhals as nw, pandas as pd
    >>> f = nw.from_native(pd.DataFrame({"customer_id": ["a", "b"], "x": [1, -1]}))
    >>> first_rows(f, nw.col("x") < 0, "x")
    (('b',), (-1,))
    """
    has_id = _ID in f.collect_schema()
    cols = [_ID, column] if has_id and column != _ID else [column]
    out = f.filter(mask).select(cols).head(limit)
    if isinstance(out, nw.LazyFrame):
        out = out.collect()
    values = tuple(out.get_column(column).to_list())
    ids = tuple(out.get_column(_ID).to_list()) if has_id else ()
    return ids, values
