"""Writing tables safely: spreadsheet-safe text, atomic replacement of the target file.

A CSV file is often opened in a spreadsheet, which runs a cell starting with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a
formula: ``=HYPERLINK("http://...")`` as a customer id becomes a live link,
``+cmd|' /C calc'!A0`` a command (CSV or formula injection). Following the
OWASP guidance, :func:`spreadsheet_safe` prefixes such text cells with a
single quote, which spreadsheets show as text and do not run. Numbers (and
text that is just a number, such as ``"-5"``), dates and booleans are left
untouched, and so are the index (customer ids) and column names unless they
are text of that kind.

:func:`write_table` writes CSV or Parquet through a temporary file in the
target's folder that replaces the target only once it is complete
(:func:`atomic_write`): an error never leaves a half-written or clobbered
file behind.

References
----------
OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmkit.exceptions import InvalidParameterError

__all__ = ["FORMULA_TRIGGERS", "atomic_write", "spreadsheet_safe", "table_format", "write_table"]

#: First characters that make a spreadsheet read a text cell as a formula (OWASP),
#: with their full-width forms, which some spreadsheets read the same way.
FORMULA_TRIGGERS: frozenset[str] = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

_FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".txt", ".tsv"),
    "parquet": (".parquet", ".pq"),
}


def _is_formula(value: Any) -> bool:
    return (isinstance(value, str) and value[:1] in FORMULA_TRIGGERS
            and _NUMBER.fullmatch(value) is None)


def _safe_values(values: Any) -> tuple[Any, int]:
    """``values`` (Series or Index) with formula-like text quoted, and how many were."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        _, n_cats = _safe_values(cats)
        if not n_cats:
            return values, 0
        if isinstance(values, pd.Index):
            plain = pd.Index(values.astype(object))
        else:
            plain = values.astype(object)
        return _safe_values(plain)
    if not (dtype.kind == "O" or isinstance(dtype, pd.StringDtype)):
        return values, 0
    arr = np.asarray(values, dtype=object)
    hit = np.fromiter((_is_formula(v) for v in arr), dtype=bool, count=len(arr))
    n = int(hit.sum())
    if not n:
        return values, 0
    new = arr.copy()
    new[hit] = ["'" + v for v in arr[hit]]
    if isinstance(values, pd.Index):
        return pd.Index(new, name=values.name, dtype=dtype), n
    return pd.Series(new, index=values.index, name=values.name, dtype=dtype), n


def _holds_cr(frame: pd.DataFrame) -> bool:
    """Whether any text cell, index label or column name contains a carriage return."""
    parts: list[Any] = [frame.columns.to_series(), *(frame.index.get_level_values(i)
                        for i in range(frame.index.nlevels))]
    parts += [frame.iloc[:, i] for i in range(frame.shape[1])]
    for part in parts:
        if isinstance(part.dtype, pd.CategoricalDtype):
            part = pd.Series(part.dtype.categories)
        if part.dtype == object or isinstance(part.dtype, pd.StringDtype):
            if any(isinstance(v, str) and "\r" in v for v in part):
                return True
    return False


def spreadsheet_safe(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return (or a full-width ``=+-@``) gets a leading single quote, in the
    cells, the index (customer ids) and the column names. Numbers, text that
    is only a number (``"-5"``, ``"+1.5e3"``), dates and booleans are left as
    they are. The input is not modified.

    Parameters
    ----------
    frame : DataFrame
        The table to write.

    Returns
    -------
    safe : DataFrame
        The neutralised copy (``frame`` itself when nothing needed quoting).
    n_cells : int
        How many cells, index labels and column names were quoted.

    Raises
    ------
    InvalidParameterError
        When ``frame`` is not a pandas DataFrame (also a :class:`TypeError`).

    References
    ----------
    OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"note": ["=1+1", "ok", "-5"], "x": [-1, 2, 3]},
    ...                   index=pd.Index(["@SUM(A1)", "b", "c"], name="customer_id"))
    >>> safe, n = spreadsheet_safe(df)
    >>> n, safe.index.tolist(), safe["note"].tolist(), safe["x"].tolist()
    (2, ["'@SUM(A1)", 'b', 'c'], ["'=1+1", 'ok', '-5'], [-1, 2, 3])
    """
    if not isinstance(frame, pd.DataFrame):
        raise InvalidParameterError(
            f"spreadsheet_safe expects a pandas DataFrame; got {type(frame).__name__}"
        )
    total = 0
    cols: dict[int, pd.Series] = {}
    for i in range(frame.shape[1]):
        safe, n = _safe_values(frame.iloc[:, i])
        if n:
            cols[i] = safe
            total += n
    if isinstance(frame.index, pd.MultiIndex):
        levels = []
        for level in range(frame.index.nlevels):
            safe_level, n = _safe_values(frame.index.get_level_values(level))
            levels.append(safe_level)
            total += n
        index: pd.Index = pd.MultiIndex.from_arrays(levels, names=frame.index.names)
    else:
        index, n = _safe_values(frame.index)
        total += n
    names = [("'" + c) if _is_formula(c) else c for c in frame.columns]
    total += sum(1 for c in frame.columns if _is_formula(c))
    if not total:
        return frame, 0
    out = frame.copy()
    for i, safe in cols.items():
        out.isetitem(i, safe.to_numpy() if not isinstance(safe.dtype, pd.StringDtype) else safe)
    if not isinstance(frame.columns, pd.MultiIndex):
        out.columns = pd.Index(names, name=frame.columns.name)
    out.index = index
    return out, total


def table_format(path: str | os.PathLike[str]) -> str:
    """The format a table file's name asks for: ``"csv"`` or ``"parquet"``.

    Parameters
    ----------
    path : str or path-like
        ``.csv`` (also ``.csv.gz`` ..., ``.tsv``, ``.txt``) or ``.parquet``/``.pq``.

    Returns
    -------
    str

    Raises
    ------
    InvalidParameterError
        For any other extension.

    Examples
    --------
    >>> table_format("view.csv.gz"), table_format("view.PQ")
    ('csv', 'parquet')
    """
    name = Path(path).name.lower()
    for kind, endings in _FORMATS.items():
        if name.endswith(endings):
            return kind
    raise InvalidParameterError(
        f"{path}: a table is written as .csv (also .csv.gz, .tsv, .txt) or .parquet; "
        f"got {Path(path).suffix or 'no extension'!r}"
    )


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Write through a temporary file that replaces ``path`` only when complete.

    The temporary file lives in the target's folder (so that the final
    :func:`os.replace` is atomic) and keeps the target's extension; on any
    error it is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or path-like
        The target file; its folder must exist.

    Yields
    ------
    Path
        The temporary file to write.

    Raises
    ------
    InvalidParameterError
        When the folder does not exist (also a :class:`ValueError`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> _ = target.write_text("old")
    >>> try:
    ...     with atomic_write(target) as tmp:
    ...         _ = tmp.write_text("half")
    ...         raise RuntimeError("disk full")
    ... except RuntimeError:
    ...     pass
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('old', ['out.txt'])
    >>> with atomic_write(target) as tmp:
    ...     _ = tmp.write_text("new")
    >>> target.read_text()
    'new'
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise InvalidParameterError(f"{target}: the directory {folder} does not exist")
    name = target.name
    packed = name.lower().endswith((".gz", ".bz2", ".zip", ".xz"))
    suffix = "".join(target.suffixes[-2:]) if packed else target.suffix
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=f".tmp{suffix}", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if target.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, target.stat().st_mode & 0o7777)
        else:
            with contextlib.suppress(OSError):
                mask = os.umask(0)
                os.umask(mask)
                os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_table(
    frame: pd.DataFrame, path: str | os.PathLike[str], *, safe: bool = True, index: bool = True
) -> int:
    r"""Write a table as CSV or Parquet (by the extension), atomically and spreadsheet-safe.

    CSV text cells that a spreadsheet would run as formulas are quoted
    first (see :func:`spreadsheet_safe`); ``safe=False`` writes them as
    they are. Parquet files, which spreadsheets do not open, are written
    unchanged. The file is replaced only once completely written. Lines end
    in ``\n``, or in ``\r\n`` when a text cell holds a carriage return (so
    that the cell is quoted and stays in its row).

    Parameters
    ----------
    frame : DataFrame
        The table; the index is written as the first column(s).
    path : str or path-like
        ``.csv`` (also ``.csv.gz`` ..., ``.tsv``: tab-separated, ``.txt``)
        or ``.parquet``/``.pq``; the folder must exist.
    safe : bool, default=True
        Quote formula-like text in CSV output.
    index : bool, default=True
        Write the index.

    Returns
    -------
    int
        How many cells were quoted (0 for Parquet or ``safe=False``).

    Raises
    ------
    InvalidParameterError
        For an unsupported extension or a non-DataFrame (also a
        :class:`TypeError`), or when the folder does not exist.
    ImportError
        For Parquet without pyarrow.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "view.csv"
    >>> df = pd.DataFrame({"x": [1.5]}, index=pd.Index(["=HYPERLINK(1)"], name="customer_id"))
    >>> write_table(df, f)
    1
    >>> f.read_text().splitlines()
    ['customer_id,x', "'=HYPERLINK(1),1.5"]
    >>> write_table(df, f, safe=False)
    0
    >>> f.read_text().splitlines()[1]
    '=HYPERLINK(1),1.5'
    """
    if not isinstance(frame, pd.DataFrame):
        raise InvalidParameterError(
            f"write_table expects a pandas DataFrame; got {type(frame).__name__}"
        )
    kind = table_format(path)
    n_safe = 0
    with atomic_write(path) as tmp:
        if kind == "parquet":
            frame.to_parquet(tmp, index=index)
        else:
            out = frame
            if safe:
                out, n_safe = spreadsheet_safe(frame)
            sep = "\t" if Path(path).name.lower().endswith(".tsv") else ","
            # Python's csv quotes only cells holding the line terminator: a lone CR in a
            # cell would split its row in most readers unless lines end in CR LF
            ends = "\r\n" if _holds_cr(out if index else out.reset_index(drop=True)) else "\n"
            out.to_csv(tmp, index=index, sep=sep, lineterminator=ends)
    return n_safe
