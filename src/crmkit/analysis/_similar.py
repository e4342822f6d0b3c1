"""Predicting new customers from similar known customers (nearest neighbours)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmkit.analysis._inputs import F, check_int, view_values
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["encode_features", "predict_from_similar"]

_DEFAULT = ("industry", "size_class", "region")
_BLOCK = 1024
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
                failures.append(SchemaFailure(frame_name, c, f"is missing (a feature of {owner})"))
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
                        "new",
                        c,
                        "must be a categorical with the same ordered levels as the known customers",
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
                        frame_name,
                        c,
                        "has missing or infinite values (fill or drop them first)",
                        int(miss.sum()),
                        tuple(frame.index[miss][:5].tolist()),
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
                        name, "<frame>", f"is a {type(frame).__name__}; {owner} needs a DataFrame"
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
                        "view_new",
                        "<frame>",
                        f"has none of the default features {list(_DEFAULT)}; name the features",
                    )
                ]
            )
    features = list(features)
    known_x, new_x, _ = encode_features(view_known, view_new, features, owner)
    own = pd.Index(view_known.index).get_indexer(view_new.index)
    n_known = len(y)
    kk = min(k, n_known)
    preds = np.empty(len(view_new))
    spread = np.empty(len(view_new))
    n_used = np.empty(len(view_new), dtype=np.int64)
    mean_d = np.empty(len(view_new))
    used_ids: list[tuple[object, ...]] = []
    k_norm = (known_x**2).sum(axis=1)
    for start in range(0, len(view_new), _BLOCK):
        stop = min(start + _BLOCK, len(view_new))
        block = new_x[start:stop]
        d2 = (block**2).sum(axis=1)[:, None] + k_norm[None, :] - 2.0 * block @ known_x.T
        d = np.sqrt(np.maximum(d2, 0.0))
        for r in range(stop - start):
            row = d[r]
            if own[start + r] >= 0:
                row = row.copy()
                row[own[start + r]] = np.inf
            limit = kk - (1 if own[start + r] >= 0 and kk == n_known else 0)
            if limit < 1:
                raise SchemaError(
                    [
                        SchemaFailure(
                            "view_known",
                            "<frame>",
                            f"has no other customer to compare {view_new.index[start + r]!r} with",
                        )
                    ]
                )
            kth = np.partition(row, limit - 1)[limit - 1]
            chosen = np.flatnonzero(row <= kth + 1e-9)
            chosen = chosen[np.argsort(row[chosen], kind="stable")]
            dist = row[chosen]
            w = 1.0 / (0.1 + dist) if weights == "distance" else np.ones(len(chosen))
            preds[start + r] = float(np.sum(w * y[chosen]) / np.sum(w))
            spread[start + r] = float(np.std(y[chosen]))
            n_used[start + r] = len(chosen)
            mean_d[start + r] = float(dist.mean())
            used_ids.append(tuple(view_known.index[chosen].tolist()))
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
