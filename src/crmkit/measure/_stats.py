"""Two-group tests and the stratified bootstrap used by the experiment functions."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.stats import norm
from scipy.stats import t as student_t

__all__ = [
    "bootstrap_mean_differences",
    "interval",
    "one_sample_p_value",
    "two_proportion_z_test",
    "welch_test",
]

FloatArray = npt.NDArray[np.float64]
_CHUNK = 1 << 21  # resampled values held in memory at once


def two_proportion_z_test(x_t: float, n_t: int, x_c: float, n_c: int) -> tuple[float, float]:
    """Two-sided two-proportion z-test with the pooled standard error.

    ``z = (p_t - p_c) / sqrt(p (1 - p) (1/n_t + 1/n_c))`` with ``p`` the
    pooled rate. When both groups are all 0 or all 1 the rates are equal:
    ``z = 0`` and ``p = 1``.

    Parameters
    ----------
    x_t, x_c : float
        Conversions per group.
    n_t, n_c : int
        Group sizes (> 0).

    Returns
    -------
    z : float
    p_value : float

    References
    ----------
    .. [1] Agresti, A. (2013). Categorical Data Analysis, 3rd ed., Wiley, sec. 3.1.

    Examples
    --------
    >>> z, p = two_proportion_z_test(60, 200, 40, 200)
    >>> round(z, 3), round(p, 4)
    (2.309, 0.0209)
    """
    p_t, p_c = x_t / n_t, x_c / n_c
    pooled = (x_t + x_c) / (n_t + n_c)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_t + 1.0 / n_c))
    if se == 0.0:
        return 0.0, 1.0
    z = (p_t - p_c) / se
    return float(z), float(2.0 * norm.sf(abs(z)))


def welch_test(a: FloatArray, b: FloatArray) -> tuple[float, float, float]:
    """Welch's unequal-variance t-test of ``mean(a) - mean(b)``, two-sided.

    When both samples are constant the statistic is 0 (equal means, p = 1)
    or infinite (different means, p = 0).

    Parameters
    ----------
    a, b : ndarray of float
        Samples, each with at least two values.

    Returns
    -------
    t : float
    df : float
        Welch-Satterthwaite degrees of freedom.
    p_value : float

    References
    ----------
    .. [1] Welch, B. L. (1947). The generalization of "Student's" problem when
       several different population variances are involved. Biometrika
       34(1-2), 28-35.

    Examples
    --------
    >>> import numpy as np
    >>> t, df, p = welch_test(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 0.0, 1.0]))
    >>> round(t, 3), round(df, 2), round(p, 4)
    (2.828, 4.15, 0.0454)
    """
    na, nb = len(a), len(b)
    diff = float(a.mean() - b.mean())
    va, vb = float(a.var(ddof=1)) / na, float(b.var(ddof=1)) / nb
    se2 = va + vb
    if se2 == 0.0:
        if diff == 0.0:
            return 0.0, float(na + nb - 2), 1.0
        return math.copysign(math.inf, diff), float(na + nb - 2), 0.0
    df = se2**2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    t = diff / math.sqrt(se2)
    return float(t), float(df), float(2.0 * student_t.sf(abs(t), df))


def bootstrap_mean_differences(
    treatment: FloatArray, control: FloatArray, n_boot: int, rng: np.random.Generator
) -> FloatArray:
    """Bootstrap replicates of column means, treatment minus control.

    Each replicate resamples each group with replacement, keeping its size
    (a stratified bootstrap). Vectorised in chunks of about two million
    values, so memory stays bounded for large groups.

    Parameters
    ----------
    treatment : ndarray of shape (n_treatment, k)
        Outcomes of the treatment group (``k`` metrics).
    control : ndarray of shape (n_control, k)
        Outcomes of the control group; with 0 rows the replicates are the
        treatment means alone.
    n_boot : int
        Replicates.
    rng : Generator
        Random source.

    Returns
    -------
    ndarray of shape (n_boot, k)

    Examples
    --------
    >>> import numpy as np
    >>> t = np.ones((50, 1)); c = np.zeros((40, 1))
    >>> reps = bootstrap_mean_differences(t, c, 200, np.random.default_rng(0))
    >>> reps.shape, float(reps.mean())
    ((200, 1), 1.0)
    """
    k = treatment.shape[1]
    out = np.empty((n_boot, k))
    groups = [(treatment, 1.0), (control, -1.0)] if len(control) else [(treatment, 1.0)]
    widest = max(len(g) for g, _ in groups)
    step = max(1, _CHUNK // max(widest, 1))
    for lo in range(0, n_boot, step):
        hi = min(n_boot, lo + step)
        total = np.zeros((hi - lo, k))
        for values, sign in groups:
            idx = rng.integers(0, len(values), size=(hi - lo, len(values)))
            for j in range(k):
                total[:, j] += sign * values[:, j][idx].mean(axis=1)
        out[lo:hi] = total
    return out


def interval(replicates: FloatArray, confidence: float) -> list[tuple[float, float]]:
    """Percentile intervals of each column of bootstrap replicates.

    Parameters
    ----------
    replicates : ndarray of shape (n_boot, k)
        Replicates.
    confidence : float
        Level, in (0, 1).

    Returns
    -------
    list of (lower, upper)

    Examples
    --------
    >>> import numpy as np
    >>> interval(np.arange(101.0)[:, None], 0.9)
    [(5.0, 95.0)]
    """
    tail = (1.0 - confidence) / 2.0
    q = np.quantile(replicates, [tail, 1.0 - tail], axis=0)
    return [(float(q[0, j]), float(q[1, j])) for j in range(replicates.shape[1])]


def one_sample_p_value(values: FloatArray) -> float:
    """Two-sided one-sample t-test of ``mean(values) == 0``.

    A constant sample gives p = 1 when it is 0 and p = 0 otherwise.

    Parameters
    ----------
    values : ndarray of float
        At least two values.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> round(one_sample_p_value(np.array([1.0, 2.0, 3.0, 0.5])), 4)
    0.0609
    """
    n = len(values)
    sd = float(values.std(ddof=1))
    mean = float(values.mean())
    if sd == 0.0:
        return 1.0 if mean == 0.0 else 0.0
    t = mean / (sd / math.sqrt(n))
    return float(2.0 * student_t.sf(abs(t), n - 1))
