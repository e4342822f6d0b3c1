"""Interval estimates for NPS, CSAT and CES (vectorised over groups).

NPS is a difference of two proportions from one trinomial sample (promoter,
passive, detractor). With promoter share ``p``, detractor share ``d`` and
``n`` answers, ``Var(p_hat - d_hat) = (p + d - (p - d) ** 2) / n`` (the
multinomial covariance ``-p d / n`` enters twice). Three intervals are offered:
``"wald"`` (that variance at the observed shares), ``"adjusted_wald"`` (add
3/4 promoter and 3/4 detractor to the counts and 3 to ``n`` before the Wald
step, as evaluated by Rocks 2016; never of zero width) and ``"bootstrap"``
(percentile interval of trinomial resamples). CSAT is a proportion (Wilson
score interval); CES and mean scores use the Student t interval.

References
----------
Rocks, B. (2016). Interval estimation for the "net promoter score". The
American Statistician 70(4), 365-372.
Wilson, E. B. (1927). Probable inference, the law of succession, and
statistical inference. JASA 22(158), 209-212.
Agresti, A. & Caffo, B. (2000). Simple and effective confidence intervals for
proportions and differences of proportions result from adding two successes
and two failures. The American Statistician 54(4), 280-288.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.special import ndtri

from crmkit._params import Options, validate_params

__all__ = [
    "NPS_METHODS",
    "z_value",
    "nps_interval",
    "nps_adjusted",
    "wilson_interval",
    "proportion_adjusted",
    "t_interval",
]

F = npt.NDArray[np.float64]

#: The NPS interval methods of :func:`nps_interval`.
NPS_METHODS: tuple[str, ...] = ("adjusted_wald", "wald", "bootstrap")
_NPS_METHOD = Options(frozenset(NPS_METHODS))


def z_value(level: float) -> float:
    """Two-sided standard normal quantile for a confidence level.

    Parameters
    ----------
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    float
        ``Phi^-1((1 + level) / 2)``.

    Examples
    --------
    >>> round(z_value(0.95), 4)
    1.96
    """
    return float(ndtri(0.5 + 0.5 * level))


def _f(x: Any) -> F:
    return np.asarray(x, dtype=np.float64)


def nps_adjusted(promoters: Any, detractors: Any, n: Any) -> tuple[F, F]:
    """Adjusted NPS share difference and its standard error (Rocks 2016).

    Adds 3/4 to promoters and detractors and 3 to ``n``; the standard error
    is the multinomial one at the adjusted shares.

    Parameters
    ----------
    promoters, detractors, n : array-like
        Counts per group.

    Returns
    -------
    centre : ndarray
        Adjusted ``p - d`` (a share difference in [-1, 1]).
    se : ndarray
        Its standard error (> 0).

    Examples
    --------
    >>> c, se = nps_adjusted([10], [0], [10])
    >>> round(float(c[0]), 4), bool(se[0] > 0)
    (0.7692, True)
    """
    m = _f(n) + 3.0
    p = (_f(promoters) + 0.75) / m
    d = (_f(detractors) + 0.75) / m
    centre = p - d
    se = np.sqrt(np.maximum(p + d - centre**2, 0.0) / m)
    return centre, se


def nps_interval(
    promoters: Any,
    detractors: Any,
    n: Any,
    level: float,
    method: str = "adjusted_wald",
    *,
    n_boot: int = 2000,
    rng: np.random.Generator | None = None,
) -> tuple[F, F]:
    """Confidence interval of the NPS (in points, -100..100) per group.

    Parameters
    ----------
    promoters, detractors, n : array-like of int
        Counts per group (``n >= 1``).
    level : float
        Confidence level in (0, 1).
    method : {"adjusted_wald", "wald", "bootstrap"}, default="adjusted_wald"
        See the module notes. ``"wald"`` has zero width when all answers fall
        in one class.
    n_boot : int, default=2000
        Trinomial resamples per group (``"bootstrap"`` only).
    rng : numpy.random.Generator, optional
        Random source for ``"bootstrap"`` (default: seed 0).

    Returns
    -------
    low, high : ndarray
        Bounds, clipped to [-100, 100].

    Raises
    ------
    InvalidParameterError
        For an unknown method.

    Examples
    --------
    >>> low, high = nps_interval([50], [20], [100], 0.95, "wald")
    >>> round(float(low[0]), 2), round(float(high[0]), 2)
    (14.69, 45.31)
    """
    validate_params("nps_interval", {"method": method}, {"method": [_NPS_METHOD]})
    prom, detr, size = _f(promoters), _f(detractors), _f(n)
    z = z_value(level)
    if method == "wald":
        p, d = prom / size, detr / size
        centre = p - d
        se = np.sqrt(np.maximum(p + d - centre**2, 0.0) / size)
        low, high = centre - z * se, centre + z * se
    elif method == "adjusted_wald":
        centre, se = nps_adjusted(prom, detr, size)
        low, high = centre - z * se, centre + z * se
    elif method == "bootstrap":
        gen = np.random.default_rng(0) if rng is None else rng
        low = np.empty(len(size))
        high = np.empty(len(size))
        tail = 0.5 * (1.0 - level)
        for i in range(len(size)):
            k = int(size[i])
            probs = [prom[i] / k, detr[i] / k, max(1.0 - (prom[i] + detr[i]) / k, 0.0)]
            draws = gen.multinomial(k, probs, size=n_boot)
            diff = (draws[:, 0] - draws[:, 1]) / k
            low[i], high[i] = np.quantile(diff, [tail, 1.0 - tail])
    return np.clip(100.0 * low, -100.0, 100.0), np.clip(100.0 * high, -100.0, 100.0)


def wilson_interval(successes: Any, n: Any, level: float) -> tuple[F, F]:
    """Wilson score interval of a proportion (as a share in [0, 1]).

    Parameters
    ----------
    successes, n : array-like
        Counts per group (``n >= 1``).
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    low, high : ndarray

    Examples
    --------
    >>> low, high = wilson_interval([0], [10], 0.95)
    >>> float(low[0]), round(float(high[0]), 4)
    (0.0, 0.2775)
    """
    x, size = _f(successes), _f(n)
    z = z_value(level)
    p = x / size
    denom = 1.0 + z**2 / size
    centre = (p + z**2 / (2.0 * size)) / denom
    half = z / denom * np.sqrt(np.maximum(p * (1.0 - p), 0.0) / size + z**2 / (4.0 * size**2))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def proportion_adjusted(successes: Any, n: Any) -> tuple[F, F]:
    """Share with one success and one failure added, and its standard error.

    The Agresti-Caffo adjustment: comparing two such shares by
    ``(p1 - p2) / sqrt(se1**2 + se2**2)`` behaves well even at 0 % or 100 %.

    Parameters
    ----------
    successes, n : array-like
        Counts per group.

    Returns
    -------
    share, se : ndarray

    Examples
    --------
    >>> p, se = proportion_adjusted([8], [8])
    >>> float(p[0]), round(float(se[0]), 4)
    (0.9, 0.0949)
    """
    m = _f(n) + 2.0
    p = (_f(successes) + 1.0) / m
    return p, np.sqrt(p * (1.0 - p) / m)


def t_interval(
    mean: Any, sd: Any, n: Any, level: float, bounds: tuple[float, float]
) -> tuple[F, F]:
    """Student t interval of a mean score, clipped to the score scale.

    With fewer than two answers the spread is unknown and the interval is the
    whole scale ``bounds``.

    Parameters
    ----------
    mean, sd, n : array-like
        Mean, sample standard deviation (``ddof=1``) and count per group.
    level : float
        Confidence level in (0, 1).
    bounds : (float, float)
        The score scale, e.g. ``(1, 7)`` for CES.

    Returns
    -------
    low, high : ndarray

    Examples
    --------
    >>> low, high = t_interval([5.0, 4.0], [1.0, 0.0], [4, 1], 0.95, (1.0, 7.0))
    >>> [round(float(v), 3) for v in low], [round(float(v), 3) for v in high]
    ([3.409, 1.0], [6.591, 7.0])
    """
    m, s, size = _f(mean), _f(sd), _f(n)
    enough = size >= 2
    df = np.where(enough, size - 1.0, 1.0)
    q = stats.t.ppf(0.5 + 0.5 * level, df)
    half = q * np.where(enough, s, 0.0) / np.sqrt(np.maximum(size, 1.0))
    low = np.where(enough, m - half, bounds[0])
    high = np.where(enough, m + half, bounds[1])
    return np.clip(low, *bounds), np.clip(high, *bounds)
