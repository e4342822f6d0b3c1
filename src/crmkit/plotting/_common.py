"""Shared helpers of the plotting functions: lazy matplotlib, axes, input checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._checks import as_values, check_int
from crmkit._params import instance_of, validate_params
from crmkit.exceptions import SchemaError, SchemaFailure

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "ACCENT",
    "ACTUAL",
    "F",
    "INSTALL_HINT",
    "MUTED",
    "PREDICTED",
    "check_frame",
    "check_int",
    "get_ax",
    "require_matplotlib",
    "series_of",
    "style_axes",
    "to_float",
]

F = npt.NDArray[np.float64]

#: How to get the optional plotting dependency.
INSTALL_HINT = "crmkit's plots need matplotlib: pip install 'crmkit[plot]'"

#: Colours of the plots (colour-blind safe, after Okabe & Ito).
ACTUAL = "#0072B2"
PREDICTED = "#D55E00"
ACCENT = "#009E73"
MUTED = "#999999"


def require_matplotlib() -> None:
    """Import matplotlib, or raise an ImportError that says how to install it.

    Raises
    ------
    ImportError
        When matplotlib is not installed.

    Examples
    --------
    >>> require_matplotlib()
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:  # pragma: no cover - matplotlib is installed in the tests
        raise ImportError(INSTALL_HINT) from exc


def get_ax(
    ax: Axes | None, figsize: tuple[float, float] = (6.4, 4.0), *, owner: str = "the plot"
) -> Axes:
    """The axes to draw on: ``ax`` itself, or new axes of a new pyplot figure.

    Parameters
    ----------
    ax : matplotlib Axes or None
        Where to draw; None creates a figure with :func:`matplotlib.pyplot.subplots`.
    figsize : (float, float), default=(6.4, 4.0)
        Size of a new figure, inches.
    owner : str, default="the plot"
        The plot function, named in the message for a wrong ``ax``.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    InvalidParameterError
        When ``ax`` is not a matplotlib Axes.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> get_ax(ax) is ax
    True
    """
    require_matplotlib()
    from matplotlib.axes import Axes as _Axes

    if ax is None:
        import matplotlib.pyplot as plt

        _, new = plt.subplots(figsize=figsize)
        out: Axes = new
        return out
    validate_params(owner, {"ax": ax}, {"ax": [instance_of(_Axes, "a matplotlib Axes"), None]})
    return ax


def check_frame(
    frame: object,
    columns: Sequence[str],
    owner: str,
    *,
    what: str = "frame",
    numeric: bool = True,
    nonempty: bool = True,
) -> pd.DataFrame:
    """Check that ``frame`` is a DataFrame with ``columns`` (numeric, no inf).

    Parameters
    ----------
    frame : object
        The candidate.
    columns : sequence of str
        Columns it must hold.
    owner : str
        Function name, for messages.
    what : str, default="frame"
        What the frame is, for messages (e.g. ``"tracking"``).
    numeric : bool, default=True
        Whether the columns must be numeric (bool refused) and free of inf.
    nonempty : bool, default=True
        Whether at least one row is needed.

    Returns
    -------
    DataFrame
        ``frame`` itself (never modified).

    Raises
    ------
    SchemaError
        Listing every missing or non-numeric column, or an empty frame.

    Examples
    --------
    >>> check_frame(pd.DataFrame({"a": [1.0]}), ["a", "b"], "demo")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - frame['b']: is missing (needed by demo)
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            [
                SchemaFailure(
                    frame=what,
                    column="<frame>",
                    check=f"must be a pandas DataFrame for {owner}; got {type(frame).__name__}",
                )
            ]
        )
    failures: list[SchemaFailure] = []
    for col in columns:
        if col not in frame.columns:
            failures.append(
                SchemaFailure(frame=what, column=col, check=f"is missing (needed by {owner})")
            )
            continue
        if not numeric:
            continue
        s = frame[col]
        if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            failures.append(
                SchemaFailure(frame=what, column=col, check=f"is not numeric (dtype {s.dtype})")
            )
            continue
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        inf = np.isinf(x)
        if inf.any():
            failures.append(
                SchemaFailure(
                    frame=what,
                    column=col,
                    check="is not finite",
                    n_failing=int(inf.sum()),
                    rows=tuple(frame.index[inf][:5].tolist()),
                    values=tuple(x[inf][:5].tolist()),
                )
            )
    if nonempty and not failures and len(frame) == 0:
        failures.append(
            SchemaFailure(
                frame=what, column="<frame>", check=f"is empty; {owner} has nothing to draw"
            )
        )
    if failures:
        raise SchemaError(failures)
    return frame


def series_of(values: object, owner: str, *, name: str = "values") -> tuple[F, pd.Index]:
    """Read one finite number per customer from a Series, array or list.

    Parameters
    ----------
    values : Series, ndarray, list or tuple
        The numbers.
    owner : str
        Function name, for messages.
    name : str, default="values"
        What they are, for messages when ``values`` has no name.

    Returns
    -------
    values : ndarray of float, shape (n,)
    index : Index

    Raises
    ------
    SchemaError
        For empty, non-numeric, missing or infinite values.

    Examples
    --------
    >>> x, idx = series_of(pd.Series([1, 2], index=["a", "b"]), "demo")
    >>> x.tolist(), list(idx)
    ([1.0, 2.0], ['a', 'b'])
    """
    if isinstance(values, pd.Series) and values.name is None:
        values = values.rename(name)
    return as_values(values, owner)


def style_axes(ax: Axes, *, grid: str = "y") -> None:
    """Quiet axes: no top/right spines, a light grid.

    Parameters
    ----------
    ax : matplotlib Axes
        The axes.
    grid : {"x", "y", "both", "none"}, default="y"
        Which grid lines to show.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> style_axes(ax)
    >>> ax.spines["top"].get_visible()
    False
    """
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if grid != "none":
        ax.grid(True, axis=grid, color="#dddddd", linewidth=0.8)  # type: ignore[arg-type]
        ax.set_axisbelow(True)


def to_float(values: Any) -> F:
    """Values as a float array (NaN for missing).

    Parameters
    ----------
    values : array-like or Series
        Numbers.

    Returns
    -------
    ndarray of float

    Examples
    --------
    >>> to_float(pd.Series([1, None])).tolist()
    [1.0, nan]
    """
    if isinstance(values, (pd.Series, pd.Index)):
        out: F = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return out
    return np.asarray(values, dtype=np.float64)
