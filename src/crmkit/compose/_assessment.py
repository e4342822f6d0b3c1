"""Turning a row of a playbook's assessment into a :class:`~crmkit.domain.CustomerAssessment`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmkit.care import care_plan_from_row
from crmkit.domain import CustomerAssessment, LifecycleStage
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure
from crmkit.plugins import CARE_PLAN_COLUMNS

__all__ = ["assessment_from_row", "lapsed_from"]

_LAPSED = "lapsed"


def _check_row(row: object, who: str) -> Mapping[str, Any] | pd.Series:
    if not isinstance(row, (Mapping, pd.Series)):
        raise InvalidParameterError(
            f"{who}: 'row' must be a mapping of column name -> value or a pandas Series "
            f"(e.g. a row of Playbook.assess); got {type(row).__name__}"
        )
    return row


def _number(value: Any, column: str) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SchemaError(
            [SchemaFailure("row", column, "is not a number", 0, (), (value,))]
        ) from None
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

    Raises
    ------
    InvalidParameterError
        When ``row`` is neither a mapping nor a Series (also a ``TypeError``).
    SchemaError
        When ``frequency`` is not a number.

    Examples
    --------
    >>> lapsed_from({"frequency": 0}).value, lapsed_from({"frequency": 4}).value
    ('onboarding', 'development')
    """
    row = _check_row(row, "lapsed_from")
    frequency = _number(row.get("frequency", 0), "frequency") or 0.0
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
    InvalidParameterError
        When ``row`` is neither a mapping nor a Series (also a ``TypeError``).
    SchemaError
        When ``stage`` is missing or not a lifecycle stage, or for invalid
        values.

    Examples
    --------
    >>> a = assessment_from_row({"stage": "development", "status": "active", "clv": 120.0,
    ...                          "portfolio": "B", "churn_risk": 0.3,
    ...                          "churn_reasons": "overdue (0.20); nps_detractor (0.05)"},
    ...                         customer_id="c1")
    >>> a.portfolio, a.churn_reasons
    ('B', ('overdue (0.20)', 'nps_detractor (0.05)'))
    """
    row = _check_row(row, "assessment_from_row")
    if customer_id is None and isinstance(row, pd.Series):
        customer_id = row.name
    if isinstance(customer_id, np.generic):
        customer_id = customer_id.item()
    if "stage" not in row:
        raise SchemaError(
            [SchemaFailure("row", "stage", "is missing (an assessment needs the lifecycle stage)")]
        )
    label = str(row["stage"])
    stages = [s.value for s in LifecycleStage]
    if label != _LAPSED and label not in stages:
        known = ", ".join(repr(s) for s in [*stages, _LAPSED])
        raise SchemaError(
            [SchemaFailure("row", "stage", f"is not a lifecycle stage ({known})", 0, (),
                           (row["stage"],))]
        )  # fmt: skip
    lapsed = label == _LAPSED or str(row.get("status", "")) == _LAPSED
    stage = lapsed_from(row) if label == _LAPSED else LifecycleStage(label)
    reasons = row.get("churn_reasons")
    care = care_plan_from_row(row) if all(c in row for c in CARE_PLAN_COLUMNS) else None
    return CustomerAssessment(
        customer_id=customer_id,
        stage=stage,
        status="lapsed" if lapsed else "active",
        clv=_number(row.get("clv"), "clv"),
        p_alive=_number(row.get("p_alive"), "p_alive"),
        loyalty=_number(row.get("loyalty"), "loyalty"),
        segment=_label(row.get("segment")),
        portfolio=_label(row.get("portfolio")),
        churn_risk=_number(row.get("churn_risk"), "churn_risk"),
        churn_reasons=tuple(p for p in reasons.split("; ") if p)
        if isinstance(reasons, str)
        else (),
        care_plan=care,
    )
