"""ROC AUC from the Mann-Whitney rank statistic: how well scores rank the positives."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from crmkit.analysis._inputs import as_values
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["roc_auc"]


def roc_auc(scores: object, labels: object) -> float:
    """Area under the ROC curve: the chance a random positive outranks a random negative.

    Computed from the Mann-Whitney rank statistic with average ranks for
    ties: ``AUC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)``.

    Parameters
    ----------
    scores : Series, ndarray or list
        Higher = more likely positive.
    labels : Series, ndarray or list of bool or 0/1
        True / 1 for the positives; same length (a Series is aligned on
        ``scores``' index when both are Series).

    Returns
    -------
    float
        In [0, 1]; 0.5 = no better than chance.

    Raises
    ------
    SchemaError
        For missing values, other labels than 0/1, unequal lengths or a
        single class.

    References
    ----------
    .. [1] Hanley, J. A. & McNeil, B. J. (1982). The meaning and use of the
       area under a receiver operating characteristic (ROC) curve.
       Radiology 143(1), 29-36.

    Examples
    --------
    >>> roc_auc([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0])
    0.75
    """
    if isinstance(scores, pd.Series) and isinstance(labels, pd.Series):
        labels = labels.reindex(scores.index)
    s, _ = as_values(scores, "roc_auc")
    y_raw = np.asarray(labels.to_numpy() if isinstance(labels, pd.Series) else labels)
    if y_raw.ndim != 1 or len(y_raw) != len(s):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="labels",
                    column="<values>",
                    check=f"has shape {y_raw.shape}; roc_auc needs one label per score ({len(s)})",
                )
            ]
        )
    y_obj = pd.Series(y_raw)
    ok = y_obj.isin([0, 1, True, False]).to_numpy() & y_obj.notna().to_numpy()
    if not ok.all():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="labels",
                    column="<values>",
                    check="must be 0/1 or bool (no missing)",
                    n_failing=int((~ok).sum()),
                    rows=tuple(np.flatnonzero(~ok)[:5].tolist()),
                )
            ]
        )
    y = y_raw.astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="labels",
                    column="<values>",
                    check="has a single class; roc_auc needs positives and negatives",
                )
            ]
        )
    ranks = stats.rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
