"""``PortfolioCare``: the care models of portfolios A-D."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pandas as pd

from crmkit._params import COLUMN_NAME, Constraint
from crmkit.care._common import SHARED_CONSTRAINTS, CareModelBase, ObjArray, required_labels

__all__ = ["PORTFOLIO_RULES", "PortfolioCare"]

#: The default care rule of each portfolio.
PORTFOLIO_RULES: Mapping[str, Mapping[str, Any]] = {
    "A": {
        "intensity": "maximum",
        "cadence_days": 30,
        "channel": "visit",
        "owner_role": "key account manager",
        "activities": (
            "Keep the annual customer-care and activity plan up to date",
            "Contract review well before renewal",
            "Quarterly business review",
            "Update the account plan and the decision-maker map",
        ),
        "reason": "portfolio A: contract customer with a customer-care and activity plan",
    },
    "B": {
        "intensity": "high",
        "cadence_days": 45,
        "channel": "visit",
        "owner_role": "account manager",
        "activities": (
            "Needs analysis: where can the customer buy more from us",
            "Offer the products it lacks that similar customers buy",
            "Growth offer tied to a volume commitment",
        ),
        "reason": "portfolio B: room to grow its purchases",
    },
    "C": {
        "intensity": "medium",
        "cadence_days": 90,
        "channel": "call",
        "owner_role": "inside sales",
        "activities": (
            "Contact as needed: answer requests quickly",
            "Targeted campaigns by need",
            "Watch for growth that would move it toward portfolio B",
        ),
        "reason": "portfolio C: contacted as needed and developed toward B",
    },
    "D": {
        "intensity": "low",
        "cadence_days": 180,
        "channel": "email",
        "owner_role": "marketing",
        "activities": (
            "Newsletter and web shop (no active investment)",
            "Watch purchases for signs of growth",
        ),
        "reason": "portfolio D: not actively invested in, watched for growth",
    },
}


class PortfolioCare(CareModelBase):
    """Care by portfolio A/B/C/D, with churn reasons overriding routine care.

    Each portfolio has its own care model (*hoitomalli*):

    - **A** contract customers, looked after with a customer-care and
      activity plan (maximum intensity, a key account manager visits
      monthly);
    - **B** customers with room to grow their purchases (high intensity:
      needs analysis, cross-sell, growth offers);
    - **C** customers contacted as needed and developed toward B (medium
      intensity, inside sales);
    - **D** customers not actively invested in but watched for growth (low
      intensity, newsletter and web shop).

    The portfolio comes from a ``portfolio`` column, e.g. the output of
    :class:`crmkit.segmentation.PortfolioSegmenter` (``output_name=
    "portfolio"``). ``table`` replaces the rule of any portfolio (or adds
    portfolios); :meth:`rules` shows the table in use.

    **Churn override.** A customer whose ``churn_risk`` exceeds
    ``churn_threshold`` gets the retention action of its strongest churn
    reason (the first entry of ``reasons_column``, as written by
    :class:`crmkit.churn.SignalRules`): a feedback follow-up for a detractor
    or a complaint, a visit to re-establish contact when a decision maker
    left, a win-back offer for overdue or falling purchases, an address check
    after a move (:data:`crmkit.care.RETENTION_ACTIONS`, replaceable with
    ``retention_actions``). Its intensity rises to at least high, its
    cadence to the action's due date, the action leads its activities and
    ``care_reasons`` records the risk and the reason. A missing risk never
    overrides.

    **Budget.** Each customer's weight is ``w[intensity] * (1 + v /
    value_scale_)``, with ``v`` the value column (missing or negative counts
    as 0) and ``value_scale_`` its mean in the fitting view; ``budget_share``
    is the weight over ``budget_total_``, the sum of the weights of the
    fitting view (capped at 1). The shares of the fitting view sum to 1; a
    customer's share never depends on who else is planned in the same call.

    Parameters
    ----------
    portfolio_column : str, default="portfolio"
        The column holding the portfolio letters.
    table : mapping of str to mapping, optional
        Care rules replacing the defaults (:data:`PORTFOLIO_RULES`) by
        portfolio; each rule has ``intensity``, ``cadence_days``,
        ``channel``, ``owner_role``, ``activities`` and ``reason``.
    value_column : str, default="clv"
        Value that prioritises the budget (``clv``, ``revenue`` ...).
    churn_threshold : float or None, default=0.5
        Churn risk above which retention overrides routine care; None turns
        the override off (``churn_risk`` is then not required).
    reasons_column : str, default="churn_reasons"
        Churn reasons text, read when present.
    retention_actions : mapping of str to mapping, optional
        Retention actions replacing the defaults by churn signal name; each
        has ``action``, ``channel``, ``owner_role`` and ``due_days``.
    intensity_weights : mapping of str to float, optional
        Budget weight per intensity (default low 1, medium 2, high 4,
        maximum 8).

    Attributes
    ----------
    value_scale_ : float
        Mean value (clipped at 0) of the fitting view.
    budget_total_ : float
        Sum of the budget weights of the fitting view.

    References
    ----------
    Operational CRM in education services (a thesis chapter): care models
    per portfolio A-D.

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame(
    ...     {"portfolio": ["A", "B", "D", "C"], "clv": [9000.0, 3000.0, 100.0, 800.0],
    ...      "churn_risk": [0.1, 0.2, 0.05, 0.8],
    ...      "churn_reasons": ["", "", "", "nps_detractor (0.52); overdue (0.20)"]},
    ...     index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
    >>> care = PortfolioCare().fit(view)
    >>> plan = care.plan(view)
    >>> plan[["care_model", "intensity", "cadence_days", "owner_role"]]
                care_model intensity  cadence_days               owner_role
    customer_id
    a                    A   maximum            30      key account manager
    b                    B      high            45          account manager
    c                    D       low           180                marketing
    d                    C      high             7  customer service manager
    >>> plan.loc["d", "care_reasons"]
    'churn risk 0.80 > 0.5 (nps_detractor); portfolio C: contacted as needed and developed toward B'
    >>> round(float(plan["budget_share"].sum()), 6)
    1.0
    """

    _defaults: ClassVar[Mapping[str, Mapping[str, Any]]] = PORTFOLIO_RULES
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "portfolio_column": [COLUMN_NAME],
        **SHARED_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        portfolio_column: str = "portfolio",
        table: Mapping[str, Mapping[str, Any]] | None = None,
        value_column: str = "clv",
        churn_threshold: float | None = 0.5,
        reasons_column: str = "churn_reasons",
        retention_actions: Mapping[str, Mapping[str, Any]] | None = None,
        intensity_weights: Mapping[str, float] | None = None,
    ) -> None:
        self.portfolio_column = portfolio_column
        self.table = table
        self.value_column = value_column
        self.churn_threshold = churn_threshold
        self.reasons_column = reasons_column
        self.retention_actions = retention_actions
        self.intensity_weights = intensity_weights

    def _tier_columns(self) -> tuple[str, ...]:
        return (self.portfolio_column,)

    def _tiers(self, frame: pd.DataFrame, value: Any) -> ObjArray:
        return required_labels(frame, self.portfolio_column)
