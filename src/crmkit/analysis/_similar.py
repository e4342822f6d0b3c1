"""Predicting new customers from similar known customers (nearest neighbours)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from crmkit.analysis._inputs import F, check_int, view_values
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["encode_features", "nearest_with_ties", "predict_from_similar"]

_DEFAULT = ("industry", "size_class", "region")
_HALF = float(np.sqrt(0.5))


def _is_categorical(series: pd.Series) -> bool:
    dtype = series.dtype
    return not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def encode_features(
    known: pd.DataFrame, new: pd.DataFrame, features: Sequence[str], owner: str
) -> tuple[F, F, list[str]]:
    """Put two frames on one numeric scale: one-hot categories, standardised numbers.

    Unordered categories (and bools) become one indicator per level of
    ``known``, scaled by ``sqrt(1/2)`` so that a mismatch adds 1 to the
    squared distance; a missing or unseen level is all zeros (half a
    mismatch to every level). Ordered categoricals (e.g. ``size_class``)
    and numbers are standardised with the mean and standard deviation of
    ``known`` (a constant column adds nothing).

    Parameters
    ----------
    known, new : DataFrame
        Frames holding ``features``.
    features : sequence of str
        Columns to use.
    owner : str
        Function name for messages.

    Returns
    -------
    known_x, new_x : ndarray of float
        Encoded rows.
    names : list of str
        One name per encoded column (``"industry=ict"``, ``"revenue"``).

    Raises
    ------
    SchemaError
        For missing columns, missing or infinite numeric values, or an
        ordered categorical whose levels differ between the frames.

    Examples
    --------
    >>> a = pd.DataFrame({"industry": ["ict", "retail"], "employees": [10.0, 30.0]})
    >>> ka, kb, names = encode_features(a, a.iloc[:1], ["industry", "employees"], "demo")
    >>> names, kb.round(3).tolist()
    (['industry=ict', 'industry=retail', 'employees'], [[0.707, 0.0, -1.0]])
    """
    failures = []
    for frame_name, frame in (("known", known), ("new", new)):
        for c in features:
            if c not in frame.columns:
                failures.append(
                    SchemaFailure(
                        frame=frame_name, column=c, check=f"is missing (a feature of {owner})"
                    )
                )
    if failures:
        raise SchemaError(failures)
    blocks_k: list[F] = []
    blocks_n: list[F] = []
    names: list[str] = []
    for c in features:
        ks, ns = known[c], new[c]
        ordered = isinstance(ks.dtype, pd.CategoricalDtype) and bool(ks.dtype.ordered)
        if ordered:
            if not (
                isinstance(ns.dtype, pd.CategoricalDtype)
                and list(ns.cat.categories) == list(ks.cat.categories)
            ):
                failures.append(
                    SchemaFailure(
                        frame="new",
                        column=c,
                        check=(
                            "must be a categorical with the "
                            "same ordered levels as the known customers"
                        ),
                    )
                )
                continue
            kc, nc = ks.cat.codes.to_numpy(), ns.cat.codes.to_numpy()
            kv = np.where(kc < 0, np.nan, kc.astype(np.float64))
            nv = np.where(nc < 0, np.nan, nc.astype(np.float64))
        elif _is_categorical(ks) or _is_categorical(ns):
            levels = pd.unique(ks.dropna().astype(object).to_numpy())
            k_obj = ks.astype(object).to_numpy()
            n_obj = ns.astype(object).to_numpy()
            for level in levels:
                blocks_k.append((k_obj == level).astype(np.float64)[:, None] * _HALF)
                blocks_n.append((n_obj == level).astype(np.float64)[:, None] * _HALF)
                names.append(f"{c}={level}")
            continue
        else:
            kv = ks.to_numpy(dtype=np.float64, na_value=np.nan)
            nv = ns.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = False
        for frame_name, frame, v in (("known", known, kv), ("new", new, nv)):
            miss = ~np.isfinite(v)
            if miss.any():
                bad = True
                failures.append(
                    SchemaFailure(
                        frame=frame_name,
                        column=c,
                        check="has missing or infinite values (fill or drop them first)",
                        n_failing=int(miss.sum()),
                        rows=tuple(frame.index[miss][:5].tolist()),
                    )
                )
        if bad:
            continue
        mean, sd = float(kv.mean()) if len(kv) else 0.0, float(kv.std()) if len(kv) else 0.0
        scale = sd if sd > 0 else np.inf
        blocks_k.append(((kv - mean) / scale)[:, None])
        blocks_n.append(((nv - mean) / scale)[:, None])
        names.append(c)
    if failures:
        raise SchemaError(failures)
    known_x: F = np.hstack(blocks_k) if blocks_k else np.zeros((len(known), 0))
    new_x: F = np.hstack(blocks_n) if blocks_n else np.zeros((len(new), 0))
    return known_x, new_x, names


def nearest_with_ties(
    known_x: F, new_x: F, limit: npt.NDArray[np.int64], own: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], F, npt.NDArray[np.int64]]:
    """The ``limit`` nearest known rows of each new row, with every tie of the last one.

    Identical known rows are collapsed to one profile and searched with a
    k-d tree (:class:`scipy.spatial.cKDTree`): the work grows with
    ``n_new * log(n_profiles)`` and the neighbours kept, never with
    ``n_new * n_known``. Distances are Euclidean, computed exactly from the
    coordinate differences; rows within 1e-9 of the ``limit``-th distance
    count as tied and are all kept. ``own[i] >= 0`` is the known row of new
    row ``i`` itself, never its own neighbour.

    Parameters
    ----------
    known_x : ndarray of float, shape (n_known, n_features)
    new_x : ndarray of float, shape (n_new, n_features)
    limit : ndarray of int, shape (n_new,)
        Neighbours wanted per new row (1 <= limit <= available known rows).
    own : ndarray of int, shape (n_new,)
        Known row of the same customer, or -1.

    Returns
    -------
    chosen : ndarray of int
        Known rows, concatenated per new row: nearest first, ties in known
        row order.
    distance : ndarray of float
        Their distances.
    starts : ndarray of int, shape (n_new + 1,)
        ``chosen[starts[i]:starts[i + 1]]`` belong to new row ``i``.

    Examples
    --------
    >>> known = np.array([[0.0], [1.0], [1.0], [5.0]])
    >>> chosen, d, starts = nearest_with_ties(known, np.array([[0.9]]), np.array([2]),
    ...                                       np.array([-1]))
    >>> chosen.tolist(), starts.tolist()
    ([1, 2], [0, 2])
    """
    n_new = len(new_x)
    if n_new == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(1, np.int64)
    profiles, group = np.unique(known_x, axis=0, return_inverse=True)
    group = group.ravel()
    order = np.argsort(group, kind="stable")  # members of each profile, in row order
    size = np.bincount(group, minlength=len(profiles))
    first = np.concatenate([[0], np.cumsum(size)])
    tree = cKDTree(profiles, balanced_tree=False)  # sliding midpoint: one-hot columns split well
    # enough profiles to hold limit rows even without the customer's own row
    n_query = np.minimum(limit + 1, len(profiles))
    reach = np.empty(n_new)
    for q in np.unique(n_query).tolist():
        at = np.flatnonzero(n_query == q)
        found: tuple[Any, Any] = tree.query(new_x[at], k=q)
        idx = np.asarray(found[1]).reshape(len(at), q)
        # exact distances, then the limit-th nearest row (own row left out)
        d = np.sqrt(((profiles[idx] - new_x[at][:, None, :]) ** 2).sum(axis=2))
        counts = (
            size[idx] - (group[np.maximum(own[at], 0)][:, None] == idx) * (own[at] >= 0)[:, None]
        )
        sort = np.argsort(d, axis=1, kind="stable")
        d, counts = np.take_along_axis(d, sort, 1), np.take_along_axis(counts, sort, 1)
        enough = np.cumsum(counts, axis=1) >= limit[at][:, None]
        reach[at] = d[np.arange(len(at)), np.argmax(enough, axis=1)]
    balls = tree.query_ball_point(new_x, reach + 1e-9 + 1e-12 * (1.0 + reach))
    chosen_parts: list[npt.NDArray[np.int64]] = []
    dist_parts: list[F] = []
    starts = np.zeros(n_new + 1, dtype=np.int64)
    for i in range(n_new):
        near = np.asarray(balls[i], dtype=np.int64)
        d = np.sqrt(((profiles[near] - new_x[i]) ** 2).sum(axis=1))
        near, d = near[d <= reach[i] + 1e-9], d[d <= reach[i] + 1e-9]
        rows = np.concatenate([order[first[g] : first[g + 1]] for g in near.tolist()])
        row_d = np.repeat(d, size[near])
        if own[i] >= 0:
            keep = rows != own[i]
            rows, row_d = rows[keep], row_d[keep]
        sort = np.lexsort((rows, row_d))
        chosen_parts.append(rows[sort])
        dist_parts.append(row_d[sort])
        starts[i + 1] = starts[i] + len(sort)
    return np.concatenate(chosen_parts), np.concatenate(dist_parts), starts


def predict_from_similar(
    view_new: pd.DataFrame,
    view_known: pd.DataFrame,
    target: str = "revenue",
    features: Sequence[str] | None = None,
    k: int = 10,
    *,
    weights: str = "uniform",
) -> pd.DataFrame:
    """Predict a value for customers without history from their most similar known customers.

    Seed 000: where a customer has no purchase history, use the history of
    similar customers. Customers are compared on ``features`` (firmographics
    such as industry, size and region, and any early behaviour such as the
    first order's value) encoded by :func:`encode_features`; the ``k``
    nearest known customers (Euclidean distance; every customer tied with
    the ``k``-th is included, so the result does not depend on row order)
    give the prediction: the mean of their ``target`` (or a
    distance-weighted mean). A customer present in both frames is never its
    own neighbour.

    Parameters
    ----------
    view_new : DataFrame
        The customers to predict for (new customers or prospects), indexed
        by id, with the ``features``.
    view_known : DataFrame
        Customers with history, indexed by id, with the ``features`` and
        ``target``.
    target : str, default="revenue"
        Numeric column of ``view_known`` to predict (revenue, clv, n_products,
        a next-period purchase count ...).
    features : sequence of str, optional
        Default: those of ``industry``, ``size_class`` and ``region`` that
        both frames have.
    k : int, default=10
        Neighbours (at most the number of known customers).
    weights : {"uniform", "distance"}, default="uniform"
        ``"distance"`` weights each neighbour by ``1 / (0.1 + distance)``.

    Returns
    -------
    DataFrame
        Indexed like ``view_new``: ``predicted_<target>``, ``neighbor_std``
        (spread of the target among the neighbours), ``n_neighbors``,
        ``mean_distance`` and ``neighbors`` (tuple of the known customer ids
        used, nearest first).

    Raises
    ------
    SchemaError
        For missing features or target, missing numeric values, no default
        feature available, or no known customers.
    InvalidParameterError
        For a bad ``k`` or ``weights``.

    Examples
    --------
    >>> import pandas as pd
    >>> known = pd.DataFrame({"industry": ["ict", "ict", "retail", "retail"],
    ...                       "revenue": [100.0, 140.0, 20.0, 30.0]},
    ...                      index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
    >>> new = pd.DataFrame({"industry": ["ict", "retail"]},
    ...                    index=pd.Index(["n1", "n2"], name="customer_id"))
    >>> predict_from_similar(new, known, k=2)[["predicted_revenue", "neighbors"]]
                 predicted_revenue neighbors
    customer_id
    n1                       120.0    (a, b)
    n2                        25.0    (c, d)
    """
    owner = "predict_from_similar"
    k = check_int(k, "k", owner)
    if weights not in ("uniform", "distance"):
        raise InvalidParameterError(
            f"The 'weights' parameter of {owner} must be one of "
            f"{{'distance', 'uniform'}}. Got {weights!r} instead."
        )
    for name, frame in (("view_new", view_new), ("view_known", view_known)):
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(
                [
                    SchemaFailure(
                        frame=name,
                        column="<frame>",
                        check=f"is a {type(frame).__name__}; {owner} needs a DataFrame",
                    )
                ]
            )
    y, _ = view_values(view_known, target, owner)
    if features is None:
        features = [c for c in _DEFAULT if c in view_new.columns and c in view_known.columns]
        if not features:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view_new",
                        column="<frame>",
                        check=(
                            f"has none of the default features {list(_DEFAULT)}; name the features"
                        ),
                    )
                ]
            )
    features = list(features)
    known_x, new_x, _ = encode_features(view_known, view_new, features, owner)
    own = pd.Index(view_known.index).get_indexer(view_new.index)
    n_known = len(y)
    kk = min(k, n_known)
    limit = np.full(len(view_new), kk, dtype=np.int64)
    limit[(own >= 0) & (kk == n_known)] -= 1
    if len(view_new) and limit.min() < 1:
        row = int(np.argmin(limit))
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view_known",
                    column="<frame>",
                    check=f"has no other customer to compare {view_new.index[row]!r} with",
                )
            ]
        )
    chosen, dist, starts = nearest_with_ties(known_x, new_x, limit, own)
    counts = np.diff(starts)
    pair = np.repeat(np.arange(len(view_new)), counts)
    w = 1.0 / (0.1 + dist) if weights == "distance" else np.ones(len(chosen))
    yc = y[chosen]
    preds = (
        np.bincount(pair, weights=w * yc, minlength=len(view_new))
        / np.bincount(pair, weights=w, minlength=len(view_new))
        if len(view_new)
        else np.zeros(0)
    )
    mean_y = np.bincount(pair, weights=yc, minlength=len(view_new)) / np.maximum(counts, 1)
    spread = np.sqrt(
        np.bincount(pair, weights=(yc - mean_y[pair]) ** 2, minlength=len(view_new))
        / np.maximum(counts, 1)
    )
    n_used = counts.astype(np.int64)
    mean_d = np.bincount(pair, weights=dist, minlength=len(view_new)) / np.maximum(counts, 1)
    known_ids = np.asarray(view_known.index, dtype=object)[chosen]
    used_ids = [
        tuple(known_ids[s:e].tolist())
        for s, e in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True)
    ]
    result: pd.DataFrame = pd.DataFrame(
        {
            f"predicted_{target}": preds,
            "neighbor_std": spread,
            "n_neighbors": n_used,
            "mean_distance": mean_d,
            "neighbors": pd.Series(used_ids, index=view_new.index, dtype=object),
        },
        index=view_new.index,
    )
    return result
