"""Turning a row of a playbook's assessment into a :class:`~crmkit.domain.CustomerAssessment`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmkit._checks import check_row
from crmkit._vocab import ACTIVE, LAPSED, STAGE_REASONS_COLUMN, STAGES, STATUSES
from crmkit.care import care_plan_from_row
from crmkit.domain import CustomerAssessment, LifecycleStage
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plugins import CARE_PLAN_COLUMNS

__all__ = ["assessment_from_row", "lapsed_from"]

_LAPSED = LAPSED


def _number(value: Any, column: str) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="row",
                    column=column,
                    check="is not a number",
                    n_failing=0,
                    rows=(),
                    values=(value,),
                )
            ]
        ) from None
    return None if math.isnan(v) else v


def _label(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def lapsed_from(row: Mapping[str, Any] | pd.Series) -> LifecycleStage:
    """The stage of a row whose ``stage`` is the old label ``"lapsed"``: where it was lost.

    crmkit's stagers give every customer one of the four stages and the
    status apart (``status``); older outputs (and third-party tables) used
    ``"lapsed"`` as a fifth stage. For such rows: a customer who never
    bought again after its first purchase period (``frequency == 0``) was
    lost during onboarding; any other was lost while being developed
    (``development``; the data does not tell development from retention
    once purchases have stopped).

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
    row = check_row(row, "lapsed_from")
    frequency = _number(row.get("frequency", 0), "frequency") or 0.0
    return LifecycleStage.ONBOARDING if frequency == 0 else LifecycleStage.DEVELOPMENT


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def assessment_from_row(
    row: Mapping[str, Any] | pd.Series,
    customer_id: Any = None,
    *,
    segment_columns: Sequence[str] | None = None,
) -> CustomerAssessment:
    """One customer's :class:`~crmkit.domain.CustomerAssessment` from its assessment row.

    Parameters
    ----------
    row : mapping or pandas.Series
        A row of :meth:`crmkit.compose.Playbook.assess` (``stage``,
        ``status``, ``stage_reasons``, ``clv``, ``p_alive``,
        ``expected_purchases``, ``loyalty``, segment columns and their
        reasons, ``churn_risk``, ``churn_reasons`` and the care plan
        columns; absent ones are left empty). A row of an older crmkit
        whose ``stage`` is ``"lapsed"`` is read as status lapsed in the
        stage :func:`lapsed_from` tells.
    customer_id : object, optional
        The customer; default the Series' name.
    segment_columns : sequence of str, optional
        The row's segment columns (a playbook passes its segmenters'
        outputs); default ``segment`` and ``portfolio`` where present.

    Returns
    -------
    CustomerAssessment
        ``portfolio`` from a ``portfolio`` column, ``segment`` from a
        ``segment`` column, ``segments`` from every segment column;
        ``churn_reasons`` and ``stage_reasons`` split on ``"; "``;
        ``reasons`` holding the text of every ``*_reasons`` column;
        ``churn_risks`` from the ``churn_risk_<name>`` columns; the care
        plan when the row holds every care plan column.

    Raises
    ------
    InvalidParameterError
        When ``row`` is neither a mapping nor a Series (also a ``TypeError``).
    SchemaError
        When ``stage`` is missing or not a lifecycle stage, ``status`` not
        a status, or for invalid values.

    Examples
    --------
    >>> a = assessment_from_row({"stage": "development", "status": "active", "clv": 120.0,
    ...                          "portfolio": "B", "churn_risk": 0.3,
    ...                          "stage_reasons": "development: 4 purchases over 38 weeks",
    ...                          "portfolio_reasons": "B: revenue in the top 40 %",
    ...                          "churn_reasons": "overdue (0.20); nps_detractor (0.05)"},
    ...                         customer_id="c1")
    >>> a.portfolio, a.churn_reasons
    ('B', ('overdue (0.20)', 'nps_detractor (0.05)'))
    >>> sorted(a.reasons)
    ['churn_reasons', 'portfolio_reasons', 'stage_reasons']
    """
    row = check_row(row, "assessment_from_row")
    if customer_id is None and isinstance(row, pd.Series):
        customer_id = row.name
    if isinstance(customer_id, np.generic):
        customer_id = customer_id.item()
    if "stage" not in row:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="row",
                    column="stage",
                    check="is missing (an assessment needs the lifecycle stage)",
                )
            ]
        )
    label = str(row["stage"])
    legacy = label == _LAPSED
    if not legacy and label not in STAGES:
        raise SchemaError(
            [SchemaFailure(
frame="row",
column="stage",
check=f"is not a lifecycle stage ({', '.join(STAGES)})",
                           n_failing=0, rows=(), values=(row["stage"],))]
        )  # fmt: skip
    status = _text(row.get("status")) or ACTIVE
    if status not in STATUSES:
        raise SchemaError(
            [SchemaFailure(
frame="row",
column="status",
check=f"is not a status ({', '.join(STATUSES)})",
                           n_failing=0, rows=(), values=(row["status"],))]
        )  # fmt: skip
    if legacy:
        status = _LAPSED
    stage = lapsed_from(row) if legacy else LifecycleStage(label)
    keys = row.index if isinstance(row, pd.Series) else list(row)
    columns = [str(c) for c in keys]
    if segment_columns is None:
        segment_columns = [c for c in ("segment", "portfolio") if c in columns]
    segments = {c: t for c in segment_columns if (t := _text(row.get(c))) is not None}
    reasons = {
        c: t for c in columns if c.endswith("_reasons") and (t := _text(row.get(c))) is not None
    }
    risks: dict[str, float] = {}
    for c in columns:
        if c.startswith("churn_risk_"):
            value = _number(row.get(c), c)
            if value is not None:
                risks[c[len("churn_risk_") :]] = value
    care = care_plan_from_row(row) if all(c in row for c in CARE_PLAN_COLUMNS) else None
    return CustomerAssessment(
        customer_id=customer_id,
        stage=stage,
        status=status,
        clv=_number(row.get("clv"), "clv"),
        p_alive=_number(row.get("p_alive"), "p_alive"),
        expected_purchases=_number(row.get("expected_purchases"), "expected_purchases"),
        loyalty=_number(row.get("loyalty"), "loyalty"),
        segment=_label(row.get("segment")),
        portfolio=_label(row.get("portfolio")),
        segments=segments,
        churn_risk=_number(row.get("churn_risk"), "churn_risk"),
        churn_risks=risks,
        churn_reasons=_split(reasons.get("churn_reasons")),
        stage_reasons=_split(reasons.get(STAGE_REASONS_COLUMN)),
        reasons=reasons,
        care_plan=care,
    )


def _split(text: str | None) -> tuple[str, ...]:
    return () if text is None else tuple(p for p in text.split("; ") if p.strip())
