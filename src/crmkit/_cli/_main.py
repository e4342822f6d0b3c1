"""Running a ``crmkit`` command: progress, data warnings and one-line errors."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable
from typing import NoReturn, TextIO

from crmkit._cli._io import InputError
from crmkit._cli._progress import Progress
from crmkit.exceptions import CrmkitError

__all__ = ["ArgumentError", "OneLineParser", "execute", "one_line"]

#: Errors caused by the input (files, columns, dates, arguments): exit code 2.
_INPUT_ERRORS = (CrmkitError, InputError, OSError, ValueError, TypeError, LookupError, ImportError)


class ArgumentError(Exception):
    """A command-line argument error (reported in one line, exit code 2).

    Examples
    --------
    >>> str(ArgumentError("the following arguments are required: --out"))
    'the following arguments are required: --out'
    """


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors raise :class:`ArgumentError` instead of exiting.

    Examples
    --------
    >>> p = OneLineParser(prog="crmkit")
    >>> _ = p.add_argument("--n", type=int)
    >>> p.parse_args(["--n", "x"])
    Traceback (most recent call last):
    ...
    crmkit._cli._main.ArgumentError: argument --n: invalid int value: 'x'
    """

    def error(self, message: str) -> NoReturn:
        """Raise :class:`ArgumentError` with argparse's message.

        Parameters
        ----------
        message : str
            argparse's message.

        Raises
        ------
        ArgumentError
            Always.

        Examples
        --------
        See :class:`OneLineParser`.
        """
        raise ArgumentError(message)


def one_line(exc: BaseException) -> str:
    """The error as one line: a SchemaError's first problem (and how many more), else line one.

    Parameters
    ----------
    exc : BaseException
        The error.

    Returns
    -------
    str

    Examples
    --------
    >>> one_line(ValueError("bad value\\nmore detail"))
    'bad value'
    """
    from crmkit._checks import first_line

    text = first_line(exc)
    if isinstance(exc, KeyError) and text.startswith(("'", '"')):
        text = text.strip("'\"")
    return text


#: How many problems of one error the command line lists.
_SHOWN_PROBLEMS = 20


def _problems(exc: BaseException) -> list[str]:
    """The problems an error lists, one line each (none for a plain error)."""
    lines = getattr(exc, "problems", None)
    if lines is None:
        lines = [f.describe() for f in getattr(exc, "failures", None) or ()]
    return [str(x) for x in lines]


def execute(
    command: Callable[[Progress], str],
    *,
    verbose: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run a command: show progress on terminals, print its text, turn errors into one line.

    Data warnings (rows left out, duplicates ...) are printed once each as
    ``crmkit: warning: ...`` lines on ``err``. Input errors print
    ``crmkit: error: ...`` and return 2: one line, or for an error listing
    several problems (a SchemaError) one line per problem (at most 20),
    without a traceback; with ``verbose`` the traceback follows. Any other error returns 1 with
    one line (``verbose``: the traceback).

    Parameters
    ----------
    command : callable
        ``command(progress) -> text``; the text is printed on ``out``.
    verbose : bool, default=False
        Show full error details.
    out, err : text streams, optional
        Default ``sys.stdout`` and ``sys.stderr`` (looked up at call time).

    Returns
    -------
    int
        Exit code: 0 success, 2 bad input, 1 unexpected error.

    Examples
    --------
    >>> import io
    >>> err = io.StringIO()
    >>> execute(lambda progress: open("/no/such/file").read(), err=err)
    2
    >>> err.getvalue().startswith("crmkit: error: [Errno 2] No such file")
    True
    """
    import warnings

    from crmkit.exceptions import DataWarning

    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    progress = Progress(err)
    seen: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            text = command(progress)
            progress.done()
        for w in caught:
            message = str(w.message)
            if issubclass(w.category, DataWarning):
                if message not in seen:
                    seen.append(message)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    except KeyboardInterrupt:
        progress.abort()
        print("crmkit: interrupted", file=err)
        return 130
    except _INPUT_ERRORS as exc:
        progress.abort()
        problems = _problems(exc)
        if len(problems) > 1:
            print(f"crmkit: error: {len(problems)} problems in the input:", file=err)
            for line in problems[:_SHOWN_PROBLEMS]:
                print(f"  - {line}", file=err)
            if len(problems) > _SHOWN_PROBLEMS:
                print(f"  - ... and {len(problems) - _SHOWN_PROBLEMS} more", file=err)
        else:
            print(f"crmkit: error: {problems[0] if problems else one_line(exc)}", file=err)
        if verbose:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=err)
        return 2
    except Exception as exc:
        progress.abort()
        print(
            f"crmkit: unexpected error: {type(exc).__name__}: {one_line(exc)} (run with "
            "--verbose for the traceback)",
            file=err,
        )
        if verbose:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=err)
        return 1
    for message in seen:
        text_line = message.splitlines()[0].removeprefix("crmkit: ").removeprefix("crmkit ")
        print(f"crmkit: warning: {text_line}", file=err)
    print(text, file=out)
    return 0
