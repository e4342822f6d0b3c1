"""Turning the command line's data arguments into validated records."""

from __future__ import annotations

import argparse
import re
import warnings
from typing import Any

import attrs
import pandas as pd

from crmkit._cli._io import (
    InputError,
    InputProblems,
    id_columns,
    parse_pairs,
    read_mapping,
    read_table,
)
from crmkit._cli._progress import Progress
from crmkit.data import RECORD_KINDS, TIME_UNITS, ColumnMap, CustomerData
from crmkit.exceptions import DataWarning, SchemaError, SchemaFailure

__all__ = ["Loaded", "add_data_arguments", "cli_problem", "load_records", "source_name"]

#: Transaction roles with their own flag: (flag, role).
_ROLE_FLAGS: tuple[tuple[str, str], ...] = (
    ("--customer-id", "customer_id"),
    ("--date", "date"),
    ("--amount", "amount"),
    ("--product", "product"),
    ("--quantity", "quantity"),
    ("--cost", "cost"),
    ("--channel", "channel"),
)


@attrs.frozen(eq=False)
class Loaded:
    """What a data command read.

    Parameters
    ----------
    data : CustomerData
        The validated records up to the analysis date.
    transactions : DataFrame
        The transactions file as read (all rows, the user's columns).
    columns : ColumnMap
        The column mapping used.
    n_later : int
        Transaction rows dated after the analysis date (a holdout).
    notes : tuple of str, default=()
        What validation left out or kept (other than the later
        transactions), for the commands to print as notes.
    """

    data: CustomerData
    transactions: pd.DataFrame
    columns: ColumnMap
    n_later: int
    notes: tuple[str, ...] = ()


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Add FILE, the column-mapping flags, ``--as-of`` and ``--time-unit`` to a subcommand.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_data_arguments(p)
    >>> p.parse_args(["tx.csv", "--amount", "value"]).amount
    'value'
    """
    parser.add_argument(
        "file", metavar="FILE", nargs="?", default=None,
        help="transactions: a .csv (also .csv.gz, .tsv) or .parquet file (or use --db)",
    )
    db = parser.add_argument_group("reading from a database (instead of FILE)")
    db.add_argument(
        "--db", metavar="URL", help="database URL: sqlite:///crm.db, duckdb:///crm.duckdb, "
        "postgresql://user@host/dbname (needs: pip install 'crmkit[sql]')",
    )
    for kind in RECORD_KINDS:
        db.add_argument(
            f"--{kind}-query", metavar="TABLE|SQL", dest=f"{kind}_query",
            help=(f"table name or SELECT query of the {kind}"
                  + (" (default: the table 'transactions')" if kind == "transactions" else "")),
        )
    group = parser.add_argument_group("columns and dates")
    for flag, role in _ROLE_FLAGS:
        group.add_argument(
            flag,
            metavar="COL",
            dest=role,
            help=f"column holding the transaction {role.replace('_', ' ')} (default {role!r})",
        )
    group.add_argument(
        "--column",
        metavar="ROLE=COL",
        action="append",
        default=[],
        help="any other role, e.g. feedback.score=rating (repeatable)",
    )
    group.add_argument(
        "--columns",
        metavar="MAPFILE",
        dest="mapping",
        help="a .toml or .json file mapping roles to columns (may also set as_of and time_unit)",
    )
    group.add_argument(
        "--as-of",
        metavar="DATE",
        dest="as_of",
        help="analysis date (default: the last transaction day); later "
        "transactions are left out (the report tracks them as a holdout)",
    )
    group.add_argument(
        "--time-unit",
        choices=sorted(TIME_UNITS),
        dest="time_unit",
        help="unit of recency, T and horizons: D, W (default) or M",
    )
    group.add_argument(
        "--records",
        metavar="KIND=FILE",
        action="append",
        default=[],
        help=f"other records, e.g. feedback=fb.csv; kinds: "
        f"{', '.join(k for k in RECORD_KINDS if k != 'transactions')}",
    )
    group.add_argument("--sep", metavar="CHAR", help="CSV delimiter (default ',')")


def _column_map(args: argparse.Namespace) -> tuple[ColumnMap, dict[str, Any]]:
    settings: dict[str, Any] = read_mapping(args.mapping) if args.mapping else {"columns": {}}
    mapping: dict[str, str] = dict(settings["columns"])
    for _, role in _ROLE_FLAGS:
        value = getattr(args, role, None)
        if value is not None:
            key = role if role == "customer_id" else f"transactions.{role}"
            mapping[key] = value
    mapping.update(parse_pairs(args.column, "--column"))
    try:
        cmap = ColumnMap(mapping)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None
    return cmap, settings


def load_records(args: argparse.Namespace, progress: Progress) -> Loaded:
    """Read the files named by the arguments and validate them.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of a data subcommand (see :func:`add_data_arguments`).
    progress : Progress
        Shows the reading and validation steps.

    Returns
    -------
    Loaded

    Raises
    ------
    InputError
        For files that cannot be read or bad arguments.
    SchemaError
        For records that do not meet crmkit's contract.
    TypeError
        For a bad ``--as-of``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "tx.csv"
    >>> _ = f.write_text("id,day,value\\n1,2024-01-01,5\\n1,2024-02-01,7\\n")
    >>> p = argparse.ArgumentParser(); add_data_arguments(p)
    >>> args = p.parse_args([str(f), "--customer-id", "id", "--date", "day", "--amount", "value"])
    >>> load_records(args, Progress(enabled=False)).data.n_customers
    1
    """
    from crmkit.data import as_timestamp

    cmap, settings = _column_map(args)
    as_of = args.as_of if args.as_of is not None else settings.get("as_of")
    if as_of is not None:
        as_of = as_timestamp(as_of, "--as-of")
    time_unit = args.time_unit or settings.get("time_unit") or "W"
    if time_unit not in TIME_UNITS:
        raise InputError(
            f"time_unit must be one of {', '.join(sorted(TIME_UNITS))}; got {time_unit!r}"
        )
    others = parse_pairs(args.records, "--records")
    if getattr(args, "db", None) is not None:
        tx, frames = _read_database(args, others, progress)
        sources = {kind: f"--{kind}-query" for kind in RECORD_KINDS}
    else:
        tx, frames = _read_files(args, others, cmap, progress)
        sources = {"transactions": str(args.file), **others}
    progress.start("validating the records")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        try:
            records: dict[str, Any] = dict(frames)  # the other record kinds, by name
            data = CustomerData.from_frames(
                transactions=tx, columns=cmap, as_of=as_of, time_unit=time_unit, **records
            )
        except SchemaError as exc:
            raise InputProblems([cli_problem(f, sources) for f in exc.failures]) from exc
    n_later = int(data.report.n_rows.get("transactions", 0)) - len(data.transactions)
    notes, said = _validation_notes(data)
    if all(_is_csv(source) for kind, source in sources.items() if kind in data.frames):
        notes = tuple(n.replace("; rows [", "; lines [") for n in notes)  # rows are file lines
    for w in caught:  # what the validation report holds becomes notes, the rest stays a warning
        if not (issubclass(w.category, DataWarning) and str(w.message).startswith(said)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return Loaded(data, tx, cmap, max(n_later, 0), notes)


_MAP_HINT = re.compile(r"Map yours with columns=\{'([^']+)': 'your_column'\}")


def _flag_for(kind: str, role: str) -> str:
    if role == "customer_id":
        return "--customer-id COL"
    flags = {r: f for f, r in _ROLE_FLAGS}
    if kind == "transactions" and role in flags:
        return f"{flags[role]} COL"
    return f"--column {kind}.{role}=COL"


def _is_csv(source: str) -> bool:
    """Whether records were read from a CSV file (whose rows are labelled by file line)."""
    return source.lower().endswith((".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz",
                                    ".tsv", ".txt"))


def cli_problem(failure: SchemaFailure, sources: dict[str, str]) -> str:
    """One validation problem in the command line's terms: flags, files and file lines.

    Parameters
    ----------
    failure : SchemaFailure
        The problem, as validation found it.
    sources : dict of str to str
        Where each record kind was read from (a file or a ``--KIND-query``);
        rows of CSV files are labelled with their line numbers.

    Returns
    -------
    str

    Examples
    --------
    >>> f = SchemaFailure(frame="transactions", column="cust",
    ...                   check="is missing; columns present: id. "
    ...                   "Map yours with columns={'customer_id': 'your_column'}")
    >>> cli_problem(f, {"transactions": "tx.csv"})
    "tx.csv, column 'cust': is missing; columns present: id. Name yours with --customer-id COL"
    >>> f = SchemaFailure(frame="transactions", column="date",
    ...                   check="has values that are not dates", n_failing=1, rows=(9,),
    ...                   values=("x",))
    >>> cli_problem(f, {"transactions": "tx.csv"})
    "tx.csv, column 'date': has values that are not dates (1 row: line 9; values ['x'])"
    """
    check = _MAP_HINT.sub(lambda m: f"Name yours with {_flag_for(failure.frame, m.group(1))}",
                          failure.check)
    source = sources.get(failure.frame, failure.frame)
    lines = _is_csv(source)
    where = f"{source}" + (f", column {failure.column!r}" if failure.column != "<frame>" else "")
    where += ": "
    text = where + check
    if failure.n_failing:
        n = failure.n_failing
        detail = f"{n:,} row{'s' if n != 1 else ''}"
        if failure.rows:
            label = ("line" if lines else "row") + ("s" if len(failure.rows) > 1 else "")
            shown = ", ".join(map(str, failure.rows))
            detail += f": {label} {shown}" + (" ..." if n > len(failure.rows) else "")
        if failure.values:
            detail += f"; values {list(failure.values)}"
        text += f" ({detail})"
    return text


def source_name(args: argparse.Namespace) -> str:
    """Where the transactions come from, for the commands' titles (a URL without its password).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of a data subcommand.

    Returns
    -------
    str

    Examples
    --------
    >>> source_name(argparse.Namespace(file=None, db="postgresql://ann:secret@db/crm"))
    'postgresql://ann:***@db/crm'
    >>> source_name(argparse.Namespace(file="tx.csv", db=None))
    'tx.csv'
    """
    db = getattr(args, "db", None)
    if db is None:
        return str(args.file)
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", str(db))


def _read_files(
    args: argparse.Namespace, others: dict[str, str], cmap: ColumnMap, progress: Progress
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    queries = [f"--{k}-query" for k in RECORD_KINDS if getattr(args, f"{k}_query", None)]
    if queries:
        raise InputError(f"{queries[0]} reads from a database: give --db URL")
    if args.file is None:
        raise InputError("give the transactions: a FILE (.csv or .parquet) or --db URL")
    progress.start(f"reading {args.file}")
    tx = read_table(args.file, id_columns=id_columns("transactions", cmap), sep=args.sep)
    frames: dict[str, pd.DataFrame] = {}
    for kind, path in others.items():
        if kind == "transactions":
            raise InputError("--records: give the transactions as FILE, not as a record kind")
        frames[kind] = read_table(path, id_columns=id_columns(kind, cmap), sep=args.sep)
    return tx, frames


def _read_database(
    args: argparse.Namespace, others: dict[str, str], progress: Progress
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    from crmkit.data import read_sql

    if args.file is not None:
        raise InputError(f"give FILE ({args.file}) or --db, not both")
    if others:
        raise InputError("with --db, give the other records as --KIND-query TABLE|SQL, "
                         "not --records")
    wanted = {kind: getattr(args, f"{kind}_query", None) for kind in RECORD_KINDS}
    wanted["transactions"] = wanted["transactions"] or "transactions"
    progress.start(f"reading {source_name(args)}")
    frames = read_sql(args.db, wanted)
    return frames.pop("transactions"), frames


def _validation_notes(data: CustomerData) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The validation report as notes, and the warning texts they stand for."""
    report = data.report
    notes: list[str] = []
    said: list[str] = []
    for d in report.dropped:
        said.append(f"crmkit {d.sentence}")
        if not (d.kind == "transactions" and d.reason.startswith("dated after as_of")):
            notes.append(f"{d.n_rows:,} {d.kind} rows left out: {d.reason}")
    for text in report.notes:
        said.append(f"crmkit: {text}")
        notes.append(text)
    return tuple(notes), tuple(said)
