"""Turning the command line's data arguments into validated records."""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import attrs
import pandas as pd

from crmkit._cli._io import InputError, id_columns, parse_pairs, read_mapping, read_table
from crmkit._cli._progress import Progress
from crmkit.data import RECORD_KINDS, TIME_UNITS, ColumnMap, CustomerData
from crmkit.exceptions import DataWarning

__all__ = ["Loaded", "add_data_arguments", "load_records"]

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
        "file", metavar="FILE", help="transactions: a .csv (also .csv.gz, .tsv) or .parquet file"
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
    progress.start(f"reading {args.file}")
    tx = read_table(args.file, id_columns=id_columns("transactions", cmap), sep=args.sep)
    frames: dict[str, pd.DataFrame] = {}
    for kind, path in others.items():
        if kind == "transactions":
            raise InputError("--records: give the transactions as FILE, not as a record kind")
        frames[kind] = read_table(path, id_columns=id_columns(kind, cmap), sep=args.sep)
    progress.start("validating the records")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        data = CustomerData.from_frames(
            transactions=tx, columns=cmap, as_of=as_of, time_unit=time_unit, **frames
        )
    n_later = int(data.report.n_rows.get("transactions", 0)) - len(data.transactions)
    notes, said = _validation_notes(data)
    for w in caught:  # what the validation report holds becomes notes, the rest stays a warning
        if not (issubclass(w.category, DataWarning) and str(w.message).startswith(said)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return Loaded(data, tx, cmap, max(n_later, 0), notes)


def _validation_notes(data: CustomerData) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The validation report as notes, and the warning texts they stand for."""
    report = data.report
    notes: list[str] = []
    said: list[str] = []
    for d in report.dropped:
        said.append(f"crmkit dropped {d.n_rows} {d.kind} rows {d.reason}")
        if not (d.kind == "transactions" and d.reason.startswith("dated after as_of")):
            notes.append(f"{d.n_rows:,} {d.kind} rows left out: {d.reason}")
    for text in report.notes:
        said.append(f"crmkit: {text}")
        notes.append(text)
    return tuple(notes), tuple(said)
