"""k-means (k-means++ seeding, Lloyd iterations) and the silhouette, in numpy."""

from __future__ import annotations

import attrs
import numpy as np
from scipy.spatial.distance import cdist

__all__ = ["KMeansResult", "kmeans", "kmeans_plus_plus", "silhouette_score"]


@attrs.frozen(eq=False)
class KMeansResult:
    """The best of several k-means runs.

    Parameters
    ----------
    labels : numpy.ndarray of int, shape (n,)
        Cluster of each row (0-based).
    centers : numpy.ndarray of float, shape (k, d)
        Cluster means.
    inertia : float
        Sum of squared distances to the assigned centers.
    n_iter : int
        Lloyd iterations of the best run.

    Examples
    --------
    >>> r = kmeans(np.array([[0.0], [0.1], [5.0], [5.1]]), 2, np.random.default_rng(0))
    >>> sorted(np.round(r.centers.ravel(), 2).tolist())
    [0.05, 5.05]
    """

    labels: np.ndarray
    centers: np.ndarray
    inertia: float
    n_iter: int


def kmeans_plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Pick ``k`` initial centers by k-means++ seeding.

    The first center is a uniformly drawn row; each next one is drawn with
    probability proportional to the squared distance to the nearest center
    chosen so far (Arthur and Vassilvitskii 2007).

    Parameters
    ----------
    x : numpy.ndarray of float, shape (n, d)
        Data.
    k : int
        Number of centers (``1 <= k <= n``).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray of float, shape (k, d)

    References
    ----------
    .. [1] Arthur, D. and Vassilvitskii, S. (2007). k-means++: the advantages of
       careful seeding. Proceedings of SODA 2007, 1027-1035.

    Examples
    --------
    >>> kmeans_plus_plus(np.array([[0.0], [10.0]]), 2, np.random.default_rng(1)).shape
    (2, 1)
    """
    n = x.shape[0]
    centers = np.empty((k, x.shape[1]), dtype=np.float64)
    centers[0] = x[rng.integers(n)]
    closest = cdist(x, centers[:1], "sqeuclidean").ravel()
    for j in range(1, k):
        total = closest.sum()
        if total > 0:
            idx = int(rng.choice(n, p=closest / total))
        else:  # every row sits on a center already
            idx = int(rng.integers(n))
        centers[j] = x[idx]
        np.minimum(closest, cdist(x, centers[j : j + 1], "sqeuclidean").ravel(), out=closest)
    return centers


def _lloyd(
    x: np.ndarray, centers: np.ndarray, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, float, int]:
    k = centers.shape[0]
    labels = np.zeros(x.shape[0], dtype=np.intp)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported
        dist = cdist(x, centers, "sqeuclidean")
        labels = np.argmin(dist, axis=1)
        counts = np.bincount(labels, minlength=k)
        new = np.empty_like(centers)
        for j in range(x.shape[1]):
            new[:, j] = np.bincount(labels, weights=x[:, j], minlength=k)
        nonempty = counts > 0
        new[nonempty] /= counts[nonempty, None]
        if not nonempty.all():
            # move each empty center onto the row farthest from its center
            far = np.argsort(-dist[np.arange(len(labels)), labels], kind="stable")
            for slot, row in zip(np.flatnonzero(~nonempty), far, strict=False):
                new[slot] = x[row]
        shift = float(((new - centers) ** 2).sum())
        centers = new
        if shift <= tol:
            break
    dist = cdist(x, centers, "sqeuclidean")
    labels = np.argmin(dist, axis=1)
    inertia = float(dist[np.arange(len(labels)), labels].sum())
    return labels, centers, inertia, n_iter


def kmeans(
    x: np.ndarray,
    k: int,
    rng: np.random.Generator,
    *,
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-10,
) -> KMeansResult:
    """Cluster rows by k-means: several k-means++ starts, the lowest inertia wins.

    Parameters
    ----------
    x : numpy.ndarray of float, shape (n, d)
        Data (standardise it first).
    k : int
        Number of clusters (``1 <= k <= n``).
    rng : numpy.random.Generator
        Source of randomness (seed it for reproducible results).
    n_init : int, default=10
        Number of starts.
    max_iter : int, default=300
        Lloyd iterations per start at most.
    tol : float, default=1e-10
        Stop when the squared shift of all centers is at most ``tol``.

    Returns
    -------
    KMeansResult

    References
    ----------
    .. [1] Lloyd, S. P. (1982). Least squares quantization in PCM. IEEE
       Transactions on Information Theory 28(2), 129-137.

    Examples
    --------
    >>> x = np.array([[0.0, 0.0], [0.0, 1.0], [9.0, 9.0], [9.0, 8.0]])
    >>> r = kmeans(x, 2, np.random.default_rng(0))
    >>> bool(r.labels[0] == r.labels[1] != r.labels[2] == r.labels[3]), r.inertia
    (True, 1.0)
    """
    best: KMeansResult | None = None
    for _ in range(n_init):
        start = kmeans_plus_plus(x, k, rng)
        labels, centers, inertia, n_iter = _lloyd(x, start, max_iter, tol)
        if best is None or inertia < best.inertia:
            best = KMeansResult(labels, centers, inertia, n_iter)
    assert best is not None
    return best


def silhouette_score(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette width of a clustering (Rousseeuw 1987).

    For row i with mean distance ``a`` to its own cluster and smallest mean
    distance ``b`` to another cluster, ``s = (b - a) / max(a, b)``; rows alone
    in their cluster score 0.

    Parameters
    ----------
    x : numpy.ndarray of float, shape (n, d)
        Data.
    labels : numpy.ndarray of int, shape (n,)
        Clusters ``0 .. k-1`` with ``2 <= k <= n - 1``.

    Returns
    -------
    float
        In [-1, 1]; higher means better separated clusters.

    References
    ----------
    .. [1] Rousseeuw, P. J. (1987). Silhouettes: a graphical aid to the
       interpretation and validation of cluster analysis. Journal of
       Computational and Applied Mathematics 20, 53-65.

    Examples
    --------
    >>> x = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> round(silhouette_score(x, np.array([0, 0, 1, 1])), 4)
    0.9
    """
    k = int(labels.max()) + 1
    dist = cdist(x, x, "euclidean")
    onehot = np.zeros((len(labels), k))
    onehot[np.arange(len(labels)), labels] = 1.0
    counts = onehot.sum(axis=0)
    sums = dist @ onehot
    own = counts[labels]
    a = np.where(own > 1, sums[np.arange(len(labels)), labels] / np.maximum(own - 1, 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.inf)
    means[np.arange(len(labels)), labels] = np.inf
    b = means.min(axis=1)
    denom = np.maximum(a, b)
    s = np.where((own > 1) & (denom > 0), (b - a) / np.where(denom > 0, denom, 1.0), 0.0)
    return float(s.mean())
