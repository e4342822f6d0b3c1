"""Checking the command line's output paths before any work: never an input, the right type."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from crmkit._cli._io import InputError, parse_pairs

__all__ = ["OUTPUT_TYPES", "check_outputs", "input_paths"]

#: The file types each kind of output may be written as.
OUTPUT_TYPES: Mapping[str, tuple[str, ...]] = {
    "table": (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".tsv", ".txt", ".parquet",
              ".pq"),
    "json": (".json",),
    "html": (".html", ".htm"),
}

_DESCRIBE = {
    "table": "a table: .csv (also .csv.gz, .tsv, .txt) or .parquet",
    "json": "JSON: .json",
    "html": "an HTML page: .html",
}


def input_paths(args: argparse.Namespace) -> dict[str, str]:
    """The files a data command reads, by the option that names them.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of a data subcommand.

    Returns
    -------
    dict of str to str
        ``{"FILE": ..., "--records feedback": ..., "--columns": ..., "--playbook": ...}``
        (only those given; ``--playbook`` only when it names a file).

    Raises
    ------
    InputError
        For a malformed ``--records`` item.

    Examples
    --------
    >>> ns = argparse.Namespace(file="tx.csv", records=["feedback=fb.csv"], mapping=None)
    >>> input_paths(ns)
    {'FILE': 'tx.csv', '--records feedback': 'fb.csv'}
    """
    out: dict[str, str] = {"FILE": args.file} if getattr(args, "file", None) else {}
    for kind, path in parse_pairs(getattr(args, "records", []) or [], "--records").items():
        out[f"--records {kind}"] = path
    if getattr(args, "mapping", None):
        out["--columns"] = args.mapping
    playbook = getattr(args, "playbook", None)
    if playbook and (playbook.lower().endswith(".json") or Path(playbook).is_file()):
        out["--playbook"] = playbook
    return out


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (after links; hard links included)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def check_outputs(args: argparse.Namespace, outputs: Mapping[str, tuple[str | None, str]]) -> None:
    """Refuse output paths that would destroy an input, clash, or have the wrong type.

    Runs before any work, so a refused command writes nothing.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of a data subcommand (for its inputs).
    outputs : mapping of str to (str or None, str)
        ``{option: (path or None, kind)}`` with kind ``"table"``, ``"json"``
        or ``"html"`` (see :data:`OUTPUT_TYPES`).

    Raises
    ------
    InputError
        When an output is one of the inputs (same file after resolving
        links), two outputs are the same file, an output is a directory or
        in a missing directory, or its extension does not fit its kind.

    Examples
    --------
    >>> ns = argparse.Namespace(file="tx.csv", records=[], mapping=None)
    >>> check_outputs(ns, {"--out": ("tx.csv", "table")})
    Traceback (most recent call last):
    ...
    crmkit._cli._io.InputError: --out tx.csv is the input FILE tx.csv: refusing to ...
    >>> check_outputs(ns, {"--out": ("report.csv", "html")})
    Traceback (most recent call last):
    ...
    crmkit._cli._io.InputError: --out report.csv: must be an HTML page: .html; got '.csv'
    """
    inputs = {name: Path(p) for name, p in input_paths(args).items()}
    seen: dict[str, Path] = {}
    for option, (path, kind) in outputs.items():
        if path is None:
            continue
        target = Path(path)
        if not target.name.lower().endswith(OUTPUT_TYPES[kind]):
            got = "".join(target.suffixes[-2:]) if len(target.suffixes) > 1 else target.suffix
            raise InputError(f"{option} {path}: must be {_DESCRIBE[kind]}; got "
                             f"{got or 'no extension'!r}")
        for name, source in inputs.items():
            if _same_file(target, source):
                raise InputError(
                    f"{option} {path} is the input {name} {source}: refusing to overwrite an "
                    "input; choose another output path"
                )
        for other, earlier in seen.items():
            if _same_file(target, earlier):
                raise InputError(f"{option} {path} is also the {other} output; give each "
                                 "output its own path")
        if target.is_dir():
            raise InputError(f"{option} {path}: is a directory, not a file")
        folder = target.parent
        if not folder.is_dir():
            raise InputError(f"{option} {path}: the directory {folder} does not exist")
        seen[option] = target
