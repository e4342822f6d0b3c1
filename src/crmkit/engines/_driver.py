"""The driver's side of ``engines.assess`` and ``engines.fit``: the checks and records they share.

Both take the same record kinds and options and, before any engine work,
check them the same way: the parameters (declared constraints, see
:data:`PLAYBOOK`), then the records (:class:`EngineRecords`: one engine for
every customer-keyed kind, each with its customer id column). Local frames
go to :meth:`EngineRecords.local_data`; on Spark and Dask the observation
end is :meth:`EngineRecords.observation_end` (the user's ``as_of`` or the
last transaction day, computed once by the engine).
"""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Mapping
from typing import Any

import narwhals as nw
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit._frames import is_spark, to_narwhals
from crmkit._params import Predicate, instance_of, validate_params
from crmkit.compose import Playbook
from crmkit.data import ColumnMap, CustomerData
from crmkit.engines._records import CUSTOMER_KINDS, SHARED_KINDS
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = [
    "PLAYBOOK",
    "EngineRecords",
    "check_fitted",
    "parse_as_of",
    "to_pandas_local",
]

#: The ``playbook`` argument of ``engines.assess`` and ``engines.fit``.
PLAYBOOK = instance_of(Playbook, "a crmkit Playbook")
#: The ``transactions`` of the records: required.
_GIVEN = Predicate(lambda v: v is not None, "a data frame (transactions are required)")


def check_fitted(playbook: Playbook) -> None:
    """Check that a Playbook is fitted (on the driver, before the engine runs).

    Parameters
    ----------
    playbook : Playbook
        The playbook.

    Raises
    ------
    NotFittedError
        When it is not fitted.

    Examples
    --------
    >>> check_fitted(Playbook())
    Traceback (most recent call last):
    ...
    crmkit.exceptions.NotFittedError: This Playbook is not fitted yet...
    """
    check_is_fitted(playbook, ("plugins_", "order_", "schema_"))


def parse_as_of(value: Any) -> pd.Timestamp:
    """Read an ``as_of`` exactly as :meth:`CustomerData.from_frames` does (a calendar day).

    Parameters
    ----------
    value : date-like
        The date (a time of day and an offset are ignored).

    Returns
    -------
    Timestamp
        Midnight of that day, naive.

    Raises
    ------
    InvalidParameterError
        For a value that is not a date in crmkit's range.

    Examples
    --------
    >>> parse_as_of("2024-06-01T23:30-05:00")
    Timestamp('2024-06-01 00:00:00')
    """
    if isinstance(value, pd.Timestamp) and value.tz is not None:
        value = value.tz_convert("UTC").tz_localize(None)
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        value = pd.Timestamp(value)
    probe = pd.DataFrame(
        {"customer_id": [0], "date": [pd.Timestamp("1677-09-22")], "amount": [1.0]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed: pd.Timestamp = CustomerData.from_frames(probe, as_of=value).as_of
    return parsed


class EngineRecords:
    """The user's records on a distributed engine: kinds, id columns, the global ``as_of``.

    Parameters
    ----------
    records : mapping of str to frame
        Records by kind (``transactions`` required); customer-keyed kinds on
        one engine, ``campaigns`` and ``prospects`` of any kind (collected).
    columns : mapping of str to str or ColumnMap, optional
        The user's column names by role.
    who : str
        The caller, for messages.

    Attributes
    ----------
    who : str
        The caller.
    given : dict of str to frame
        The records given (the kinds that are not None), as given.
    engine : str
        ``"pyspark"`` (also Spark Connect), ``"dask"`` or ``"local"``.
    frames : dict of str to frame
        The customer-keyed kinds (native frames), transactions first.
    shared : dict of str to pandas.DataFrame
        Campaigns and prospects, collected.
    id_columns : dict of str to str
        The customer id column of each kind.
    cmap : ColumnMap
        The column mapping.

    Raises
    ------
    InvalidParameterError
        For no transactions, frames of different engines or objects that
        are not frames.
    SchemaError
        When a kind lacks its customer id column.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [1.0]})
    >>> EngineRecords({"transactions": tx}, None, "demo").engine
    'local'
    """

    def __init__(self, records: Mapping[str, Any], columns: Any, who: str) -> None:
        transactions = records.get("transactions")
        validate_params(who, {"transactions": transactions}, {"transactions": [_GIVEN]})
        self.who = who
        self.given = {kind: frame for kind, frame in records.items() if frame is not None}
        self.cmap = columns if isinstance(columns, ColumnMap) else ColumnMap(columns or {})
        impl = to_narwhals(transactions, who, "transactions").implementation
        if is_spark(impl):
            self.engine = "pyspark"
        elif impl.is_dask():
            self.engine = "dask"
        else:
            self.engine = "local"
        self.frames: dict[str, Any] = {}
        self.shared: dict[str, pd.DataFrame] = {}
        self.id_columns: dict[str, str] = {}
        fails: list[SchemaFailure] = []
        for kind in CUSTOMER_KINDS + SHARED_KINDS:
            frame = records.get(kind)
            if frame is None:
                continue
            f = to_narwhals(frame, who, kind)
            if kind in SHARED_KINDS:
                self.shared[kind] = _collect(f)
                continue
            same = (f.implementation == impl) or (
                self.engine == "pyspark" and is_spark(f.implementation)
            )
            if self.engine != "local" and not same:
                raise InvalidParameterError(
                    f"{who}: {kind} is a {f.implementation.value} frame but the transactions "
                    f"are a {impl.value} frame; give every customer-keyed record kind on the "
                    "same engine"
                )
            column = self.cmap.column_for(kind, "customer_id")
            if column not in f.columns:
                fails.append(
                    SchemaFailure(frame=kind, column=column, check="is missing (the customer id)")
                )
            self.frames[kind] = frame
            self.id_columns[kind] = column
        if fails:
            raise SchemaError(fails)

    def last_day(self, who: str) -> pd.Timestamp:
        """The day of the last transaction, computed once over all records by the engine.

        Parameters
        ----------
        who : str
            The caller, for messages.

        Returns
        -------
        Timestamp

        Raises
        ------
        InvalidParameterError
            When the date column does not hold dates (then give ``as_of``).
        SchemaError
            When the date column is missing or holds no date.

        Examples
        --------
        >>> tx = pd.DataFrame({"customer_id": [1], "date": pd.to_datetime(["2024-01-01 10:00"]),
        ...                    "amount": [1.0]})
        >>> EngineRecords({"transactions": tx}, None, "demo").last_day("demo")
        Timestamp('2024-01-01 00:00:00')
        """
        tx = self.frames["transactions"]
        column = self.cmap.column_for("transactions", "date")
        f = to_narwhals(tx, who, "transactions")
        schema = dict(f.collect_schema())
        if column not in schema:
            raise SchemaError(
                [SchemaFailure(frame="transactions", column=column, check="is missing (the date)")]
            )
        if schema[column] not in (nw.Datetime, nw.Date):
            raise InvalidParameterError(
                f"{who}: transactions[{column!r}] holds {schema[column]}, not dates, so the "
                "engine cannot find the last transaction day; pass as_of= (the observation "
                "end) or cast the column to a timestamp"
            )
        if self.engine == "pyspark":
            from crmkit.engines._assess_spark import max_date_spark

            last = max_date_spark(tx, column)
        elif self.engine == "dask":
            last = tx[column].max().compute()
        else:
            last = to_pandas_local(tx)[column].max()
        if last is None or pd.isna(last):
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="transactions",
                        column=column,
                        check="holds no date: nothing to analyse",
                    )
                ]
            )
        return parse_as_of(pd.Timestamp(last))

    def observation_end(self, as_of: Any) -> pd.Timestamp:
        """The ``as_of`` of an engine run: the user's day, or the last transaction day.

        Parameters
        ----------
        as_of : date-like or None
            The user's observation end (read by :func:`parse_as_of`); None for
            the day of the last transaction (:meth:`last_day`, one engine job).

        Returns
        -------
        Timestamp

        Examples
        --------
        >>> tx = pd.DataFrame({"customer_id": [1], "date": pd.to_datetime(["2024-01-01"]),
        ...                    "amount": [1.0]})
        >>> records = EngineRecords({"transactions": tx}, None, "demo")
        >>> records.observation_end(None), records.observation_end("2024-02-01 10:00")
        (Timestamp('2024-01-01 00:00:00'), Timestamp('2024-02-01 00:00:00'))
        """
        return self.last_day(self.who) if as_of is None else parse_as_of(as_of)

    def local_data(self, as_of: Any, time_unit: str) -> CustomerData:
        """Local records (pandas, polars, DuckDB) as :class:`~crmkit.data.CustomerData`.

        Parameters
        ----------
        as_of : date-like or None
            Observation end (default the last transaction day).
        time_unit : {"D", "W", "M"}
            Unit of recency, T and tenure.

        Returns
        -------
        CustomerData
            :meth:`CustomerData.from_frames` of the records given, with the
            column mapping.

        Examples
        --------
        >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [1.0]})
        >>> EngineRecords({"transactions": tx}, None, "demo").local_data(None, "W").n_customers
        1
        """
        return CustomerData.from_frames(
            **self.given, columns=self.cmap, as_of=as_of, time_unit=time_unit
        )

    def n_buckets(self, partitions: int | None) -> int:
        """Groups the customers are hashed into (the engine's default unless given).

        Parameters
        ----------
        partitions : int, optional
            The user's choice.

        Returns
        -------
        int

        Examples
        --------
        >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [1.0]})
        >>> EngineRecords({"transactions": tx}, None, "demo").n_buckets(None)
        1
        """
        if partitions is not None:
            return int(partitions)
        tx = self.frames["transactions"]
        if self.engine == "pyspark":
            return max(1, int(tx.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200))
        if self.engine == "dask":
            return max(1, int(tx.npartitions))
        return 1


def _collect(f: Any) -> pd.DataFrame:
    native = f.collect() if isinstance(f, nw.LazyFrame) else f
    out: pd.DataFrame = native.to_pandas()
    return out


def to_pandas_local(frame: Any) -> pd.DataFrame:
    """A local frame (pandas, polars, DuckDB ...) as pandas.

    Parameters
    ----------
    frame : DataFrame
        The frame.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> to_pandas_local(pd.DataFrame({"a": [1]})).shape
    (1, 1)
    """
    if isinstance(frame, pd.DataFrame):
        return frame
    return _collect(to_narwhals(frame, "engines", "frame"))
