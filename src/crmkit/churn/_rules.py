"""The named early-warning rules of :class:`crmkit.churn.SignalRules`.

Every rule reads one or two customer-view columns and returns a strength in
[0, 1] per customer: 0 when the rule does not fire (also whenever one of its
inputs is missing), between 0.5 (just at its threshold) and 1 (at the
extreme of the scale, or on the day of the event) when it fires. The
threshold of each rule is a parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs
import numpy as np
import numpy.typing as npt

__all__ = ["RULES", "Rule", "DEFAULT_WEIGHTS"]

FloatArray = npt.NDArray[np.float64]


def _below(values: FloatArray, threshold: float, floor: float) -> FloatArray:
    """0.5 at ``threshold``, 1 at ``floor`` (the scale's minimum), 0 above the threshold."""
    span = max(threshold - floor, 1e-12)
    strength = 0.5 + 0.5 * np.clip((threshold - values) / span, 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        fires = values <= threshold
    return np.where(fires, strength, 0.0)


def _recent(days: FloatArray, window: float) -> FloatArray:
    """1 on the day of the event, 0.5 at ``window`` days, 0 later (or never)."""
    w = max(window, 1e-12)
    strength = 1.0 - 0.5 * np.clip(days / w, 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        fires = (days >= 0) & (days <= window)
    return np.where(fires, strength, 0.0)


def _above(values: FloatArray, threshold: float) -> FloatArray:
    """0.5 at ``threshold``, 1 at twice the threshold and beyond, 0 below it."""
    t = max(threshold, 1e-12)
    strength = np.minimum(1.0, 0.5 + 0.5 * (values - t) / t)
    with np.errstate(invalid="ignore"):
        fires = values >= threshold
    return np.where(fires, strength, 0.0)


def _nps(c: Mapping[str, FloatArray], t: float) -> FloatArray:
    return _below(c["last_nps"], t, 0.0)


def _csat(c: Mapping[str, FloatArray], t: float) -> FloatArray:
    return _below(c["mean_csat"], t, 1.0)


def _complaint(c: Mapping[str, FloatArray], t: float) -> FloatArray:
    return _recent(c["days_since_complaint"], t)


def _open(c: Mapping[str, FloatArray], t: float) -> FloatArray:
    with np.errstate(invalid="ignore"):
        return np.where(c["n_complaints_open"] >= t, 1.0, 0.0)


def _trend(c: Mapping[str, FloatArray], t: float) -> FloatArray:
    return _below(c["purchase_trend"], t, -1.0)


def _address(c: Mapping[str, FloatArray], t: float) -> FloatArray:
    return _recent(c["days_since_address_change"], t)


def _overdue(c: Mapping[str, FloatArray], t: float) -> FloatArray:
    # time since the last purchase over the customer's mean gap, both in time units
    gap = c["T"] - c["recency"]
    rhythm = c["mean_interpurchase"]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(rhythm > 0, gap / np.where(rhythm > 0, rhythm, 1.0), np.nan)
    return _above(ratio, t)


def _contact(c: Mapping[str, FloatArray], t: float) -> FloatArray:
    recent = _recent(c["days_since_contact_left"], t)
    with np.errstate(invalid="ignore"):
        decider = c["n_decision_makers_left"] >= 1
    return np.where(decider, recent, 0.0)


@attrs.frozen
class Rule:
    """One early-warning rule.

    Parameters
    ----------
    name : str
        The signal name (output column ``signal_<name>``).
    columns : tuple of str
        Customer-view columns it reads.
    threshold : float
        Default threshold.
    unit : str
        What the threshold measures (for the docs).
    text : str
        When it fires, in words.
    evaluate : callable
        ``evaluate(columns, threshold) -> strength`` with ``columns`` a mapping
        of column name to float array (NaN = missing).

    Examples
    --------
    >>> RULES["nps_detractor"].strength({"last_nps": np.array([9.0, 6.0, 0.0, np.nan])})
    array([0. , 0.5, 1. , 0. ])
    """

    name: str
    columns: tuple[str, ...]
    threshold: float
    unit: str
    text: str
    evaluate: Callable[[Mapping[str, FloatArray], float], FloatArray]

    def strength(
        self, columns: Mapping[str, FloatArray], threshold: float | None = None
    ) -> FloatArray:
        """Strength of the rule per customer, in [0, 1] (0 = does not fire).

        Parameters
        ----------
        columns : mapping of str to numpy.ndarray of float
            The rule's input columns (NaN = missing: the rule does not fire).
        threshold : float, optional
            Overrides the default threshold.

        Returns
        -------
        numpy.ndarray of float, shape (n_customers,)

        Examples
        --------
        >>> RULES["address_change"].strength({"days_since_address_change": np.array([0.0, 90.0])})
        array([1.  , 0.75])
        """
        t = self.threshold if threshold is None else float(threshold)
        out = np.asarray(self.evaluate(columns, t), dtype=np.float64)
        return np.where(np.isfinite(out), out, 0.0)


#: The rules, in output order.
RULES: Mapping[str, Rule] = {
    r.name: r
    for r in (
        Rule("nps_detractor", ("last_nps",), 6.0, "NPS points (0-10)",
             "the last NPS answer is a detractor (<= threshold)", _nps),
        Rule("low_csat", ("mean_csat",), 3.0, "CSAT points (1-5)",
             "the mean CSAT is at or below the threshold", _csat),
        Rule("recent_complaint", ("days_since_complaint",), 120.0, "days",
             "a complaint came in within the threshold", _complaint),
        Rule("open_complaint", ("n_complaints_open",), 1.0, "open complaints",
             "at least threshold complaints are unresolved", _open),
        Rule("falling_purchases", ("purchase_trend",), -0.5, "trend (-1..1)",
             "the purchase trend is at or below the threshold", _trend),
        Rule("address_change", ("days_since_address_change",), 180.0, "days",
             "the address changed within the threshold", _address),
        Rule("overdue", ("T", "recency", "mean_interpurchase"), 3.0, "mean gaps",
             "the time since the last purchase is at least threshold times the customer's "
             "mean time between purchases", _overdue),
        Rule("key_contact_left", ("n_decision_makers_left", "days_since_contact_left"), 180.0,
             "days", "a decision maker has left and a contact left within the threshold",
             _contact),
    )
}  # fmt: skip

#: Default weight of each rule: the chance that the signal alone, at full
#: strength, ends in churn (combined as a noisy-OR).
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "nps_detractor": 0.15,
    "low_csat": 0.10,
    "recent_complaint": 0.25,
    "open_complaint": 0.20,
    "falling_purchases": 0.15,
    "address_change": 0.30,
    "overdue": 0.20,
    "key_contact_left": 0.30,
}
