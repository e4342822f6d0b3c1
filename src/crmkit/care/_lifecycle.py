"""``LifecycleCare``: care actions by lifecycle stage."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._params import COLUMN_NAME, Constraint, Interval, Predicate
from crmkit.care._common import (
    SHARED_CONSTRAINTS,
    Adjustment,
    CareModelBase,
    FloatArray,
    ObjArray,
    required_labels,
)

__all__ = ["LIFECYCLE_RULES", "LifecycleCare"]

#: The default care rule of each lifecycle stage, and of lapsed customers (status
#: ``"lapsed"``, whatever their stage).
LIFECYCLE_RULES: Mapping[str, Mapping[str, Any]] = {
    "acquisition": {
        "intensity": "low",
        "cadence_days": 60,
        "channel": "email",
        "owner_role": "marketing",
        "activities": (
            "Target marketing at the groups the best customers come from",
            "Offer a first purchase",
        ),
        "reason": "acquisition: a prospect, not yet a customer",
    },
    "onboarding": {
        "intensity": "high",
        "cadence_days": 14,
        "channel": "call",
        "owner_role": "account manager",
        "activities": (
            "Welcome call: make the whole offering known",
            "Follow up the first deliveries and show interest",
            "Aim at a repeat purchase and a recommendation",
        ),
        "reason": "onboarding: a new customer is being taken over",
    },
    "development": {
        "intensity": "medium",
        "cadence_days": 45,
        "channel": "visit",
        "owner_role": "account manager",
        "activities": (
            "Cross-sell the products it lacks that similar customers buy",
            "Strengthen loyalty with the reward programme",
        ),
        "reason": "development: purchases and loyalty are being grown",
    },
    "retention": {
        "intensity": "medium",
        "cadence_days": 60,
        "channel": "call",
        "owner_role": "account manager",
        "activities": (
            "Keep the best: regular account review and loyalty rewards",
            "Watch the early-warning signals and react at the moment of decision",
        ),
        "reason": "retention: a mature customership to be held on to",
    },
    "lapsed": {
        "intensity": "low",
        "cadence_days": 90,
        "channel": "call",
        "owner_role": "seller",
        "activities": (
            "Win-back offer",
            "Ask why the customer stopped buying",
        ),
        "reason": "lapsed: most likely lost, a win-back candidate",
    },
}

_LOYALTY_STAGES = ("onboarding", "development", "retention")


def _loyalty_pair(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
        and all(np.isfinite(float(v)) for v in value)
        and float(value[0]) <= float(value[1])
    )


class LifecycleCare(CareModelBase):
    """Care actions by lifecycle stage, prioritised by value.

    Every stage of a customership has its own task, and
    processes differ by lifecycle stage and asks to prioritise effort by the
    value customers produce:

    - **acquisition** (a prospect): target marketing, a first offer;
    - **onboarding**: make the whole offering known, show interest, aim at a
      repeat purchase and a recommendation;
    - **development**: cross-sell, strengthen loyalty, the reward programme;
    - **retention**: keep the best, react to early warnings at the moment
      the customer decides;
    - **lapsed** (status ``"lapsed"``, any stage): a win-back offer, ask why.

    The stage comes from a ``stage`` column (a stager's output, categories
    :data:`crmkit.plugins.STAGES`); when the view has a ``status`` column,
    lapsed customers get the ``"lapsed"`` rule instead of their stage's.
    Customers whose value is at least the
    ``priority_quantile`` of the fitting view's values (``priority_value_``)
    get one step more intensity ("keep the best"). When the view has a
    ``loyalty`` column (0-100, e.g. :class:`crmkit.loyalty.LoyaltyIndex`),
    customers in onboarding, development or retention below
    ``loyalty_cuts[0]`` get a loyalty activity (the reward programme, a
    feedback conversation) and those at or above ``loyalty_cuts[1]`` are
    asked for a recommendation; a missing loyalty changes nothing.

    Churn reasons override routine care and the budget is shared as in
    :class:`PortfolioCare`.

    Parameters
    ----------
    stage_column : str, default="stage"
        The column holding the stage labels.
    table : mapping of str to mapping, optional
        Care rules replacing the defaults (:data:`LIFECYCLE_RULES`) by stage.
    value_column : str, default="clv"
        Value that prioritises effort and the budget.
    priority_quantile : float or None, default=0.8
        Customers at or above this quantile of value get one step more
        intensity; None turns it off.
    loyalty_cuts : (float, float), default=(40.0, 75.0)
        Low and high loyalty (0-100 scale), read from a ``loyalty`` column
        when present.
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
    priority_value_ : float or None
        Value from which customers are prioritised (None when
        ``priority_quantile`` is None).
    value_scale_ : float
        Mean value (clipped at 0) of the fitting view.
    budget_total_ : float
        Sum of the budget weights of the fitting view.

    References
    ----------
    Mäntyneva, M. (2001). Asiakkuudenhallinta. Helsinki: WSOY (the lifecycle
    stages).

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame(
    ...     {"stage": ["onboarding", "development", "retention", "retention"],
    ...      "status": ["active", "active", "active", "lapsed"],
    ...      "clv": [500.0, 800.0, 9000.0, 50.0], "churn_risk": [0.1, 0.2, 0.3, 0.9],
    ...      "loyalty": [55.0, 20.0, 90.0, None],
    ...      "churn_reasons": ["", "", "", "overdue (0.80)"]},
    ...     index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
    >>> plan = LifecycleCare().fit(view).plan(view)
    >>> plan[["care_model", "intensity", "cadence_days", "channel"]]
                  care_model intensity  cadence_days channel
    customer_id
    a             onboarding      high            14    call
    b            development    medium            45   visit
    c              retention      high            60    call
    d                 lapsed      high             7    call
    >>> plan.loc["d", "activities"]
    'Win-back offer: ask about the overdue order and make a targeted offer; Win-back offer; ...'
    """

    _defaults: ClassVar[Mapping[str, Mapping[str, Any]]] = LIFECYCLE_RULES
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "stage_column": [COLUMN_NAME],
        "priority_quantile": [Interval("float", 0, 1), None],
        "loyalty_cuts": [Predicate(_loyalty_pair, "a pair (low, high) of floats, low <= high")],
        **SHARED_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        stage_column: str = "stage",
        table: Mapping[str, Mapping[str, Any]] | None = None,
        value_column: str = "clv",
        priority_quantile: float | None = 0.8,
        loyalty_cuts: tuple[float, float] = (40.0, 75.0),
        churn_threshold: float | None = 0.5,
        reasons_column: str = "churn_reasons",
        retention_actions: Mapping[str, Mapping[str, Any]] | None = None,
        intensity_weights: Mapping[str, float] | None = None,
    ) -> None:
        self.stage_column = stage_column
        self.table = table
        self.value_column = value_column
        self.priority_quantile = priority_quantile
        self.loyalty_cuts = loyalty_cuts
        self.churn_threshold = churn_threshold
        self.reasons_column = reasons_column
        self.retention_actions = retention_actions
        self.intensity_weights = intensity_weights

    def _tier_columns(self) -> tuple[str, ...]:
        return (self.stage_column,)

    def _optional_numeric(self) -> tuple[str, ...]:
        return ("loyalty",)

    def _tiers(self, frame: pd.DataFrame, value: FloatArray) -> ObjArray:
        stages = required_labels(frame, self.stage_column)
        if "status" not in frame.columns:
            return stages
        lapsed = (frame["status"].astype(object) == "lapsed").to_numpy(dtype=bool)
        out: ObjArray = np.where(lapsed, "lapsed", stages).astype(object)
        return out

    def _learn(self, frame: pd.DataFrame, value: FloatArray) -> None:
        if self.priority_quantile is None:
            self.priority_value_: float | None = None
        else:
            self.priority_value_ = float(np.quantile(value, float(self.priority_quantile)))

    def _adjustments(self, frame: pd.DataFrame, value: FloatArray) -> Sequence[Adjustment]:
        out: list[Adjustment] = []
        if self.priority_value_ is not None:
            top = (value >= self.priority_value_) & (value > 0)
            out.append(
                Adjustment(
                    top,
                    f"top value ({self.value_column} >= {self.priority_value_:,.2f}): "
                    "effort prioritised",
                    step_up=True,
                )
            )
        if "loyalty" in frame.columns:
            loyalty = frame["loyalty"].to_numpy(dtype=np.float64, na_value=np.nan)
            stages = self._tiers(frame, value)  # lapsed customers: win-back, not loyalty
            eligible = np.isin(stages, np.asarray(_LOYALTY_STAGES, dtype=object))
            low, high = (float(v) for v in self.loyalty_cuts)
            with np.errstate(invalid="ignore"):
                weak = eligible & (loyalty < low)
                strong = eligible & (loyalty >= high)
            out.append(
                Adjustment(
                    weak,
                    f"loyalty below {low:g}",
                    activity="Strengthen loyalty: a feedback conversation and the reward programme",
                )
            )
            out.append(
                Adjustment(
                    strong,
                    f"loyalty at least {high:g}",
                    activity="Ask for a recommendation or a reference",
                )
            )
        return out

    def _extra_state(self) -> dict[str, Any]:
        return {"priority_value": self.priority_value_}

    def _load_extra(self, state: dict[str, Any]) -> None:
        value = state["priority_value"]
        self.priority_value_ = None if value is None else float(value)
