"""k-means segmentation on standardised view columns."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from crmkit._params import Constraint, Interval, Options, Predicate, parameter_error
from crmkit.exceptions import DataWarning
from crmkit.segmentation._base import OUTPUT_NAME_CONSTRAINT, SegmenterBase
from crmkit.segmentation._kmeans_core import kmeans, silhouette_score
from crmkit.segmentation._text import format_number, join_texts, number_texts, pick

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["KMeansSegmenter"]

#: Columns named as distinguishing a cluster, at most.
_N_DISTINGUISHING = 3
#: A centre at least this many standard deviations from the mean distinguishes.
_DISTINCT_Z = 0.5


def _is_columns(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) > 0
        and all(isinstance(v, str) and v for v in value)
        and len(set(value)) == len(value)
    )


def _is_k_range(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 2 <= value[0] <= value[1]
    )


class KMeansSegmenter(SegmenterBase):
    """k-means clusters of customers on standardised columns, numpy/scipy only.

    Columns (optionally ``log1p``-transformed first) are standardised to mean
    0 and standard deviation 1 in the fitting view; k-means with k-means++
    seeding runs ``n_init`` times from a seeded generator and keeps the
    lowest inertia, so results are deterministic. With ``k="auto"`` each
    ``k`` in ``k_range`` is clustered on a seeded sample of at most
    ``sample_size`` customers and the ``k`` with the highest mean silhouette
    is used (the smaller ``k`` on ties). Clusters are labelled 1..k by size,
    largest first. When the view has fewer distinct customers than ``k``,
    ``k`` shrinks to their number with a :class:`~crmkit.exceptions.DataWarning`
    (``k="auto"`` never tries more clusters than distinct customers).

    Parameters
    ----------
    columns : sequence of str, default=("frequency", "days_since_last", "revenue")
        Numeric view columns to cluster on.
    log_columns : sequence of str or None, default=None
        Columns (among ``columns``, values > -1) transformed by ``log1p``
        before standardising, for skewed amounts.
    k : int or "auto", default="auto"
        Number of clusters, or chosen by silhouette.
    k_range : (int, int), default=(2, 8)
        Smallest and largest ``k`` tried by ``k="auto"``.
    n_init : int, default=10
        k-means++ starts; the lowest inertia wins.
    max_iter : int, default=300
        Lloyd iterations per start at most.
    sample_size : int, default=1000
        Customers sampled (seeded) for the silhouette of ``k="auto"``.
    random_state : int, default=0
        Seed.
    output_name : str, default="segment"
        Name of the output Series.

    Attributes
    ----------
    k_ : int
        Number of clusters used.
    mean_ : numpy.ndarray of float, shape (n_columns,)
        Means of the (transformed) columns in the fitting view.
    scale_ : numpy.ndarray of float, shape (n_columns,)
        Their standard deviations (1 for a constant column).
    centroids_ : numpy.ndarray of float, shape (``k_``, n_columns)
        Cluster centres in standardised units, row i for label i + 1.
    counts_ : numpy.ndarray of int, shape (``k_``,)
        Customers per cluster in the fitting view.
    inertia_ : float
        Within-cluster sum of squares (standardised units).
    silhouettes_ : dict of str to float
        For ``k="auto"``: the silhouette of each ``k`` tried (keys are ``k``
        as text); empty otherwise.
    categories_ : tuple of int
        ``(1, ..., k_)``.

    References
    ----------
    .. [1] Arthur, D. and Vassilvitskii, S. (2007). k-means++: the advantages of
       careful seeding. Proceedings of SODA 2007.
    .. [2] Rousseeuw, P. J. (1987). Silhouettes: a graphical aid to the
       interpretation and validation of cluster analysis. Journal of
       Computational and Applied Mathematics 20, 53-65.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(0, 1, 50), rng.normal(20, 1, 30)])
    >>> view = pd.DataFrame({"x": x}, index=pd.Index(range(80), name="customer_id"))
    >>> seg = KMeansSegmenter(columns=("x",)).fit(view)
    >>> seg.k_, seg.assign(view).value_counts().sort_index().tolist()
    (2, [50, 30])
    >>> seg.describe().round(1)
             n_customers  customer_share     x
    segment
    1                 50           0.6  ...
    2                 30           0.4  20...
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "columns": [Predicate(_is_columns, "a non-empty sequence of distinct column names")],
        "log_columns": [None, Predicate(_is_columns, "a sequence of column names")],
        "k": [Interval("int", 1, None), Options(frozenset({"auto"}))],
        "k_range": [Predicate(_is_k_range, "a pair (low, high) of ints, 2 <= low <= high")],
        "n_init": [Interval("int", 1, None)],
        "max_iter": [Interval("int", 1, None)],
        "sample_size": [Interval("int", 3, None)],
        "random_state": [Interval("int", 0, None)],
        "output_name": OUTPUT_NAME_CONSTRAINT,
    }

    def __init__(
        self,
        *,
        columns: Sequence[str] = ("frequency", "days_since_last", "revenue"),
        log_columns: Sequence[str] | None = None,
        k: int | str = "auto",
        k_range: tuple[int, int] = (2, 8),
        n_init: int = 10,
        max_iter: int = 300,
        sample_size: int = 1000,
        random_state: int = 0,
        output_name: str = "segment",
    ) -> None:
        self.columns = columns
        self.log_columns = log_columns
        self.k = k
        self.k_range = k_range
        self.n_init = n_init
        self.max_iter = max_iter
        self.sample_size = sample_size
        self.random_state = random_state
        self.output_name = output_name

    @property
    def requires(self) -> tuple[str, ...]:
        """The clustering columns.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> KMeansSegmenter(columns=["revenue", "n_products"]).requires
        ('revenue', 'n_products')
        """
        return tuple(self.columns)

    def _transformed(self, view: pd.DataFrame) -> np.ndarray:
        x: np.ndarray = view[list(self.columns)].to_numpy(dtype=np.float64, copy=True)
        for j, name in enumerate(self.columns):
            if self.log_columns is not None and name in self.log_columns:
                x[:, j] = np.log1p(x[:, j])
        return x

    def _check_log_values(self, view: pd.DataFrame) -> None:
        from crmkit.exceptions import SchemaError, SchemaFailure

        failures = []
        for name in self.log_columns or ():
            values = view[name].to_numpy(dtype=np.float64)
            bad = values <= -1
            if bad.any():
                failures.append(
                    SchemaFailure(
                        frame="view",
                        column=name,
                        check="has values <= -1, which log1p cannot take (it is in log_columns)",
                        n_failing=int(bad.sum()),
                        rows=tuple(view.index[bad][:5].tolist()),
                        values=tuple(values[bad][:5].tolist()),
                    )
                )
        if failures:
            raise SchemaError(failures)

    def _choose_k(self, z: np.ndarray, n_distinct: int, rng: np.random.Generator) -> int:
        low, high = self.k_range
        if self.sample_size < len(z):
            rows = np.sort(rng.choice(len(z), size=self.sample_size, replace=False))
            sample = z[rows]
        else:
            sample = z
        n_sample_distinct = len(np.unique(sample, axis=0))
        candidates = [k for k in range(low, high + 1) if k < n_sample_distinct]
        if not candidates:
            return min(low, n_distinct)
        best_k, best_s = candidates[0], -np.inf
        for k in candidates:
            fit = kmeans(sample, k, rng, n_init=self.n_init, max_iter=self.max_iter)
            n_used = len(np.unique(fit.labels))
            score = silhouette_score(sample, np.unique(fit.labels, return_inverse=True)[1])
            if n_used < 2:
                score = -1.0
            self.silhouettes_[str(k)] = score
            if score > best_s:
                best_k, best_s = k, score
        return best_k

    def fit(self, view: pd.DataFrame) -> Self:
        """Standardise the columns, pick ``k`` and cluster.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``columns`` (at least one row).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters, e.g. a ``log_columns`` entry not in
            ``columns``.
        SchemaError
            For missing, non-numeric, missing-valued or infinite columns, or
            values <= -1 in a ``log_columns`` column.

        Warns
        -----
        DataWarning
            When there are fewer distinct customers than ``k``.

        Examples
        --------
        >>> from crmkit.testing import make_customer_view
        >>> KMeansSegmenter(k=3).fit(make_customer_view(60)).k_
        3
        """
        self._validate_params()
        extra = [c for c in self.log_columns or () if c not in self.columns]
        if extra:
            raise parameter_error(
                "KMeansSegmenter",
                "log_columns",
                f"None or names among 'columns' {list(self.columns)!r} (it names {extra!r}, "
                "which are not in columns)",
                self.log_columns,
            )
        view = self._check_view(view, min_customers=1)
        self._check_log_values(view)
        x = self._transformed(view)
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        z = (x - mean) / scale
        rng = np.random.default_rng(self.random_state)
        n_distinct = len(np.unique(z, axis=0))
        self.silhouettes_: dict[str, float] = {}
        if self.k == "auto":
            k = self._choose_k(z, n_distinct, rng)
        else:
            k = int(self.k)
            if k > n_distinct:
                warnings.warn(
                    f"KMeansSegmenter: the view has {n_distinct} distinct customers, "
                    f"fewer than k={k}; using k={n_distinct}",
                    DataWarning,
                    stacklevel=2,
                )
                k = n_distinct
        result = kmeans(z, k, rng, n_init=self.n_init, max_iter=self.max_iter)
        counts = np.bincount(result.labels, minlength=k)
        # label 1 = largest cluster; ties broken by the centre's coordinates
        keys = [tuple(-counts[i : i + 1]) + tuple(result.centers[i]) for i in range(k)]
        order = sorted(range(k), key=lambda i: keys[i])
        self.mean_ = mean
        self.scale_ = scale
        self.centroids_ = result.centers[order]
        self.counts_ = counts[order].astype(np.int64)
        self.inertia_ = result.inertia
        self.k_ = k
        self.categories_ = tuple(range(1, k + 1))
        return self

    def _codes(self, view: pd.DataFrame) -> np.ndarray:
        if len(view) == 0:
            return np.zeros(0, dtype=np.intp)
        z = (self._transformed(view) - self.mean_) / self.scale_
        codes: np.ndarray = np.argmin(cdist(z, self.centroids_, "sqeuclidean"), axis=1)
        return codes.astype(np.intp)

    def _original_units(self, z: np.ndarray) -> np.ndarray:
        """Standardised points back in the columns' own units."""
        x: np.ndarray = z * self.scale_ + self.mean_
        for j, name in enumerate(self.columns):
            if self.log_columns is not None and name in self.log_columns:
                x[..., j] = np.expm1(x[..., j])
        return x

    def _distinguishing(self) -> tuple[np.ndarray, list[list[str]], list[list[str]]]:
        """Per cluster, up to three columns whose centre is furthest from the mean.

        A column distinguishes a cluster when its centre lies at least
        ``_DISTINCT_Z`` standard deviations from the mean; a cluster with
        none shows its furthest columns as "near the average". Returns the
        column of each slot (-1 when unused), the slot's opening text
        (``"; distinguishing: high frequency "``) and closing text
        (``" (centre 10.5, overall 3.1)"``).
        """
        k, d = self.centroids_.shape
        n_slots = min(_N_DISTINGUISHING, d)
        centres = self._original_units(self.centroids_)
        overall = self._original_units(np.zeros(d))
        columns = np.full((k, n_slots), -1, dtype=np.intp)
        heads = [[""] * k for _ in range(n_slots)]
        tails = [[""] * k for _ in range(n_slots)]
        for c in range(k):
            z = self.centroids_[c]
            order = np.argsort(-np.abs(z), kind="stable")
            far = [int(j) for j in order if abs(z[j]) >= _DISTINCT_Z][:n_slots]
            near = not far  # then show the columns closest to distinguishing
            for slot, j in enumerate([int(j) for j in order[:n_slots]] if near else far):
                if near:
                    lead, level = "; near the average on every column: " if slot == 0 else ", ", ""
                else:
                    lead = "; distinguishing: " if slot == 0 else ", "
                    level = "high " if z[j] > 0 else "low "
                columns[c, slot] = j
                heads[slot][c] = f"{lead}{level}{self.columns[j]} "
                tails[slot][c] = (
                    f" (centre {format_number(centres[c, j])}, overall {format_number(overall[j])})"
                )
        return columns, heads, tails

    def _explain(self, view: pd.DataFrame) -> tuple[np.ndarray, Any]:
        n = len(view)
        raw = view[list(self.columns)].to_numpy(dtype=np.float64)
        z = (self._transformed(view) - self.mean_) / self.scale_
        if n == 0:
            return np.zeros(0, dtype=np.intp), join_texts([], 0)
        squared = cdist(z, self.centroids_, "sqeuclidean")
        codes = np.argmin(squared, axis=1).astype(np.intp)  # exactly as _codes
        dist = np.sqrt(squared)
        rows = np.arange(n)
        parts: list[Any] = [
            pick([f"cluster {c}: nearest centre (distance " for c in self.categories_], codes),
            number_texts(dist[rows, codes]),
        ]
        if self.k_ > 1:
            others = dist.copy()
            others[rows, codes] = np.inf
            runner = np.argmin(others, axis=1)
            parts += [
                pick([f"; next: cluster {c} at " for c in self.categories_], runner),
                number_texts(others[rows, runner]),
            ]
        parts.append(")")
        columns, heads, tails = self._distinguishing()
        for slot in range(columns.shape[1]):
            col = columns[codes, slot]
            shown = col >= 0
            values = number_texts(raw[rows, np.where(shown, col, 0)])
            parts += [
                pick(heads[slot], codes),
                values.where(pd.Series(shown), ""),
                pick(tails[slot], codes),
            ]
        return codes, join_texts(parts, n)

    def _describe(self) -> pd.DataFrame:
        centres = self._original_units(self.centroids_)
        frame: pd.DataFrame = pd.DataFrame(
            {
                "n_customers": self.counts_,
                "customer_share": self.counts_ / self.counts_.sum(),
            },
            index=pd.Index(list(self.categories_), name=self.output_name),
        )
        for j, name in enumerate(self.columns):
            frame[name] = centres[:, j]
        return frame

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "categories_"):
            return None
        return {
            "k": self.k_,
            "mean": self.mean_,
            "scale": self.scale_,
            "centroids": self.centroids_,
            "counts": self.counts_,
            "inertia": self.inertia_,
            "silhouettes": dict(self.silhouettes_),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.k_ = int(state["k"])
        self.mean_ = np.asarray(state["mean"], dtype=np.float64)
        self.scale_ = np.asarray(state["scale"], dtype=np.float64)
        self.centroids_ = np.asarray(state["centroids"], dtype=np.float64).reshape(self.k_, -1)
        self.counts_ = np.asarray(state["counts"], dtype=np.int64)
        self.inertia_ = float(state["inertia"])
        self.silhouettes_ = {str(k): float(v) for k, v in state["silhouettes"].items()}
        self.categories_ = tuple(range(1, self.k_ + 1))
