"""``engines.assess``: a fitted Playbook run where the records live (Spark, Dask, local)."""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Mapping
from typing import Any

import narwhals as nw
import pandas as pd

from crmkit._frames import is_spark, to_narwhals
from crmkit._params import Interval, validate_params
from crmkit.compose import LARGE, step_bar
from crmkit.data import ColumnMap, CustomerData
from crmkit.engines._records import (
    CUSTOMER_KINDS,
    SHARED_KINDS,
    Layout,
    PlaybookRunner,
    check_playbook,
    output_layout,
)
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["EngineRecords", "assess", "parse_as_of"]


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
        For frames of different engines or objects that are not frames.
    SchemaError
        When a kind lacks its customer id column.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [1.0]})
    >>> EngineRecords({"transactions": tx}, None, "demo").engine
    'local'
    """

    def __init__(self, records: Mapping[str, Any], columns: Any, who: str) -> None:
        if records.get("transactions") is None:
            raise InvalidParameterError(f"{who}: transactions are required")
        self.cmap = columns if isinstance(columns, ColumnMap) else ColumnMap(columns or {})
        impl = to_narwhals(records["transactions"], who, "transactions").implementation
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
                self.engine == "pyspark"
                and is_spark(f.implementation)
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


def _id_probe(records: EngineRecords) -> Any:
    tx = records.frames["transactions"]
    column = records.id_columns["transactions"]
    schema = dict(to_narwhals(tx, "engines.assess", "transactions").collect_schema())
    return 0 if schema[column].is_integer() else "0"


def assess(
    playbook: Any,
    transactions: Any,
    *,
    customers: Any = None,
    contacts: Any = None,
    interactions: Any = None,
    feedback: Any = None,
    events: Any = None,
    campaigns: Any = None,
    touches: Any = None,
    prospects: Any = None,
    columns: ColumnMap | Mapping[str, str] | None = None,
    as_of: Any = None,
    partitions: int | None = None,
    progress: bool | None = None,
) -> Any:
    """Assess every customer with a fitted Playbook inside the records' engine.

    - Spark (classic or Connect): the record kinds are unioned into one
      frame (each kind's columns under generated names, a kind tag and a
      bucket ``pmod(xxhash64(customer id), partitions)``), grouped by bucket
      and assessed with ``applyInPandas``: all records of a customer meet in
      one pandas call. Lazy: runs on an action.
    - Dask: the same packing, ``shuffle`` on the bucket and
      ``map_partitions``. Lazy: runs on ``compute()``.
    - pandas, polars, DuckDB: :meth:`CustomerData.from_frames` and
      :meth:`Playbook.assess` on this machine (a pandas frame indexed by
      ``customer_id``).

    The playbook travels to the workers as its JSON (``to_dict``); crmkit
    must be installed there. ``as_of`` is one date for all customers: the
    user's, or the last transaction day computed by the engine over all
    transactions before anything runs. Each customer's row therefore equals
    its row of ``playbook.assess(CustomerData.from_frames(...))`` on the
    same records (every step reads only the customer's own records and the
    fitted state; see :meth:`Playbook.assess_one`).

    Output columns of the engines: ``customer_id`` (the transactions' id
    type), then the assessment's columns with types from the fitted
    playbook (learned from a made-up one-customer assessment, no data
    read): floats as ``double``/float64, integers ``bigint``/int64, text,
    categoricals (``stage``, ``status``, segments ...) and every
    ``*_reasons`` column as strings (Python ``str``/None in Dask).

    Parameters
    ----------
    playbook : Playbook
        Fitted (:meth:`Playbook.fit` or :func:`crmkit.engines.fit`).
    transactions : DataFrame
        Purchases (Spark, Dask, pandas, polars, DuckDB).
    customers, contacts, interactions, feedback, events, touches : DataFrame, optional
        The other customer-keyed records, on the transactions' engine.
    campaigns, prospects : DataFrame, optional
        Records not keyed by customer: collected (they are small) and sent
        to every partition for validation.
    columns : ColumnMap or mapping, optional
        The user's column names by role (as in :meth:`CustomerData.from_frames`).
    as_of : date-like, optional
        Observation end; default the last transaction day (then the
        transactions' date column must hold dates or timestamps).
    partitions : int, optional
        Customer buckets: Spark default ``spark.sql.shuffle.partitions``,
        Dask the transactions' partitions.
    progress : bool, optional
        A progress bar over the driver's steps (``as_of``, ``schema``,
        ``plan``); tqdm needed, ``False`` never. The engine's jobs run when
        the result is computed.

    Returns
    -------
    DataFrame
        Spark or Dask frame (lazy) with ``customer_id`` and the assessment
        columns, or for local input the pandas assessment.

    Raises
    ------
    InvalidParameterError
        For a playbook that is not a Playbook, frames of mixed engines, a
        date column without dates and no ``as_of``, ``partitions`` < 1.
    NotFittedError
        When the playbook is not fitted.
    SchemaError
        For missing id or date columns (on the driver); invalid records
        fail when the engine runs (the message travels in the engine's
        error).

    See Also
    --------
    crmkit.engines.fit : fitting a Playbook on engine records.

    Examples
    --------
    >>> import pytest
    >>> dd = pytest.importorskip("dask.dataframe")
    >>> from crmkit.compose import Playbook
    >>> from crmkit.datasets import make_crm
    >>> crm = make_crm(80, seed=2)
    >>> pb = Playbook().fit(crm.data)
    >>> tx = dd.from_pandas(crm.data.transactions, npartitions=2)
    >>> out = assess(pb, tx, progress=False).compute().set_index("customer_id").sort_index()
    >>> bool((out["clv"] == pb.assess(crm.data)["clv"]).all())
    True
    """
    rule: dict[str, list[Any]] = {"partitions": [None, Interval("int", 1, None)]}
    validate_params("engines.assess", {"partitions": partitions}, rule)
    check_playbook(playbook, "engines.assess")
    given = {
        "transactions": transactions,
        "customers": customers,
        "contacts": contacts,
        "interactions": interactions,
        "feedback": feedback,
        "events": events,
        "campaigns": campaigns,
        "touches": touches,
        "prospects": prospects,
    }
    records = EngineRecords(given, columns, "engines.assess")
    if records.engine == "local":
        data = CustomerData.from_frames(
            **{k: v for k, v in given.items() if v is not None},
            columns=records.cmap,
            as_of=as_of,
            time_unit=playbook.time_unit_,
        )
        return playbook.assess(data, progress=progress)
    with step_bar(progress, LARGE, "engines.assess") as bar:
        day = records.last_day("engines.assess") if as_of is None else parse_as_of(as_of)
        bar.step("as_of")
        output = output_layout(playbook, day, _id_probe(records))
        bar.step("schema")
        n = records.n_buckets(partitions)

        def make_runner(layout: Layout, id_dtype: str) -> PlaybookRunner:
            return PlaybookRunner(
                playbook, layout, output, id_dtype, day, records.cmap.mapping, records.shared
            )

        if records.engine == "pyspark":
            from crmkit.engines._assess_spark import assess_spark

            out = assess_spark(records.frames, records.id_columns, n, make_runner, output)
        else:
            from crmkit.engines._assess_dask import assess_dask

            out = assess_dask(records.frames, records.id_columns, n, make_runner)
        bar.step("plan")
    return out
