"""How well each score ranked the churners of the holdout, against a simple baseline.

A churn score is only worth showing when it ranks the customers who later
stopped buying above those who did not better than the simplest rule a
manager could apply: the days since the customer's last purchase. This
module measures each score (the playbook's ``churn_risk``, the purchase
model's ``1 - P(alive)``) and that baseline on the holdout outcome by ROC
AUC and top-decile lift, and says in words which scores are no better.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.analysis import roc_auc

__all__ = ["BASELINE", "TOLERANCE", "score_checks", "score_verdicts", "top_decile_lift"]

#: Name of the baseline score.
BASELINE = "days since last purchase"

#: A score whose AUC is not above the baseline's by more than this is "no better".
TOLERANCE = 0.01

FloatArray = npt.NDArray[np.float64]


def top_decile_lift(scores: FloatArray, churned: npt.NDArray[np.bool_]) -> float:
    """Churn rate among the top tenth by score over the base churn rate.

    Customers tied at the cut are counted in proportion (the expected rate
    under a random tie-break), so the lift never depends on row order.

    Parameters
    ----------
    scores : numpy.ndarray of float, shape (n,)
        Higher = more at risk.
    churned : numpy.ndarray of bool, shape (n,)
        The outcome; at least one churner.

    Returns
    -------
    float

    Examples
    --------
    >>> s = np.arange(20, dtype=float)
    >>> y = s >= 18
    >>> round(top_decile_lift(s, y), 6)
    10.0
    >>> top_decile_lift(np.zeros(20), y)  # all tied: the base rate
    1.0
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(churned, dtype=bool)
    n = len(s)
    k = max(1, int(np.ceil(n / 10)))
    base = float(y.mean())
    cut = np.sort(s)[::-1][k - 1]
    above = s > cut
    tied = s == cut
    room = k - int(above.sum())
    share = room / int(tied.sum())
    churners = float(y[above].sum()) + share * float(y[tied].sum())
    return (churners / k) / base


def score_checks(scores: Mapping[str, pd.Series], churned: pd.Series) -> pd.DataFrame:
    """AUC and top-decile lift of each score and of the baseline, with a verdict.

    Parameters
    ----------
    scores : mapping of str to pandas.Series
        Scores by name (higher = more at risk); one must be :data:`BASELINE`.
    churned : pandas.Series of bool
        The holdout outcome, indexed like the scores.

    Returns
    -------
    pandas.DataFrame
        One row per score: ``AUC``, ``top-decile lift`` and ``verdict``
        ("baseline", "better than the baseline", "no better than the
        baseline" or "worse than chance").

    Examples
    --------
    >>> idx = pd.RangeIndex(40)
    >>> days = pd.Series(np.arange(40.0), index=idx)
    >>> lost = days >= 20
    >>> noise = pd.Series(np.tile([1.0, 0.0], 20), index=idx)
    >>> score_checks({"churn risk": noise, BASELINE: days}, lost)["verdict"].tolist()
    ['no better than the baseline', 'baseline']
    """
    y = churned.to_numpy(dtype=bool)
    rows = {}
    for name, score in scores.items():
        s = score.reindex(churned.index).to_numpy(dtype=np.float64)
        rows[name] = {"AUC": roc_auc(s, y), "top-decile lift": top_decile_lift(s, y)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    base = float(table.loc[BASELINE, "AUC"])
    verdicts = []
    for name, auc in table["AUC"].items():
        if name == BASELINE:
            verdicts.append("baseline")
        elif auc < 0.5:
            verdicts.append("worse than chance")
        elif auc <= base + TOLERANCE:
            verdicts.append("no better than the baseline")
        else:
            verdicts.append("better than the baseline")
    table["verdict"] = verdicts
    table.index.name = "score"
    out: pd.DataFrame = table
    return out


def score_verdicts(table: pd.DataFrame) -> list[str]:
    """Plain sentences on the scores that are no better than the baseline.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`score_checks`.

    Returns
    -------
    list of str
        One sentence per score that is no better than the baseline (or
        worse than chance); empty when every score beats it.

    Examples
    --------
    >>> t = pd.DataFrame({"AUC": [0.45, 0.77], "top-decile lift": [0.9, 1.3],
    ...                   "verdict": ["worse than chance", "baseline"]},
    ...                  index=["churn risk", BASELINE])
    >>> score_verdicts(t)[0]
    'churn risk ranks the holdout churners worse than chance (AUC 0.450 against 0.770 ...
    """
    aucs = table["AUC"].to_numpy(dtype=np.float64)
    base = float(aucs[table.index.get_loc(BASELINE)])
    out = []
    for name, auc, verdict in zip(table.index, aucs, table["verdict"], strict=True):
        if verdict in ("baseline", "better than the baseline"):
            continue
        how = (
            "worse than chance" if verdict == "worse than chance" else "no better than the baseline"
        )
        out.append(
            f"{name} ranks the holdout churners {how} (AUC {auc:.3f} against "
            f"{base:.3f} for the {BASELINE}): do not act on it alone; sorting by the days "
            "since the last purchase does as well."
        )
    return out


def holdout_scores(assessment: pd.DataFrame, bought: pd.Series) -> pd.DataFrame | None:
    """:func:`score_checks` of the report's scores on the customers the holdout knows.

    Parameters
    ----------
    assessment : pandas.DataFrame
        The playbook's assessment with the view columns (``churn_risk``,
        ``days_since_last``, ``p_alive`` when present).
    bought : pandas.Series
        Holdout purchases per customer (``frequency_holdout``), NaN where
        unknown.

    Returns
    -------
    pandas.DataFrame or None
        None when there is no churn risk, no ``days_since_last``, fewer than
        10 known customers, or a single outcome class.

    Examples
    --------
    >>> a = pd.DataFrame({"churn_risk": np.linspace(0, 1, 20),
    ...                   "days_since_last": np.arange(20.0)})
    >>> holdout_scores(a, pd.Series(np.r_[np.ones(10), np.zeros(10)]))["verdict"].tolist()
    ['no better than the baseline', 'baseline']
    """
    if "churn_risk" not in assessment or "days_since_last" not in assessment:
        return None
    held = bought.reindex(assessment.index)
    known = held.notna().to_numpy()
    churned = (held[known] == 0).astype(bool)
    if len(churned) < 10 or churned.all() or not churned.any():
        return None
    a = assessment.loc[known]
    scores = {"churn risk": a["churn_risk"].astype(np.float64)}
    if "p_alive" in a:
        scores["1 − P(alive)"] = 1.0 - a["p_alive"].astype(np.float64)
    scores[BASELINE] = a["days_since_last"].astype(np.float64)
    return score_checks(scores, churned)
