"""Churn detection: who is about to leave, and why.

Every detector follows the :class:`crmkit.plugins.ChurnDetector` protocol:
``fit(view, y=None)`` then ``score(view)``, which returns ``churn_risk`` in
[0, 1], ``reasons`` (the signals that fired, with how much each
contributed) and one ``signal_<name>`` column per signal.

- :class:`SignalRules` (registry name ``signals``): named early-warning
  rules (negative feedback, complaints, falling purchases, a move, silence
  against the customer's own rhythm, a decision maker leaving) combined by
  weights; the weights can be learned from labels.
- :class:`AliveChurn` (``alive``): the probability of no purchase within a
  horizon given the customer's history, from a purchase model of
  :mod:`crmkit.value` (a Pareto/NBD by default), optionally combined with
  early-warning signals.
- :class:`SurvivalChurn` (``survival``): a Weibull lifetime model with
  covariates, censored by the silence since the last purchase; the
  probability of having left by the end of a horizon.
- :class:`LogisticChurn` (``logistic``): L2 logistic regression on view
  columns, explained by its terms.
- :class:`SklearnChurn`: any scikit-learn classifier (not saved, not a
  registry built-in).

:func:`evaluate_churn` compares a detector's risks with the churn seen in a
holdout period (ROC AUC, lift, precision at k, Brier score, calibration).

Examples
--------
>>> from crmkit.plugins import default_registry
>>> default_registry().get("churn_detectors", "signals", base_rate=0.05)
SignalRules(base_rate=0.05)
"""

from crmkit.churn._alive import (
    FALLBACK_BG_PARAMS,
    FALLBACK_PNBD_PARAMS,
    HISTORY_SIGNALS,
    AliveChurn,
)
from crmkit.churn._evaluate import ChurnEvaluation, evaluate_churn
from crmkit.churn._features import FeatureMap, default_log_columns
from crmkit.churn._logistic import DEFAULT_CHURN_COLUMNS, LogisticChurn
from crmkit.churn._rules import DEFAULT_WEIGHTS, RULES, Rule
from crmkit.churn._signals import SignalRules
from crmkit.churn._sklearn import SklearnChurn
from crmkit.churn._survival import DEFAULT_COVARIATES, SurvivalChurn

__all__ = [
    "DEFAULT_CHURN_COLUMNS",
    "DEFAULT_COVARIATES",
    "DEFAULT_WEIGHTS",
    "FALLBACK_BG_PARAMS",
    "FALLBACK_PNBD_PARAMS",
    "HISTORY_SIGNALS",
    "RULES",
    "AliveChurn",
    "ChurnEvaluation",
    "FeatureMap",
    "LogisticChurn",
    "Rule",
    "SignalRules",
    "SklearnChurn",
    "SurvivalChurn",
    "default_log_columns",
    "evaluate_churn",
]
