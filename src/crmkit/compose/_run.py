"""Running one fitted step of a playbook on a view, and assembling the result frame."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmkit._vocab import STAGER_COLUMNS
from crmkit.compose._staging import stager_columns
from crmkit.compose._steps import Step
from crmkit.plugins import CARE_PLAN_COLUMNS

__all__ = ["VALUE_COLUMNS", "apply_step", "assemble"]

#: The value columns a playbook writes (when it has a purchase model).
VALUE_COLUMNS = ("clv", "p_alive", "expected_purchases")


def apply_step(step: Step, view: pd.DataFrame, churn_labels: Sequence[str]) -> dict[str, Any]:
    """The columns one fitted step adds to ``view``.

    Parameters
    ----------
    step : Step
        A fitted stager, segmenter, care model, or churn step (its plugin a
        sequence of detectors).
    view : pandas.DataFrame
        The customer view with every column the step requires.
    churn_labels : sequence of str
        The detectors' names (``churn_risk_<name>`` columns when several).

    Returns
    -------
    dict of str to array-like
        Column name to values, one per row of ``view``.

    Examples
    --------
    >>> class Quiet:  # a churn detector: risk grows with the days since the last purchase
    ...     def score(self, view):
    ...         return pd.DataFrame({"churn_risk": view["gap"] / 100.0,
    ...                              "reasons": "quiet"}, index=view.index)
    >>> view = pd.DataFrame({"gap": [10.0, 50.0]})
    >>> step = Step("churn", (Quiet(),), ("gap",), ("churn_risk", "churn_reasons"))
    >>> apply_step(step, view, ("quiet",))["churn_risk"].tolist()
    [0.1, 0.5]
    """
    if step.group == "stager":
        return stager_columns(step.plugin, view)
    if step.group == "segmenter":  # labels and reasons in one pass where it can
        from crmkit.segmentation import explain_segments

        explained = explain_segments(step.plugin, view)
        return {c: explained[c] for c in step.provides}
    if step.group == "care":
        plan = step.plugin.plan(view)
        return {c: plan[c] for c in CARE_PLAN_COLUMNS}
    scores = [d.score(view) for d in step.plugin]
    risks = np.column_stack([s["churn_risk"].to_numpy(dtype=np.float64) for s in scores])
    best = np.argmax(risks, axis=1)
    reasons = np.column_stack([s["reasons"].to_numpy(dtype=object) for s in scores])
    out: dict[str, Any] = {
        "churn_risk": risks[np.arange(len(best)), best],
        "churn_reasons": pd.array(reasons[np.arange(len(best)), best].tolist(), dtype="str"),
    }
    if len(scores) == 1:
        out.update({c: scores[0][c] for c in step.provides if c.startswith("signal_")})
    else:
        for name, column in zip(churn_labels, risks.T, strict=True):
            out[f"churn_risk_{name}"] = column
    return out


def assemble(
    view: pd.DataFrame,
    steps: Iterable[Step],
    schema: Mapping[str, str],
    has_care: bool,
    include_view: bool,
) -> pd.DataFrame:
    """The assessment frame: stage, value, loyalty, segments, churn and care columns.

    Parameters
    ----------
    view : pandas.DataFrame
        The view after every step ran.
    steps : iterable of Step
        The fitted steps, in order.
    schema : mapping of str to str
        The fitting view's columns (put first when ``include_view``).
    has_care : bool
        Whether the playbook has a care model.
    include_view : bool
        Put the view's own columns first.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``view``.

    Examples
    --------
    >>> view = pd.DataFrame({"stage": ["retention"], "status": ["active"],
    ...                      "stage_reasons": ["r"], "clv": [1.0], "T": [2.0]})
    >>> list(assemble(view, [], {"T": "float64"}, False, True).columns)
    ['T', 'stage', 'status', 'stage_reasons', 'clv']
    """
    columns: dict[str, Any] = {c: view[c] for c in STAGER_COLUMNS}
    for c in (*VALUE_COLUMNS, "loyalty"):
        if c in view.columns:
            columns[c] = view[c]
    for step in steps:
        if step.group == "segmenter":
            columns.update({c: view[c] for c in step.provides})
        elif step.group == "churn":
            columns.update({c: view[c] for c in step.provides if not c.startswith("signal_")})
    if has_care:
        columns.update({c: view[c] for c in CARE_PLAN_COLUMNS})
    out: pd.DataFrame = pd.DataFrame(columns, index=view.index)
    if include_view:
        base = view[[c for c in schema if c not in out.columns]]
        out = pd.concat([base, out], axis=1)
    return out
