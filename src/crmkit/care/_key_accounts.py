"""``KeyAccountCare``: key accounts versus the rest, effort prioritised by value."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import COLUMN_NAME, Constraint, Interval, Options, Predicate
from crmkit.care._common import SHARED_CONSTRAINTS, CareModelBase, FloatArray, ObjArray
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["KEY_ACCOUNT_RULES", "KeyAccountCare"]

#: The default care rule of key accounts and of the other customers by value.
KEY_ACCOUNT_RULES: Mapping[str, Mapping[str, Any]] = {
    "key account": {
        "intensity": "maximum",
        "cadence_days": 30,
        "channel": "visit",
        "owner_role": "key account manager",
        "activities": (
            "Keep the account plan up to date: goals, situation, development points, "
            "buying process, next steps",
            "Know every decision maker and their part in the buying process",
            "Quarterly business review with the customer's management",
        ),
        "reason": "key account: its own account management process",
    },
    "high value": {
        "intensity": "high",
        "cadence_days": 45,
        "channel": "visit",
        "owner_role": "account manager",
        "activities": (
            "Regular account review",
            "Cross-sell the products it lacks",
        ),
        "reason": "not a key account, high value: effort prioritised by value",
    },
    "medium value": {
        "intensity": "medium",
        "cadence_days": 90,
        "channel": "call",
        "owner_role": "inside sales",
        "activities": (
            "Call when a need is expected",
            "Targeted offers",
        ),
        "reason": "not a key account, medium value",
    },
    "low value": {
        "intensity": "low",
        "cadence_days": 180,
        "channel": "email",
        "owner_role": "marketing",
        "activities": ("Newsletter and self-service channels",),
        "reason": "not a key account, low value",
    },
}

_REST = ("low value", "medium value", "high value")


def _cut_pair(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
        and all(0.0 <= float(v) <= 1.0 for v in value)
        and float(value[0]) <= float(value[1])
    )


def _flags(view: pd.DataFrame, column: str) -> npt.NDArray[np.bool_]:
    """A true/false column as bool; missing values read false."""
    col = view[column]
    if pd.api.types.is_bool_dtype(col.dtype) and not col.isna().any():
        return np.asarray(col.to_numpy(dtype=bool), dtype=bool)
    values = col.to_numpy(dtype=object)
    out = np.zeros(len(values), dtype=bool)
    bad = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            continue
        if isinstance(v, (bool, np.bool_)) or (isinstance(v, numbers.Real) and v in (0, 1)):
            out[i] = bool(v)
        else:
            bad[i] = True
    if bad.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column=column,
                    check="is not a true/false flag (expected bool or 0/1)",
                    n_failing=int(bad.sum()),
                    rows=tuple(view.index[bad][:5].tolist()),
                    values=tuple(values[bad][:5].tolist()),
                )
            ]
        )
    return out


def _share_threshold(value: FloatArray, share: float) -> float:
    """Smallest value among the largest customers making ``share`` of the positive total."""
    positive = np.sort(value[value > 0])[::-1]
    if len(positive) == 0:
        return math.inf
    cum = np.cumsum(positive)
    k = int(np.searchsorted(cum, share * cum[-1] * (1 - 1e-12), side="left"))
    return float(positive[min(k, len(positive) - 1)])


class KeyAccountCare(CareModelBase):
    """Key accounts get their own process; the rest are cared for by value.

    Processes differ by customer class, key accounts vs the rest,
    and because resources are limited, effort is prioritised by the value
    customers produce; a key account has an account plan and a
    known decision-maker map.

    Key accounts are the customers whose ``flag_column`` is true (``rule=
    "flag"``; missing reads false) or the largest customers who together
    make ``share`` of the positive value total of the fitting view
    (``rule="value_share"``; the smallest such value, ``key_threshold_``,
    marks key accounts in any view). The other customers are split by the
    ``value_cuts`` quantiles of the other customers' values in the fitting
    view (``value_thresholds_``) into low, medium and high value, each with
    its own rule (:data:`KEY_ACCOUNT_RULES`, replaceable with ``table``).

    Churn reasons override routine care and the budget is shared as in
    :class:`PortfolioCare`.

    Parameters
    ----------
    rule : {"flag", "value_share"}, default="flag"
        How key accounts are recognised.
    flag_column : str, default="key_account"
        The key-account flag (``rule="flag"``).
    share : float, default=0.5
        Share of value made by key accounts (``rule="value_share"``), in
        (0, 1].
    value_cuts : (float, float), default=(0.5, 0.8)
        Quantile levels splitting the other customers into low, medium and
        high value.
    table : mapping of str to mapping, optional
        Care rules replacing the defaults by tier (``"key account"``,
        ``"high value"``, ``"medium value"``, ``"low value"``).
    value_column : str, default="clv"
        Value that ranks customers and weights the budget.
    churn_threshold : float or None, default=0.5
        Churn risk above which retention overrides routine care; None turns
        the override off.
    reasons_column : str, default="churn_reasons"
        Churn reasons text, read when present.
    retention_actions : mapping of str to mapping, optional
        Retention actions replacing the defaults by churn signal name.
    intensity_weights : mapping of str to float, optional
        Budget weight per intensity.

    Attributes
    ----------
    key_threshold_ : float or None
        Smallest value of a key account (``rule="value_share"``; ``inf``
        when no customer has a positive value); None for the flag rule.
    value_thresholds_ : tuple of (float, float)
        Values at which the other customers become medium and high value.
    value_scale_ : float
        Mean value (clipped at 0) of the fitting view.
    budget_total_ : float
        Sum of the budget weights of the fitting view.

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame(
    ...     {"key_account": [True, False, False, False, None],
    ...      "clv": [5000.0, 3000.0, 1000.0, 10.0, 400.0],
    ...      "churn_risk": [0.2, 0.1, 0.1, 0.1, 0.1]},
    ...     index=pd.Index(list("abcde"), name="customer_id"))
    >>> plan = KeyAccountCare().fit(view).plan(view)
    >>> plan["care_model"].tolist()
    ['key account', 'high value', 'medium value', 'low value', 'low value']
    """

    _defaults: ClassVar[Mapping[str, Mapping[str, Any]]] = KEY_ACCOUNT_RULES
    _nonfinite_state: ClassVar[frozenset[str]] = frozenset({"key_threshold"})  # inf: none
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "rule": [Options(frozenset({"flag", "value_share"}))],
        "flag_column": [COLUMN_NAME],
        "share": [Interval("float", 0, 1, closed="right")],
        "value_cuts": [Predicate(_cut_pair, "a pair (low, high) of levels in [0, 1], low <= high")],
        **SHARED_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        rule: str = "flag",
        flag_column: str = "key_account",
        share: float = 0.5,
        value_cuts: tuple[float, float] = (0.5, 0.8),
        table: Mapping[str, Mapping[str, Any]] | None = None,
        value_column: str = "clv",
        churn_threshold: float | None = 0.5,
        reasons_column: str = "churn_reasons",
        retention_actions: Mapping[str, Mapping[str, Any]] | None = None,
        intensity_weights: Mapping[str, float] | None = None,
    ) -> None:
        self.rule = rule
        self.flag_column = flag_column
        self.share = share
        self.value_cuts = value_cuts
        self.table = table
        self.value_column = value_column
        self.churn_threshold = churn_threshold
        self.reasons_column = reasons_column
        self.retention_actions = retention_actions
        self.intensity_weights = intensity_weights

    def _tier_columns(self) -> tuple[str, ...]:
        return (self.flag_column,) if self.rule == "flag" else ()

    def _key(self, frame: pd.DataFrame, value: FloatArray) -> npt.NDArray[np.bool_]:
        if self.rule == "flag":
            return _flags(frame, self.flag_column)
        threshold = float(self.key_threshold_)  # type: ignore[arg-type]
        out: npt.NDArray[np.bool_] = (value >= threshold) & (value > 0)
        return out

    def _learn(self, frame: pd.DataFrame, value: FloatArray) -> None:
        if self.rule == "flag":
            self.key_threshold_: float | None = None
        else:
            self.key_threshold_ = _share_threshold(value, float(self.share))
        rest = value[~self._key(frame, value)]
        if len(rest) == 0:
            rest = value
        low, high = np.quantile(rest, [float(c) for c in self.value_cuts])
        self.value_thresholds_ = (float(low), float(high))

    def _tiers(self, frame: pd.DataFrame, value: FloatArray) -> ObjArray:
        low, high = self.value_thresholds_
        level = (value >= low).astype(np.intp) + (value >= high).astype(np.intp)
        # a customer without value is never above the lowest tier
        level = np.where(value > 0, level, 0)
        tiers = np.asarray(_REST, dtype=object)[level]
        out: ObjArray = np.where(self._key(frame, value), "key account", tiers).astype(object)
        return out

    def _extra_state(self) -> dict[str, Any]:
        return {"key_threshold": self.key_threshold_, "value_thresholds": self.value_thresholds_}

    def _load_extra(self, state: dict[str, Any]) -> None:
        key = state["key_threshold"]
        self.key_threshold_ = None if key is None else float(key)
        low, high = state["value_thresholds"]
        self.value_thresholds_ = (float(low), float(high))
