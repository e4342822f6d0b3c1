"""KMeansSegmenter: planted clusters are recovered; seeding, k="auto", silhouette."""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError
from crmkit.segmentation import KMeansSegmenter
from crmkit.segmentation._kmeans_core import kmeans, silhouette_score


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    """Hubert and Arabie's adjusted Rand index from the contingency table."""
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1), dtype=np.int64)
    np.add.at(table, (ai, bi), 1)
    pairs = sum(comb(int(x), 2) for x in table.ravel())
    rows = sum(comb(int(x), 2) for x in table.sum(axis=1))
    cols = sum(comb(int(x), 2) for x in table.sum(axis=0))
    expected = rows * cols / comb(len(a), 2)
    return (pairs - expected) / (0.5 * (rows + cols) - expected)


def test_ari_helper() -> None:
    x = np.array([0, 0, 1, 1, 2, 2])
    assert adjusted_rand_index(x, x) == 1.0
    assert adjusted_rand_index(x, np.array([5, 5, 7, 7, 9, 9])) == 1.0
    assert adjusted_rand_index(x, np.array([0, 1, 0, 1, 0, 1])) < 0.1


def _planted(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[2.0, 30.0, 200.0], [10.0, 300.0, 900.0], [25.0, 90.0, 5000.0]])
    sizes = (250, 150, 100)
    truth = np.repeat(np.arange(3), sizes)
    spread = centres * 0.08
    x = centres[truth] + rng.normal(size=(len(truth), 3)) * spread[truth]
    order = rng.permutation(len(truth))
    view = pd.DataFrame(
        x[order],
        columns=["frequency", "days_since_last", "revenue"],
        index=pd.Index([f"c{i}" for i in range(len(truth))], name="customer_id"),
    )
    return view, truth[order]


@pytest.mark.parametrize("k", [3, "auto"])
def test_recovers_planted_clusters(k: int | str) -> None:
    view, truth = _planted()
    seg = KMeansSegmenter(k=k, random_state=7).fit(view)
    labels = seg.assign(view)
    assert seg.k_ == 3
    assert adjusted_rand_index(truth, labels.to_numpy()) >= 0.9
    # labels are ordered by size: the planted 250/150/100
    assert seg.describe()["n_customers"].tolist() == [250, 150, 100]
    if k == "auto":
        assert max(seg.silhouettes_, key=seg.silhouettes_.__getitem__) == "3"


def test_is_deterministic_and_centroids_are_in_original_units() -> None:
    view, truth = _planted(1)
    a = KMeansSegmenter(k=3, random_state=3).fit(view)
    b = KMeansSegmenter(k=3, random_state=3).fit(view)
    pd.testing.assert_series_equal(a.assign(view), b.assign(view))
    described = a.describe()
    labels = a.assign(view)
    assert adjusted_rand_index(truth, labels.to_numpy()) >= 0.9
    means = view.groupby(labels.to_numpy()).mean()
    np.testing.assert_allclose(
        described[list(view.columns)].to_numpy(), means.to_numpy(), rtol=1e-9
    )


def test_log_columns_back_transform_centroids() -> None:
    view, _ = _planted(2)
    seg = KMeansSegmenter(k=3, log_columns=("revenue",)).fit(view)
    labels = seg.assign(view)
    geo = np.expm1(np.log1p(view["revenue"]).groupby(labels.to_numpy()).mean())
    np.testing.assert_allclose(seg.describe()["revenue"].to_numpy(), geo.to_numpy(), rtol=1e-9)


def test_few_distinct_customers() -> None:
    view = pd.DataFrame({"x": [1.0, 1.0, 5.0, 5.0]}, index=pd.Index(list("abcd"), name="id"))
    with pytest.warns(DataWarning, match="2 distinct customers"):
        seg = KMeansSegmenter(columns=("x",), k=3).fit(view)
    assert seg.k_ == 2
    assert seg.assign(view).tolist() == [1, 1, 2, 2] or seg.assign(view).tolist() == [2, 2, 1, 1]
    one = KMeansSegmenter(columns=("x",)).fit(view.iloc[:1])
    assert one.k_ == 1 and one.assign(view.iloc[:1]).tolist() == [1]


def test_kmeans_core_beats_a_single_start_and_silhouette_matches_definition() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(60, 2))
    best = kmeans(x, 4, np.random.default_rng(0), n_init=10)
    single = kmeans(x, 4, np.random.default_rng(0), n_init=1)
    assert best.inertia <= single.inertia
    labels = best.labels
    # silhouette by its definition, point by point
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    s = []
    for i in range(len(x)):
        own = labels == labels[i]
        if own.sum() == 1:
            s.append(0.0)
            continue
        a = d[i, own].sum() / (own.sum() - 1)
        b = min(d[i, labels == c].mean() for c in set(labels.tolist()) - {labels[i]})
        s.append((b - a) / max(a, b))
    assert silhouette_score(x, labels) == pytest.approx(np.mean(s), rel=1e-12)


def test_invalid_inputs() -> None:
    view, _ = _planted()
    with pytest.raises(InvalidParameterError, match="not in columns"):
        KMeansSegmenter(log_columns=("tenure",)).fit(view)
    with pytest.raises(InvalidParameterError, match="'k' parameter"):
        KMeansSegmenter(k=0).fit(view)
    negative = view.assign(revenue=-view["revenue"])
    with pytest.raises(SchemaError, match="log1p"):
        KMeansSegmenter(log_columns=("revenue",)).fit(negative)
