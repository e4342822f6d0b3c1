"""``summarize`` on Spark: one shuffle by customer, then the pandas code per bucket.

Spark's own operators need two shuffles of every transaction (by customer
and day, then by customer) and a sort for a customer's first day. Instead
the transactions are hashed into buckets of whole customers
(``pmod(hash(customer_id), n)``), shuffled once with ``groupBy`` and each
bucket runs crmkit's pandas ``summarize`` inside ``applyInPandas``: every
customer's row is computed by the very code of the pandas path, so the
Spark view equals the pandas view bit for bit, and the query reads the
input once. A bucket holds about :data:`ROWS_PER_BUCKET` transactions (at
least one bucket per shuffle partition), a few tens of MB in a Python
worker.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pandas as pd

__all__ = ["ROWS_PER_BUCKET", "SparkBucket", "summarize_spark"]

#: Transactions per ``applyInPandas`` bucket (fewer when the shuffle has more partitions).
ROWS_PER_BUCKET = 1_000_000
_BUCKET = "__crmkit_bucket"


class SparkBucket:
    """The ``applyInPandas`` function: the customer view of one bucket of customers.

    Pickled into every task; on the executor it imports crmkit and runs
    :func:`crmkit.summarize` (transactions only) with the global ``as_of``.

    Parameters
    ----------
    roles : dict of str to str
        The user's column name for each transaction role present.
    as_of : Timestamp
        The analysis day, fixed for every bucket.
    time_unit : str
        Unit of recency, T and tenure.
    columns : list of str
        Output columns, in order.

    Examples
    --------
    >>> import pandas as pd
    >>> fn = SparkBucket({"customer_id": "id", "date": "date", "amount": "amount"},
    ...                  pd.Timestamp("2024-01-29"), "W", ["customer_id", "frequency", "T"])
    >>> part = pd.DataFrame({"id": [7, 7], "amount": [1.0, 2.0], _BUCKET: [0, 0],
    ...                      "date": pd.to_datetime(["2024-01-01", "2024-01-15"])})
    >>> fn((0,), part).values.tolist()
    [[7.0, 1.0, 4.0]]
    """

    def __init__(
        self, roles: dict[str, str], as_of: pd.Timestamp, time_unit: str, columns: list[str]
    ) -> None:
        self.roles = roles
        self.as_of = as_of
        self.time_unit = time_unit
        self.columns = columns

    def __call__(self, key: tuple[Any, ...], part: pd.DataFrame) -> pd.DataFrame:
        """Summarize one bucket.

        Parameters
        ----------
        key : tuple
            The bucket number (``applyInPandas`` passes the group key).
        part : DataFrame
            Every transaction of the bucket's customers.

        Returns
        -------
        DataFrame
            One row per customer, ``customer_id`` a column.
        """
        from crmkit.data._summarize import summarize

        with warnings.catch_warnings():
            # rows after as_of were counted and announced on the driver
            warnings.simplefilter("ignore")
            view = summarize(
                part.drop(columns=_BUCKET), customer_id=self.roles["customer_id"],
                date=self.roles["date"], amount=self.roles["amount"],
                product=self.roles.get("product"), cost=self.roles.get("cost"),
                as_of=self.as_of, time_unit=self.time_unit, include_records=False)
        out: pd.DataFrame = view.reset_index()[self.columns]
        return out


def _schema(frame: Any, id_column: str, columns: list[str]) -> Any:
    from pyspark.sql.types import (
        DoubleType,
        LongType,
        StructField,
        StructType,
        TimestampNTZType,
    )

    kinds = {"frequency": LongType(), "n_transactions": LongType(), "n_products": LongType(),
             "days_since_last": LongType(), "first_purchase": TimestampNTZType(),
             "last_purchase": TimestampNTZType()}
    id_type = frame.schema[id_column].dataType
    return StructType([StructField(c, id_type if c == "customer_id" else
                                   kinds.get(c, DoubleType()), True) for c in columns])


def summarize_spark(
    frame: Any,
    roles: dict[str, str],
    *,
    as_of_day: int,
    time_unit: str,
    n_rows: int,
    columns: list[str],
) -> Any:
    """The customer view of a validated PySpark transactions frame (lazy).

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        Transactions, already validated, rows after ``as_of`` removed.
    roles : dict of str to str
        The user's column name per role present (``customer_id``, ``date``,
        ``amount``, ``product``, ``cost``).
    as_of_day : int
        The analysis day, in days since 1970-01-01.
    time_unit : str
        Unit of recency, T and tenure.
    n_rows : int
        Transactions (sets the number of buckets).
    columns : list of str
        The view's columns, in order.

    Returns
    -------
    pyspark.sql.DataFrame
        One row per customer, in no particular order; runs on an action.

    Examples
    --------
    >>> view = summarize_spark(tx, {"customer_id": "customer_id", "date": "date",
    ...                             "amount": "amount"}, as_of_day=19_000, time_unit="W",
    ...                        n_rows=10, columns=["customer_id", "frequency"])  # doctest: +SKIP
    """
    from pyspark.sql import functions as F

    partitions = int(frame.sparkSession.conf.get("spark.sql.shuffle.partitions", "200"))
    n_buckets = max(partitions, math.ceil(n_rows / ROWS_PER_BUCKET), 1)
    as_of = pd.Timestamp("1970-01-01") + pd.Timedelta(days=as_of_day)
    needed = frame.select(*dict.fromkeys(roles.values()))
    bucketed = needed.withColumn(
        _BUCKET, F.pmod(F.hash(F.col(roles["customer_id"])), F.lit(n_buckets)))
    fn = SparkBucket(roles, as_of, time_unit, columns)
    # PySpark counts the arguments of what it is given (a bound ``self`` included):
    # hand it a plain two-argument function
    return bucketed.groupBy(_BUCKET).applyInPandas(
        lambda key, part: fn(key, part), _schema(frame, roles["customer_id"], columns))
