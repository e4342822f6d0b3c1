"""``CustomerData``: validated records, the as-of date and the time unit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pandas as pd

from crmkit._checks import raise_if, warn_user
from crmkit.data._columns import RECORD_KINDS, TIME_UNITS, ColumnMap
from crmkit.data._integrity import UnmatchedRows, check_references, unmatched_message
from crmkit.data._record_checks import as_of_timestamp, check_scores, duplicate_rows_soon
from crmkit.data._validate import to_pandas, validate_frame
from crmkit.exceptions import (
    CustomerNotFoundError,
    DataWarning,
    InvalidParameterError,
    SchemaFailure,
)

__all__ = ["CustomerData", "DroppedRows", "ValidationReport"]

_DATED = {
    "transactions": "date",
    "interactions": "date",
    "feedback": "date",
    "events": "date",
    "touches": "date",
}
_SINGULAR = {
    "transactions": "transaction",
    "customers": "customer",
    "contacts": "contact",
    "interactions": "interaction",
    "events": "event",
    "campaigns": "campaign",
    "touches": "touch",
    "prospects": "prospect",
}


@attrs.frozen
class DroppedRows:
    """Rows left out of a record kind, and why.

    Parameters
    ----------
    kind : str
        Record kind.
    reason : str
        Why they were left out.
    n_rows : int
        How many.
    rows : tuple
        The first row labels (at most 5).

    Examples
    --------
    >>> DroppedRows("transactions", "dated after as_of", 3, (7, 8, 9)).n_rows
    3
    """

    kind: str
    reason: str
    n_rows: int
    rows: tuple[Any, ...] = ()

    @property
    def sentence(self) -> str:
        """What was dropped, as a sentence: ``"dropped 3 transaction rows dated after ..."``.

        Returns
        -------
        str

        Examples
        --------
        >>> DroppedRows("transactions", "dated after as_of=2024-01-31", 1).sentence
        'dropped 1 transaction row dated after as_of=2024-01-31'
        """
        noun = _SINGULAR.get(self.kind, self.kind)
        return f"dropped {self.n_rows} {noun} row{'s' if self.n_rows != 1 else ''} {self.reason}"


@attrs.frozen
class ValidationReport:
    """What validation saw: rows received, rows dropped and notes.

    Parameters
    ----------
    n_rows : mapping of str to int
        Rows received per record kind.
    dropped : tuple of DroppedRows
        Rows left out, per kind and reason.
    notes : tuple of str
        Other observations (duplicates, rows that do not join ...).
    unmatched : tuple of UnmatchedRows
        Rows, per record kind, whose customer (or campaign) id is unknown:
        kept, but counted for no customer (also summed up in ``notes``).

    Examples
    --------
    >>> r = ValidationReport({"transactions": 10}, (DroppedRows("transactions", "late", 2),))
    >>> r.n_dropped
    2
    """

    n_rows: Mapping[str, int]
    dropped: tuple[DroppedRows, ...] = ()
    notes: tuple[str, ...] = ()
    unmatched: tuple[UnmatchedRows, ...] = ()

    @property
    def n_unmatched(self) -> int:
        """Total rows, over all kinds, whose id joins no customer (or campaign).

        Returns
        -------
        int

        Examples
        --------
        >>> ValidationReport({}).n_unmatched
        0
        """
        return sum(u.n_rows for u in self.unmatched)

    @property
    def n_dropped(self) -> int:
        """Total rows dropped over all kinds.

        Returns
        -------
        int

        Examples
        --------
        >>> ValidationReport({}).n_dropped
        0
        """
        return sum(d.n_rows for d in self.dropped)

    def __str__(self) -> str:
        lines = ["rows received: " + ", ".join(f"{k} {v}" for k, v in self.n_rows.items())]
        lines += [d.sentence for d in self.dropped]
        lines += list(self.notes)
        return "\n".join(lines)


def _day(ts: pd.Timestamp) -> pd.Timestamp:
    out: pd.Timestamp = ts.normalize()
    return out


@attrs.frozen(eq=False)
class CustomerData:
    """Validated CRM records with an as-of date and a time unit.

    Build it with :meth:`from_frames`; the frames inside use crmkit's
    canonical column names (see ``crmkit.data.RECORD_SCHEMAS``) and are
    copies: the caller's frames are never modified.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Validated records by kind (``transactions`` always present).
    as_of : Timestamp
        The analysis date (a day; records on that day count).
    time_unit : {"D", "W", "M"}
        Unit of recency, T and tenure in summaries.
    report : ValidationReport
        What validation saw and dropped.

    Attributes
    ----------
    transactions : DataFrame
        Shortcut for ``frames["transactions"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 5.0, 8.0],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"])})
    >>> data = CustomerData.from_frames(transactions=tx, as_of="2024-03-01", time_unit="W")
    >>> data.n_customers, data.as_of.date()
    (2, datetime.date(2024, 3, 1))
    """

    frames: Mapping[str, pd.DataFrame]
    as_of: pd.Timestamp
    time_unit: str = "W"
    report: ValidationReport = attrs.field(factory=lambda: ValidationReport({}))

    @property
    def transactions(self) -> pd.DataFrame:
        """The validated transactions.

        Returns
        -------
        DataFrame

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": ["a"], "date": ["2024-01-01"], "amount": [1.0]})
        >>> list(CustomerData.from_frames(transactions=tx).transactions.columns)
        ['customer_id', 'date', 'amount']
        """
        return self.frames["transactions"]

    @property
    def n_customers(self) -> int:
        """Number of distinct customers with transactions.

        Returns
        -------
        int

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": ["a", "a"], "date": ["2024-01-01"] * 2,
        ...                    "amount": [1.0, 2.0]})
        >>> CustomerData.from_frames(transactions=tx).n_customers
        1
        """
        return int(self.transactions["customer_id"].nunique())

    def get(self, kind: str) -> pd.DataFrame | None:
        """The validated records of ``kind``, or None when not given.

        Parameters
        ----------
        kind : str
            Record kind.

        Returns
        -------
        DataFrame or None

        Raises
        ------
        InvalidParameterError
            For an unknown record kind.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [1.0]})
        >>> CustomerData.from_frames(transactions=tx).get("feedback") is None
        True
        """
        if kind not in RECORD_KINDS:
            raise InvalidParameterError(
                f"unknown record kind {kind!r}; kinds: {', '.join(RECORD_KINDS)}"
            )
        return self.frames.get(kind)

    @classmethod
    def from_frames(
        cls,
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
        time_unit: str = "W",
        collect: bool = False,
    ) -> CustomerData:
        """Validate and map the user's records.

        Every problem in every frame is collected and raised as one
        :class:`~crmkit.exceptions.SchemaError` (column, check, failing
        values, first row labels). Rows dated after ``as_of`` are dropped,
        counted in ``report`` and announced with a
        :class:`~crmkit.exceptions.DataWarning`.

        The ids of every record kind are compared with the customers (the
        ids of the transactions and of the customers records; touches also
        with the campaigns): ids of another type (text against integers) or
        written differently (``'007'`` against ``'7'``) are a ``SchemaError``
        naming both kinds; rows with unknown ids are kept but join no
        customer, and are counted per kind in ``report.unmatched`` and
        announced by one ``DataWarning``.

        ``as_of`` is a calendar day, read as written: a time of day and a UTC
        offset, if given, are ignored (``"2024-06-01T23:30-05:00"`` is 1 June
        2024), never converted. Timezone-aware record dates are converted to
        UTC first (see :func:`crmkit.data.summarize`).

        Parameters
        ----------
        transactions : DataFrame
            Purchases: customer_id, date, amount (+ product, quantity,
            channel, cost). pandas, polars or DuckDB frames are accepted
            (lazy ones are collected); Spark and Dask frames only with
            ``collect=True``.
        customers, contacts, interactions, feedback, events : DataFrame, optional
            The other record kinds (see ``crmkit.data.RECORD_SCHEMAS``).
        campaigns, touches, prospects : DataFrame, optional
            The other record kinds (see ``crmkit.data.RECORD_SCHEMAS``).
        columns : ColumnMap or mapping, optional
            The user's column names by role (``{"customer_id": "id"}``).
        as_of : date-like, optional
            Analysis date; default the last transaction day.
        time_unit : {"D", "W", "M"}, default="W"
            Unit of recency, T and tenure.
        collect : bool, default=False
            Collect Spark or Dask frames onto this machine (every row, as
            pandas). Without it a distributed frame is refused: assess and
            fit at scale with :func:`crmkit.engines.assess` and
            :func:`crmkit.engines.fit`, which run inside the engine.

        Returns
        -------
        CustomerData

        Raises
        ------
        SchemaError
            Listing every problem found (also ids that cannot join).
        InvalidParameterError
            For arguments of the wrong type, an unknown ``time_unit``, an
            ``as_of`` outside 1677-09-22 .. 2262-04-10 (also a
            :class:`TypeError`), or a Spark/Dask frame without
            ``collect=True``.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"id": [1, None], "date": ["2024-01-01", "2024-01-02"],
        ...                    "amount": [1.0, 2.0]})
        >>> CustomerData.from_frames(transactions=tx, columns={"customer_id": "id"})
        Traceback (most recent call last):
        ...
        crmkit.exceptions.SchemaError: 1 problem in the input:
          - transactions['id']: contains null ids (1 row; rows [1])
        """
        if time_unit not in TIME_UNITS:
            raise InvalidParameterError(
                f"time_unit must be one of {sorted(TIME_UNITS)}; got {time_unit!r}"
            )
        cmap = columns if isinstance(columns, ColumnMap) else ColumnMap(columns or {})
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
        if transactions is None:
            raise InvalidParameterError("transactions are required")
        fails: list[SchemaFailure] = []
        frames: dict[str, pd.DataFrame] = {}
        n_rows: dict[str, int] = {}
        for kind, frame in given.items():
            if frame is None:
                continue
            pdf = to_pandas(frame, kind, collect=bool(collect))
            n_rows[kind] = len(pdf)
            if kind == "transactions" and len(pdf) == 0:  # no rows: missing columns, not types
                found: list[SchemaFailure] = []
                validate_frame(pdf, kind, cmap, found)
                found = [f for f in found if f.check.startswith(("is missing", "appears more"))]
                fails += found or [
                    SchemaFailure(frame=kind, column="<frame>", check="is empty: no transactions")
                ]
                continue
            frames[kind] = validate_frame(pdf, kind, cmap, fails)
        raise_if(fails)
        tx = frames["transactions"]
        if len(tx) == 0:
            raise_if(
                [
                    SchemaFailure(
                        frame="transactions", column="<frame>", check="is empty: no transactions"
                    )
                ]
            )
        duplicates = duplicate_rows_soon(tx)  # counted on a second thread meanwhile
        if "feedback" in frames:
            check_scores(frames["feedback"], fails)
        raise_if(fails)
        unmatched = check_references(frames, cmap, fails)
        raise_if(fails)
        last_tx = _day(tx["date"].max())
        as_of_ts = last_tx if as_of is None else _day(as_of_timestamp(as_of))
        first_tx = tx["date"].min()
        if as_of_ts < _day(first_tx):
            raise_if(
                [
                    SchemaFailure(
                        frame="transactions",
                        column="date",
                        check=f"all transactions are after as_of={as_of_ts.date()} "
                        f"(the first is on {first_tx.date()}): nothing to analyse",
                        n_failing=len(tx),
                    )
                ]
            )
        dropped: list[DroppedRows] = []
        cutoff = as_of_ts + pd.Timedelta(days=1)
        for kind, col in _DATED.items():
            if kind not in frames:
                continue
            f = frames[kind]
            late = (f[col] >= cutoff).to_numpy()
            if late.any():
                dropped.append(
                    DroppedRows(
                        kind,
                        f"dated after as_of={as_of_ts.date()}",
                        int(late.sum()),
                        tuple(f.index[late][:5].tolist()),
                    )
                )
                frames[kind] = f.loc[~late]
        notes: list[str] = []
        n_dup = duplicates(frames["transactions"])
        if n_dup:
            notes.append(
                f"{n_dup} transaction rows repeat another row's customer, timestamp "
                "and amount; they were kept (two identical purchases are possible) "
                "— deduplicate first if they are double-counted"
            )
        # Kept duplicates change no number: a note in the report, not a warning.
        # Rows dropped or not joined change the answer: they also warn.
        if unmatched:
            notes.append(unmatched_message(unmatched))
        report = ValidationReport(n_rows, tuple(dropped), tuple(notes), unmatched)
        for d in dropped:
            warn_user(f"crmkit {d.sentence} (first rows {list(d.rows)})", DataWarning)
        if unmatched:
            warn_user(f"crmkit: {unmatched_message(unmatched)}", DataWarning)
        return cls(frames=frames, as_of=as_of_ts, time_unit=time_unit, report=report)

    @classmethod
    def from_sql(
        cls,
        source: Any,
        transactions: str,
        *,
        columns: ColumnMap | Mapping[str, str] | None = None,
        as_of: Any = None,
        time_unit: str = "W",
        **records: str | None,
    ) -> CustomerData:
        """Read the records from a database, then validate them as :meth:`from_frames` does.

        Each record kind is a table name or one ``SELECT`` query. A table
        name is taken literally (case-sensitive) and quoted, so a name can
        never run SQL; ``"schema.table"`` names a table in a schema. Only
        ``SELECT`` (or ``WITH ... SELECT``) queries are run. SQL
        ``NUMERIC`` values become floats and SQL dates datetimes; every
        other check (columns, types, ids, dates) is that of
        :meth:`from_frames`.

        Parameters
        ----------
        source : str, SQLAlchemy URL, engine or connection, or DB-API/ADBC connection
            The database. URLs ``sqlite:///FILE`` and ``duckdb:///FILE`` are
            opened read-only without SQLAlchemy; other URLs
            (``postgresql://user@host/db`` ...) need SQLAlchemy and a driver
            (``pip install 'crmkit[sql]'``). A DB-API connection (sqlite3,
            psycopg, duckdb) or an ADBC connection is used as given and
            never closed.
        transactions : str
            Table name or SELECT query of the purchases.
        columns : ColumnMap or mapping, optional
            The user's column names by role, as in :meth:`from_frames`.
        as_of : date-like, optional
            Analysis date; default the last transaction day.
        time_unit : {"D", "W", "M"}, default="W"
            Unit of recency, T and tenure.
        **records : str
            The other record kinds by name (``customers="crm.accounts"``,
            ``feedback="SELECT ..."``); see ``crmkit.data.RECORD_KINDS``.

        Returns
        -------
        CustomerData

        Raises
        ------
        SchemaError
            For tables or queries that cannot be read and records that do
            not meet crmkit's contract (every problem listed).
        InvalidParameterError
            For an unknown record kind, a source of an unknown type or a
            statement that is not a query (also a :class:`TypeError`).
        ImportError
            When the source needs an optional dependency that is missing
            (the message names the extra to install).

        Examples
        --------
        >>> import sqlite3
        >>> con = sqlite3.connect(":memory:")
        >>> _ = con.execute("CREATE TABLE orders (cust INTEGER, day TEXT, value REAL)")
        >>> _ = con.executemany("INSERT INTO orders VALUES (?, ?, ?)",
        ...                     [(1, "2024-01-01", 5.0), (1, "2024-02-01", 7.5),
        ...                      (2, "2024-01-15", 3.0)])
        >>> data = CustomerData.from_sql(con, "orders", columns={
        ...     "customer_id": "cust", "date": "day", "amount": "value"})
        >>> data.n_customers, data.as_of.date()
        (2, datetime.date(2024, 2, 1))
        >>> CustomerData.from_sql(con, "SELECT cust AS customer_id, day AS date, value AS amount "
        ...                       "FROM orders WHERE value > 4").n_customers
        1
        """
        from crmkit.data._sql import read_sql

        unknown = sorted(set(records) - set(RECORD_KINDS))
        if unknown or "transactions" in records:
            raise InvalidParameterError(
                f"from_sql: unknown record kind {(unknown or ['transactions'])[0]!r}; kinds: "
                f"{', '.join(RECORD_KINDS)}"
            )
        if time_unit not in TIME_UNITS:
            raise InvalidParameterError(
                f"time_unit must be one of {sorted(TIME_UNITS)}; got {time_unit!r}"
            )
        frames: dict[str, Any] = dict(read_sql(source, {"transactions": transactions, **records}))
        tx = frames.pop("transactions")
        return cls.from_frames(tx, columns=columns, as_of=as_of, time_unit=time_unit, **frames)

    def for_customer(self, customer_id: Any) -> CustomerData:
        """The records of one customer only (same as_of and time unit).

        Parameters
        ----------
        customer_id : int or str
            The customer.

        Returns
        -------
        CustomerData

        Raises
        ------
        CustomerNotFoundError
            When the customer has no transactions (also a :class:`KeyError`).

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": [1, 2], "date": ["2024-01-01"] * 2,
        ...                    "amount": [1.0, 2.0]})
        >>> CustomerData.from_frames(transactions=tx).for_customer(2).n_customers
        1
        """
        rows = {
            kind: (f["customer_id"] == customer_id).to_numpy()
            for kind, f in self.frames.items()
            if "customer_id" in f.columns
        }
        if not rows["transactions"].any():
            raise CustomerNotFoundError(
                f"customer {customer_id!r} has no transactions in this data"
            )
        frames = {kind: f.loc[rows[kind]] if kind in rows else f for kind, f in self.frames.items()}
        return attrs.evolve(self, frames=frames)
