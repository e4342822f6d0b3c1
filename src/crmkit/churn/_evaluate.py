"""How well a churn detector's risks foresee the churn seen in a holdout period."""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import rankdata

from crmkit._params import Interval, parameter_error, validate_params
from crmkit.churn._common import check_labels
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["ChurnEvaluation", "evaluate_churn", "roc_auc", "top_rate"]

FloatArray = npt.NDArray[np.float64]


def roc_auc(risk: FloatArray, churned: npt.NDArray[np.bool_]) -> float:
    """Area under the ROC curve: the chance a churner outranks a stayer (ties count half).

    Computed from the Mann-Whitney statistic with mid-ranks.

    Parameters
    ----------
    risk : numpy.ndarray of float, shape (n,)
        Scores.
    churned : numpy.ndarray of bool, shape (n,)
        Outcomes; both classes must occur.

    Returns
    -------
    float

    Raises
    ------
    SchemaError
        When only one class occurs.

    Examples
    --------
    >>> roc_auc(np.array([0.9, 0.1, 0.5, 0.5]), np.array([True, False, True, False]))
    0.875
    """
    y = np.asarray(churned, dtype=bool)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        raise SchemaError(
            [SchemaFailure(frame="holdout_outcome", column="<labels>",
                           check="holds a single class; the ROC AUC needs churners and stayers")]
        )  # fmt: skip
    ranks = rankdata(np.asarray(risk, dtype=np.float64))
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def top_rate(risk: FloatArray, churned: npt.NDArray[np.bool_], k: int) -> float:
    """Share of churners among the ``k`` customers with the highest risk.

    Customers tied at the cut share the remaining places: the tied group
    counts with its average churn rate, so the result never depends on the
    order of the rows.

    Parameters
    ----------
    risk : numpy.ndarray of float, shape (n,)
        Scores.
    churned : numpy.ndarray of bool, shape (n,)
        Outcomes.
    k : int
        Customers taken, ``1 <= k <= n``.

    Returns
    -------
    float

    Examples
    --------
    >>> top_rate(np.array([0.9, 0.5, 0.5, 0.1]), np.array([True, True, False, False]), 2)
    0.75
    """
    r = np.asarray(risk, dtype=np.float64)
    y = np.asarray(churned, dtype=np.float64)
    cut = np.sort(r)[::-1][k - 1]
    above = r > cut
    tied = r == cut
    need = k - int(above.sum())
    hits = float(y[above].sum()) + need * float(y[tied].mean())
    return hits / k


@attrs.frozen(eq=False)
class ChurnEvaluation:
    """Scores of a churn detector against a holdout outcome.

    Parameters
    ----------
    roc_auc : float
        Area under the ROC curve.
    lift_top_decile : float
        Churn rate among the 10 % highest risks over the overall rate.
    precision_at_k : float
        Churn rate among the ``k`` highest risks.
    k : int
        The ``k`` of ``precision_at_k``.
    brier : float
        Mean squared difference of risk and outcome (0 is perfect).
    base_rate : float
        Overall churn rate.
    n_customers, n_churners : int
        Customers evaluated and churners among them.
    calibration : pandas.DataFrame
        One row per non-empty bin of predicted risk: ``lower``, ``upper``,
        ``n_customers``, ``mean_risk`` and ``churn_rate``.

    Examples
    --------
    See :func:`evaluate_churn`.
    """

    roc_auc: float
    lift_top_decile: float
    precision_at_k: float
    k: int
    brier: float
    base_rate: float
    n_customers: int
    n_churners: int
    calibration: pd.DataFrame

    def summary(self) -> dict[str, float]:
        """The scalar scores as a dict.

        Returns
        -------
        dict of str to float

        Examples
        --------
        See :func:`evaluate_churn`.
        """
        return {
            "roc_auc": self.roc_auc,
            "lift_top_decile": self.lift_top_decile,
            "precision_at_k": self.precision_at_k,
            "k": float(self.k),
            "brier": self.brier,
            "base_rate": self.base_rate,
            "n_customers": float(self.n_customers),
            "n_churners": float(self.n_churners),
        }


def _calibration(risk: FloatArray, y: FloatArray, n_bins: int) -> pd.DataFrame:
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, risk, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    keep = count > 0
    mean_risk = np.bincount(which, weights=risk, minlength=n_bins)
    rate = np.bincount(which, weights=y, minlength=n_bins)
    safe = np.maximum(count, 1)
    frame: pd.DataFrame = pd.DataFrame(
        {
            "lower": edges[:-1][keep],
            "upper": edges[1:][keep],
            "n_customers": count[keep].astype(np.int64),
            "mean_risk": (mean_risk / safe)[keep],
            "churn_rate": (rate / safe)[keep],
        },
        index=pd.Index(np.flatnonzero(keep), name="bin"),
    )
    return frame


def evaluate_churn(
    detector: Any,
    calibration_view: pd.DataFrame,
    holdout_outcome: pd.Series,
    *,
    k: int | None = None,
    n_bins: int = 10,
) -> ChurnEvaluation:
    """Evaluate a fitted churn detector's risks against the churn seen afterwards.

    The detector scores the customers of ``holdout_outcome`` in the
    calibration view (the view as of the end of the calibration period);
    their risks are compared with what happened in the holdout period.

    Parameters
    ----------
    detector : ChurnDetector
        A fitted churn detector (anything with ``score(view)`` returning
        ``churn_risk``).
    calibration_view : pandas.DataFrame
        Customer view at the end of the calibration period.
    holdout_outcome : pandas.Series of bool
        Whether each customer churned in the holdout period, indexed by
        customer id; its customers (all in the view) are the ones evaluated.
    k : int, optional
        Customers for ``precision_at_k``; default the top decile
        (``ceil(n / 10)``).
    n_bins : int, default=10
        Equal-width bins of predicted risk in the calibration table.

    Returns
    -------
    ChurnEvaluation

    Raises
    ------
    SchemaError
        When outcome customers are missing from the view, the outcome is not
        boolean, or it holds a single class.
    InvalidParameterError
        For a bad ``k`` or ``n_bins``.
    NotFittedError
        When the detector is not fitted.

    Examples
    --------
    >>> from crmkit.churn import SignalRules
    >>> view = pd.DataFrame({"last_nps": [2.0, 9.0, 5.0, 8.0, 10.0, 1.0]},
    ...                     index=pd.Index(list("abcdef"), name="customer_id"))
    >>> outcome = pd.Series([True, False, False, False, False, True], index=view.index)
    >>> rules = SignalRules(signals=("nps_detractor",)).fit(view)
    >>> result = evaluate_churn(rules, view, outcome, k=2)
    >>> result.roc_auc, result.precision_at_k, result.lift_top_decile
    (1.0, 1.0, 3.0)
    >>> result.calibration[["n_customers", "churn_rate"]]
         n_customers  churn_rate
    bin
    0              3         0.0
    1              3    0.666667
    """
    validate_params("evaluate_churn", {"k": k, "n_bins": n_bins},
                    {"k": [Interval("int", 1, None), None],
                     "n_bins": [Interval("int", 1, 1000)]})  # fmt: skip
    if not isinstance(calibration_view, pd.DataFrame):
        raise SchemaError(
            [SchemaFailure(frame="view", column="<frame>", check="is not a pandas DataFrame (got "
                           f"{type(calibration_view).__name__})")]
        )  # fmt: skip
    if not isinstance(holdout_outcome, pd.Series):
        raise SchemaError(
            [SchemaFailure(frame="holdout_outcome", column="<labels>",
                           check=f"is not a pandas Series (got {type(holdout_outcome).__name__})")]
        )  # fmt: skip
    absent = np.asarray(~holdout_outcome.index.isin(calibration_view.index))
    if absent.any():
        raise SchemaError(
            [SchemaFailure(frame="holdout_outcome", column="<index>",
                           check="has customers missing from the view",
                           n_failing=int(absent.sum()),
                           rows=tuple(holdout_outcome.index[absent][:5].tolist()))]
        )  # fmt: skip
    view = calibration_view.loc[holdout_outcome.index]
    churned = check_labels(holdout_outcome, view, "evaluate_churn")
    n = len(view)
    top = math.ceil(n / 10)
    k_used = top if k is None else int(k)
    if k_used > n:
        raise parameter_error("evaluate_churn", "k", f"at most the {n} customers", k_used)
    scored = detector.score(view)
    risk = np.asarray(scored["churn_risk"].to_numpy(dtype=np.float64), dtype=np.float64)
    if not np.all(np.isfinite(risk)):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="score", column="churn_risk", check="holds missing or infinite values"
                )
            ]
        )
    auc = roc_auc(risk, churned)
    y = churned.astype(np.float64)
    base = float(y.mean())
    return ChurnEvaluation(
        roc_auc=auc,
        lift_top_decile=top_rate(risk, churned, top) / base,
        precision_at_k=top_rate(risk, churned, k_used),
        k=k_used,
        brier=float(np.mean((risk - y) ** 2)),
        base_rate=base,
        n_customers=n,
        n_churners=int(churned.sum()),
        calibration=_calibration(risk, y, n_bins),
    )
