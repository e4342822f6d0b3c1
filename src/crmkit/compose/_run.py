"""Running one fitted step of a playbook on a view, and assembling the result frame."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmkit._vocab import STAGER_COLUMNS
from crmkit.compose._staging import stager_columns
from crmkit.compose._steps import ObservedSpend, Step
from crmkit.compose._value_defaults import spend_view
from crmkit.plugins import CARE_PLAN_COLUMNS, REASONS_SUFFIX

__all__ = ["VALUE_COLUMNS", "apply_step", "assemble", "make_step", "value_columns"]

#: The value columns a playbook writes (when it has a purchase model).
VALUE_COLUMNS = ("clv", "p_alive", "expected_purchases")


def make_step(key: str, plugin: Any, churn_labels: Sequence[str]) -> Step:
    """The playbook step of a fitted (or new) plugin: what it requires and writes.

    Parameters
    ----------
    key : str
        ``"stager"``, ``"segmenter:<k>"``, ``"churn"`` or ``"care"``.
    plugin : object
        The plugin; for ``"churn"`` a sequence of detectors.
    churn_labels : sequence of str
        The detectors' names (``churn_risk_<name>`` columns when several).

    Returns
    -------
    Step
        The playbook fills ``status`` and ``stage_reasons`` for any stager
        and ``<segment>_reasons`` for any segmenter, so those are written
        whatever the plugin declares.

    Examples
    --------
    >>> from crmkit.segmentation import DecileSegmenter
    >>> make_step("segmenter:0", DecileSegmenter(), ()).provides
    ('segment', 'segment_reasons')
    """
    if key == "churn":
        detectors = tuple(plugin)
        requires = tuple(dict.fromkeys(c for d in detectors for c in d.requires))
        provides = ["churn_risk", "churn_reasons"]
        if len(detectors) == 1:
            provides += [c for c in detectors[0].provides if str(c).startswith("signal_")]
        else:
            provides += [f"churn_risk_{name}" for name in churn_labels]
        return Step(key, detectors, requires, tuple(provides))
    if key == "stager":
        return Step(key, plugin, tuple(plugin.requires), STAGER_COLUMNS)
    if key.startswith("segmenter"):
        name = str(plugin.provides[0])
        return Step(key, plugin, tuple(plugin.requires), (name, f"{name}{REASONS_SUFFIX}"))
    return Step(key, plugin, tuple(plugin.requires), tuple(plugin.provides))


def value_columns(
    purchase_model: Any,
    spend_model: Any,
    view: pd.DataFrame,
    *,
    horizon: float,
    discount_rate: float,
    time_unit: str,
) -> dict[str, Any]:
    """``clv``, ``p_alive`` and ``expected_purchases`` of every customer of ``view``.

    Parameters
    ----------
    purchase_model : object or None
        A fitted purchase model; None gives no columns.
    spend_model : object or None
        A fitted spend model; None values purchases at each customer's own
        mean spend (:class:`crmkit.compose.ObservedSpend`).
    view : pandas.DataFrame
        The customer view.
    horizon : float
        Horizon of ``clv`` and ``expected_purchases``, in ``time_unit``.
    discount_rate : float
        Annual discount rate of ``clv``.
    time_unit : str
        The view's time unit.

    Returns
    -------
    dict of str to numpy.ndarray
        The three columns (empty without a purchase model).

    Examples
    --------
    >>> from crmkit.value import BetaGeo
    >>> bg = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> view = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 30.0], "T": [38.0, 38.0],
    ...                      "monetary_value": [0.0, 40.0], "revenue": [25.0, 105.0]})
    >>> out = value_columns(bg, None, view, horizon=52.0, discount_rate=0.1, time_unit="W")
    >>> sorted(out), bool(out["clv"][1] > out["clv"][0])
    (['clv', 'expected_purchases', 'p_alive'], True)
    """
    if purchase_model is None:
        return {}
    from crmkit.value import clv

    spend = spend_model if spend_model is not None else ObservedSpend()
    values = clv(
        purchase_model,
        spend,
        spend_view(view),
        horizon=horizon,
        discount_rate=discount_rate,
        time_unit=time_unit,
    )
    expected = purchase_model.conditional_expected_purchases(view, horizon)
    return {
        "clv": values.to_numpy(dtype=np.float64),
        "p_alive": purchase_model.p_alive(view).to_numpy(dtype=np.float64),
        "expected_purchases": expected.to_numpy(dtype=np.float64),
    }


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
    out: dict[str, Any] = {
        "churn_risk": risks[np.arange(len(best)), best],
        "churn_reasons": _best_reasons([s["reasons"] for s in scores], best),
    }
    if len(scores) == 1:
        out.update({c: scores[0][c] for c in step.provides if c.startswith("signal_")})
    else:
        for name, column in zip(churn_labels, risks.T, strict=True):
            out[f"churn_risk_{name}"] = column
    return out


def _best_reasons(reasons: Sequence[pd.Series], best: np.ndarray) -> Any:
    """The reasons of the riskiest detector of each customer, a ``"str"`` array."""
    if len(reasons) == 1 and reasons[0].dtype == pd.array([], dtype="str").dtype:
        return reasons[0].array.copy()  # one detector's texts already: the same array
    table = np.column_stack([r.to_numpy(dtype=object) for r in reasons])
    return pd.array(table[np.arange(len(best)), best].tolist(), dtype="str")


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
