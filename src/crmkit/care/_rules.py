"""Care rules: what one care tier means in practice, and the retention actions.

A care model sorts customers into *tiers* (a portfolio letter, a lifecycle
stage, key accounts vs the rest ...) and looks each tier up in a table of
care rules. A rule is a plain mapping, so that tables are easy to replace and
to save as JSON::

    {"intensity": "high", "cadence_days": 30, "channel": "visit",
     "owner_role": "key account manager",
     "activities": ("annual care and activity plan", "quarterly review"),
     "reason": "portfolio A: contract customer"}

Churn reasons override routine care: a customer at risk gets the retention
action matching its strongest early-warning signal (react at the
moment the customer decides). Those actions are mappings too::

    {"action": "Follow up the feedback ...", "channel": "call",
     "owner_role": "customer service manager", "due_days": 7}
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from crmkit.domain import CareIntensity
from crmkit.exceptions import InvalidParameterError

__all__ = [
    "DEFAULT_INTENSITY_WEIGHTS",
    "DEFAULT_RETENTION",
    "RETENTION_ACTIONS",
    "RULE_KEYS",
    "ACTION_KEYS",
    "INTENSITIES",
    "merge_actions",
    "merge_rules",
    "merge_weights",
]

#: The intensities in increasing order (the values of :class:`CareIntensity`).
INTENSITIES: tuple[str, ...] = tuple(i.value for i in CareIntensity)

#: The keys of a care rule.
RULE_KEYS: tuple[str, ...] = (
    "intensity",
    "cadence_days",
    "channel",
    "owner_role",
    "activities",
    "reason",
)

#: The keys of a retention action.
ACTION_KEYS: tuple[str, ...] = ("action", "channel", "owner_role", "due_days")

#: Relative cost of one customer's care at each intensity (budget weights).
DEFAULT_INTENSITY_WEIGHTS: Mapping[str, float] = {
    "low": 1.0,
    "medium": 2.0,
    "high": 4.0,
    "maximum": 8.0,
}

#: The retention action used when the top churn reason has no entry.
DEFAULT_RETENTION = "default"

_FEEDBACK_FOLLOW_UP: Mapping[str, Any] = {
    "action": "Follow up the feedback: call the customer, agree on a fix and report back "
    "what was done",
    "channel": "call",
    "owner_role": "customer service manager",
    "due_days": 7,
}

_RETENTION_BY_SIGNAL: dict[str, Mapping[str, Any]] = {
    "nps_detractor": _FEEDBACK_FOLLOW_UP,
    "low_csat": _FEEDBACK_FOLLOW_UP,
    "recent_complaint": {
        "action": "Complaint follow-up: confirm that the complaint was resolved and what "
        "changed as a result",
        "channel": "call",
        "owner_role": "customer service manager",
        "due_days": 7,
    },
    "open_complaint": {
        "action": "Resolve the open complaint and tell the customer what was done",
        "channel": "call",
        "owner_role": "customer service manager",
        "due_days": 3,
    },
    "key_contact_left": {
        "action": "Re-establish contact: meet the new decision makers and update the "
        "decision-maker map",
        "channel": "visit",
        "owner_role": "account manager",
        "due_days": 14,
    },
    "overdue": {
        "action": "Win-back offer: ask about the overdue order and make a targeted offer",
        "channel": "call",
        "owner_role": "seller",
        "due_days": 7,
    },
    "falling_purchases": {
        "action": "Win-back offer: review the falling purchases with the customer and make "
        "a targeted offer",
        "channel": "call",
        "owner_role": "seller",
        "due_days": 14,
    },
    "address_change": {
        "action": "Verify the new address and contact details, and ask whether the move "
        "changes the customer's needs",
        "channel": "call",
        "owner_role": "customer service",
        "due_days": 7,
    },
    DEFAULT_RETENTION: {
        "action": "Retention call: ask how we are doing and what would keep the customer",
        "channel": "call",
        "owner_role": "account manager",
        "due_days": 14,
    },
}

#: Reasons named by the other detectors of :mod:`crmkit.churn` (``AliveChurn``'s
#: ``dropout``, ``SurvivalChurn``'s ``silence``, the view columns behind the
#: terms of ``LogisticChurn`` and ``SurvivalChurn``) and the signal they stand for.
_ALIASES: Mapping[str, str] = {
    "dropout": "overdue",
    "silence": "overdue",
    "days_since_last": "overdue",
    "recency": "overdue",
    "mean_interpurchase": "overdue",
    "purchase_trend": "falling_purchases",
    "last_nps": "nps_detractor",
    "mean_csat": "low_csat",
    "mean_ces": "low_csat",
    "n_complaints_open": "open_complaint",
    "days_since_complaint": "recent_complaint",
    "days_since_address_change": "address_change",
    "n_decision_makers_left": "key_contact_left",
    "days_since_contact_left": "key_contact_left",
    "n_contacts_left": "key_contact_left",
}

#: Retention action per churn reason: the signals of
#: :class:`crmkit.churn.SignalRules` (``nps_detractor``, ``overdue`` ...), the
#: reasons of the other detectors of :mod:`crmkit.churn` (``dropout``,
#: ``silence``, view columns such as ``last_nps``) and ``"default"`` for any
#: other reason.
RETENTION_ACTIONS: Mapping[str, Mapping[str, Any]] = {
    **_RETENTION_BY_SIGNAL,
    **{alias: _RETENTION_BY_SIGNAL[signal] for alias, signal in _ALIASES.items()},
}


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and "; " not in value


def _positive_int(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return False
    return int(value) >= 1


def _activities(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and all(_text(v) for v in value)


def _bad(owner: str, name: str, what: str, value: Any) -> InvalidParameterError:
    return InvalidParameterError(
        f"The {name!r} parameter of {owner} must be {what}. Got {value!r:.120} instead."
    )


def _check_rule(owner: str, name: str, tier: Any, rule: Any) -> dict[str, Any]:
    where = f"a mapping of tier to care rule; rule {tier!r}"
    if not isinstance(tier, str) or not tier.strip():
        raise _bad(owner, name, "a mapping with non-empty str tier names", tier)
    if not isinstance(rule, Mapping) or set(rule) != set(RULE_KEYS):
        raise _bad(owner, name, f"{where} needs exactly the keys {list(RULE_KEYS)}", rule)
    if rule["intensity"] not in INTENSITIES:
        raise _bad(owner, name, f"{where}: intensity one of {list(INTENSITIES)}", rule)
    if not _positive_int(rule["cadence_days"]):
        raise _bad(owner, name, f"{where}: cadence_days an int >= 1", rule)
    for key in ("channel", "owner_role", "reason"):
        if not _text(rule[key]):
            raise _bad(owner, name, f"{where}: {key} a non-empty str without '; '", rule)
    if not _activities(rule["activities"]):
        raise _bad(owner, name, f"{where}: activities a tuple of str without '; '", rule)
    return {
        "intensity": str(rule["intensity"]),
        "cadence_days": int(rule["cadence_days"]),
        "channel": str(rule["channel"]),
        "owner_role": str(rule["owner_role"]),
        "activities": tuple(str(a) for a in rule["activities"]),
        "reason": str(rule["reason"]),
    }


def merge_rules(
    owner: str,
    defaults: Mapping[str, Mapping[str, Any]],
    table: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """The default care rules with the user's rules replacing them tier by tier.

    Parameters
    ----------
    owner : str
        The care model (for messages).
    defaults : mapping of str to mapping
        The built-in rule of each tier.
    table : mapping of str to mapping, optional
        Replacement rules, each complete (all of :data:`RULE_KEYS`); tiers
        not in ``defaults`` are added.

    Returns
    -------
    dict of str to dict
        Checked rules, in the order of ``defaults`` then the new tiers.

    Raises
    ------
    InvalidParameterError
        For a malformed table or rule.

    Examples
    --------
    >>> rule = {"intensity": "low", "cadence_days": 90, "channel": "email",
    ...         "owner_role": "marketing", "activities": ("newsletter",), "reason": "watched"}
    >>> merge_rules("Demo", {"D": rule}, {"E": rule})["E"]["cadence_days"]
    90
    >>> merge_rules("Demo", {"D": rule}, {"D": {"intensity": "huge"}})
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: The 'table' parameter of Demo must be ...
    """
    if table is not None and not isinstance(table, Mapping):
        raise _bad(owner, "table", "a mapping of tier to care rule, or None", table)
    merged = {tier: _check_rule(owner, "table", tier, rule) for tier, rule in defaults.items()}
    for tier, rule in (table or {}).items():
        merged[tier] = _check_rule(owner, "table", tier, rule)
    return merged


def merge_actions(
    owner: str, actions: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, dict[str, Any]]:
    """:data:`RETENTION_ACTIONS` with the user's actions replacing them by signal.

    Parameters
    ----------
    owner : str
        The care model (for messages).
    actions : mapping of str to mapping, optional
        Replacement actions by churn signal name (``"default"`` for any
        other reason), each with all of :data:`ACTION_KEYS`.

    Returns
    -------
    dict of str to dict

    Raises
    ------
    InvalidParameterError
        For a malformed action.

    Examples
    --------
    >>> merge_actions("Demo", None)["address_change"]["due_days"]
    7
    """
    if actions is not None and not isinstance(actions, Mapping):
        raise _bad(owner, "retention_actions", "a mapping of signal to action, or None", actions)
    merged = {k: dict(v) for k, v in RETENTION_ACTIONS.items()}
    for signal, action in (actions or {}).items():
        what = f"a mapping of signal to action; action {signal!r}"
        if not isinstance(signal, str) or not signal:
            raise _bad(owner, "retention_actions", "a mapping with non-empty str keys", signal)
        if not isinstance(action, Mapping) or set(action) != set(ACTION_KEYS):
            raise _bad(
                owner, "retention_actions", f"{what} needs the keys {list(ACTION_KEYS)}", action
            )
        if not all(_text(action[k]) for k in ("action", "channel", "owner_role")):
            raise _bad(
                owner, "retention_actions", f"{what}: non-empty str texts without '; '", action
            )
        if not _positive_int(action["due_days"]):
            raise _bad(owner, "retention_actions", f"{what}: due_days an int >= 1", action)
        merged[signal] = {
            "action": str(action["action"]),
            "channel": str(action["channel"]),
            "owner_role": str(action["owner_role"]),
            "due_days": int(action["due_days"]),
        }
    return merged


def merge_weights(owner: str, weights: Mapping[str, float] | None) -> dict[str, float]:
    """Budget weight of each intensity: the defaults, replaced where given.

    Parameters
    ----------
    owner : str
        The care model (for messages).
    weights : mapping of str to float, optional
        Finite weights > 0 by intensity name.

    Returns
    -------
    dict of str to float

    Raises
    ------
    InvalidParameterError
        For an unknown intensity or a weight that is not a finite float > 0.

    Examples
    --------
    >>> merge_weights("Demo", {"maximum": 10.0})["maximum"]
    10.0
    """
    if weights is not None and not isinstance(weights, Mapping):
        raise _bad(owner, "intensity_weights", "a mapping of intensity to weight, or None", weights)
    merged = dict(DEFAULT_INTENSITY_WEIGHTS)
    given: Mapping[str, Any] = weights or {}
    for key, value in given.items():
        number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        ok = key in INTENSITIES and number and math.isfinite(float(value)) and float(value) > 0
        if not ok:
            raise _bad(
                owner,
                "intensity_weights",
                f"a mapping of intensity ({', '.join(INTENSITIES)}) to a finite float > 0",
                weights,
            )
        merged[str(key)] = float(value)
    return merged
