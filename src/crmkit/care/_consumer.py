"""Care tables for consumer businesses: e-mail, app, service desk, offers and win-back.

The default tables of :class:`~crmkit.care.PortfolioCare`,
:class:`~crmkit.care.LifecycleCare` and :data:`~crmkit.care.RETENTION_ACTIONS`
describe business-to-business care: key account managers who visit, sellers
who call. A shop selling CDs or clothes to thousands of consumers has no
account managers; it reaches customers through e-mail, its app or web shop,
personalised offers and a service desk. These tables say the same things in
those terms, tier for tier and signal for signal, so that either set can
replace the other through the ``table`` and ``retention_actions``
parameters. A :class:`~crmkit.compose.Playbook` with ``care="auto"`` uses
them when the records hold neither firmographics nor contacts.

Examples
--------
>>> import pandas as pd
>>> from crmkit.care import PortfolioCare
>>> view = pd.DataFrame({"portfolio": ["A", "D"], "clv": [900.0, 5.0],
...                      "churn_risk": [0.1, 0.1]},
...                     index=pd.Index(["a", "b"], name="customer_id"))
>>> care = PortfolioCare(table=CONSUMER_PORTFOLIO_RULES,
...                      retention_actions=CONSUMER_RETENTION_ACTIONS)
>>> care.fit(view).plan(view)["owner_role"].tolist()
['customer relations', 'marketing']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmkit.care._rules import _ALIASES, RETENTION_ACTIONS

__all__ = ["CONSUMER_LIFECYCLE_RULES", "CONSUMER_PORTFOLIO_RULES", "CONSUMER_RETENTION_ACTIONS"]

#: Consumer care rule of each portfolio (A-D, from revenue x CLV).
CONSUMER_PORTFOLIO_RULES: Mapping[str, Mapping[str, Any]] = {
    "A": {
        "intensity": "maximum",
        "cadence_days": 30,
        "channel": "email",
        "owner_role": "customer relations",
        "activities": (
            "VIP tier of the loyalty programme: early access and members' prices",
            "Personal thank-you message after each purchase",
            "Priority line at the service desk",
        ),
        "reason": "portfolio A: a top customer, kept close with VIP benefits",
    },
    "B": {
        "intensity": "high",
        "cadence_days": 30,
        "channel": "app",
        "owner_role": "marketing",
        "activities": (
            "Personalised recommendations from the customer's own purchases",
            "Offers on what similar customers buy",
        ),
        "reason": "portfolio B: room to grow its purchases",
    },
    "C": {
        "intensity": "medium",
        "cadence_days": 60,
        "channel": "email",
        "owner_role": "marketing",
        "activities": (
            "Newsletter with offers matched to past purchases",
            "Watch for growth that would move it toward portfolio B",
        ),
        "reason": "portfolio C: reached by targeted e-mail and developed toward B",
    },
    "D": {
        "intensity": "low",
        "cadence_days": 120,
        "channel": "email",
        "owner_role": "marketing",
        "activities": (
            "General newsletter and web shop (no active investment)",
            "Watch purchases for signs of growth",
        ),
        "reason": "portfolio D: not actively invested in, watched for growth",
    },
}

#: Consumer care rule of each lifecycle stage (and of lapsed customers).
CONSUMER_LIFECYCLE_RULES: Mapping[str, Mapping[str, Any]] = {
    "acquisition": {
        "intensity": "low",
        "cadence_days": 60,
        "channel": "email",
        "owner_role": "marketing",
        "activities": ("Welcome offer for a first purchase",),
        "reason": "acquisition: a prospect, not yet a customer",
    },
    "onboarding": {
        "intensity": "high",
        "cadence_days": 14,
        "channel": "email",
        "owner_role": "marketing",
        "activities": (
            "Welcome series: show the range and how to reach the service desk",
            "Invite to the app and the loyalty programme",
            "Second-purchase offer",
        ),
        "reason": "onboarding: a new customer, aiming at a second purchase",
    },
    "development": {
        "intensity": "medium",
        "cadence_days": 30,
        "channel": "app",
        "owner_role": "marketing",
        "activities": (
            "Personalised recommendations from the customer's own purchases",
            "Loyalty programme rewards",
        ),
        "reason": "development: purchases and loyalty are being grown",
    },
    "retention": {
        "intensity": "medium",
        "cadence_days": 45,
        "channel": "email",
        "owner_role": "customer relations",
        "activities": (
            "Members' offers and early access for regular customers",
            "Ask for a review or a recommendation",
        ),
        "reason": "retention: a regular customer to be held on to",
    },
    "lapsed": {
        "intensity": "low",
        "cadence_days": 90,
        "channel": "email",
        "owner_role": "marketing",
        "activities": ("Win-back offer", "Short survey: why did you stop buying?"),
        "reason": "lapsed: most likely lost, a win-back candidate",
    },
}

_SERVICE_FOLLOW_UP: Mapping[str, Any] = {
    "action": "Service desk follow-up: reply to the feedback and offer a fix or a goodwill voucher",
    "channel": "email",
    "owner_role": "service desk",
    "due_days": 3,
}
_WIN_BACK: Mapping[str, Any] = {
    "action": "Win-back offer: a personal offer on what the customer used to buy",
    "channel": "email",
    "owner_role": "marketing",
    "due_days": 7,
}

_CONSUMER_BY_SIGNAL: Mapping[str, Mapping[str, Any]] = {
    "nps_detractor": _SERVICE_FOLLOW_UP,
    "low_csat": _SERVICE_FOLLOW_UP,
    "recent_complaint": {
        "action": "Service desk: confirm that the complaint was resolved, with a goodwill voucher",
        "channel": "email",
        "owner_role": "service desk",
        "due_days": 3,
    },
    "open_complaint": {
        "action": "Service desk: resolve the open complaint and tell the customer",
        "channel": "call",
        "owner_role": "service desk",
        "due_days": 2,
    },
    "key_contact_left": _WIN_BACK,
    "overdue": _WIN_BACK,
    "falling_purchases": {
        "action": "Reactivation offer: recommendations and a discount on the customer's "
        "favourite categories",
        "channel": "app",
        "owner_role": "marketing",
        "due_days": 14,
    },
    "address_change": {
        "action": "Ask the customer to confirm the new delivery address in the app",
        "channel": "app",
        "owner_role": "service desk",
        "due_days": 7,
    },
    "default": {
        "action": "Win-back e-mail: ask how we are doing, with an offer to come back",
        "channel": "email",
        "owner_role": "marketing",
        "due_days": 14,
    },
}


def _consumer_actions() -> dict[str, Mapping[str, Any]]:
    # every key of the default table gets its consumer counterpart: the signal
    # itself, or the signal an alias (dropout, silence, view columns) stands for
    out: dict[str, Mapping[str, Any]] = {}
    for key in RETENTION_ACTIONS:
        signal = key if key in _CONSUMER_BY_SIGNAL else _ALIASES.get(key, "default")
        out[key] = _CONSUMER_BY_SIGNAL.get(signal, _CONSUMER_BY_SIGNAL["default"])
    for key, action in _CONSUMER_BY_SIGNAL.items():
        out.setdefault(key, action)
    return out


#: Consumer retention action per churn reason (same keys as
#: :data:`crmkit.care.RETENTION_ACTIONS`): service desk for feedback and
#: complaints, win-back and reactivation offers by e-mail or app otherwise.
CONSUMER_RETENTION_ACTIONS: Mapping[str, Mapping[str, Any]] = _consumer_actions()
