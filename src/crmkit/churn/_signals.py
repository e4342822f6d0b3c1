"""SignalRules: named early-warning rules combined into a churn risk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit._params import Constraint, Interval, Predicate
from crmkit.churn._common import (
    check_churn_view,
    check_labels,
    column_values,
    reasons_array,
    score_frame,
)
from crmkit.churn._noisy_or import fit_noisy_or, noisy_or
from crmkit.churn._rules import DEFAULT_WEIGHTS, RULES
from crmkit.exceptions import ModelFileError
from crmkit.plugins import CHURN_SCORE_COLUMNS, PluginBase

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["SignalRules"]

_STRUCTURAL = frozenset({"T", "recency"})  # read by a rule but never missing in a view


def _names_ok(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) > 0
        and len(set(value)) == len(value)
        and all(isinstance(v, str) and v in RULES for v in value)
    )


def _mapping_ok(value: Any, low: float, high: float, closed_high: bool) -> bool:
    if not isinstance(value, Mapping):
        return False
    for key, v in value.items():
        if key not in RULES or isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        if not np.isfinite(v) or v < low or v > high or (v == high and not closed_high):
            return False
    return True


_RULE_LIST = ", ".join(RULES)


class SignalRules(PluginBase):
    """Early-warning churn signals: named, parameterised rules combined by weights.

    Each rule watches one early signal that a customer is deciding to leave
    (the moment to react) and gives a strength in [0, 1] per customer: 0 when
    it does not fire, 0.5 just at its threshold, up to 1 at the extreme (or on
    the day of the event). The rules and their default thresholds:

    ==================  ==========================================  =========  ======
    signal              fires when                                  threshold  weight
    ==================  ==========================================  =========  ======
    nps_detractor       ``last_nps`` <= threshold (0-10 scale)      6          0.15
    low_csat            ``mean_csat`` <= threshold (1-5 scale)      3.0        0.10
    recent_complaint    ``days_since_complaint`` <= threshold       120 days   0.25
    open_complaint      ``n_complaints_open`` >= threshold          1          0.20
    falling_purchases   ``purchase_trend`` <= threshold (-1..1)     -0.5       0.15
    address_change      ``days_since_address_change`` <= threshold  180 days   0.30
    overdue             ``(T - recency) / mean_interpurchase`` >=   3 gaps     0.20
                        threshold (silence vs. the customer's own
                        rhythm)
    key_contact_left    ``n_decision_makers_left`` >= 1 and         180 days   0.30
                        ``days_since_contact_left`` <= threshold
    ==================  ==========================================  =========  ======

    A rule whose input is missing (no NPS answer, no complaint, no move, no
    repeat purchase for ``overdue`` ...) does **not** fire: missing values are
    never imputed. ``key_contact_left`` uses the latest leaving date of any
    contact, as the view holds no separate date for decision makers.

    The signals combine as a noisy-OR: ``churn_risk = 1 - (1 - base_rate) *
    prod_k (1 - weight_k * strength_k)``, where a weight is the chance that
    the signal alone, at full strength, ends in churn. Each signal's
    ``signal_<name>`` output is its share of the risk (shares in proportion to
    the hazards ``-log(1 - weight_k * strength_k)``), and ``reasons`` lists
    the signals that fired, largest share first, e.g.
    ``"address_change (0.28); nps_detractor (0.09)"``.

    Without labels ``fit`` uses the default (or given) weights. With labels
    ``y`` and ``learn_weights=True`` it learns the weights and base rate by
    maximum a-posteriori estimation of the noisy-OR likelihood, on the logit
    scale with a Gaussian prior centred on the defaults.

    Parameters
    ----------
    signals : tuple of str, optional
        The rules to use, in output order; default all of them. Leave out
        rules whose columns a view does not have (e.g. no feedback records).
    thresholds : mapping of str to float, optional
        Thresholds overriding the defaults, by signal name.
    weights : mapping of str to float, optional
        Weights in [0, 1) overriding the defaults (or the prior when learning).
    base_rate : float, default=0.02
        Risk with no signal firing, in [0, 1).
    learn_weights : bool, default=True
        Learn weights and base rate when ``fit`` gets labels.
    prior_strength : float, default=1.0
        Precision of the prior on the logit-weights when learning (> 0);
        larger keeps the weights nearer the defaults.
    min_contribution : float, default=0.005
        Signals whose share of the risk is at or below this are left out of
        ``reasons``.

    Attributes
    ----------
    signals_ : tuple of str
        The rules used.
    thresholds_ : dict of str to float
        Threshold of each rule.
    weights_ : dict of str to float
        Weight of each rule (learned or given).
    base_rate_ : float
        Base rate (learned or given).
    learned_ : bool
        Whether the weights were learned from labels.

    Examples
    --------
    >>> view = pd.DataFrame({
    ...     "T": [50.0, 50.0], "recency": [45.0, 10.0], "mean_interpurchase": [3.0, 2.0],
    ...     "last_nps": [9.0, 2.0], "days_since_address_change": [float("nan"), 30.0]},
    ...     index=pd.Index(["a", "b"], name="customer_id"))
    >>> rules = SignalRules(signals=("nps_detractor", "address_change", "overdue")).fit(view)
    >>> out = rules.score(view)
    >>> out["churn_risk"].round(3).tolist()
    [0.02, 0.503]
    >>> out.loc["b", "reasons"]
    'address_change (0.23); overdue (0.16); nps_detractor (0.10)'
    """

    _nonfinite_state: ClassVar[frozenset[str]] = frozenset({"thresholds"})  # +-inf allowed
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "signals": [Predicate(_names_ok, f"a tuple of distinct rule names ({_RULE_LIST})"), None],
        "thresholds": [
            Predicate(lambda v: _mapping_ok(v, -np.inf, np.inf, True),
                      "a mapping of rule name to a finite float"),
            None,
        ],
        "weights": [
            Predicate(lambda v: _mapping_ok(v, 0.0, 1.0, False),
                      "a mapping of rule name to a float in [0, 1)"),
            None,
        ],
        "base_rate": [Interval("float", 0, 1, closed="left")],
        "learn_weights": [bool],
        "prior_strength": [Interval("float", 0, None, closed="neither")],
        "min_contribution": [Interval("float", 0, None)],
    }  # fmt: skip

    def __init__(
        self,
        *,
        signals: tuple[str, ...] | None = None,
        thresholds: Mapping[str, float] | None = None,
        weights: Mapping[str, float] | None = None,
        base_rate: float = 0.02,
        learn_weights: bool = True,
        prior_strength: float = 1.0,
        min_contribution: float = 0.005,
    ) -> None:
        self.signals = signals
        self.thresholds = thresholds
        self.weights = weights
        self.base_rate = base_rate
        self.learn_weights = learn_weights
        self.prior_strength = prior_strength
        self.min_contribution = min_contribution

    def _names(self) -> tuple[str, ...]:
        signals = self._validated("signals")
        return tuple(RULES) if signals is None else tuple(signals)

    @property
    def requires(self) -> tuple[str, ...]:
        """The view columns the chosen rules read.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> SignalRules(signals=("overdue", "nps_detractor")).requires
        ('T', 'recency', 'mean_interpurchase', 'last_nps')
        """
        cols = [c for name in self._names() for c in RULES[name].columns]
        return tuple(dict.fromkeys(cols))

    @property
    def provides(self) -> tuple[str, ...]:
        """``churn_risk``, ``reasons`` and ``signal_<name>`` for each rule.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> SignalRules(signals=("overdue",)).provides
        ('churn_risk', 'reasons', 'signal_overdue')
        """
        return (*CHURN_SCORE_COLUMNS, *(f"signal_{n}" for n in self._names()))

    def _check_view(self, view: pd.DataFrame, who: str) -> pd.DataFrame:
        return check_churn_view(view, f"SignalRules.{who}", self.requires, filled=_STRUCTURAL)

    def strengths(self, view: pd.DataFrame) -> pd.DataFrame:
        """The strength of every rule for every customer, before weighting.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.DataFrame
            One float column per rule (named after it), in [0, 1], indexed
            like ``view``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or non-numeric columns.

        Examples
        --------
        >>> view = pd.DataFrame({"last_nps": [3.0, 8.0]},
        ...                     index=pd.Index(["a", "b"], name="customer_id"))
        >>> SignalRules(signals=("nps_detractor",)).fit(view).strengths(view)
                     nps_detractor
        customer_id
        a                     0.75
        b                     0.00
        """
        check_is_fitted(self, "weights_")
        view = self._check_view(view, "strengths")
        matrix = self._strength_matrix(view, self.signals_, self.thresholds_)
        frame: pd.DataFrame = pd.DataFrame(
            matrix, index=view.index.copy(), columns=list(self.signals_)
        )
        return frame

    @staticmethod
    def _strength_matrix(
        view: pd.DataFrame, names: tuple[str, ...], thresholds: Mapping[str, float]
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        cache: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
        out = np.empty((len(view), len(names)), dtype=np.float64, order="F")  # by column
        for j, name in enumerate(names):
            rule = RULES[name]
            inputs = {}
            for c in rule.columns:
                if c not in cache:
                    cache[c] = column_values(view, c)
                inputs[c] = cache[c]
            out[:, j] = rule.strength(inputs, thresholds[name])
        return out

    def fit(self, view: pd.DataFrame, y: pd.Series | None = None) -> Self:
        """Set up the rules; learn weights from labels when given.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.
        y : pandas.Series of bool, optional
            Whether each customer churned, indexed like ``view``.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters.
        SchemaError
            For missing or non-numeric columns or bad labels.
        ConvergenceError
            When learning the weights fails.

        Examples
        --------
        See :class:`SignalRules`.
        """
        self._validate_params()
        view = self._check_view(view, "fit")
        names = self._names()
        given_t = dict(self.thresholds or {})
        given_w = dict(self.weights or {})
        thresholds = {n: float(given_t.get(n, RULES[n].threshold)) for n in names}
        weights = np.array([float(given_w.get(n, DEFAULT_WEIGHTS[n])) for n in names])
        base = float(self.base_rate)
        learned = False
        if y is not None:
            labels = check_labels(y, view, "SignalRules.fit")
            if self.learn_weights:
                matrix = self._strength_matrix(view, names, thresholds)
                weights, base = fit_noisy_or(
                    matrix, labels, weights, base, float(self.prior_strength)
                )
                learned = True
        self.signals_ = names
        self.thresholds_ = thresholds
        self.weights_ = {n: float(w) for n, w in zip(names, weights, strict=True)}
        self.base_rate_ = base
        self.learned_ = learned
        return self

    def score(self, view: pd.DataFrame) -> pd.DataFrame:
        """Score each customer: risk, reasons and each signal's share of the risk.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``view``: ``churn_risk`` (float in [0, 1]),
            ``reasons`` (str) and ``signal_<name>`` (float, the signal's
            share of ``churn_risk``) per rule.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or non-numeric columns.

        Examples
        --------
        See :class:`SignalRules`.
        """
        check_is_fitted(self, "weights_")
        view = self._check_view(view, "score")
        names = self.signals_
        matrix = self._strength_matrix(view, names, self.thresholds_)
        weights = np.array([self.weights_[n] for n in names], dtype=np.float64)
        risk, parts = noisy_or(matrix, weights, self.base_rate_)
        reasons = reasons_array(parts, names, minimum=float(self.min_contribution))
        return score_frame(view.index, risk, reasons, {n: parts[:, j] for j, n in
                                                       enumerate(names)})  # fmt: skip

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "weights_"):
            return None
        return {
            "signals": tuple(self.signals_),
            "thresholds": dict(self.thresholds_),
            "weights": dict(self.weights_),
            "base_rate": self.base_rate_,
            "learned": self.learned_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        names = tuple(str(n) for n in state["signals"])
        unknown = [n for n in names if n not in RULES]
        if unknown:
            raise ModelFileError(
                f"malformed fitted state for SignalRules: 'signals' holds unknown rules "
                f"{unknown}; known rules: {', '.join(RULES)}"
            )
        self.signals_ = names
        self.thresholds_ = {n: float(state["thresholds"][n]) for n in names}
        self.weights_ = {n: float(state["weights"][n]) for n in names}
        self.base_rate_ = float(state["base_rate"])
        self.learned_ = bool(state["learned"])
