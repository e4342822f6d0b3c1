"""Valid synthetic customer views, built from per-customer draws.

The same assembly serves :func:`make_customer_view` (numpy draws) and the
hypothesis strategies of :mod:`crmkit.testing.strategies`, so both obey the
view's invariants: ``frequency`` is an int >= 0, ``0 <= recency <= T``,
``monetary_value`` is 0 exactly when ``frequency`` is 0, ``n_transactions >
frequency``, dates agree with ``T`` and ``recency``, and so on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from crmkit.data import TIME_UNITS, VIEW_COLUMNS
from crmkit.plugins import STAGES

__all__ = [
    "ATTRIBUTE_LEVELS",
    "EXTRA_COLUMN_KINDS",
    "NULLABLE_KINDS",
    "PRIMITIVES",
    "assemble_view",
    "make_customer_view",
]

#: Levels of the categorical customer attributes.
ATTRIBUTE_LEVELS: Mapping[str, tuple[str, ...]] = {
    "industry": ("manufacturing", "retail", "services", "it", "public"),
    "size_class": ("micro", "small", "medium", "large"),
    "region": ("north", "south", "east", "west"),
}

#: How a non-standard required column is generated, by name; other names
#: get a float >= 0 ("number").
EXTRA_COLUMN_KINDS: Mapping[str, str] = {
    "last_nps": "nps",
    "mean_csat": "csat",
    "n_complaints_open": "count",
    "n_visits": "count",
    "n_sellers": "count1",
    "n_contacts": "count1",
    "n_decision_makers": "count",
    "n_contacts_left": "count",
    "days_since_address_change": "days",
    "clv": "money",
    "predicted_clv": "money",
    "expected_purchases": "rate",
    "p_alive": "unit",
    "loyalty": "score100",
    "churn_risk": "unit",
    "stage": "stage",
    "portfolio": "portfolio",
    "segment": "segment",
}

#: Extra-column kinds that may hold missing values (no feedback yet, no move).
NULLABLE_KINDS: frozenset[str] = frozenset({"nps", "csat", "days"})

#: The per-customer draws every view is assembled from.
PRIMITIVES: tuple[str, ...] = (
    "frequency",
    "t_days",
    "recency_frac",
    "first_amount",
    "monetary",
    "extra_rows",
    "margin_rate",
    "n_products",
    "trend",
    "tenure_extra",
)

_STANDARD = tuple(VIEW_COLUMNS)
_ATTRIBUTES = (*ATTRIBUTE_LEVELS, "key_account")


def _pick(levels: Sequence[str], u: np.ndarray) -> np.ndarray:
    idx = np.minimum((u * len(levels)).astype(np.intp), len(levels) - 1)
    return np.asarray(levels, dtype=object)[idx]


def _extra_column(kind: str, u: np.ndarray, missing: np.ndarray) -> object:
    if kind == "count":
        return np.floor(u * 8).astype(np.int64)
    if kind == "count1":
        return 1 + np.floor(u * 6).astype(np.int64)
    if kind == "nps":
        return np.where(missing, np.nan, np.round(u * 10))
    if kind == "csat":
        return np.where(missing, np.nan, np.round(1 + 4 * u, 1))
    if kind == "days":
        return np.where(missing, np.nan, np.round(u * 1000))
    if kind == "money":
        return np.round(u * 5000, 2)
    if kind == "rate":
        return np.round(u * 10, 3)
    if kind == "unit":
        return u.astype(np.float64)
    if kind == "score100":
        return np.round(u * 100, 2)
    if kind == "stage":
        return pd.Categorical(_pick(STAGES, u), categories=list(STAGES))
    if kind == "portfolio":
        return pd.Categorical(_pick(("A", "B", "C", "D"), u), categories=["A", "B", "C", "D"])
    if kind == "segment":
        return pd.Categorical(
            _pick(("s1", "s2", "s3", "s4"), u), categories=["s1", "s2", "s3", "s4"]
        )
    return np.round(u * 1000, 3)


def assemble_view(
    draws: Mapping[str, np.ndarray],
    ids: Sequence[str],
    *,
    requires: Iterable[str] = (),
    attributes: bool = True,
    time_unit: str = "W",
    as_of: str = "2024-06-30",
) -> pd.DataFrame:
    """Build a valid customer view from per-customer draws.

    Parameters
    ----------
    draws : mapping of str to numpy.ndarray
        One array per name of :data:`PRIMITIVES`, plus ``"<attr>_u"`` (in
        [0, 1)) and ``"<attr>_missing"`` (bool) for each attribute of
        :data:`ATTRIBUTE_LEVELS`, ``"key_account"`` (bool), and
        ``"<col>_u"``/``"<col>_missing"`` for each extra required column.
    ids : sequence of str
        Customer ids (unique), in row order.
    requires : iterable of str, default=()
        Columns to include beyond the standard ones.
    attributes : bool, default=True
        Include ``industry``, ``size_class``, ``region`` and ``key_account``.
    time_unit : {"D", "W", "M"}, default="W"
        Unit of ``recency``, ``T``, ``tenure`` and ``mean_interpurchase``.
    as_of : str, default="2024-06-30"
        The view's as-of date.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``.

    Examples
    --------
    >>> d = {k: np.array([v]) for k, v in dict(frequency=2, t_days=70, recency_frac=0.5,
    ...      first_amount=10.0, monetary=20.0, extra_rows=0, margin_rate=0.5,
    ...      n_products=2, trend=0.0, tenure_extra=0).items()}
    >>> v = assemble_view(d, ["c1"], attributes=False)
    >>> v[["frequency", "recency", "T", "monetary_value", "revenue", "days_since_last"]]
                 frequency  recency     T  monetary_value  revenue  days_since_last
    customer_id
    c1                   2      5.0  10.0            20.0     50.0             35.0
    """
    unit = TIME_UNITS[time_unit]
    t_days = np.asarray(draws["t_days"], dtype=np.int64)
    freq = np.where(t_days > 0, np.asarray(draws["frequency"], dtype=np.int64), 0)
    rec_days = np.clip(np.round(np.asarray(draws["recency_frac"]) * t_days), 1, None)
    rec_days = np.where(freq > 0, np.minimum(rec_days, t_days), 0).astype(np.int64)
    money = np.where(freq > 0, np.asarray(draws["monetary"], dtype=np.float64), 0.0)
    revenue = np.asarray(draws["first_amount"], dtype=np.float64) + money * freq
    n_tx = freq + 1 + np.asarray(draws["extra_rows"], dtype=np.int64)
    as_of_ts = pd.Timestamp(as_of)
    first = as_of_ts - pd.to_timedelta(t_days, unit="D")
    last = first + pd.to_timedelta(rec_days, unit="D")
    recency = rec_days / unit
    with np.errstate(divide="ignore", invalid="ignore"):
        interpurchase = np.where(freq > 0, recency / np.maximum(freq, 1), np.nan)
    columns: dict[str, object] = {
        "frequency": freq,
        "recency": recency,
        "T": t_days / unit,
        "monetary_value": money,
        "n_transactions": n_tx,
        "revenue": revenue,
        "margin": np.round(revenue * np.asarray(draws["margin_rate"], dtype=np.float64), 2),
        "first_purchase": first,
        "last_purchase": last,
        "tenure": (t_days + np.asarray(draws["tenure_extra"], dtype=np.int64)) / unit,
        "n_products": np.minimum(np.asarray(draws["n_products"], dtype=np.int64), n_tx),
        "purchase_trend": np.where(freq > 0, np.asarray(draws["trend"], dtype=np.float64), 0.0),
        "mean_interpurchase": interpurchase,
        "days_since_last": (t_days - rec_days).astype(np.float64),
    }
    if attributes:
        for attr, levels in ATTRIBUTE_LEVELS.items():
            values = _pick(levels, np.asarray(draws[f"{attr}_u"], dtype=np.float64))
            missing = np.asarray(draws[f"{attr}_missing"], dtype=bool)
            values[missing] = None
            columns[attr] = pd.array(values, dtype="str")
        columns["key_account"] = np.asarray(draws["key_account"], dtype=bool)
    for name in dict.fromkeys(requires):
        if name in columns or name in _STANDARD:
            continue
        if name in ATTRIBUTE_LEVELS or name == "key_account":
            continue  # only with attributes=True
        kind = EXTRA_COLUMN_KINDS.get(name, "number")
        u = np.asarray(draws[f"{name}_u"], dtype=np.float64)
        missing = np.asarray(draws[f"{name}_missing"], dtype=bool)
        columns[name] = _extra_column(kind, u, missing)
    if "n_decision_makers" in columns and "n_contacts" in columns:
        columns["n_decision_makers"] = np.minimum(
            np.asarray(columns["n_decision_makers"]), np.asarray(columns["n_contacts"])
        )
    index = pd.Index(list(ids), name="customer_id", dtype="str")
    result: pd.DataFrame = pd.DataFrame(columns, index=index)
    return result


def _needs_attributes(requires: Iterable[str]) -> bool:
    return any(r in _ATTRIBUTES for r in requires)


def make_customer_view(
    n_customers: int = 40,
    *,
    requires: Iterable[str] = (),
    attributes: bool = True,
    seed: int = 0,
    time_unit: str = "W",
    missing: float = 0.1,
) -> pd.DataFrame:
    """A random but valid customer view, for examples and tests.

    Holds every standard view column (:data:`crmkit.data.VIEW_COLUMNS`
    style), optionally the customer attributes, and any extra ``requires``
    column (feedback and contact aggregates, ``clv``, ``p_alive``,
    ``stage`` ... by name, else a float >= 0). Customer ids are shuffled
    (``"cid00017"`` ...), so row order is not id order. Repeat purchases
    follow a geometric-like law, so frequencies tie often.

    Parameters
    ----------
    n_customers : int, default=40
        Rows.
    requires : iterable of str, default=()
        Extra columns to include.
    attributes : bool, default=True
        Include ``industry``, ``size_class``, ``region``, ``key_account``
        (always included when ``requires`` names one of them).
    seed : int, default=0
        Random seed.
    time_unit : {"D", "W", "M"}, default="W"
        Unit of the time columns.
    missing : float, default=0.1
        Share of missing values in the nullable extra columns (``last_nps``,
        ``mean_csat``, ``days_since_address_change``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``.

    Examples
    --------
    >>> view = make_customer_view(5, requires=("clv", "last_nps"), seed=1)
    >>> view.shape, view.index.name
    ((5, 20), 'customer_id')
    >>> bool(((view["recency"] >= 0) & (view["recency"] <= view["T"])).all())
    True
    """
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    draws: dict[str, np.ndarray] = {
        "frequency": np.minimum(rng.negative_binomial(1, 0.3, n), 30),
        "t_days": rng.integers(1, 731, n),
        "recency_frac": rng.uniform(0, 1, n),
        "first_amount": np.round(rng.lognormal(4.0, 1.0, n), 2) + 1.0,
        "monetary": np.round(rng.lognormal(4.0, 0.8, n), 2) + 1.0,
        "extra_rows": rng.poisson(1.0, n),
        "margin_rate": rng.uniform(-0.05, 0.5, n),
        "n_products": 1 + rng.poisson(1.5, n),
        "trend": np.round(rng.uniform(-1, 1, n), 2),
        "tenure_extra": rng.integers(0, 366, n),
    }
    requires = tuple(requires)
    for attr in ATTRIBUTE_LEVELS:
        draws[f"{attr}_u"] = rng.uniform(0, 1, n)
        draws[f"{attr}_missing"] = np.zeros(n, dtype=bool)
    draws["key_account"] = rng.uniform(0, 1, n) < 0.15
    for name in requires:
        draws[f"{name}_u"] = rng.uniform(0, 1, n)
        draws[f"{name}_missing"] = rng.uniform(0, 1, n) < missing
    ids = [f"cid{k:05d}" for k in rng.permutation(n)]
    return assemble_view(
        draws,
        ids,
        requires=requires,
        attributes=attributes or _needs_attributes(requires),
        time_unit=time_unit,
    )
