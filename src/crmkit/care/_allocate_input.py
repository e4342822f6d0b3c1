"""Inputs of :func:`crmkit.care.allocate`: checking them and building the gain matrix.

The allocation problem is read from three things: the assessment (one row
per customer with ``clv``, ``churn_risk`` and a segment column), the action
catalogue (one row per action with its role, hours, cost and effect) and the
capacity of every role. :func:`build_problem` checks all three, listing
every problem, and returns a :class:`Problem`: the expected gain of every
(customer, action) pair, which pairs are allowed, and the resources each
action uses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._checks import failure_at
from crmkit._params import (
    COLUMN_NAME,
    Constraint,
    Interval,
    Predicate,
    instance_of,
    validate_args,
)
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["ACTION_COLUMNS", "ALLOCATE_ARGS", "Problem", "build_problem"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

#: The columns an action catalogue must have.
ACTION_COLUMNS: tuple[str, ...] = ("action", "role", "hours", "cost", "risk_reduction")



@attrs.frozen(eq=False)
class Problem:
    """One allocation problem, checked and sorted by customer id.

    Parameters
    ----------
    customers : pandas.Index
        Customer ids, sorted (ties in the solvers are broken in this order).
    actions : tuple of str
        Action names, in catalogue order.
    gain : numpy.ndarray of float, shape (n_customers, n_actions)
        Expected gain of each pair, net of the action's cost.
    eligible : numpy.ndarray of bool, shape (n_customers, n_actions)
        Whether the action applies to the customer's segment.
    roles : tuple of str
        The roles with a capacity, in the order of ``capacity``.
    role_of : numpy.ndarray of int, shape (n_actions,)
        Position in ``roles`` of each action's role.
    hours : numpy.ndarray of float, shape (n_actions,)
        Hours of the role one action takes.
    cost : numpy.ndarray of float, shape (n_actions,)
        Money one action costs.
    capacity : numpy.ndarray of float, shape (n_roles,)
        Hours available per role.
    budget : float or None
        Money available, None for no limit.

    Examples
    --------
    >>> view = pd.DataFrame({"clv": [1000.0], "churn_risk": [0.5], "portfolio": ["A"]},
    ...                     index=pd.Index(["a"], name="customer_id"))
    >>> acts = pd.DataFrame({"action": ["call"], "role": ["sales"], "hours": [0.5],
    ...                      "cost": [10.0], "risk_reduction": [0.2]})
    >>> build_problem(view, acts, {"sales": 10.0}).gain
    array([[90.]])
    """

    customers: pd.Index
    actions: tuple[str, ...]
    gain: FloatArray
    eligible: BoolArray
    roles: tuple[str, ...]
    role_of: IntArray
    hours: FloatArray
    cost: FloatArray
    capacity: FloatArray
    budget: float | None

    @property
    def usable(self) -> BoolArray:
        """Pairs worth choosing: eligible with a positive gain.

        Returns
        -------
        numpy.ndarray of bool, shape (n_customers, n_actions)

        Examples
        --------
        >>> view = pd.DataFrame({"clv": [10.0], "churn_risk": [0.5], "portfolio": ["A"]})
        >>> acts = pd.DataFrame({"action": ["visit"], "role": ["kam"], "hours": [2.0],
        ...                      "cost": [100.0], "risk_reduction": [0.5]})
        >>> build_problem(view, acts, {"kam": 4.0}).usable
        array([[False]])
        """
        usable: BoolArray = self.eligible & (self.gain > 0)
        return usable


def _fail(frame: str, column: str, check: str, mask: BoolArray, index: pd.Index) -> SchemaFailure:
    return failure_at(frame=frame, column=column, check=check, mask=mask, labels=index)


def _numbers(
    frame: pd.DataFrame, name: str, column: str, low: float, high: float
) -> tuple[FloatArray, list[SchemaFailure]]:
    """A numeric column as floats, with failures for non-numeric, missing or out-of-range."""
    series = frame[column]
    if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        return np.zeros(len(frame)), [
            SchemaFailure(frame=name, column=column, check="is not numeric")
        ]
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    failures = []
    bad = ~np.isfinite(values)
    if bad.any():
        failures.append(_fail(name, column, "has missing or infinite values", bad, frame.index))
    out = np.isfinite(values) & ((values < low) | (values > high))
    if out.any():
        where = f">= {low:g}" if math.isinf(high) else f"in [{low:g}, {high:g}]"
        failures.append(_fail(name, column, f"must be {where}", out, frame.index))
    return values, failures


def _missing_columns(
    frame: pd.DataFrame, name: str, columns: tuple[str, ...]
) -> list[SchemaFailure]:
    return [
        SchemaFailure(frame=name, column=c, check="is missing")
        for c in columns
        if c not in frame.columns
    ]


def _labels(value: Any) -> frozenset[str] | None:
    """The segment labels an action applies to (None: every customer)."""
    if isinstance(value, str):
        return frozenset([value]) if value.strip() else None
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(str(v) for v in value)
    if value is None or pd.isna(value):
        return None
    return frozenset([str(value)])


def _check_actions(
    actions: pd.DataFrame, capacity: Mapping[str, float]
) -> tuple[dict[str, FloatArray], list[SchemaFailure]]:
    failures = _missing_columns(actions, "actions", ACTION_COLUMNS)
    if failures:
        raise SchemaError(failures)
    if actions.empty:
        raise SchemaError([SchemaFailure(frame="actions", column="<frame>", check="has no rows")])
    names = actions["action"].to_numpy(dtype=object)
    blank = np.array([not (isinstance(n, str) and n.strip()) for n in names], dtype=bool)
    if blank.any():
        failures.append(_fail("actions", "action", "needs a non-empty name", blank, actions.index))
    dup = pd.Series(names).duplicated(keep=False).to_numpy()
    if dup.any():
        failures.append(_fail("actions", "action", "repeats a name", dup, actions.index))
    roles = actions["role"].to_numpy(dtype=object)
    unknown = np.array([r not in capacity for r in roles], dtype=bool)
    if unknown.any():
        known = ", ".join(map(repr, capacity)) or "none"
        failures.append(
            _fail("actions", "role", f"has roles without a capacity (known: {known})", unknown,
                  actions.index)
        )
    columns: dict[str, FloatArray] = {}
    limits = {"hours": (0.0, math.inf), "cost": (0.0, math.inf), "risk_reduction": (0.0, 1.0)}
    if "purchase_lift" in actions.columns:
        limits["purchase_lift"] = (0.0, math.inf)
    for column, (low, high) in limits.items():
        columns[column], found = _numbers(actions, "actions", column, low, high)
        failures.extend(found)
    return columns, failures


_HOURS = Interval("real", 0, None, finite=True)


def _is_capacity(capacity: object) -> bool:
    return (
        isinstance(capacity, Mapping)
        and bool(capacity)
        and all(isinstance(r, str) and r and _HOURS.accepts(h) for r, h in capacity.items())
    )


_FRAME = instance_of(pd.DataFrame, "a pandas DataFrame")

#: The constraints of the arguments :func:`allocate` and
#: :func:`allocate_in_order` share with :func:`build_problem`.
ALLOCATE_ARGS: dict[str, list[Constraint]] = {
    "assessment": [_FRAME],
    "actions": [_FRAME],
    "capacity": [
        Predicate(
            _is_capacity, "a non-empty mapping of non-empty role names to finite hours >= 0"
        )
    ],
    "budget": [None, Interval("real", 0, None, finite=True)],
    "segment_column": [None, COLUMN_NAME],
}


def _eligibility(
    actions: pd.DataFrame, view: pd.DataFrame, segment_column: str | None
) -> BoolArray:
    n, m = len(view), len(actions)
    if segment_column is None or "segment" not in actions.columns:
        return np.ones((n, m), dtype=bool)
    segments = view[segment_column].astype(object).to_numpy()
    segments = np.array([None if pd.isna(s) else str(s) for s in segments], dtype=object)
    eligible = np.ones((n, m), dtype=bool)
    for j, value in enumerate(actions["segment"].to_numpy(dtype=object)):
        labels = _labels(value)
        if labels is not None:
            eligible[:, j] = np.isin(segments, list(labels))
    return eligible


@validate_args(ALLOCATE_ARGS)
def build_problem(
    assessment: pd.DataFrame,
    actions: pd.DataFrame,
    capacity: Mapping[str, float],
    budget: float | None = None,
    *,
    segment_column: str | None = "portfolio",
) -> Problem:
    """Check the inputs of :func:`crmkit.care.allocate` and build its :class:`Problem`.

    The gain of giving action ``a`` to customer ``i`` is ``clv_i * (churn_risk_i
    * risk_reduction_a + (1 - churn_risk_i) * purchase_lift_a) - cost_a``.

    Parameters
    ----------
    assessment : pandas.DataFrame
        One row per customer (unique index): ``clv`` (>= 0), ``churn_risk``
        (in [0, 1]) and, when the actions name segments, ``segment_column``.
    actions : pandas.DataFrame
        One row per action: ``action`` (unique name), ``role``, ``hours``
        (>= 0), ``cost`` (>= 0), ``risk_reduction`` (in [0, 1]), optional
        ``purchase_lift`` (>= 0) and ``segment`` (a label, a list of labels,
        or missing for every customer).
    capacity : mapping of str to float
        Hours per role (finite, >= 0); every action's role must be here.
    budget : float, optional
        Money available for the actions' costs.
    segment_column : str or None, default="portfolio"
        The assessment column matched against the actions' ``segment``;
        None lets every action apply to every customer.

    Returns
    -------
    Problem

    Raises
    ------
    SchemaError
        Listing every missing column, unknown role, repeated action name,
        negative or missing number, with the first failing rows.
    InvalidParameterError
        For a capacity or budget that is not a mapping of finite hours >= 0
        or a finite number >= 0.

    Examples
    --------
    >>> view = pd.DataFrame({"clv": [1000.0, 50.0], "churn_risk": [0.5, 0.9],
    ...                      "portfolio": ["A", "D"]}, index=pd.Index(["a", "b"]))
    >>> acts = pd.DataFrame({"action": ["visit", "e-mail"], "role": ["kam", "marketing"],
    ...                      "hours": [2.0, -0.1], "cost": [100.0, 0.5],
    ...                      "risk_reduction": [0.3, 0.05], "segment": ["A", None]})
    >>> build_problem(view, acts, {"kam": 10.0})
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 2 problems in the input:
      - actions['role']: has roles without a capacity (known: 'kam') (1 row; rows [1])
      - actions['hours']: must be >= 0 (1 row; rows [1])
    """
    needs = ["clv", "churn_risk"]
    uses_segments = "segment" in getattr(actions, "columns", ())
    if uses_segments and segment_column is not None:
        needs.append(segment_column)
    failures = _missing_columns(assessment, "assessment", tuple(needs))
    columns, found = _check_actions(actions, capacity)
    failures.extend(found)
    if failures:
        raise SchemaError(failures)
    if assessment.index.has_duplicates:
        dup = assessment.index.duplicated(keep=False)
        raise SchemaError([_fail("assessment", "<index>", "repeats customer ids", dup,
                                 assessment.index)])
    view = assessment.sort_index(kind="stable")
    clv, failures = _numbers(view, "assessment", "clv", 0.0, math.inf)
    risk, found = _numbers(view, "assessment", "churn_risk", 0.0, 1.0)
    failures.extend(found)
    if failures:
        raise SchemaError(failures)
    lift = columns.get("purchase_lift", np.zeros(len(actions)))
    gain = (
        np.outer(clv * risk, columns["risk_reduction"])
        + np.outer(clv * (1.0 - risk), lift)
        - columns["cost"][None, :]
    )
    roles = tuple(str(r) for r in capacity)
    role_of = np.array([roles.index(r) for r in actions["role"]], dtype=np.intp)
    return Problem(
        customers=view.index,
        actions=tuple(str(a) for a in actions["action"]),
        gain=gain,
        eligible=_eligibility(actions, view, segment_column),
        roles=roles,
        role_of=role_of,
        hours=columns["hours"],
        cost=columns["cost"],
        capacity=np.array([float(capacity[r]) for r in roles], dtype=np.float64),
        budget=None if budget is None else float(budget),
    )
