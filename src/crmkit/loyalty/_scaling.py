"""Component scaling learned on a customer base: percentile ranks or robust min-max.

Only a grid of quantiles of the fitting base is kept (no customer rows), and
a value is scaled from that grid alone, row by row: one customer scored alone
gets exactly the value it gets in bulk.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from crmkit._params import Options, validate_params

__all__ = ["SCALINGS", "quantile_grid", "scale"]

F = npt.NDArray[np.float64]

#: The scalings :func:`scale` offers.
SCALINGS: tuple[str, ...] = ("rank", "minmax")
_SCALING = Options(frozenset(SCALINGS))


def quantile_grid(values: F, n_quantiles: int) -> F:
    """Quantiles of ``values`` at ``n_quantiles`` evenly spaced probabilities 0..1.

    Parameters
    ----------
    values : ndarray
        Finite values (at least one).
    n_quantiles : int
        Grid size (>= 2).

    Returns
    -------
    ndarray of shape (n_quantiles,)
        Non-decreasing.

    Examples
    --------
    >>> quantile_grid(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 3).tolist()
    [0.0, 2.0, 4.0]
    """
    probs = np.linspace(0.0, 1.0, n_quantiles)
    # the same order statistics as from the unsorted values, read faster from sorted ones
    grid: F = np.quantile(np.sort(values), probs)
    return np.maximum.accumulate(grid)


def _rank(x: F, grid: F) -> F:
    k = len(grid)
    probs = np.linspace(0.0, 1.0, k)
    hi = np.searchsorted(grid, x, side="right")
    # a value the grid holds is a tie (mid-rank); any other lies between two grid points,
    # where the left search gives the same position: one search for most rows
    j = np.clip(hi, 1, k - 1)
    left, right = grid[j - 1], grid[j]
    with np.errstate(invalid="ignore", divide="ignore"):
        between = probs[j - 1] + (probs[j] - probs[j - 1]) * (x - left) / (right - left)
    out: F = np.where(hi >= k, 1.0, np.where(hi > 0, between, 0.0))
    tie = (hi > 0) & (grid[np.maximum(hi - 1, 0)] == x)
    if tie.any():
        lo = np.searchsorted(grid, x[tie], side="left")
        out[tie] = 0.5 * (probs[lo] + probs[hi[tie] - 1])
    return out


def _minmax(x: F, grid: F, quantile_range: tuple[float, float]) -> F:
    probs = np.linspace(0.0, 1.0, len(grid))
    low, high = (float(v) for v in np.interp(np.asarray(quantile_range), probs, grid))
    if high > low:
        return np.clip((x - low) / (high - low), 0.0, 1.0)
    return np.where(x < low, 0.0, np.where(x > high, 1.0, 0.5))


def scale(
    x: F, grid: F, how: str = "rank", quantile_range: tuple[float, float] = (0.05, 0.95)
) -> F:
    """Scale values to 0..100 against a fitted quantile grid (NaN stays NaN).

    ``"rank"`` is the percentile rank in the fitted base, read from the grid
    by linear interpolation, with the mid-rank for values the grid repeats
    (ties) and 0 / 100 below / above the fitted range. ``"minmax"`` maps the
    fitted ``quantile_range`` quantiles to 0 and 100, clipping outside
    (50 when both quantiles coincide and the value equals them). Both are
    non-decreasing in ``x``.

    Parameters
    ----------
    x : ndarray
        Values (NaN allowed).
    grid : ndarray
        From :func:`quantile_grid`.
    how : {"rank", "minmax"}, default="rank"
        The scaling.
    quantile_range : (float, float), default=(0.05, 0.95)
        Probabilities of the 0 and 100 points of ``"minmax"``.

    Returns
    -------
    ndarray
        Scores in [0, 100].

    Raises
    ------
    InvalidParameterError
        For an unknown scaling.

    Examples
    --------
    >>> grid = quantile_grid(np.array([0.0, 0.0, 1.0, 2.0, 3.0]), 5)
    >>> scale(np.array([0.0, 1.5, 9.0, np.nan]), grid).tolist()
    [12.5, 62.5, 100.0, nan]
    >>> scale(np.array([0.0, 1.5, 9.0]), grid, "minmax", (0.0, 1.0)).tolist()
    [0.0, 50.0, 100.0]
    """
    validate_params("scale", {"how": how}, {"how": [_SCALING]})
    values = np.asarray(x, dtype=np.float64)
    out = np.full(len(values), np.nan)
    ok = ~np.isnan(values)
    if how == "rank":
        out[ok] = _rank(values[ok], grid)
    else:
        out[ok] = _minmax(values[ok], grid, quantile_range)
    result: F = 100.0 * out
    return result
