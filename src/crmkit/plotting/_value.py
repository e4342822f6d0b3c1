"""Plots of purchase and value models: frequency/recency matrices, purchase PMF, CLV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmkit._params import Interval, parameter_error, validate_params
from crmkit.plotting._common import (
    ACCENT,
    ACTUAL,
    PREDICTED,
    F,
    check_frame,
    check_int,
    get_ax,
    series_of,
    style_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "frequency_recency_grid",
    "plot_clv_distribution",
    "plot_expected_purchases_matrix",
    "plot_p_alive_matrix",
    "plot_purchase_pmf",
]


def _matrix_extent(
    view: pd.DataFrame | None, max_frequency: int | None, T: float | None, owner: str
) -> tuple[int, float]:
    if view is not None:
        check_frame(view, ["frequency", "T"], owner, what="view")
    if max_frequency is None:
        if view is None:
            raise parameter_error(owner, "max_frequency", "an int >= 1 when no view is given", None)
        q = float(np.quantile(view["frequency"].to_numpy(dtype=np.float64), 0.99))
        max_frequency = max(1, int(np.ceil(q)))
    max_frequency = check_int(max_frequency, "max_frequency", owner, low=1)
    if T is None:
        if view is None:
            raise parameter_error(owner, "T", "a float > 0 when no view is given", None)
        T = float(view["T"].max())
    validate_params(
        owner, {"T": T}, {"T": [Interval("real", 0, None, closed="neither", finite=True)]}
    )
    return max_frequency, float(T)


def frequency_recency_grid(max_frequency: int, T: float, n_recency: int = 40) -> pd.DataFrame:
    """The customer histories behind a frequency/recency matrix.

    Rows ``frequency = 0 .. max_frequency`` times ``n_recency`` recency
    cells of equal width over ``(0, T)`` (the cell centres), all of age
    ``T``. A customer without repeat purchases has recency 0 by definition,
    so the ``frequency == 0`` row uses ``recency = 0`` in every cell.

    Parameters
    ----------
    max_frequency : int
        Highest frequency (>= 1).
    T : float
        Age of the customers (time units since the first purchase, > 0).
    n_recency : int, default=40
        Recency cells (>= 2).

    Returns
    -------
    DataFrame
        ``frequency``, ``recency`` and ``T``; ``(max_frequency + 1) *
        n_recency`` rows, frequency-major.

    Raises
    ------
    InvalidParameterError
        For a bad ``max_frequency``, ``T`` or ``n_recency``.

    Examples
    --------
    >>> g = frequency_recency_grid(1, 10.0, n_recency=2)
    >>> g.values.tolist()
    [[0.0, 0.0, 10.0], [0.0, 0.0, 10.0], [1.0, 2.5, 10.0], [1.0, 7.5, 10.0]]
    """
    max_frequency = check_int(max_frequency, "max_frequency", "frequency_recency_grid", low=1)
    n_recency = check_int(n_recency, "n_recency", "frequency_recency_grid", low=2)
    validate_params(
        "frequency_recency_grid", {"T": T}, {"T": [Interval("real", 0, None, closed="neither")]}
    )
    centres = (np.arange(n_recency, dtype=np.float64) + 0.5) * float(T) / n_recency
    freq = np.repeat(np.arange(max_frequency + 1, dtype=np.float64), n_recency)
    rec = np.tile(centres, max_frequency + 1)
    rec[freq == 0] = 0.0
    grid: pd.DataFrame = pd.DataFrame(
        {"frequency": freq, "recency": rec, "T": np.full(len(freq), float(T))}
    )
    return grid


def _draw_matrix(
    ax: Axes, values: F, T: float, max_frequency: int, label: str, title: str, cmap: str
) -> Axes:
    image = ax.imshow(
        values,
        origin="lower",
        aspect="auto",
        cmap=cmap,
        extent=(0.0, T, -0.5, max_frequency + 0.5),
        interpolation="nearest",
    )
    bar = ax.figure.colorbar(image, ax=ax)
    bar.set_label(label)
    ax.set_xlabel("recency: time from first to last purchase")
    ax.set_ylabel("frequency: repeat purchases")
    ax.set_title(title)
    return ax


def plot_p_alive_matrix(
    model: Any,
    view: pd.DataFrame | None = None,
    *,
    max_frequency: int | None = None,
    T: float | None = None,
    n_recency: int = 40,
    ax: Axes | None = None,
) -> Axes:
    """Heat map of P(alive) by frequency and recency, for customers of age ``T``.

    The lighter the cell, the likelier a customer with that history is still
    active: at a given frequency, the longer ago the last purchase the lower
    P(alive); a frequent buyer who has gone quiet is the likeliest lost.

    Parameters
    ----------
    model : fitted purchase model
        Provides ``p_alive(view)`` (BG/NBD, Pareto/NBD, MBG/NBD ...).
    view : DataFrame, optional
        Customer view supplying the defaults of ``max_frequency`` (the 99th
        percentile of ``frequency``) and ``T`` (its largest ``T``).
    max_frequency : int, optional
        Highest frequency row.
    T : float, optional
        Age of the customers, time units.
    n_recency : int, default=40
        Recency cells.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The image holds the ``(max_frequency + 1, n_recency)`` matrix (see
        :func:`frequency_recency_grid`).

    Raises
    ------
    InvalidParameterError
        For bad parameters, or neither a view nor ``max_frequency``/``T``.
    SchemaError
        For a view without ``frequency``/``T``.
    NotFittedError
        When the model is not fitted.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "'Counting
       your customers' the easy way: an alternative to the Pareto/NBD
       model". Marketing Science 24(2), 275-284.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from crmkit.value import BetaGeo
    >>> model = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> ax = plot_p_alive_matrix(model, max_frequency=10, T=39.0, ax=Figure().subplots())
    >>> ax.images[0].get_array().shape
    (11, 40)
    """
    owner = "plot_p_alive_matrix"
    max_frequency, T = _matrix_extent(view, max_frequency, T, owner)
    grid = frequency_recency_grid(max_frequency, T, n_recency)
    values = np.asarray(model.p_alive(grid), dtype=np.float64).reshape(max_frequency + 1, -1)
    ax = get_ax(ax, owner="plot_p_alive_matrix")
    return _draw_matrix(
        ax,
        values,
        T,
        max_frequency,
        "P(alive)",
        f"Probability a customer is alive (age {T:.4g})",
        "viridis",
    )


def plot_expected_purchases_matrix(
    model: Any,
    view: pd.DataFrame | None = None,
    *,
    t: float = 1.0,
    max_frequency: int | None = None,
    T: float | None = None,
    n_recency: int = 40,
    ax: Axes | None = None,
) -> Axes:
    """Heat map of the purchases expected in the next ``t`` time units by frequency and recency.

    Parameters
    ----------
    model : fitted purchase model
        Provides ``conditional_expected_purchases(view, t)``.
    view : DataFrame, optional
        Customer view supplying the defaults of ``max_frequency`` and ``T``
        (as in :func:`plot_p_alive_matrix`).
    t : float, default=1.0
        Horizon, time units (> 0).
    max_frequency : int, optional
        Highest frequency row.
    T : float, optional
        Age of the customers, time units.
    n_recency : int, default=40
        Recency cells.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidParameterError
        For bad parameters.
    SchemaError
        For a view without ``frequency``/``T``.
    NotFittedError
        When the model is not fitted.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from crmkit.value import BetaGeo
    >>> model = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> ax = plot_expected_purchases_matrix(model, t=10, max_frequency=5, T=39.0,
    ...                                     ax=Figure().subplots())
    >>> bool(ax.images[0].get_array().max() > 1.0)
    True
    """
    owner = "plot_expected_purchases_matrix"
    validate_params(owner, {"t": t}, {"t": [Interval("real", 0, None, closed="neither")]})
    max_frequency, T = _matrix_extent(view, max_frequency, T, owner)
    grid = frequency_recency_grid(max_frequency, T, n_recency)
    out = model.conditional_expected_purchases(grid, float(t))
    values = np.asarray(out, dtype=np.float64).reshape(max_frequency + 1, -1)
    ax = get_ax(ax, owner="plot_expected_purchases_matrix")
    return _draw_matrix(
        ax,
        values,
        T,
        max_frequency,
        f"expected purchases in {t:g} time units",
        f"Expected purchases in the next {t:g} (age {T:.4g})",
        "magma",
    )


def plot_purchase_pmf(
    model: Any, view: pd.DataFrame, *, max_frequency: int = 7, ax: Axes | None = None
) -> Axes:
    """Customers by number of repeat purchases: actual vs the model's expectation.

    The model's count for ``n`` repeat purchases is ``sum_i P(X(T_i) = n)``
    over the customers of the view (each at its own age ``T_i``); the last
    bar pools ``max_frequency`` and more. A good fit has the bar pairs
    level.

    Parameters
    ----------
    model : fitted purchase model
        Provides ``purchase_pmf(n, t)`` (``n`` and ``t`` broadcast).
    view : DataFrame
        Customer view with ``frequency`` and ``T`` (the data the model was
        fitted on).
    max_frequency : int, default=7
        Frequencies from this value up share the last bar.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Two bar containers, ``actual`` then ``model`` (one bar per
        frequency ``0 .. max_frequency``).

    Raises
    ------
    SchemaError
        For a view without numeric ``frequency``/``T``.
    InvalidParameterError
        For a bad ``max_frequency``.
    NotFittedError
        When the model is not fitted.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> from crmkit.value import BetaGeo
    >>> model = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> view = model.sample(500, 39.0, seed=1)
    >>> ax = plot_purchase_pmf(model, view, max_frequency=4, ax=Figure().subplots())
    >>> [round(sum(b.get_height() for b in c)) for c in ax.containers]
    [500, 500]
    """
    owner = "plot_purchase_pmf"
    max_frequency = check_int(max_frequency, "max_frequency", owner, low=1)
    check_frame(view, ["frequency", "T"], owner, what="view")
    freq = view["frequency"].to_numpy(dtype=np.float64, na_value=np.nan)
    ages = view["T"].to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(freq).any() or np.isnan(ages).any():
        series_of(view["frequency"], owner)
        series_of(view["T"], owner)
    n = np.arange(max_frequency + 1)
    actual = np.bincount(
        np.minimum(freq, max_frequency).astype(np.int64), minlength=max_frequency + 1
    ).astype(np.float64)
    t_unique, counts = np.unique(ages, return_counts=True)
    pmf = np.asarray(model.purchase_pmf(n[:-1, None], t_unique[None, :]), dtype=np.float64)
    expected = np.empty(max_frequency + 1)
    expected[:-1] = pmf @ counts.astype(np.float64)
    expected[-1] = max(float(len(freq)) - float(expected[:-1].sum()), 0.0)
    ax = get_ax(ax, owner="plot_purchase_pmf")
    width = 0.4
    ax.bar(n - width / 2, actual, width, color=ACTUAL, label="actual")
    ax.bar(n + width / 2, expected, width, color=PREDICTED, label=type(model).__name__)
    ax.set_xticks(n, [*map(str, n[:-1]), f"{max_frequency}+"])
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("customers")
    ax.set_title("Repeat purchases: actual vs model")
    ax.legend(frameon=False)
    style_axes(ax)
    return ax


def plot_clv_distribution(
    clv: Any, *, bins: int = 30, clip_quantile: float = 0.99, ax: Axes | None = None
) -> Axes:
    """Histogram of customer lifetime values, with the mean and the median marked.

    CLV is heavy-tailed: values above the ``clip_quantile`` quantile are
    counted in the last bin (its label says so), so that the bulk of the
    customers stays readable.

    Parameters
    ----------
    clv : Series, ndarray or list
        One value per customer (e.g. :func:`crmkit.value.clv`).
    bins : int, default=30
        Histogram bins.
    clip_quantile : float, default=0.99
        Quantile above which values are pooled in the last bin, in (0, 1];
        1 pools nothing.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per bin (heights: customers) and two vertical lines (mean,
        median).

    Raises
    ------
    SchemaError
        For empty, non-numeric, missing or infinite values.
    InvalidParameterError
        For a bad ``bins`` or ``clip_quantile``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_clv_distribution([10.0, 20.0, 30.0, 400.0], bins=4, clip_quantile=1.0,
    ...                            ax=Figure().subplots())
    >>> [int(p.get_height()) for p in ax.patches]
    [3, 0, 0, 1]
    """
    owner = "plot_clv_distribution"
    bins = check_int(bins, "bins", owner, low=1)
    validate_params(
        owner,
        {"clip_quantile": clip_quantile},
        {"clip_quantile": [Interval("real", 0, 1, closed="right")]},
    )
    x, _ = series_of(clv, owner, name="clv")
    top = float(np.quantile(x, clip_quantile))
    low = float(min(x.min(), 0.0))
    if top <= low:
        top = low + 1.0
    clipped = np.clip(x, low, top)
    ax = get_ax(ax, owner="plot_clv_distribution")
    ax.hist(clipped, bins=bins, range=(low, top), color=ACTUAL, edgecolor="white")
    mean, median = float(x.mean()), float(np.median(x))
    ax.axvline(min(mean, top), color=PREDICTED, linestyle="--", label=f"mean {mean:,.2f}")
    ax.axvline(min(median, top), color=ACCENT, linestyle=":", label=f"median {median:,.2f}")
    pooled = int((x > top).sum())
    label = "customer lifetime value"
    if pooled:
        label += f" (last bin: {pooled:,} customers above {top:,.0f})"
    ax.set_xlabel(label)
    ax.set_ylabel("customers")
    ax.set_title("Distribution of customer lifetime value")
    ax.legend(frameon=False)
    style_axes(ax)
    return ax
