"""Reading CRM records from a database: table names or SELECT queries.

``CustomerData.from_sql`` delegates here. A *source* is

- a URL (text or a SQLAlchemy ``URL``): ``sqlite:///crm.db`` and
  ``duckdb:///crm.duckdb`` are opened read-only with the standard library's
  :mod:`sqlite3` and :mod:`duckdb`; any other URL (``postgresql://...``,
  ``mysql+pymysql://...``) goes through SQLAlchemy (the ``[sql]`` extra);
- a SQLAlchemy ``Engine`` or ``Connection``;
- a DB-API 2 connection (``sqlite3``, ``psycopg``, ``duckdb``'s own
  connection, ...) or an ADBC connection (read as Arrow).

Each record kind is a table name, taken literally and quoted (a name can
never inject SQL; ``"schema.table"`` names a table in a schema), or one
``SELECT`` (or ``WITH ... SELECT``) query. The rows read are then checked
exactly as frames are (:meth:`CustomerData.from_frames`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["is_query", "quote_table", "read_sql", "read_sql_table"]

_QUERY_START = re.compile(r"^\s*(?:\(\s*)*(select|with|values)\b", re.IGNORECASE)
_STATEMENT = re.compile(
    r"^\s*(insert|update|delete|merge|drop|create|alter|truncate|grant|revoke|copy|call|"
    r"exec|execute|attach|detach|pragma|set|begin|commit|rollback|vacuum|replace|load|"
    r"install)\s",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_PANDAS_PREFIX = re.compile(r"^Execution failed on sql .*?: (?=\(|\w)", re.DOTALL)
_SQL_EXTRA = "pip install 'crmkit[sql]'"


def is_query(text: str, kind: str = "transactions") -> bool:
    """Whether ``text`` is a SELECT query (True) or a table name (False).

    Parameters
    ----------
    text : str
        A table name or one ``SELECT``/``WITH``/``VALUES`` statement.
    kind : str, default="transactions"
        Record kind, for messages.

    Returns
    -------
    bool

    Raises
    ------
    InvalidParameterError
        For an empty text, a statement that is not a query (``DELETE ...``)
        or more than one statement.

    Examples
    --------
    >>> is_query("SELECT * FROM orders"), is_query("orders")
    (True, False)
    >>> is_query("DROP TABLE orders")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: transactions: only SELECT queries are read; got ...
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidParameterError(
            f"{kind} must be a table name or a SELECT query (text); got {text!r}"
        )
    bare = _COMMENT.sub(" ", text)
    if _QUERY_START.match(bare):
        body = bare.strip().rstrip(";").rstrip()
        if ";" in body:
            raise InvalidParameterError(
                f"{kind}: give one SELECT statement (no ';' inside the query); got {text!r}"
            )
        return True
    if _STATEMENT.match(bare):
        raise InvalidParameterError(
            f"{kind}: only SELECT queries are read; got {text.strip()[:60]!r}"
        )
    return False


def quote_table(name: str, quote: Callable[[str], str] | None = None) -> str:
    """Quote a table name (``"schema.table"`` allowed) so that it is never read as SQL.

    Parameters
    ----------
    name : str
        The table name, taken literally (case-sensitive).
    quote : callable, optional
        The database's identifier quoting (SQLAlchemy's
        ``dialect.identifier_preparer.quote_identifier``); default SQL's
        double quotes, with inner quotes doubled.

    Returns
    -------
    str

    Raises
    ------
    InvalidParameterError
        For an empty name part or a NUL character.

    Examples
    --------
    >>> quote_table("orders")
    '"orders"'
    >>> quote_table('sales.x"; DROP TABLE y; --')
    '"sales"."x""; DROP TABLE y; --"'
    """
    if "\x00" in name:
        raise InvalidParameterError(f"table name {name!r} contains a NUL character")
    parts = name.split(".", 1) if "." in name else [name]
    if any(not p.strip() for p in parts):
        raise InvalidParameterError(
            f"table name {name!r}: give 'table' or 'schema.table' (no empty part)"
        )
    q = quote if quote is not None else (lambda p: '"' + p.replace('"', '""') + '"')
    return ".".join(q(p) for p in parts)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimal columns as floats and date columns as datetimes (what a driver may return)."""
    out = frame
    for col in frame.columns:
        s = frame[col]
        if s.dtype != object:
            continue
        vals = s.dropna()
        if not len(vals):
            continue
        types = {type(v) for v in vals.to_numpy()}
        new: pd.Series[Any]
        if types <= {decimal.Decimal}:
            new = pd.to_numeric(
                s.map(lambda v: None if v is None else float(v)), errors="coerce"
            ).astype("float64")
        elif types <= {dt.date}:
            new = pd.to_datetime(s)
        else:
            continue
        if out is frame:
            out = frame.copy()
        out[col] = new
    return out


def _arrow_frame(table: Any) -> pd.DataFrame:
    frame: pd.DataFrame = table.to_pandas(date_as_object=False)
    return frame


def _dbapi_read(conn: Any, sql: str) -> pd.DataFrame:
    if (type(conn).__module__ or "").startswith("duckdb"):  # Arrow, without a DB-API cursor
        return _arrow_frame(conn.sql(sql).to_arrow_table())
    frame: pd.DataFrame
    cursor = conn.cursor()
    try:
        cursor.execute(sql)
        fetch_arrow = getattr(cursor, "fetch_arrow_table", None)
        if callable(fetch_arrow):  # ADBC (and drivers that speak Arrow)
            return _arrow_frame(fetch_arrow())
        names = [d[0] for d in (cursor.description or ())]
        rows = cursor.fetchall()
    finally:
        close = getattr(cursor, "close", None)
        if callable(close):
            close()
    if rows:
        frame = pd.DataFrame.from_records(rows, columns=names)
    else:
        frame = pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    return frame


class _Reader:
    """Runs queries on one source; ``close`` releases what it opened."""

    def __init__(self, source: Any) -> None:
        self._opened: list[Any] = []
        self._quote: Callable[[str], str] | None = None
        self._run: Callable[[str], pd.DataFrame]
        module = type(source).__module__ or ""
        if isinstance(source, str) or module.startswith("sqlalchemy.engine.url"):
            self._open_url(
                str(source)
                if isinstance(source, str)
                else source.render_as_string(hide_password=False)
            )
        elif module.startswith("sqlalchemy"):
            self._open_sqlalchemy(source)
        elif callable(getattr(source, "cursor", None)):
            self._run = lambda sql: _dbapi_read(source, sql)
        else:
            raise InvalidParameterError(
                "source must be a database URL, a SQLAlchemy engine or connection, or a "
                f"DB-API/ADBC connection; got {type(source).__name__}"
            )

    def _open_url(self, url: str) -> None:
        scheme, sep, rest = url.partition("://")
        if not sep:
            raise InvalidParameterError(
                f"source {url!r} is not a database URL (e.g. sqlite:///crm.db, "
                "duckdb:///crm.duckdb, postgresql://user@host/db)"
            )
        scheme = scheme.lower()
        if scheme == "sqlite" and rest.startswith("/") and rest not in ("/", "/:memory:"):
            import sqlite3
            from pathlib import Path

            path = Path(rest[1:])
            if not path.is_file():
                raise InvalidParameterError(f"source {url!r}: no such SQLite file {path}")
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            self._opened.append(conn)
            self._run = lambda sql: _dbapi_read(conn, sql)
            return
        if scheme == "duckdb":
            try:
                import duckdb
            except ImportError:
                raise ImportError(
                    f"source {url!r} needs DuckDB: pip install 'crmkit[duckdb]'"
                ) from None
            from pathlib import Path

            path = Path(rest[1:]) if rest.startswith("/") else Path(rest)
            if not path.is_file():
                raise InvalidParameterError(f"source {url!r}: no such DuckDB file {path}")
            dconn = duckdb.connect(str(path), read_only=True)
            self._opened.append(dconn)
            self._run = lambda sql: _dbapi_read(dconn, sql)
            return
        sa = _sqlalchemy(url)
        if scheme in ("postgresql", "postgres"):
            url = "postgresql+psycopg://" + rest if _missing("psycopg2") else url
        try:
            engine = sa.create_engine(url)
        except (ImportError, ValueError, sa.exc.ArgumentError) as exc:
            raise InvalidParameterError(f"source {url!r} cannot be opened: {exc}") from None
        self._opened.append(engine)
        self._open_sqlalchemy(engine)

    def _open_sqlalchemy(self, source: Any) -> None:
        sa = _sqlalchemy("a SQLAlchemy source")
        self._quote = source.dialect.identifier_preparer.quote_identifier
        if isinstance(source, sa.engine.Engine):
            opts = {"postgresql_readonly": True} if source.dialect.name == "postgresql" else {}
            conn = source.connect().execution_options(**opts)
            self._opened.insert(0, conn)
        else:
            conn = source
        self._run = lambda sql: _tidy(pd.read_sql_query(sa.text(sql), conn, coerce_float=True))

    def read(self, what: str, kind: str) -> pd.DataFrame:
        sql = what if is_query(what, kind) else f"SELECT * FROM {quote_table(what, self._quote)}"
        try:
            frame = self._run(sql)
        except (InvalidParameterError, ImportError):
            raise
        except Exception as exc:  # every driver has its own error classes
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            first = _PANDAS_PREFIX.sub("", first)
            what_ = "query" if sql is what else f"table {what!r}"
            raise SchemaError(
                [
                    SchemaFailure(
                        frame=kind, column="<frame>", check=f"the {what_} cannot be read: {first}"
                    )
                ]
            ) from None
        return _tidy(frame)

    def close(self) -> None:
        for obj in self._opened:
            closer = getattr(obj, "close", None) or getattr(obj, "dispose", None)
            if callable(closer):
                closer()
        self._opened.clear()


def _missing(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


def _sqlalchemy(what: str) -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise ImportError(
            f"reading {what} needs SQLAlchemy (and a driver such as psycopg): {_SQL_EXTRA}"
        ) from None
    return sqlalchemy


def read_sql_table(source: Any, what: str, kind: str = "transactions") -> pd.DataFrame:
    """Read one table or SELECT query from a database into a pandas frame.

    Parameters
    ----------
    source : str, SQLAlchemy URL, engine or connection, or DB-API/ADBC connection
        The database (see the module docstring).
    what : str
        A table name (quoted, taken literally) or one SELECT query.
    kind : str, default="transactions"
        Record kind, for messages.

    Returns
    -------
    DataFrame
        The rows, numbers as numbers (SQL ``NUMERIC``/``DECIMAL`` as floats)
        and SQL ``DATE`` values as datetimes.

    Raises
    ------
    InvalidParameterError
        For a source of an unknown type, a statement that is not a query.
    SchemaError
        When the table or query cannot be read (the driver's message).
    ImportError
        When the source needs an extra that is not installed.

    Examples
    --------
    >>> import sqlite3
    >>> con = sqlite3.connect(":memory:")
    >>> _ = con.execute("CREATE TABLE orders (id INTEGER, day TEXT, value REAL)")
    >>> _ = con.execute("INSERT INTO orders VALUES (1, '2024-01-01', 5.0)")
    >>> read_sql_table(con, "orders").to_dict("records")
    [{'id': 1, 'day': '2024-01-01', 'value': 5.0}]
    """
    reader = _Reader(source)
    try:
        return reader.read(what, kind)
    finally:
        reader.close()


def read_sql(source: Any, records: Mapping[str, str | None]) -> dict[str, pd.DataFrame]:
    """Read each record kind (a table name or a query) from one database.

    Parameters
    ----------
    source : str, SQLAlchemy URL, engine or connection, or DB-API/ADBC connection
        The database (see the module docstring).
    records : mapping of str to str or None
        Table name or query by record kind; None entries are skipped.

    Returns
    -------
    dict of str to DataFrame

    Raises
    ------
    InvalidParameterError
        For a bad source, a name that is not text or a statement that is
        not a query.
    SchemaError
        Listing every table or query that cannot be read.
    ImportError
        When the source needs an extra that is not installed.

    Examples
    --------
    >>> import sqlite3
    >>> con = sqlite3.connect(":memory:")
    >>> _ = con.execute("CREATE TABLE t (customer_id INTEGER)")
    >>> read_sql(con, {"customers": "t", "feedback": None})["customers"].shape
    (0, 1)
    """
    reader = _Reader(source)
    frames: dict[str, pd.DataFrame] = {}
    fails: list[SchemaFailure] = []
    try:
        for kind, what in records.items():
            if what is None:
                continue
            try:
                frames[kind] = reader.read(what, kind)
            except SchemaError as exc:
                fails.extend(exc.failures)
    finally:
        reader.close()
    if fails:
        raise SchemaError(fails)
    return frames
