"""A fitted Playbook on PySpark records: packed, grouped by customer bucket, ``applyInPandas``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import reduce
from typing import Any

import pandas as pd

from crmkit.engines._records import BUCKET, KIND, Layout

__all__ = ["SPARK_TYPES", "assess_spark", "max_date_spark", "spark_sample_mask"]

#: Spark type of each output column kind (``customer_id`` keeps the records' id type).
SPARK_TYPES: Mapping[str, str] = {
    "float": "double",
    "int": "bigint",
    "bool": "boolean",
    "datetime": "timestamp",
    "string": "string",
}

#: pandas dtype a Spark integer or boolean column comes back as when it has no nulls.
_RESTORE: Mapping[str, str] = {
    "LongType": "int64",
    "IntegerType": "int32",
    "ShortType": "int16",
    "ByteType": "int8",
    "BooleanType": "bool",
}


def _bucket(column: Any, n: int) -> Any:
    from pyspark.sql import functions as F

    return F.pmod(F.xxhash64(column.cast("string")), F.lit(n))


def pack_spark(
    frames: Mapping[str, Any], id_columns: Mapping[str, str], n_buckets: int
) -> tuple[Any, Layout]:
    """Union the record kinds into one frame: generated column names, kind tag, bucket.

    Parameters
    ----------
    frames : mapping of str to pyspark.sql.DataFrame
        Records by kind (transactions first).
    id_columns : mapping of str to str
        The customer id column of each kind.
    n_buckets : int
        Buckets (groups) the customers are hashed into.

    Returns
    -------
    packed : pyspark.sql.DataFrame
        Lazy.
    layout : list
        See :func:`crmkit.engines._records.unpack`.

    Examples
    --------
    >>> packed, layout = pack_spark(  # doctest: +SKIP
    ...     {"transactions": spark_tx}, {"transactions": "id"}, 8)
    """
    from pyspark.sql import functions as F

    parts = []
    layout: Layout = []
    for position, (kind, frame) in enumerate(frames.items()):
        cols: list[tuple[str, str, str | None]] = []
        bucket = _bucket(frame[id_columns[kind]], n_buckets)
        select = [F.lit(position).alias(KIND), bucket.alias(BUCKET)]
        for j, field in enumerate(frame.schema.fields):
            generated = f"c{position}_{j}"
            select.append(frame[field.name].alias(generated))
            cols.append((generated, field.name, _RESTORE.get(type(field.dataType).__name__)))
        parts.append(frame.select(*select))
        layout.append((kind, cols))
    packed = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), parts)
    return packed, layout


def max_date_spark(frame: Any, column: str) -> Any:
    """The last value of a date column, computed by Spark (one small job).

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        Records.
    column : str
        A date or timestamp column.

    Returns
    -------
    datetime, date or None

    Examples
    --------
    >>> max_date_spark(spark_tx, "date")  # doctest: +SKIP
    datetime.datetime(1998, 6, 30, 0, 0)
    """
    from pyspark.sql import functions as F

    return frame.agg(F.max(frame[column])).first()[0]


def is_temporal_spark(frame: Any, column: str) -> bool:
    """Whether a Spark column holds dates or timestamps.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        Records.
    column : str
        The column.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_temporal_spark(spark_tx, "date")  # doctest: +SKIP
    True
    """
    name = type(frame.schema[column].dataType).__name__
    return name in ("DateType", "TimestampType", "TimestampNTZType")


def spark_sample_mask(frame: Any, column: str, seed: int, fraction: float) -> Any:
    """A filter keeping the customers whose hashed id falls below ``fraction`` (same per id).

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        Records.
    column : str
        Their customer id column.
    seed : int
        Mixed into the hash.
    fraction : float
        Share of customers kept, in [0, 1].

    Returns
    -------
    pyspark.sql.Column

    Examples
    --------
    >>> spark_tx.filter(spark_sample_mask(spark_tx, "id", 0, 0.1))  # doctest: +SKIP
    """
    from pyspark.sql import functions as F

    key = F.concat(F.lit(f"{int(seed)}:"), frame[column].cast("string"))
    unit = F.pmod(F.xxhash64(key), F.lit(1 << 30)) / F.lit(float(1 << 30))
    return unit < F.lit(float(fraction))


def assess_spark(
    frames: Mapping[str, Any],
    id_columns: Mapping[str, str],
    n_buckets: int,
    make_runner: Callable[[Layout, str], Any],
    output: list[tuple[str, str]],
) -> Any:
    """Run a Playbook on every customer bucket of PySpark records (lazy).

    Parameters
    ----------
    frames : mapping of str to pyspark.sql.DataFrame
        Records by kind (transactions first).
    id_columns : mapping of str to str
        The customer id column of each kind.
    n_buckets : int
        Groups the customers are hashed into.
    make_runner : callable
        ``(layout, id_dtype) -> PlaybookRunner``.
    output : list of (str, str)
        Output columns and kinds.

    Returns
    -------
    pyspark.sql.DataFrame
        ``customer_id`` (the transactions' id type) and the assessment
        columns; runs on an action.

    Examples
    --------
    >>> assess_spark(frames, ids, 8, make_runner, layout)  # doctest: +SKIP
    """
    from pyspark.sql import types as T

    tx = frames["transactions"]
    id_field = tx.schema[id_columns["transactions"]]
    id_dtype = _RESTORE.get(type(id_field.dataType).__name__, "object")
    packed, layout = pack_spark(frames, id_columns, n_buckets)
    runner = make_runner(layout, id_dtype)
    made = {"float": T.DoubleType, "int": T.LongType, "bool": T.BooleanType,
            "datetime": T.TimestampType, "string": T.StringType}
    fields = [T.StructField("customer_id", id_field.dataType, True)]
    fields += [T.StructField(name, made[kind](), True) for name, kind in output]

    def run(group: pd.DataFrame) -> pd.DataFrame:
        out: pd.DataFrame = runner(group)
        return out

    return packed.groupBy(BUCKET).applyInPandas(run, schema=T.StructType(fields))
