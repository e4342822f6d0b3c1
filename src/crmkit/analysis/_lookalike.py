"""Look-alike prospects: like our best customers, unlike our worst ones (seed 004)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmkit.analysis._inputs import check_fraction, check_int, view_values
from crmkit.data import CustomerData
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["lookalike_profile", "lookalike_scores"]

Attribute = str | tuple[str, ...]
_OWNER = "lookalike_scores"


def _name(attr: Attribute) -> str:
    return attr if isinstance(attr, str) else "+".join(attr)


def _columns(attr: Attribute) -> list[str]:
    return [attr] if isinstance(attr, str) else list(attr)


def _prospect_frame(prospects: object) -> pd.DataFrame:
    if isinstance(prospects, CustomerData):
        frame = prospects.get("prospects")
        if frame is None:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="prospects",
                        column="<frame>",
                        check=f"is missing; {_OWNER} needs prospects",
                    )
                ]
            )
        prospects = frame
    if not isinstance(prospects, pd.DataFrame):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="prospects",
                    column="<frame>",
                    check=(
                        f"is a {type(prospects).__name__}; {_OWNER} needs a DataFrame of prospects"
                    ),
                )
            ]
        )
    if "prospect_id" in prospects.columns:
        ids = prospects["prospect_id"]
        if ids.isna().any() or ids.duplicated().any():
            bad = (ids.isna() | ids.duplicated(keep=False)).to_numpy()
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="prospects",
                        column="prospect_id",
                        check="has missing or duplicate ids",
                        n_failing=int(bad.sum()),
                        rows=tuple(prospects.index[bad][:5].tolist()),
                    )
                ]
            )
        result: pd.DataFrame = prospects.set_index("prospect_id")
        return result
    return prospects


def _default_attributes(view: pd.DataFrame, prospects: pd.DataFrame) -> list[Attribute]:
    out: list[Attribute] = []
    for c in prospects.columns:
        if c not in view.columns or not isinstance(c, str):
            continue
        dtype = view[c].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            continue
        out.append(c)
    if not out:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="prospects",
                    column="<frame>",
                    check="shares no attribute column with the customer view; name the attributes",
                )
            ]
        )
    return out


def _keys(frame: pd.DataFrame, cols: list[str], edges: dict[str, np.ndarray]) -> np.ndarray:
    parts = []
    for c in cols:
        s = frame[c]
        if c in edges:
            if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
                raise SchemaError(
                    [
                        SchemaFailure(
                            frame="prospects",
                            column=c,
                            check=f"is not numeric (dtype {s.dtype}) but the "
                            "customer view's column is; make them the same kind",
                        )
                    ]
                )
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            b = np.searchsorted(edges[c], v, side="left").astype(object)
            lo = np.concatenate([[-np.inf], edges[c]])
            hi = np.concatenate([edges[c], [np.inf]])
            labels = np.array([f"({lo[i]:.4g}, {hi[i]:.4g}]" for i in range(len(lo))], dtype=object)
            part = np.where(np.isnan(v), "(missing)", labels[b.astype(np.int64)])
        else:
            part = s.astype(object).where(s.notna(), "(missing)").astype(str).to_numpy()
        parts.append(part.astype(object))
    if len(parts) == 1:
        return parts[0]
    return np.array([" & ".join(t) for t in zip(*parts, strict=True)], dtype=object)


def _levels(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # np.unique(key, return_inverse=True) without sorting every customer's key:
    # hash the keys (linear), sort only the distinct levels
    first_seen, uniques = pd.factorize(key)
    order = np.argsort(uniques)
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    levels: np.ndarray = uniques[order]
    return levels, rank[first_seen]


def _groups(x: np.ndarray, best_q: float, worst_q: float | str | None) -> tuple[Any, Any]:
    n = len(x)
    order = np.argsort(-x, kind="stable")
    best = np.zeros(n, dtype=bool)
    best[order[: max(int(np.ceil(best_q * n)), 1)]] = True
    if worst_q is None:
        return best, None
    if worst_q == "loss":
        worst = x < 0
    else:
        worst = np.zeros(n, dtype=bool)
        worst[order[n - max(int(np.ceil(float(worst_q) * n)), 1) :]] = True
    if (best & worst).any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column="<values>",
                    check="best and worst customers overlap; lower best_q or worst_q",
                )
            ]
        )
    if not worst.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column="<values>",
                    check="has no loss-making customer (value < 0) for worst_q='loss'",
                )
            ]
        )
    return best, worst


def _check(best_q: float, worst_q: float | str | None, smoothing: float, n_bins: int) -> None:
    check_fraction(best_q, "best_q", _OWNER)
    if worst_q is not None and worst_q != "loss":
        check_fraction(worst_q, "worst_q", _OWNER)
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or smoothing <= 0:
        raise InvalidParameterError(
            f"The 'smoothing' parameter of {_OWNER} must be a float > 0. Got {smoothing!r} instead."
        )
    check_int(n_bins, "n_bins", _OWNER, low=2)


def lookalike_profile(
    view: pd.DataFrame,
    value: str = "revenue",
    *,
    attributes: Sequence[Attribute] | None = None,
    best_q: float = 0.2,
    worst_q: float | str | None = 0.2,
    smoothing: float = 10.0,
    n_bins: int = 5,
) -> pd.DataFrame:
    """The profile of the best (and worst) customers: attribute levels and their weights.

    For each attribute level ``l``: its share among all customers
    ``pi(l)`` (Laplace-smoothed), among the best customers ``p_b(l)`` and
    the worst ``p_w(l)``, each shrunk toward ``pi(l)`` with ``smoothing``
    pseudo-customers. The level's weight is ``log(p_b / pi) - log(p_w /
    pi)`` (= ``log(p_b / p_w)``, a naive-Bayes log-likelihood ratio of best
    versus worst), or ``log(p_b / pi)`` without a worst group.

    Parameters
    ----------
    view : DataFrame
        Customer view indexed by customer id, with ``value`` and the
        attributes.
    value : str, default="revenue"
        What "best" means: revenue, margin, clv ...
    attributes : sequence of str or tuple of str, optional
        Profile attributes; a tuple is one joint attribute (e.g.
        ``("industry", "size_class")``). Numeric attributes are cut into
        ``n_bins`` quantile bins of the view; missing values form their own
        level ``"(missing)"``. Required here.
    best_q : float, default=0.2
        Share of customers (highest value) forming the best group.
    worst_q : float, "loss" or None, default=0.2
        Share of lowest-value customers forming the worst group; ``"loss"``:
        the customers with negative value; None: no worst group.
    smoothing : float, default=10.0
        Pseudo-customers (> 0) shrinking rare levels toward the base shares;
        they keep every weight finite.
    n_bins : int, default=5
        Bins of numeric attributes.

    Returns
    -------
    DataFrame
        Indexed by (``attribute``, ``level``): ``n_customers``,
        ``share_all``, ``share_best``, ``share_worst`` (NaN without a worst
        group), ``lift_best``, ``lift_worst`` and ``weight``.

    Raises
    ------
    SchemaError
        For a missing or non-numeric value, missing attributes, overlapping
        groups or no loss-makers for ``worst_q="loss"``.
    InvalidParameterError
        For bad parameters.

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame({"revenue": [900.0, 800.0, 50.0, 40.0, 30.0],
    ...                      "industry": ["ict", "ict", "retail", "retail", "ict"]})
    >>> prof = lookalike_profile(view, attributes=["industry"], best_q=0.4, worst_q=0.4,
    ...                          smoothing=1.0)
    >>> prof[["share_all", "share_best", "share_worst", "weight"]].round(3)
                      share_all  share_best  share_worst  weight
    attribute level
    industry  ict        0.571      0.857        0.524   0.492
              retail     0.429      0.143        0.476  -1.204
    """
    table, _ = _profile(view, value, attributes, best_q, worst_q, smoothing, n_bins, None)
    return table


def _profile(
    view: pd.DataFrame,
    value: str,
    attributes: Sequence[Attribute] | None,
    best_q: float,
    worst_q: float | str | None,
    smoothing: float,
    n_bins: int,
    prospects: pd.DataFrame | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    _check(best_q, worst_q, smoothing, n_bins)
    x, _ = view_values(view, value, _OWNER)
    if attributes is None:
        if prospects is None:
            raise InvalidParameterError("lookalike_profile needs the attributes to profile")
        attributes = _default_attributes(view, prospects)
    attributes = list(attributes)
    frames = [("view", view)] + ([("prospects", prospects)] if prospects is not None else [])
    missing = [
        SchemaFailure(frame=fname, column=c, check=f"is missing (an attribute of {_OWNER})")
        for fname, f in frames
        for a in attributes
        for c in _columns(a)
        if c not in f.columns
    ]
    if missing:
        raise SchemaError(missing)
    best, worst = _groups(x, best_q, worst_q)
    edges: dict[str, np.ndarray] = {}
    for a in attributes:
        for c in _columns(a):
            col = view[c]
            if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(
                col.dtype
            ):
                v = col.to_numpy(dtype=np.float64, na_value=np.nan)
                v = v[np.isfinite(v)]
                qs = np.quantile(v, np.arange(1, n_bins) / n_bins) if len(v) else np.zeros(0)
                edges[c] = np.unique(qs)
    rows, keys = [], {}
    for a in attributes:
        key = _keys(view, _columns(a), edges)
        levels, codes = _levels(key)
        n_l = len(levels)
        n_all = np.bincount(codes, minlength=n_l).astype(np.float64)
        pi = (n_all + 1.0) / (len(x) + n_l)
        n_b = np.bincount(codes[best], minlength=n_l)
        p_b = (n_b + smoothing * pi) / (best.sum() + smoothing)
        with np.errstate(divide="ignore"):
            w = np.log(p_b) - np.log(pi)
            if worst is not None:
                n_w = np.bincount(codes[worst], minlength=n_l)
                p_w = (n_w + smoothing * pi) / (worst.sum() + smoothing)
                w = w - (np.log(p_w) - np.log(pi))
            else:
                p_w = np.full(n_l, np.nan)
        name = _name(a)
        keys[name] = (a, dict(zip(levels.tolist(), w.tolist(), strict=True)))
        rows.append(
            pd.DataFrame(
                {
                    "attribute": name,
                    "level": levels,
                    "n_customers": n_all.astype(np.int64),
                    "share_all": pi,
                    "share_best": p_b,
                    "share_worst": p_w,
                    "lift_best": p_b / pi,
                    "lift_worst": p_w / pi,
                    "weight": w,
                }
            )
        )
    table = pd.concat(rows, ignore_index=True).set_index(["attribute", "level"])
    return table, {"keys": keys, "edges": edges}


def lookalike_scores(
    prospects: pd.DataFrame | CustomerData,
    view: pd.DataFrame,
    value: str = "revenue",
    *,
    attributes: Sequence[Attribute] | None = None,
    best_q: float = 0.2,
    worst_q: float | str | None = 0.2,
    smoothing: float = 10.0,
    n_bins: int = 5,
) -> pd.DataFrame:
    """Score prospects by how much they look like our best customers and unlike our worst.

    Seed 004: acquire customers who match the profiles of the best
    customers and avoid copying the loss-making ones. Each prospect's score
    is the sum over profile attributes of its level's weight from
    :func:`lookalike_profile` (a naive-Bayes log-odds of "best" versus
    "worst"); the per-attribute contributions explain the score. A level no
    customer has contributes 0 (no evidence).

    Parameters
    ----------
    prospects : DataFrame or CustomerData
        Prospects with the attribute columns; ids from a ``prospect_id``
        column, else the index. CustomerData: its prospects records.
    view : DataFrame
        Customer view indexed by customer id, with ``value`` and the
        attributes.
    value : str, default="revenue"
        What "best" means: ``"revenue"``, ``"margin"``, ``"clv"`` ...
    attributes : sequence of str or tuple of str, optional
        Profile attributes (a tuple = one joint attribute); default every
        non-date column the prospects and the view share.
    best_q, worst_q, smoothing, n_bins
        As in :func:`lookalike_profile`.

    Returns
    -------
    DataFrame
        Indexed by prospect id (input order): ``score`` (higher = more like
        the best customers), ``rank`` (1 = best), ``contrib_<attribute>`` per
        attribute and ``reason`` (the largest contributions, e.g.
        ``"size_class=large (+1.21); industry=ict (+0.35)"``).

    Raises
    ------
    SchemaError
        For missing columns, a bad value column or duplicate prospect ids.
    InvalidParameterError
        For bad parameters.

    See Also
    --------
    crmkit.analysis.roc_auc : how well scores rank known good prospects.

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame({"revenue": [900.0, 800.0, 50.0, 40.0, 30.0, 500.0],
    ...                      "size_class": ["large", "large", "micro", "micro", "small", "small"]})
    >>> prospects = pd.DataFrame({"prospect_id": ["p1", "p2"], "size_class": ["micro", "large"]})
    >>> scores = lookalike_scores(prospects, view, best_q=0.34, worst_q=0.34, smoothing=1.0)
    >>> scores[["score", "rank", "reason"]].round(2)
                 score  rank                   reason
    prospect_id
    p1           -1.95     2  size_class=micro (-1.95)
    p2            1.95     1  size_class=large (+1.95)
    """
    frame = _prospect_frame(prospects)
    if not isinstance(view, pd.DataFrame):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column="<frame>",
                    check=f"is a {type(view).__name__}; {_OWNER} needs a customer view",
                )
            ]
        )
    _, fitted = _profile(view, value, attributes, best_q, worst_q, smoothing, n_bins, frame)
    contrib: dict[str, np.ndarray] = {}
    levels: dict[str, np.ndarray] = {}
    for name, (attr, weights) in fitted["keys"].items():
        levels[name] = _keys(frame, _columns(attr), fitted["edges"])
        w = np.array([weights.get(k_, 0.0) for k_ in levels[name].tolist()], dtype=np.float64)
        contrib[name] = w
    names = list(contrib)
    c = np.column_stack([contrib[n] for n in names]) if names else np.zeros((len(frame), 0))
    score = c.sum(axis=1)
    rank = stats.rankdata(-score, method="min").astype(np.int64)
    reasons = []
    for i, row in enumerate(c):
        order = np.argsort(-np.abs(row), kind="stable")[:2]
        reasons.append(
            "; ".join(
                f"{names[j]}={levels[names[j]][i]} ({row[j]:+.2f})" for j in order if row[j] != 0
            )
        )
    out = pd.DataFrame({"score": score, "rank": rank}, index=frame.index)
    for n in names:
        out[f"contrib_{n}"] = contrib[n]
    out["reason"] = reasons
    result: pd.DataFrame = out
    return result
