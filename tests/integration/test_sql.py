"""``CustomerData.from_sql``: the same customer view from PostgreSQL, SQLite and DuckDB as from CSV.

The PostgreSQL tests need a running server: ``.ci/postgres.sh`` starts one on
a unix socket and exports ``CRMKIT_TEST_POSTGRES_URL``; without it they skip.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import crmkit
from crmkit.data import CustomerData, summarize
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError

PG_URL = os.environ.get("CRMKIT_TEST_POSTGRES_URL")
needs_pg = pytest.mark.skipif(
    not PG_URL, reason="no PostgreSQL server: run under .ci/postgres.sh (sets "
    "CRMKIT_TEST_POSTGRES_URL)"
)


# ------------------------------------------------------------------ records
def _cdnow() -> dict[str, pd.DataFrame]:
    return {"transactions": crmkit.datasets.load_cdnow()}


def _crm() -> dict[str, pd.DataFrame]:
    crm = crmkit.datasets.make_crm(n_customers=150, seed=3)
    frames = crm.data.frames
    return {"transactions": frames["transactions"].reset_index(drop=True),
            "customers": frames["customers"].reset_index(drop=True),
            "feedback": frames["feedback"].reset_index(drop=True)}


RECORDS = {"cdnow": _cdnow, "crm": _crm}


def _write_csvs(records: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    paths = {}
    for kind, frame in records.items():
        paths[kind] = folder / f"{kind}.csv"
        frame.to_csv(paths[kind], index=False)
    return paths


def _read_csvs(paths: dict[str, Path], records: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Read the CSVs back as a user would: text ids stay text (leading zeros)."""
    out = {}
    for kind, path in paths.items():
        text_ids = not pd.api.types.is_integer_dtype(records[kind]["customer_id"])
        out[kind] = pd.read_csv(path, dtype={"customer_id": str} if text_ids else None)
    return out


def _sql_type(s: pd.Series, dialect: str) -> str:
    if s.dtype == bool:
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(s):
        return "BIGINT"
    if pd.api.types.is_float_dtype(s):
        return "REAL" if dialect == "sqlite" else "NUMERIC"  # NUMERIC: drivers return Decimal
    if pd.api.types.is_datetime64_any_dtype(s):
        return "TEXT" if dialect == "sqlite" else "TIMESTAMP"
    return "TEXT"


def _ddl(name: str, frame: pd.DataFrame, dialect: str) -> str:
    cols = ", ".join(f'"{c}" {_sql_type(frame[c], dialect)}' for c in frame.columns)
    return f'CREATE TABLE "{name}" ({cols})'


def _view(data: CustomerData) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return summarize(data)


def _from_csv(paths: dict[str, Path], records: dict[str, pd.DataFrame]) -> CustomerData:
    frames = _read_csvs(paths, records)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return CustomerData.from_frames(frames.pop("transactions"), **frames)


def _from_sql(source: object, tables: dict[str, str]) -> CustomerData:
    rest = dict(tables)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return CustomerData.from_sql(source, rest.pop("transactions"), **rest)


def _same(a: CustomerData, b: CustomerData) -> None:
    assert a.as_of == b.as_of
    assert {k: len(v) for k, v in a.frames.items()} == {k: len(v) for k, v in b.frames.items()}
    pd.testing.assert_frame_equal(_view(a), _view(b), check_dtype=False, check_exact=False,
                                  rtol=1e-12, check_index_type=False)


# ------------------------------------------------------------------- SQLite
def _sqlite_file(records: dict[str, pd.DataFrame], paths: dict[str, Path], db: Path) -> None:
    frames = _read_csvs(paths, records)
    con = sqlite3.connect(db)
    try:
        for kind, frame in frames.items():
            con.execute(_ddl(kind, records[kind], "sqlite"))
            marks = ", ".join("?" * frame.shape[1])
            rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False)
            con.executemany(f'INSERT INTO "{kind}" VALUES ({marks})', list(rows))
        con.commit()
    finally:
        con.close()


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_sqlite_file_gives_the_csv_view(name: str, tmp_path: Path) -> None:
    records = RECORDS[name]()
    paths = _write_csvs(records, tmp_path)
    db = tmp_path / "crm.db"
    _sqlite_file(records, paths, db)
    want = _from_csv(paths, records)
    tables = {k: k for k in records}
    _same(_from_sql(f"sqlite:///{db}", tables), want)
    con = sqlite3.connect(db)
    _same(_from_sql(con, tables), want)
    con.execute("SELECT 1")  # the caller's connection stays open
    con.close()


def test_sqlite_through_sqlalchemy_and_adbc(tmp_path: Path) -> None:
    records = _cdnow()
    paths = _write_csvs(records, tmp_path)
    db = tmp_path / "crm.db"
    _sqlite_file(records, paths, db)
    want = _from_csv(paths, records)
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine(f"sqlite:///{db}")
    _same(_from_sql(engine, {"transactions": "transactions"}), want)
    with engine.connect() as conn:
        _same(_from_sql(conn, {"transactions": "SELECT * FROM transactions"}), want)
    engine.dispose()
    adbc = pytest.importorskip("adbc_driver_sqlite.dbapi")
    with adbc.connect(str(db)) as conn:
        _same(_from_sql(conn, {"transactions": "transactions"}), want)


# ------------------------------------------------------------------- DuckDB
@pytest.mark.parametrize("name", sorted(RECORDS))
def test_duckdb_file_gives_the_csv_view(name: str, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    records = RECORDS[name]()
    paths = _write_csvs(records, tmp_path)
    db = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(db))
    for kind, path in paths.items():
        con.execute(_ddl(kind, records[kind], "duckdb"))
        con.execute(f"COPY \"{kind}\" FROM '{path}' (HEADER)")
    con.close()
    want = _from_csv(paths, records)
    tables = {k: k for k in records}
    _same(_from_sql(f"duckdb:///{db}", tables), want)
    con = duckdb.connect(str(db), read_only=True)
    _same(_from_sql(con, tables), want)
    con.close()


# --------------------------------------------------------------- PostgreSQL
@pytest.fixture
def pg_schema() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    schema = f"crmkit_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    yield schema
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _postgres_tables(records: dict[str, pd.DataFrame], paths: dict[str, Path],
                     schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as con:
        for kind, path in paths.items():
            con.execute(_ddl(kind, records[kind], "postgresql").replace(
                f'TABLE "{kind}"', f'TABLE "{schema}"."{kind}"'))
            with con.cursor().copy(
                f'COPY "{schema}"."{kind}" FROM STDIN WITH (FORMAT csv, HEADER true)'
            ) as copy:
                copy.write(path.read_bytes())


@needs_pg
@pytest.mark.parametrize("name", sorted(RECORDS))
def test_postgres_gives_the_csv_view(name: str, tmp_path: Path, pg_schema: str) -> None:
    records = RECORDS[name]()
    paths = _write_csvs(records, tmp_path)
    _postgres_tables(records, paths, pg_schema)
    want = _from_csv(paths, records)
    tables = {k: f"{pg_schema}.{k}" for k in records}
    _same(_from_sql(PG_URL, tables), want)  # a URL: SQLAlchemy + psycopg
    import psycopg

    with psycopg.connect(PG_URL) as con:  # a DB-API connection
        _same(_from_sql(con, tables), want)
        queries = {k: f'SELECT * FROM "{pg_schema}"."{k}"' for k in records}
        _same(_from_sql(con, queries), want)


@needs_pg
def test_postgres_reads_in_a_read_only_transaction(pg_schema: str) -> None:
    query = f'WITH x AS (SELECT 1) SELECT * FROM x; CREATE TABLE "{pg_schema}".t (a int)'
    with pytest.raises(InvalidParameterError, match="one SELECT statement"):
        CustomerData.from_sql(PG_URL, query)
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f'CREATE TABLE "{pg_schema}".kept (a int)')
        con.execute(f'INSERT INTO "{pg_schema}".kept VALUES (1)')
    with pytest.raises(SchemaError, match="read-only transaction"):
        CustomerData.from_sql(
            PG_URL, f'WITH d AS (DELETE FROM "{pg_schema}".kept RETURNING 1) SELECT * FROM d'
        )
    with psycopg.connect(PG_URL) as con:
        assert con.execute(f'SELECT count(*) FROM "{pg_schema}".kept').fetchone() == (1,)


# ------------------------------------------------------------ names, errors
def _orders(db: Path) -> None:
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE orders (cust INTEGER, day TEXT, value REAL)")
    con.executemany("INSERT INTO orders VALUES (?, ?, ?)",
                    [(1, "2024-01-01", 5.0), (1, "2024-02-01", 7.5), (2, "2024-01-15", 3.0)])
    con.execute('CREATE TABLE "odd ""name""" (customer_id INTEGER, date TEXT, amount REAL)')
    con.execute("INSERT INTO \"odd \"\"name\"\"\" VALUES (1, '2024-01-01', 1.0)")
    con.commit()
    con.close()


def test_table_names_are_quoted_never_run(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    _orders(db)
    con = sqlite3.connect(db)
    assert CustomerData.from_sql(con, 'odd "name"').n_customers == 1
    with pytest.raises(SchemaError, match=r"transactions\['<frame>'\]: the table .* cannot be "
                       r"read: no such table"):
        CustomerData.from_sql(con, "orders; DROP TABLE orders")
    with pytest.raises(InvalidParameterError, match="only SELECT queries"):
        CustomerData.from_sql(con, "DROP TABLE orders")
    assert con.execute("SELECT count(*) FROM orders").fetchone() == (3,)
    con.close()


def test_problems_are_those_of_frames_and_all_listed(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    _orders(db)
    with pytest.raises(SchemaError) as err:
        CustomerData.from_sql(f"sqlite:///{db}", "orders", customers="no_such_table")
    assert "customers['<frame>']: the table 'no_such_table' cannot be read" in str(err.value)
    with pytest.raises(SchemaError, match=r"transactions\['customer_id'\]: is missing"):
        CustomerData.from_sql(f"sqlite:///{db}", "orders")
    with pytest.warns(DataWarning, match="dropped 1 transaction row dated after"):
        data = CustomerData.from_sql(
            f"sqlite:///{db}", "orders", as_of="2024-01-31", time_unit="D",
            columns={"customer_id": "cust", "date": "day", "amount": "value"})
    assert data.n_customers == 2 and data.time_unit == "D"
    assert data.report.n_dropped == 1


def test_bad_sources_and_kinds(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="source must be a database URL"):
        CustomerData.from_sql(42, "orders")
    with pytest.raises(InvalidParameterError, match="no such SQLite file"):
        CustomerData.from_sql(f"sqlite:///{tmp_path / 'missing.db'}", "orders")
    with pytest.raises(InvalidParameterError, match="unknown record kind 'orders'"):
        CustomerData.from_sql(sqlite3.connect(":memory:"), "t", orders="x")


def test_missing_sqlalchemy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(ImportError, match=r"crmkit\[sql\]"):
        CustomerData.from_sql("postgresql://nobody@/nowhere", "orders")


# ---------------------------------------------------------------------- CLI
def _cli_view(args: list[str], out: Path) -> pd.DataFrame:
    from crmkit.cli import main

    assert main(["summarize", *args, "--out", str(out)]) == 0
    view = pd.read_csv(out, dtype={"customer_id": str})
    return view.sort_values("customer_id").reset_index(drop=True)  # text ids from CSV files


def test_cli_db_gives_the_csv_view(tmp_path: Path) -> None:
    records = _cdnow()
    paths = _write_csvs(records, tmp_path)
    db = tmp_path / "crm.db"
    _sqlite_file(records, paths, db)
    want = _cli_view([str(paths["transactions"])], tmp_path / "a.csv")
    got = _cli_view(["--db", f"sqlite:///{db}"], tmp_path / "b.csv")
    pd.testing.assert_frame_equal(got, want)
    query = "SELECT customer_id AS cust, date, amount FROM transactions"
    got = _cli_view(["--db", f"sqlite:///{db}", "--transactions-query", query,
                     "--customer-id", "cust"], tmp_path / "c.csv")
    pd.testing.assert_frame_equal(got, want)


@needs_pg
def test_cli_db_postgres(
    tmp_path: Path, pg_schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    records = _crm()
    paths = _write_csvs(records, tmp_path)
    _postgres_tables(records, paths, pg_schema)
    want = _cli_view([str(paths["transactions"]), "--records",
                      f"customers={paths['customers']}"], tmp_path / "a.csv")
    got = _cli_view(["--db", str(PG_URL), "--transactions-query", f"{pg_schema}.transactions",
                     "--customers-query", f"{pg_schema}.customers"], tmp_path / "b.csv")
    pd.testing.assert_frame_equal(got, want)
    assert f"crmkit summarize: {PG_URL}" in capsys.readouterr().out
