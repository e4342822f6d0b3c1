"""Turning a row of a playbook's assessment into a :class:`~crmkit.domain.CustomerAssessment`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmkit.care import care_plan_from_row
from crmkit.domain import CustomerAssessment, LifecycleStage
from crmkit.plugins import CARE_PLAN_COLUMNS

__all__ = ["assessment_from_row", "lapsed_from"]


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    v = float(value)
    return None if math.isnan(v) else v


def _label(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def lapsed_from(row: Mapping[str, Any] | pd.Series) -> LifecycleStage:
    """The stage a lapsed customer is reported in: where it was lost.

    A stager labels a lost customer ``"lapsed"`` whatever stage it was in;
    :class:`~crmkit.domain.CustomerAssessment` keeps a stage and the status
    apart. The rule: a customer who never bought again after its first
    purchase period (``frequency == 0``) was lost during onboarding; any
    other was lost while being developed (``development``; the data does not
    tell development from retention once purchases have stopped).

    Parameters
    ----------
    row : mapping or pandas.Series
        With ``frequency`` (a missing one reads as 0).

    Returns
    -------
    LifecycleStage

    Examples
    --------
    >>> lapsed_from({"frequency": 0}).value, lapsed_from({"frequency": 4}).value
    ('onboarding', 'development')
    """
    frequency = _number(row.get("frequency", 0)) or 0.0
    return LifecycleStage.ONBOARDING if frequency == 0 else LifecycleStage.DEVELOPMENT


def assessment_from_row(
    row: Mapping[str, Any] | pd.Series, customer_id: Any = None
) -> CustomerAssessment:
    """One customer's :class:`~crmkit.domain.CustomerAssessment` from its assessment row.

    Parameters
    ----------
    row : mapping or pandas.Series
        A row of :meth:`crmkit.compose.Playbook.assess` (``stage``,
        ``status``, ``clv``, ``p_alive``, ``loyalty``, segment columns,
        ``churn_risk``, ``churn_reasons`` and the care plan columns; absent
        ones are left empty). With ``include_view=True`` rows, ``frequency``
        tells where a lapsed customer was lost (:func:`lapsed_from`).
    customer_id : object, optional
        The customer; default the Series' name.

    Returns
    -------
    CustomerAssessment
        ``portfolio`` from a ``portfolio`` column, ``segment`` from a
        ``segment`` column; ``churn_reasons`` split on ``"; "``; the care
        plan when the row holds every care plan column.

    Raises
    ------
    SchemaError
        For invalid values.

    Examples
    --------
    >>> a = assessment_from_row({"stage": "development", "status": "active", "clv": 120.0,
    ...                          "portfolio": "B", "churn_risk": 0.3,
    ...                          "churn_reasons": "overdue (0.20); nps_detractor (0.05)"},
    ...                         customer_id="c1")
    >>> a.portfolio, a.churn_reasons
    ('B', ('overdue (0.20)', 'nps_detractor (0.05)'))
    """
    if customer_id is None and isinstance(row, pd.Series):
        customer_id = row.name
    if isinstance(customer_id, np.generic):
        customer_id = customer_id.item()
    label = str(row.get("stage"))
    lapsed = label == "lapsed" or str(row.get("status", "")) == "lapsed"
    stage = lapsed_from(row) if label == "lapsed" else LifecycleStage(label)
    reasons = row.get("churn_reasons")
    care = care_plan_from_row(row) if all(c in row for c in CARE_PLAN_COLUMNS) else None
    return CustomerAssessment(
        customer_id=customer_id,
        stage=stage,
        status="lapsed" if lapsed else "active",
        clv=_number(row.get("clv")),
        p_alive=_number(row.get("p_alive")),
        loyalty=_number(row.get("loyalty")),
        segment=_label(row.get("segment")),
        portfolio=_label(row.get("portfolio")),
        churn_risk=_number(row.get("churn_risk")),
        churn_reasons=tuple(p for p in reasons.split("; ") if p)
        if isinstance(reasons, str)
        else (),
        care_plan=care,
    )
