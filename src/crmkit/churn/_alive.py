"""AliveChurn: churn risk as the probability of no purchase within a horizon."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit._params import Constraint, Interval, Options, Predicate
from crmkit._text import Coded, coded, fixed, formatted, join_texts
from crmkit.churn._common import check_churn_view, check_labels, column_values, score_frame
from crmkit.churn._noisy_or import fit_noisy_or_weights, noisy_or
from crmkit.churn._rules import DEFAULT_WEIGHTS, RULES
from crmkit.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DataWarning,
    ModelFileError,
    SchemaError,
)
from crmkit.plugins import CHURN_SCORE_COLUMNS, PluginBase

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AliveChurn", "FALLBACK_BG_PARAMS", "FALLBACK_PNBD_PARAMS", "HISTORY_SIGNALS"]

FloatArray = npt.NDArray[np.float64]

#: BG/NBD estimates of Fader, Hardie & Lee (2005) on CDNOW, in weeks.
FALLBACK_BG_PARAMS: dict[str, float] = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

#: Pareto/NBD parameters used when the view cannot identify the model (a
#: single customer, no repeat buyers, a fit that fails): the CDNOW estimates
#: of Fader, Hardie & Lee (2005), in weeks.
FALLBACK_PNBD_PARAMS: dict[str, float] = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}

#: Early-warning signals that read only the purchase history: the purchase
#: model has already conditioned on it, so without labels they get weight 0.
HISTORY_SIGNALS: frozenset[str] = frozenset({"overdue", "falling_purchases"})

_COLUMNS = ("frequency", "recency", "T")
_UNIT_WORDS: Mapping[str, str] = {"D": "days", "W": "weeks", "M": "months"}
_STRUCTURAL = frozenset(_COLUMNS)


def _has_p_no_purchase(value: Any) -> bool:
    return callable(getattr(value, "p_no_purchase", None))


def _signals_ok(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) > 0
        and len(set(value)) == len(value)
        and all(isinstance(v, str) and v in RULES for v in value)
    )


def _number(value: float) -> str:
    """A duration for a sentence: whole units from 10 on, one decimal below."""
    return f"{value:.0f}" if value >= 9.95 else f"{value:.1f}"


def _durations(values: FloatArray, where: npt.NDArray[np.bool_] | None = None) -> Coded:
    """:func:`_number` of each value as a text piece."""
    return fixed(values, np.where(values >= 9.95, 0, 1), where=where)


def _model_reasons(
    x: FloatArray, tx: FloatArray, T: FloatArray, p0: FloatArray, share: FloatArray,
    horizon: float, unit: str,
) -> list[str | Coded]:  # fmt: skip
    """The pieces of the purchase-model part of each reason (each distinct number written once)."""
    since = T - tx
    gap = np.where(x > 0, tx / np.where(x > 0, x, 1.0), 0.0)
    # -0.0 reads as 0.0 (+ 0.0): one text, whatever the row order
    sh, n, s, g, p = (
        np.asarray(k, dtype=np.float64) + 0.0
        for k in (np.round(share, 2), x, np.round(since, 1), np.round(gap, 1), np.round(p0, 2))
    )
    single = n == 0
    repeat = ~single
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(g > 0, s / np.where(g > 0, g, 1.0), 0.0)
    never = np.zeros(len(n), dtype=np.intp)
    return [
        "dropout (",
        fixed(sh, 2),
        f"): P(no purchase in {_number(horizon)} {unit}) ",
        fixed(p, 2),
        coded(single, [" after no purchase for ", " after a single purchase "]),
        _durations(s),
        coded(single, [f" {unit}, ", f" {unit} ago"]),
        _durations(ratio, where=repeat),
        coded(never, ["x the usual gap of "], where=repeat),
        _durations(g, where=repeat),
        coded(never, [f" {unit} ("], where=repeat),
        formatted(n, lambda v: f"{int(v) + 1} purchases)", where=repeat),
    ]


class AliveChurn(PluginBase):
    """Churn risk = the probability of no purchase within a horizon, from a purchase model.

    **Definition.** ``churn_risk`` is the probability that the customer
    makes *no purchase within the next* ``horizon`` time units, given the
    customer's purchase history: ``P(X(T, T + horizon] = 0 | x, t_x, T)``
    with ``x = frequency``, ``t_x = recency`` and ``T`` from the view, as
    given by a purchase model of :mod:`crmkit.value` (its
    ``p_no_purchase(view, horizon)``). It is a calibrated probability of an
    observable event, so one-time buyers are not ranked safest (as with
    BG/NBD's ``1 - P(alive)``, which is 0 for every customer without a
    repeat purchase) and customers with different histories get different
    risks.

    With ``signals``, early-warning rules of :class:`SignalRules` (see
    :data:`crmkit.churn.RULES`, at their default thresholds) add to it as a noisy-OR with the model
    probability as the base: ``churn_risk = 1 - (1 - P0) * prod_k (1 -
    w_k s_k)``, still a probability. Rules fed by records the purchase model
    does not see (feedback, complaints, moves, contacts) start at
    :data:`crmkit.churn.DEFAULT_WEIGHTS`; rules that read only the purchase
    history (:data:`HISTORY_SIGNALS`: ``overdue``, ``falling_purchases``)
    get weight 0, since the model has already conditioned on that history
    (``frequency``, ``recency`` and ``T`` are its sufficient statistics) and
    counting it twice would make the risk over-confident. Labels passed to
    ``fit`` learn every weight (maximum a-posteriori, prior centred on the
    default weights) on top of the model probability.

    ``reasons`` names the purchase-model part with the customer's own
    numbers, e.g. ``"dropout (0.81): P(no purchase in 52 weeks) 0.81 after
    no purchase for 31 weeks, 3.1x the usual gap of 10 weeks (5
    purchases)"``, then each signal whose share of the risk exceeds
    ``min_contribution`` (``"; recent_complaint (0.06)"``). The value after
    ``dropout`` is the model's share of the risk.

    Parameters
    ----------
    model : object, optional
        A fitted purchase model with a ``p_no_purchase(view, t)`` method
        (:class:`crmkit.value.ParetoNBD`, :class:`crmkit.value.BetaGeo`,
        :class:`crmkit.value.ModifiedBetaGeo`), used as it is (never
        refitted). None fits a Pareto/NBD on the view in ``fit``; when the
        view cannot identify it (a single customer, no repeat buyers, a fit
        that fails) the parameters :data:`FALLBACK_PNBD_PARAMS` are used
        instead, with a :class:`~crmkit.exceptions.DataWarning` (also when
        the fit warns that its likelihood is flat).
    horizon : float, default=52.0
        The horizon ``t``, in the view's time unit (52 weeks by default).
    signals : tuple of str, optional
        Early-warning rules combined with the model probability (names of
        :data:`crmkit.churn.RULES`); None uses the model alone.
    time_unit : {"D", "W", "M"}, default="W"
        The view's time unit, for the words of ``reasons`` only.
    penalizer : float, default=0.01
        L2 penalty of the Pareto/NBD fitted when ``model`` is None.
    prior_strength : float, default=1.0
        Precision of the prior on the logit-scale weights when learning
        them from labels.
    min_contribution : float, default=0.005
        Smallest share of the risk for a signal to be listed in ``reasons``
        (the purchase-model part is always listed).

    Attributes
    ----------
    model_ : object
        The purchase model used (``model``, or the fitted Pareto/NBD).
    fallback_ : bool
        Whether the fallback parameters were used.
    signals_ : tuple of str
        The signals combined (empty without ``signals``).
    weights_ : dict of str to float
        Their weights.
    learned_ : bool
        Whether the weights were learned from labels.

    Notes
    -----
    Saving works when the model is a crmkit model: it is stored as a nested
    model (its parameters, never customer data).

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your
    customers" the easy way: an alternative to the Pareto/NBD model.
    Marketing Science, 24(2), 275-284.

    Fader, P. S. & Hardie, B. G. S. (2006). Deriving the conditional PMF of
    the Pareto/NBD model. http://brucehardie.com/notes/013/

    Examples
    --------
    >>> from crmkit.value import ParetoNBD
    >>> pnbd = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> view = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 30.0], "T": [38.0, 38.0]},
    ...                     index=pd.Index(["a", "b"], name="customer_id"))
    >>> out = AliveChurn(model=pnbd, horizon=52.0).fit(view).score(view)
    >>> out["churn_risk"].round(3).tolist()
    [0.918, 0.362]
    >>> print(out.loc["a", "reasons"])
    dropout (0.92): P(no purchase in 52 weeks) 0.92 after a single purchase 38 weeks ago
    >>> print(out.loc["b", "reasons"])  # doctest: +NORMALIZE_WHITESPACE
    dropout (0.36): P(no purchase in 52 weeks) 0.36 after no purchase for 8.0 weeks,
    0.5x the usual gap of 15 weeks (3 purchases)
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "model": [
            Predicate(_has_p_no_purchase, "a fitted purchase model with a p_no_purchase method"),
            None,
        ],
        "horizon": [Interval("float", 0, None, closed="neither")],
        "signals": [Predicate(_signals_ok, "a tuple of distinct names of crmkit.churn.RULES "
                              f"({', '.join(RULES)})"), None],
        "time_unit": [Options(frozenset(_UNIT_WORDS))],
        "penalizer": [Interval("float", 0, None)],
        "prior_strength": [Interval("float", 0, None, closed="neither")],
        "min_contribution": [Interval("float", 0, 1)],
    }  # fmt: skip

    def __init__(
        self,
        *,
        model: Any = None,
        horizon: float = 52.0,
        signals: tuple[str, ...] | None = None,
        time_unit: str = "W",
        penalizer: float = 0.01,
        prior_strength: float = 1.0,
        min_contribution: float = 0.005,
    ) -> None:
        self.model = model
        self.horizon = horizon
        self.signals = signals
        self.time_unit = time_unit
        self.penalizer = penalizer
        self.prior_strength = prior_strength
        self.min_contribution = min_contribution

    def _names(self) -> tuple[str, ...]:
        signals = self._validated("signals")
        return () if signals is None else tuple(signals)

    @property
    def requires(self) -> tuple[str, ...]:
        """``frequency``, ``recency``, ``T`` and the columns the signals read.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> AliveChurn().requires
        ('frequency', 'recency', 'T')
        >>> AliveChurn(signals=("nps_detractor",)).requires
        ('frequency', 'recency', 'T', 'last_nps')
        """
        cols = [*_COLUMNS, *(c for n in self._names() for c in RULES[n].columns)]
        return tuple(dict.fromkeys(cols))

    @property
    def provides(self) -> tuple[str, ...]:
        """``churn_risk``, ``reasons``, ``signal_dropout`` and one ``signal_<name>`` per signal.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> AliveChurn(signals=("overdue",)).provides
        ('churn_risk', 'reasons', 'signal_dropout', 'signal_overdue')
        """
        return (*CHURN_SCORE_COLUMNS, "signal_dropout", *(f"signal_{n}" for n in self._names()))

    def _check_view(self, view: pd.DataFrame, who: str) -> pd.DataFrame:
        return check_churn_view(view, f"AliveChurn.{who}", self.requires, filled=_STRUCTURAL)

    def _strengths(self, view: pd.DataFrame, names: tuple[str, ...]) -> FloatArray:
        out = np.zeros((len(view), len(names)), dtype=np.float64, order="F")
        cache: dict[str, FloatArray] = {}
        for j, name in enumerate(names):
            rule = RULES[name]
            inputs = {}
            for c in rule.columns:
                if c not in cache:
                    cache[c] = column_values(view, c)
                inputs[c] = cache[c]
            out[:, j] = rule.strength(inputs)
        return out

    def _p_no_purchase(self, model: Any, view: pd.DataFrame) -> FloatArray:
        p0 = np.asarray(model.p_no_purchase(view, float(self.horizon)), dtype=np.float64)
        return np.clip(p0, 0.0, 1.0)

    def fit(self, view: pd.DataFrame, y: pd.Series | None = None) -> Self:
        """Fit the Pareto/NBD (unless a model was given); learn signal weights from labels.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.
        y : pandas.Series of bool, optional
            Churn labels (no purchase within the horizon), indexed like
            ``view``; with ``signals`` they set the signal weights.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters.
        SchemaError
            For missing or invalid columns or bad labels.
        NotFittedError
            When ``model`` is not fitted.
        ConvergenceError
            When learning the weights fails.

        Warns
        -----
        DataWarning
            When the fallback parameters replace a Pareto/NBD fit.

        Examples
        --------
        See :class:`AliveChurn`.
        """
        self._validate_params()
        names = self._names()
        view = self._check_view(view, "fit")
        labels = None if y is None else check_labels(y, view, "AliveChurn.fit")
        from crmkit.value import ParetoNBD

        fallback = False
        model: Any = self.model
        if model is None:
            try:
                with warnings.catch_warnings():
                    # a flat likelihood: the view cannot pin the model down
                    warnings.simplefilter("error", ConvergenceWarning)
                    model = ParetoNBD(penalizer=self.penalizer).fit(view[list(_COLUMNS)])
            except (SchemaError, ConvergenceError, ConvergenceWarning) as exc:
                why = re.split(r"\.\s+(?=[A-Z])", str(exc).splitlines()[-1].strip())[0]
                warnings.warn(
                    "AliveChurn: a Pareto/NBD cannot be fitted on this view "
                    f"({type(exc).__name__}: {why}); using the fallback parameters "
                    "FALLBACK_PNBD_PARAMS instead",
                    DataWarning,
                    stacklevel=2,
                )
                model = ParetoNBD.from_params(**FALLBACK_PNBD_PARAMS)
                fallback = True
        if len(view):
            model.p_no_purchase(view.iloc[:1], float(self.horizon))  # fails early if unfitted
        weights = np.array(
            [0.0 if n in HISTORY_SIGNALS else DEFAULT_WEIGHTS[n] for n in names], dtype=np.float64
        )
        learned = False
        if labels is not None and names and len(view):
            base = self._p_no_purchase(model, view)
            prior = np.array([DEFAULT_WEIGHTS[n] for n in names], dtype=np.float64)
            weights = fit_noisy_or_weights(
                self._strengths(view, names), labels, prior, base, float(self.prior_strength)
            )
            learned = True
        self.model_ = model
        self.fallback_ = fallback
        self.signals_ = names
        self.weights_ = {n: float(w) for n, w in zip(names, weights, strict=True)}
        self.learned_ = learned
        return self

    def score(self, view: pd.DataFrame) -> pd.DataFrame:
        """Score each customer: the probability of no purchase within the horizon.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``view``: ``churn_risk``, ``reasons``,
            ``signal_dropout`` (the purchase model's share of the risk; the
            risk itself without signals) and ``signal_<name>`` (each signal's
            share) per signal.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns.

        Examples
        --------
        See :class:`AliveChurn`.
        """
        check_is_fitted(self, "model_")
        view = self._check_view(view, "score")
        names = self.signals_
        p0 = self._p_no_purchase(self.model_, view)
        weights = np.array([self.weights_[n] for n in names], dtype=np.float64)
        if names:
            risk, parts = noisy_or(self._strengths(view, names), weights, p0)
            dropout = np.clip(risk - parts.sum(axis=1), 0.0, 1.0)
        else:
            risk, parts, dropout = p0, np.zeros((len(p0), 0)), p0
        x, tx, T = (column_values(view, c) for c in _COLUMNS)
        unit = _UNIT_WORDS[self.time_unit]
        pieces = _model_reasons(x, tx, T, p0, dropout, float(self.horizon), unit)
        for j, name in enumerate(names):
            listed = parts[:, j] > float(self.min_contribution)
            if listed.any():
                pieces += [
                    coded(np.zeros(len(p0), dtype=np.intp), [f"; {name} ("], where=listed),
                    fixed(parts[:, j], 2, where=listed),
                    coded(np.zeros(len(p0), dtype=np.intp), [")"], where=listed),
                ]
        reasons = join_texts(pieces, len(p0))
        signals = {"dropout": dropout, **{n: parts[:, j] for j, n in enumerate(names)}}
        return score_frame(view.index, risk, reasons, signals)

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "model_"):
            return None
        return {
            "model": self.model_,
            "fallback": self.fallback_,
            "signals": tuple(self.signals_),
            "weights": dict(self.weights_),
            "learned": self.learned_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        model = state["model"]
        if not _has_p_no_purchase(model):
            raise ModelFileError(
                "malformed fitted state for AliveChurn: 'model' must be a purchase model "
                f"with a p_no_purchase method; got {type(model).__name__}"
            )
        names = tuple(str(n) for n in state.get("signals", ()))
        unknown = [n for n in names if n not in RULES]
        if unknown:
            raise ModelFileError(
                f"malformed fitted state for AliveChurn: 'signals' holds unknown rules "
                f"{unknown}; known rules: {', '.join(RULES)}"
            )
        weights = state.get("weights", {})
        self.model_ = model
        self.fallback_ = bool(state["fallback"])
        self.signals_ = names
        self.weights_ = {n: float(weights[n]) for n in names}
        self.learned_ = bool(state.get("learned", False))
