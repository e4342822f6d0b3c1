"""An optional progress bar over named steps (tqdm when installed, silent otherwise)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import TracebackType
from typing import Any

from crmkit.exceptions import InvalidParameterError

__all__ = ["LARGE", "StepBar", "size_of", "step_bar"]

#: From this many customers, ``progress=None`` shows a bar (on a terminal or in a notebook).
LARGE = 50_000


class StepBar:
    """Counts finished steps on a tqdm bar, naming the last one; does nothing when disabled.

    Parameters
    ----------
    desc : str
        What the bar measures (``"Playbook.fit"``).
    enabled : bool
        Whether to draw (needs tqdm).

    Attributes
    ----------
    steps : list of str
        The steps finished so far, in order (also when nothing is drawn).

    Examples
    --------
    >>> with StepBar("work", enabled=False) as bar:
    ...     bar.step("reading")
    ...     bar.step("fitting")
    >>> bar.steps
    ['reading', 'fitting']
    """

    def __init__(self, desc: str, *, enabled: bool) -> None:
        self.desc = desc
        self.steps: list[str] = []
        self._bar: Any = None
        if enabled:
            self._bar = _tqdm()(desc=desc, unit=" steps", leave=False, file=sys.stderr)

    def step(self, name: str) -> None:
        """Record a finished (or starting) step and move the bar on.

        Parameters
        ----------
        name : str
            The step.

        Examples
        --------
        See :class:`StepBar`.
        """
        self.steps.append(name)
        if self._bar is not None:
            self._bar.set_postfix_str(name, refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        """Remove the bar (nothing when none is drawn).

        Examples
        --------
        >>> StepBar("x", enabled=False).close()
        """
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> StepBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _tqdm() -> Any:
    """tqdm's notebook bar inside Jupyter (when ipywidgets is installed), else the text bar."""
    if "ipykernel" in sys.modules and importlib.util.find_spec("ipywidgets") is not None:
        return importlib.import_module("tqdm.notebook").tqdm
    return importlib.import_module("tqdm").tqdm


def _interactive() -> bool:
    if "ipykernel" in sys.modules:
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty()) if callable(isatty) else False


def size_of(data: Any) -> int:
    """Customers in ``data`` (CustomerData), 0 for anything else (checked later, by the caller).

    Parameters
    ----------
    data : CustomerData or object
        The work.

    Returns
    -------
    int

    Examples
    --------
    >>> size_of([1, 2, 3])
    0
    """
    try:
        return int(getattr(data, "n_customers", 0))
    except (TypeError, ValueError, KeyError, AttributeError):
        return 0


def step_bar(progress: bool | None, n_customers: int, desc: str) -> StepBar:
    """A progress bar over steps when asked for and tqdm is installed.

    Parameters
    ----------
    progress : bool or None
        True: a bar whenever tqdm is installed; False: never; None: only
        for large work (at least :data:`LARGE` customers) shown on a
        terminal or in a notebook.
    n_customers : int
        Size of the work.
    desc : str
        The bar's label.

    Returns
    -------
    StepBar

    Raises
    ------
    InvalidParameterError
        When ``progress`` is not True, False or None (also a TypeError).

    Examples
    --------
    >>> step_bar(False, 10**6, "Playbook.fit")._bar is None
    True
    >>> step_bar("yes", 10, "x")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: progress must be True, False or None; got 'yes'
    """
    if progress is not None and not isinstance(progress, bool):
        raise InvalidParameterError(f"progress must be True, False or None; got {progress!r}")
    wanted = progress if progress is not None else (n_customers >= LARGE and _interactive())
    installed = importlib.util.find_spec("tqdm") is not None
    return StepBar(desc, enabled=bool(wanted) and installed)
