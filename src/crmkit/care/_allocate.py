"""Capacity-constrained next best actions: spend limited care where it pays.

:func:`allocate` chooses at most one action per customer so that the
expected value retained is largest within the hours of every role and the
budget; :func:`allocate_in_order` serves customers one by one in a priority
order (the rule table's choice, or highest CLV first), the way a team works
without an optimiser. Both return an :class:`Allocation`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import COLUMN_NAME, Interval, Options, validate_args
from crmkit.care._allocate_input import ALLOCATE_ARGS, Problem, build_problem
from crmkit.care._allocate_reasons import allocation_frame, optimal_reasons, ordered_reasons
from crmkit.care._allocate_solve import (
    LpSolution,
    enforce_capacity,
    greedy_fill,
    slack,
    solve_lp,
    solve_milp,
    usage,
)
from crmkit.exceptions import ConvergenceError, SchemaError, SchemaFailure

__all__ = ["MILP_MAX_PAIRS", "Allocation", "allocate", "allocate_in_order"]

IntArray = npt.NDArray[np.intp]

#: Largest number of (customer, action) pairs with a positive gain that
#: ``method="auto"`` hands to the exact MILP; above it the LP relaxation with
#: greedy repair is used. Measured (``benchmarks/bench_allocate.py``, one
#: core): on make_crm(5000) with 7 actions (20,470 pairs) the MILP takes
#: 1.1-1.4 s and gains 0.01-0.2 % over the LP repair (0.3 s); on 20,000
#: customers (about 82,000 pairs) it takes 15 s for 0.01 %.
MILP_MAX_PAIRS = 40_000

_METHODS = ("auto", "milp", "lp")


@attrs.frozen(eq=False)
class Allocation:
    """The actions given to customers within the capacities, and what they are worth.

    Parameters
    ----------
    allocation : pandas.DataFrame
        One row per customer (the assessment's index and order): ``action``
        and ``role`` (None without an action), ``hours``, ``cost``,
        ``expected_gain`` (net of the cost; 0 without an action) and
        ``reason``.
    objective : float
        Expected value retained: the sum of ``expected_gain``.
    bound : float
        Upper bound on the objective of any allocation (the LP relaxation,
        or the MILP's proven bound when tighter).
    gap : float
        ``(bound - objective) / bound``; 0 when the bound is 0 or the gap is
        below the solver's tolerance (1e-9): a rounding of two sums.
    shadow_prices : pandas.Series
        Value of one more unit of each role's hours and (``"budget"``, when
        a budget is given) of money, from the duals of the LP relaxation.
    capacity : pandas.Series
        Hours available per role.
    hours_used : pandas.Series
        Hours used per role (never above ``capacity``).
    cost_used : float
        Money spent on the actions.
    budget : float or None
        Money available.
    method : str
        ``"milp"`` (solved by branch and bound), ``"lp (integral)"`` (the LP
        optimum was integral, hence exact), ``"lp+repair"`` or ``"in order of
        <priority>"``.

    Examples
    --------
    >>> view = pd.DataFrame({"clv": [9000.0, 2000.0], "churn_risk": [0.5, 0.5]},
    ...                     index=pd.Index(["a", "b"], name="customer_id"))
    >>> acts = pd.DataFrame({"action": ["visit"], "role": ["kam"], "hours": [2.0],
    ...                      "cost": [100.0], "risk_reduction": [0.3]})
    >>> result = allocate(view, acts, {"kam": 2.0}, segment_column=None)
    >>> result.objective, float(result.hours_used["kam"]), result.value_per_hour
    (1250.0, 2.0, 625.0)
    """

    allocation: pd.DataFrame
    objective: float
    bound: float
    gap: float
    shadow_prices: pd.Series
    capacity: pd.Series
    hours_used: pd.Series
    cost_used: float
    budget: float | None
    method: str

    @property
    def value_per_hour(self) -> float:
        """Expected value retained per hour used (0 when no hour is used).

        Returns
        -------
        float

        Examples
        --------
        >>> view = pd.DataFrame({"clv": [100.0], "churn_risk": [0.5]})
        >>> acts = pd.DataFrame({"action": ["call"], "role": ["s"], "hours": [1.0],
        ...                      "cost": [0.0], "risk_reduction": [0.5]})
        >>> allocate(view, acts, {"s": 1.0}, segment_column=None).value_per_hour
        25.0
        """
        hours = float(self.hours_used.sum())
        return self.objective / hours if hours > 0 else 0.0

    def summary(self) -> pd.DataFrame:
        """Capacity, use and shadow price of every role (and the budget).

        Returns
        -------
        pandas.DataFrame
            Indexed by role (then ``"budget"``): ``available``, ``used``,
            ``shadow_price``.

        Examples
        --------
        >>> view = pd.DataFrame({"clv": [100.0, 90.0], "churn_risk": [0.5, 0.5]})
        >>> acts = pd.DataFrame({"action": ["call"], "role": ["s"], "hours": [1.0],
        ...                      "cost": [0.0], "risk_reduction": [0.5]})
        >>> allocate(view, acts, {"s": 1.0}, segment_column=None).summary()
              available  used  shadow_price
        role
        s           1.0   1.0          22.5
        """
        table: pd.DataFrame = pd.DataFrame(
            {"available": self.capacity, "used": self.hours_used,
             "shadow_price": self.shadow_prices.reindex(self.capacity.index)}
        )
        if self.budget is not None:
            table.loc["budget"] = [self.budget, self.cost_used, self.shadow_prices["budget"]]
        return table


#: Relative gaps below the solver's own tolerance (HiGHS ``mip_rel_gap``) are 0.
_GAP_TOLERANCE = 1e-9


def _result(
    problem: Problem, choice: IntArray, lp: LpSolution, bound: float, method: str,
    reasons: list[str], order: pd.Index,
) -> Allocation:
    hours, cost = usage(problem, choice)
    on = choice >= 0
    objective = float(problem.gain[np.nonzero(on)[0], choice[on]].sum())
    bound = max(min(bound, lp.bound), objective)
    gap = (bound - objective) / bound if bound > 0 else 0.0
    gap = 0.0 if gap < _GAP_TOLERANCE else gap  # rounding of two sums, not a real gap
    prices = dict(zip(problem.roles, lp.role_prices.tolist(), strict=True))
    if problem.budget is not None:
        prices["budget"] = lp.budget_price
    roles = pd.Index(problem.roles, name="role")
    return Allocation(
        allocation=allocation_frame(problem, choice, reasons, order),
        objective=objective,
        bound=bound,
        gap=gap,
        shadow_prices=pd.Series(prices, name="shadow_price", dtype=np.float64),
        capacity=pd.Series(problem.capacity, index=roles, name="available"),
        hours_used=pd.Series(hours, index=roles, name="used"),
        cost_used=cost,
        budget=problem.budget,
        method=method,
    )


def _objective(problem: Problem, choice: IntArray) -> float:
    on = choice >= 0
    return float(problem.gain[np.nonzero(on)[0], choice[on]].sum())


@validate_args(
    {
        **ALLOCATE_ARGS,
        "method": [Options(frozenset(_METHODS))],
        "time_limit": [Interval("real", 0, None, closed="neither")],
    }
)
def allocate(
    assessment: pd.DataFrame,
    actions: pd.DataFrame,
    capacity: Mapping[str, float],
    budget: float | None = None,
    *,
    segment_column: str | None = "portfolio",
    method: Literal["auto", "milp", "lp"] = "auto",
    time_limit: float = 10.0,
) -> Allocation:
    """Choose at most one action per customer to retain the most expected value.

    The expected gain of action ``a`` for customer ``i`` is

    ``clv_i * (churn_risk_i * risk_reduction_a + (1 - churn_risk_i) *
    purchase_lift_a) - cost_a``

    — the value at risk the action saves, plus the lift in the purchases of a
    customer who stays, less its cost. :func:`allocate` maximises the sum of
    the gains subject to the hours of every role and the budget: exactly,
    with :func:`scipy.optimize.milp` (HiGHS branch and bound), when the
    problem has at most :data:`MILP_MAX_PAIRS` pairs with a positive gain;
    above that with the LP relaxation, whose optimum has at most one
    fractional customer per role (and budget), rounded down and the freed
    hours refilled greedily. When the LP optimum is already integral it is
    the exact answer. The ``gap`` to the bound is reported either way.

    The ``shadow_prices`` are the duals of the LP relaxation: what one more
    hour of a role (or one more unit of budget) would add to the value
    retained — what an hour of overtime or a temporary hire is worth.

    Parameters
    ----------
    assessment : pandas.DataFrame
        A :class:`crmkit.compose.Playbook` assessment (or any frame with a
        unique customer index): ``clv`` (>= 0), ``churn_risk`` (in [0, 1])
        and, when ``actions`` has a ``segment`` column, ``segment_column``.
        Not modified.
    actions : pandas.DataFrame
        The action catalogue, one row per action: ``action`` (unique name),
        ``role`` (a key of ``capacity``), ``hours`` (>= 0), ``cost`` (>= 0),
        ``risk_reduction`` (relative reduction of the churn risk, in [0, 1]),
        optional ``purchase_lift`` (relative lift of the purchases, >= 0)
        and optional ``segment`` (a label or list of labels of
        ``segment_column`` the action applies to; missing: every customer).
    capacity : mapping of str to float
        Hours available per role.
    budget : float, optional
        Money available for the actions' costs; None for no limit.
    segment_column : str or None, default="portfolio"
        Assessment column matched with the actions' ``segment``; None lets
        every action apply to every customer.
    method : {"auto", "milp", "lp"}, default="auto"
        ``"milp"`` solves exactly, ``"lp"`` uses the LP relaxation and
        greedy repair, ``"auto"`` picks by size.
    time_limit : float, default=10.0
        Seconds the MILP may take; when it runs out, the better of its best
        allocation and the LP repair is returned, with its gap.

    Returns
    -------
    Allocation

    Raises
    ------
    SchemaError
        Listing every missing column, unknown role, repeated action name and
        missing, negative or out-of-range number, with the first rows.
    InvalidParameterError
        For a bad capacity, budget, method or time limit.
    ConvergenceError
        When HiGHS solves neither the LP nor the MILP.

    See Also
    --------
    allocate_in_order : serve customers in a priority order instead.

    References
    ----------
    Huangfu, Q., & Hall, J. A. J. (2018). Parallelizing the dual revised
    simplex method. *Mathematical Programming Computation*, 10, 119-142
    (HiGHS). Sinha, P., & Zoltners, A. A. (1979). The multiple-choice
    knapsack problem. *Operations Research*, 27(3), 503-515.

    Examples
    --------
    >>> view = pd.DataFrame(
    ...     {"clv": [20000.0, 9000.0, 800.0, 300.0], "churn_risk": [0.4, 0.3, 0.6, 0.2],
    ...      "portfolio": ["A", "A", "C", "D"]},
    ...     index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
    >>> actions = pd.DataFrame({
    ...     "action": ["key-account visit", "retention call", "e-mail"],
    ...     "role": ["key account manager", "inside sales", "marketing"],
    ...     "hours": [2.0, 0.5, 0.0], "cost": [150.0, 10.0, 0.5],
    ...     "risk_reduction": [0.3, 0.15, 0.03], "segment": ["A", None, None]})
    >>> capacity = {"key account manager": 2.0, "inside sales": 0.5, "marketing": 1.0}
    >>> result = allocate(view, actions, capacity)
    >>> result.allocation[["action", "expected_gain"]]
                            action  expected_gain
    customer_id
    a            key-account visit         2250.0
    b               retention call          395.0
    c                       e-mail           13.9
    d                       e-mail            1.3
    >>> print(result.allocation.loc["a", "reason"])
    chosen: 2 h key-account visit, expected +2,250; retention call would keep 53 % of that
    >>> result.shadow_prices.round(2).to_dict()
    {'key account manager': 289.75, 'inside sales': 96.2, 'marketing': 0.0}
    """
    problem = build_problem(assessment, actions, capacity, budget, segment_column=segment_column)
    lp = solve_lp(problem)
    choice = enforce_capacity(problem, greedy_fill(problem, lp.choice))
    bound, used = lp.bound, "lp+repair"
    exact = lp.fractional == 0 and math.isclose(_objective(problem, choice), lp.bound,
                                                rel_tol=1e-9, abs_tol=1e-9)
    pairs = int(problem.usable.sum())
    want_milp = method == "milp" or (method == "auto" and pairs <= MILP_MAX_PAIRS)
    if exact:
        used = "lp (integral)"
    elif want_milp:
        try:
            exact_choice, milp_bound = solve_milp(problem, float(time_limit))
        except ConvergenceError:
            exact_choice, milp_bound = choice, math.inf
        exact_choice = enforce_capacity(problem, exact_choice)
        bound = min(bound, milp_bound)
        found, repaired = _objective(problem, exact_choice), _objective(problem, choice)
        proved = found >= milp_bound - 1e-9 * max(1.0, abs(found))
        if found > repaired or (found == repaired and proved):
            choice, used = exact_choice, "milp"
    reasons = optimal_reasons(problem, choice, lp.role_prices, lp.budget_price)
    return _result(problem, choice, lp, bound, used, reasons, assessment.index)


def _wanted(problem: Problem, assessment: pd.DataFrame, action_column: str | None) -> IntArray:
    """The action the rule names for each customer (problem order): index, -2 for none."""
    n = len(problem.customers)
    if action_column is None:
        return np.full(n, -1, dtype=np.intp)
    named = assessment[action_column].reindex(problem.customers).to_numpy(dtype=object)
    lookup = {name: j for j, name in enumerate(problem.actions)}
    missing = pd.isna(named)
    unknown = np.array([not m and v not in lookup for v, m in zip(named, missing, strict=True)])
    if unknown.any():
        rows = tuple(problem.customers[unknown][:5].tolist())
        raise SchemaError([SchemaFailure(
            frame="assessment", column=action_column, check="names actions not in the catalogue",
            n_failing=int(unknown.sum()), rows=rows)])
    return np.array([-2 if m else lookup[v] for v, m in zip(named, missing, strict=True)],
                    dtype=np.intp)


def _serve(problem: Problem, order: IntArray, wanted: IntArray) -> IntArray:
    choice = np.full(len(problem.customers), -1, dtype=np.intp)
    left = problem.capacity.copy()
    money = math.inf if problem.budget is None else problem.budget
    role_tol, money_tol = slack(problem)
    for i in order.tolist():
        w = int(wanted[i])
        if w == -2:
            continue
        if w >= 0:
            options = [w]
        else:
            gains = np.where(problem.usable[i], problem.gain[i], -np.inf)
            options = [a for a in np.argsort(-gains, kind="stable").tolist()
                       if np.isfinite(gains[a])]
        for a in options:
            role = problem.role_of[a]
            fits = problem.hours[a] <= left[role] + role_tol[role]
            if fits and problem.cost[a] <= money + money_tol:
                choice[i] = a
                left[role] -= problem.hours[a]
                money -= problem.cost[a]
                break
    return choice


@validate_args({**ALLOCATE_ARGS, "priority": [COLUMN_NAME], "action_column": [None, COLUMN_NAME]})
def allocate_in_order(
    assessment: pd.DataFrame,
    actions: pd.DataFrame,
    capacity: Mapping[str, float],
    budget: float | None = None,
    *,
    priority: str = "clv",
    action_column: str | None = None,
    segment_column: str | None = "portfolio",
) -> Allocation:
    """Serve customers one by one, highest ``priority`` first, while the hours last.

    The way a team works without an optimiser: customers are taken in
    decreasing ``priority`` (ties by customer id) and each gets the action
    ``action_column`` names (the rule table's choice, e.g. an action per
    care model), or — without ``action_column`` — its eligible action with
    the largest positive gain that still fits the hours and budget left. A
    customer whose action no longer fits gets none; later customers may
    still fit. Gains are those of :func:`allocate`, which this is the
    baseline of: ``bound``, ``gap`` and ``shadow_prices`` are those of the
    optimal allocation, so ``gap`` says how much the order leaves on the
    table.

    Parameters
    ----------
    assessment, actions, capacity, budget, segment_column
        As in :func:`allocate`.
    priority : str, default="clv"
        Numeric assessment column giving the order (largest first), e.g.
        ``clv`` or ``budget_share``.
    action_column : str, optional
        Assessment column naming each customer's action (missing: none).

    Returns
    -------
    Allocation

    Raises
    ------
    SchemaError
        As in :func:`allocate`, and for a missing or non-numeric
        ``priority``, or an ``action_column`` naming unknown actions.
    InvalidParameterError
        For a bad capacity or budget.

    Examples
    --------
    >>> view = pd.DataFrame({"clv": [9000.0, 2000.0, 5000.0], "churn_risk": [0.1, 0.9, 0.5]},
    ...                     index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> acts = pd.DataFrame({"action": ["call"], "role": ["sales"], "hours": [1.0],
    ...                      "cost": [0.0], "risk_reduction": [0.5]})
    >>> first = allocate_in_order(view, acts, {"sales": 2.0}, segment_column=None)
    >>> first.allocation["action"].tolist(), first.objective
    (['call', None, 'call'], 1700.0)
    >>> allocate(view, acts, {"sales": 2.0}, segment_column=None).objective
    2150.0
    """
    needs = [priority] + ([action_column] if action_column is not None else [])
    absent = [c for c in needs if isinstance(assessment, pd.DataFrame) and c not in assessment]
    if absent:
        raise SchemaError(
            [SchemaFailure(frame="assessment", column=c, check="is missing") for c in absent]
        )
    problem = build_problem(assessment, actions, capacity, budget, segment_column=segment_column)
    sorted_view = assessment.reindex(problem.customers)
    if not pd.api.types.is_numeric_dtype(sorted_view[priority]):
        raise SchemaError(
            [SchemaFailure(frame="assessment", column=priority, check="is not numeric")]
        )
    key = sorted_view[priority].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(key)
    if bad.any():
        rows = tuple(problem.customers[bad][:5].tolist())
        raise SchemaError(
            [
                SchemaFailure(
                    frame="assessment",
                    column=priority,
                    check="has missing or infinite values",
                    n_failing=int(bad.sum()),
                    rows=rows,
                )
            ]
        )
    wanted = _wanted(problem, assessment, action_column)
    order = np.lexsort((np.arange(len(key)), -key)).astype(np.intp)
    choice = _serve(problem, order, wanted)
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(1, len(order) + 1)
    lp = solve_lp(problem)
    reasons = ordered_reasons(problem, choice, rank, priority, wanted)
    return _result(problem, choice, lp, lp.bound, f"in order of {priority}", reasons,
                   assessment.index)
