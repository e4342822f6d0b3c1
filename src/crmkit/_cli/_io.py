"""Reading and writing the command line's files: CSV, Parquet, column-mapping files."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from crmkit.data import RECORD_KINDS, RECORD_SCHEMAS, ColumnMap

__all__ = [
    "InputError",
    "InputProblems",
    "id_columns",
    "parse_pairs",
    "read_mapping",
    "read_table",
    "write_output",
    "write_table",
]

_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".txt", ".tsv")
_PARQUET = (".parquet", ".pq")


class InputError(ValueError):
    """A file or argument of the command line cannot be used (shown as a one-line error).

    Examples
    --------
    >>> str(InputError("data.xlsx: unsupported file type"))
    'data.xlsx: unsupported file type'
    """


class InputProblems(InputError):
    """Several problems in the input, each one line in the command line's terms.

    Parameters
    ----------
    problems : sequence of str
        One line per problem.

    Attributes
    ----------
    problems : tuple of str
        The lines.

    Examples
    --------
    >>> print(InputProblems(["tx.csv: a", "tx.csv: b"]))
    2 problems in the input:
      - tx.csv: a
      - tx.csv: b
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        n = len(self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the input:\n"
                         + "\n".join(f"  - {p}" for p in self.problems))


def _kind_of(path: Path, what: str) -> str:
    name = path.name.lower()
    if name.endswith(_PARQUET):
        return "parquet"
    if name.endswith(_CSV):
        return "csv"
    raise InputError(
        f"{path}: unsupported {what} file type {path.suffix or '(none)'!r}; use "
        ".csv (or .csv.gz, .tsv, .txt) or .parquet"
    )


def read_table(
    path: str | Path, *, id_columns: Sequence[str] = (), sep: str | None = None
) -> pd.DataFrame:
    """Read a CSV or Parquet file into a data frame.

    Parameters
    ----------
    path : str or Path
        The file: ``.csv`` (also compressed, ``.tsv``, ``.txt``) or
        ``.parquet``/``.pq``.
    id_columns : sequence of str, default=()
        CSV columns read as text, so that ids keep leading zeros.
    sep : str, optional
        CSV delimiter (default ``","``; tab for ``.tsv``).

    Returns
    -------
    DataFrame
        From a CSV file, indexed by line number (the header is line 1, the
        first row line 2), so that messages name file lines.

    Raises
    ------
    InputError
        For a missing, empty, header-only, unreadable or unsupported file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "tx.csv"
    >>> _ = f.write_text("customer_id,date,amount\\n007,2024-01-01,5\\n")
    >>> read_table(f, id_columns=["customer_id"])["customer_id"].tolist()
    ['007']
    """
    p = Path(path)
    kind = _kind_of(p, "input")
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a file")
    try:
        if kind == "parquet":
            try:
                frame: pd.DataFrame = pd.read_parquet(p)
            except ImportError as exc:
                raise InputError(
                    f"{p}: reading Parquet needs pyarrow (pip install pyarrow)"
                ) from exc
        else:
            delimiter = (
                sep if sep is not None else ("\t" if p.name.lower().endswith(".tsv") else ",")
            )
            frame = pd.read_csv(p, sep=delimiter, dtype=dict.fromkeys(id_columns, str))
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{p}: the file is empty") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: not a text CSV file (cannot decode it as UTF-8)") from None
    except (ValueError, OSError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: cannot be read as {kind.upper()}: {first}") from None
    except Exception as exc:  # pyarrow's own errors do not all derive from ValueError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: cannot be read as {kind.upper()}: {first}") from None
    if frame.shape[1] == 0:
        raise InputError(f"{p}: no columns found")
    if len(frame) == 0:
        raise InputError(f"{p}: no rows (only a header line: {', '.join(map(str, frame.columns))})")
    if kind == "csv":  # row labels are file line numbers (the header is line 1)
        frame.index = pd.RangeIndex(2, len(frame) + 2)
    return frame


def write_table(frame: pd.DataFrame, path: str | Path, *, safe: bool = True) -> Path:
    """Write a frame (index as the first column) as CSV or Parquet, by the file's extension.

    The file is written atomically (a temporary file in the same folder
    replaces it once complete) and, as CSV, spreadsheet-safe: text cells
    that a spreadsheet would run as a formula (starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return) get a leading single quote
    unless ``safe=False`` (the ``--raw`` flag); see
    :func:`crmkit.spreadsheet_safe`.

    Parameters
    ----------
    frame : DataFrame
        The rows; the index is written as a column.
    path : str or Path
        ``.csv`` or ``.parquet``/``.pq``.
    safe : bool, default=True
        Neutralise formula-like text in CSV output.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        For an unsupported extension or a missing directory.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
    >>> df = pd.DataFrame({"x": [1]}, index=pd.Index(["a"], name="customer_id"))
    >>> write_table(df, f).read_text().splitlines()
    ['customer_id,x', 'a,1']
    >>> df = pd.DataFrame({"x": [1]}, index=pd.Index(["=1+2"], name="customer_id"))
    >>> write_table(df, f).read_text().splitlines()[1]
    "'=1+2,1"
    """
    return write_output(frame, path, safe=safe)[0]


def write_output(frame: pd.DataFrame, path: str | Path, *, safe: bool = True) -> tuple[Path, int]:
    """:func:`write_table`, also returning how many cells were neutralised.

    Parameters
    ----------
    frame : DataFrame
        The rows; the index is written as a column.
    path : str or Path
        ``.csv`` or ``.parquet``/``.pq``.
    safe : bool, default=True
        Neutralise formula-like text in CSV output.

    Returns
    -------
    path : Path
    n_quoted : int
        Text cells given a leading quote (0 with ``safe=False`` or Parquet).

    Raises
    ------
    InputError
        For an unsupported extension or a missing directory.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
    >>> df = pd.DataFrame({"x": ["@SUM(A1)"]}, index=pd.Index(["+cmd"], name="customer_id"))
    >>> write_output(df, f)[1]
    2
    """
    from crmkit._export import write_table as write_safely

    p = Path(path)
    _kind_of(p, "output")
    if not p.parent.exists():
        raise InputError(f"{p}: the directory {p.parent} does not exist")
    try:
        n_quoted = write_safely(frame.reset_index(), p, safe=safe, index=False)
    except ImportError as exc:
        raise InputError(f"{p}: writing Parquet needs pyarrow (pip install pyarrow)") from exc
    return p, n_quoted


def _toml_loads(text: str, path: Path) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    try:  # pragma: no cover - Python 3.10
        import tomli  # type: ignore[import-not-found]
    except ModuleNotFoundError:  # pragma: no cover
        raise InputError(
            f"{path}: TOML needs Python 3.11+ or the tomli package; or write the mapping as JSON"
        ) from None
    return tomli.loads(text)  # pragma: no cover


def read_mapping(path: str | Path) -> dict[str, Any]:
    """Read a column-mapping file (TOML or JSON).

    The file maps roles to the file's column names, either flat or under a
    ``columns`` table, and may set ``as_of`` and ``time_unit``::

        as_of = "1997-09-30"
        time_unit = "W"
        [columns]
        customer_id = "cust"
        date = "order_date"
        amount = "value"

    Parameters
    ----------
    path : str or Path
        A ``.toml`` or ``.json`` file.

    Returns
    -------
    dict
        ``{"columns": {role: column}, "as_of": ..., "time_unit": ...}`` (the
        last two only when given).

    Raises
    ------
    InputError
        For a missing or malformed file, or values that are not text.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "map.json"
    >>> _ = f.write_text('{"customer_id": "cust", "time_unit": "D"}')
    >>> read_mapping(f)
    {'columns': {'customer_id': 'cust'}, 'time_unit': 'D'}
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such mapping file")
    suffix = p.suffix.lower()
    try:
        text = p.read_text(encoding="utf-8")
        if suffix == ".json":
            raw = json.loads(text)
        elif suffix == ".toml":
            raw = _toml_loads(text, p)
        else:
            raise InputError(f"{p}: unsupported mapping file type {p.suffix!r}; use .toml or .json")
    except InputError:
        raise
    except (ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(f"{p}: cannot be read: {first}") from None
    if not isinstance(raw, Mapping):
        raise InputError(f"{p}: must hold a table of role = column pairs")
    settings = {k: raw[k] for k in ("as_of", "time_unit") if k in raw}
    columns = raw.get("columns", {k: v for k, v in raw.items() if k not in settings})
    if not isinstance(columns, Mapping):
        raise InputError(f"{p}: 'columns' must be a table of role = column pairs")
    bad = [k for k, v in columns.items() if not isinstance(v, str)]
    if bad:
        raise InputError(f"{p}: the column for {bad[0]!r} must be text; got {columns[bad[0]]!r}")
    return {"columns": dict(columns), **settings}


def parse_pairs(items: Sequence[str], option: str) -> dict[str, str]:
    """Parse ``KEY=VALUE`` arguments of a repeatable option.

    Parameters
    ----------
    items : sequence of str
        The arguments.
    option : str
        The option, for messages.

    Returns
    -------
    dict of str to str

    Raises
    ------
    InputError
        For an item without ``=`` or with an empty side.

    Examples
    --------
    >>> parse_pairs(["feedback=fb.csv"], "--records")
    {'feedback': 'fb.csv'}
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"{option} expects KEY=VALUE; got {item!r}")
        out[key.strip()] = value.strip()
    return out


def id_columns(kind: str, cmap: ColumnMap) -> list[str]:
    """The user's names of the id columns of a record kind (read as text from CSV).

    Parameters
    ----------
    kind : str
        Record kind.
    cmap : ColumnMap
        The column mapping.

    Returns
    -------
    list of str

    Raises
    ------
    InputError
        For an unknown kind.

    Examples
    --------
    >>> id_columns("contacts", ColumnMap({"customer_id": "cust"}))
    ['cust', 'contact_id']
    """
    if kind not in RECORD_SCHEMAS:
        raise InputError(f"unknown record kind {kind!r}; kinds: {', '.join(RECORD_KINDS)}")
    return [
        cmap.column_for(kind, role)
        for role, spec in RECORD_SCHEMAS[kind].items()
        if spec.kind == "id"
    ]
