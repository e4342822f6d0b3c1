"""A progress indicator for long command-line steps (a spinner on terminals, silent otherwise)."""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress"]

_FRAMES = "|/-\\"


class Progress:
    """Shows the running step with a spinner and its elapsed time; silent when not on a terminal.

    Call :meth:`start` with each step's name; the previous step is closed
    with its duration. Use it as a context manager to close the last one
    (on an error the line is cleared without "done").

    Parameters
    ----------
    stream : text stream, optional
        Where to write (default ``sys.stderr``).
    enabled : bool, optional
        Default: whether ``stream`` is a terminal.
    interval : float, default=0.1
        Seconds between spinner frames.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with Progress(out, enabled=True, interval=0.01) as p:
    ...     p.start("reading")
    >>> "reading" in out.getvalue() and "done" in out.getvalue()
    True
    >>> quiet = io.StringIO()
    >>> with Progress(quiet) as p:  # not a terminal: silent
    ...     p.start("reading")
    >>> quiet.getvalue()
    ''
    """

    def __init__(
        self, stream: TextIO | None = None, *, enabled: bool | None = None, interval: float = 0.1
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty()) if callable(isatty) else False
        self.enabled = enabled
        self.interval = interval
        self._label: str | None = None
        self._started = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._width = 0

    def _write(self, text: str, end: str = "") -> None:
        with self._lock:
            pad = max(self._width - len(text), 0)
            self.stream.write("\r" + text + " " * pad + end)
            self.stream.flush()
            self._width = 0 if end else len(text)

    def _spin(self, label: str, stop: threading.Event) -> None:
        k = 0
        while not stop.wait(self.interval):
            k += 1
            elapsed = time.monotonic() - self._started
            self._write(f"{_FRAMES[k % len(_FRAMES)]} {label} ({elapsed:.0f} s)")

    def start(self, label: str) -> None:
        """Close the running step (if any) and start ``label``.

        Parameters
        ----------
        label : str
            What is being done, e.g. ``"fitting the playbook"``.

        Examples
        --------
        See :class:`Progress`.
        """
        self.done()
        if not self.enabled:
            return
        self._label = label
        self._started = time.monotonic()
        self._write(f"{_FRAMES[0]} {label}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, args=(label, self._stop), daemon=True)
        self._thread.start()

    def _halt(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return time.monotonic() - self._started

    def done(self) -> None:
        """Close the running step with its duration (nothing when none runs).

        Examples
        --------
        See :class:`Progress`.
        """
        if self._label is None:
            return
        elapsed = self._halt()
        self._write(f"  {self._label} ... done ({elapsed:.1f} s)", end="\n")
        self._label = None

    def abort(self) -> None:
        """Stop the spinner and clear its line, without reporting the step as done.

        Examples
        --------
        >>> Progress(enabled=False).abort()
        """
        if self._label is None:
            return
        self._halt()
        self._write("", end="\r")
        self._label = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.done()
        else:
            self.abort()
