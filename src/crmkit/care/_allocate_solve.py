"""Solvers of :func:`crmkit.care.allocate`: exact MILP, LP relaxation with greedy repair.

The problem: choose at most one action per customer (``x[i, a]`` in {0, 1},
``sum_a x[i, a] <= 1``) to maximise ``sum gain[i, a] * x[i, a]`` subject to
``sum hours[a] * x[i, a] <= capacity[r]`` over the actions of each role ``r``
and ``sum cost[a] * x[i, a] <= budget``. Only pairs with a positive gain are
variables (a pair with gain <= 0 never raises the objective).

The LP relaxation is solved with HiGHS (:func:`scipy.optimize.linprog`); its
duals on the role and budget rows are the shadow prices, and its objective
is an upper bound on every allocation. Its optimum has at most one
fractional customer per coupling row (roles + budget), so rounding them down
and refilling the freed hours greedily loses little; the gap to the bound is
reported.
"""

from __future__ import annotations

import math
from typing import Any, cast

import attrs
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from crmkit.care._allocate_input import Problem
from crmkit.exceptions import ConvergenceError

__all__ = [
    "LpSolution",
    "enforce_capacity",
    "greedy_fill",
    "slack",
    "solve_lp",
    "solve_milp",
    "usage",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: A value of a relaxed variable at least this close to 1 counts as chosen.
_ONE = 1.0 - 1e-7

#: Relative tolerance of the capacity checks: float sums (200 x 0.02 h) may
#: exceed a limit by a rounding error, never by more.
_TOL = 1e-9


def slack(problem: Problem) -> tuple[FloatArray, float]:
    """Rounding tolerance of each role's capacity and of the budget.

    Parameters
    ----------
    problem : Problem

    Returns
    -------
    roles : numpy.ndarray of float, shape (n_roles,)
        ``1e-9 * max(1, capacity)``.
    budget : float
        ``1e-9 * max(1, budget)`` (0 without a budget).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.care._allocate_input import build_problem
    >>> view = pd.DataFrame({"clv": [1.0], "churn_risk": [0.5]})
    >>> acts = pd.DataFrame({"action": ["call"], "role": ["s"], "hours": [1.0],
    ...                      "cost": [0.0], "risk_reduction": [0.2]})
    >>> slack(build_problem(view, acts, {"s": 1000.0}))
    (array([1.e-06]), 0.0)
    """
    roles = _TOL * np.maximum(1.0, problem.capacity)
    money = 0.0 if problem.budget is None else _TOL * max(1.0, problem.budget)
    return roles, money


@attrs.frozen(eq=False)
class LpSolution:
    """The LP relaxation: its bound, its (possibly fractional) choice and the duals.

    Parameters
    ----------
    bound : float
        Optimal LP objective (an upper bound on every allocation).
    choice : numpy.ndarray of int, shape (n_customers,)
        The action of customers chosen integrally, -1 elsewhere.
    fractional : int
        Customers with a fractional choice (rounded down).
    role_prices : numpy.ndarray of float, shape (n_roles,)
        Value of one more hour of each role.
    budget_price : float
        Value of one more unit of budget (0 without a budget).

    Examples
    --------
    >>> LpSolution(1.0, np.array([0]), 0, np.array([0.0]), 0.0).bound
    1.0
    """

    bound: float
    choice: IntArray
    fractional: int
    role_prices: FloatArray
    budget_price: float


def _pairs(problem: Problem) -> tuple[IntArray, IntArray]:
    rows, cols = np.nonzero(problem.usable)
    return rows.astype(np.intp), cols.astype(np.intp)


def _system(problem: Problem, rows: IntArray, cols: IntArray) -> tuple[sp.csr_array, FloatArray]:
    """Constraint rows: roles, then budget, then customers with two or more pairs."""
    n_pairs = len(rows)
    n_roles = len(problem.roles)
    role_rows = problem.role_of[cols]
    blocks_r = [role_rows]
    blocks_c = [np.arange(n_pairs)]
    blocks_v = [problem.hours[cols]]
    b_ub = [problem.capacity]
    next_row = n_roles
    if problem.budget is not None:
        blocks_r.append(np.full(n_pairs, next_row))
        blocks_c.append(np.arange(n_pairs))
        blocks_v.append(problem.cost[cols])
        b_ub.append(np.array([problem.budget]))
        next_row += 1
    counts = np.bincount(rows, minlength=problem.gain.shape[0])
    multi = counts[rows] >= 2
    customer_row = np.cumsum(counts >= 2) - 1 + next_row
    blocks_r.append(customer_row[rows[multi]])
    blocks_c.append(np.nonzero(multi)[0])
    blocks_v.append(np.ones(int(multi.sum())))
    n_rows = next_row + int((counts >= 2).sum())
    b_ub.append(np.ones(n_rows - next_row))
    matrix = sp.csr_array(
        (np.concatenate(blocks_v), (np.concatenate(blocks_r), np.concatenate(blocks_c))),
        shape=(n_rows, n_pairs),
    )
    return matrix, np.concatenate(b_ub).astype(np.float64)


def _choice(problem: Problem, rows: IntArray, cols: IntArray, x: FloatArray) -> IntArray:
    choice = np.full(problem.gain.shape[0], -1, dtype=np.intp)
    chosen = x >= _ONE
    choice[rows[chosen]] = cols[chosen]
    return choice


def solve_lp(problem: Problem) -> LpSolution:
    """Solve the LP relaxation with HiGHS.

    Parameters
    ----------
    problem : Problem

    Returns
    -------
    LpSolution

    Raises
    ------
    ConvergenceError
        When HiGHS finds no optimum.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.care._allocate_input import build_problem
    >>> view = pd.DataFrame({"clv": [1000.0, 800.0], "churn_risk": [0.5, 0.5]})
    >>> acts = pd.DataFrame({"action": ["call"], "role": ["sales"], "hours": [1.0],
    ...                      "cost": [0.0], "risk_reduction": [0.2]})
    >>> lp = solve_lp(build_problem(view, acts, {"sales": 1.5}))
    >>> lp.bound, lp.choice.tolist(), round(float(lp.role_prices[0]), 6)
    (140.0, [0, -1], 80.0)
    """
    rows, cols = _pairs(problem)
    n_roles = len(problem.roles)
    if len(rows) == 0:
        return LpSolution(0.0, np.full(problem.gain.shape[0], -1, np.intp), 0,
                          np.zeros(n_roles), 0.0)
    matrix, b_ub = _system(problem, rows, cols)
    gain = problem.gain[rows, cols]
    sparse = cast(Any, matrix)  # the scipy stubs do not list sparse arrays, HiGHS takes them
    res = linprog(-gain, A_ub=sparse, b_ub=b_ub, bounds=(0.0, 1.0), method="highs-ipm")
    if res.status != 0:
        raise ConvergenceError(f"allocate: the LP relaxation was not solved ({res.message})")
    duals = -np.asarray(res.ineqlin.marginals, dtype=np.float64)
    x = np.asarray(res.x, dtype=np.float64)
    choice = _choice(problem, rows, cols, x)
    fractional = len(np.unique(rows[(x > 1e-9) & (x < _ONE)]))
    budget_price = float(duals[n_roles]) if problem.budget is not None else 0.0
    bound = -float(cast(float, res.fun))
    prices = np.maximum(duals[:n_roles], 0.0) + 0.0  # + 0.0 turns -0.0 into 0.0
    return LpSolution(bound, choice, fractional, prices, max(budget_price, 0.0) + 0.0)


def solve_milp(problem: Problem, time_limit: float) -> tuple[IntArray, float]:
    """Solve the allocation exactly with HiGHS' branch and bound.

    Parameters
    ----------
    problem : Problem
    time_limit : float
        Seconds HiGHS may spend.

    Returns
    -------
    choice : numpy.ndarray of int, shape (n_customers,)
        The action of each customer, -1 for none.
    bound : float
        HiGHS' dual bound (the objective when solved to optimality).

    Raises
    ------
    ConvergenceError
        When HiGHS returns no feasible allocation in time.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.care._allocate_input import build_problem
    >>> view = pd.DataFrame({"clv": [1000.0, 800.0, 700.0], "churn_risk": [0.5, 0.5, 0.5]})
    >>> acts = pd.DataFrame({"action": ["call"], "role": ["sales"], "hours": [1.0],
    ...                      "cost": [0.0], "risk_reduction": [0.2]})
    >>> choice, bound = solve_milp(build_problem(view, acts, {"sales": 2.5}), 10.0)
    >>> choice.tolist(), round(bound, 6)
    ([0, 0, -1], 180.0)
    """
    rows, cols = _pairs(problem)
    if len(rows) == 0:
        return np.full(problem.gain.shape[0], -1, np.intp), 0.0
    matrix, b_ub = _system(problem, rows, cols)
    gain = problem.gain[rows, cols]
    res = milp(
        -gain,
        constraints=LinearConstraint(matrix, -np.inf, b_ub),
        integrality=np.ones(len(gain), dtype=np.intp),
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": float(time_limit), "mip_rel_gap": 1e-9, "disp": False},
    )
    if res.x is None:
        raise ConvergenceError(f"allocate: the MILP found no allocation ({res.message})")
    x = np.asarray(res.x, dtype=np.float64).round()
    bound = getattr(res, "mip_dual_bound", None)
    bound = float(-bound) if bound is not None and math.isfinite(bound) else math.inf
    return _choice(problem, rows, cols, x), bound


def usage(problem: Problem, choice: IntArray) -> tuple[FloatArray, float]:
    """Hours used per role and money spent by an allocation.

    Parameters
    ----------
    problem : Problem
    choice : numpy.ndarray of int, shape (n_customers,)

    Returns
    -------
    hours : numpy.ndarray of float, shape (n_roles,)
    cost : float

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.care._allocate_input import build_problem
    >>> view = pd.DataFrame({"clv": [1000.0, 800.0], "churn_risk": [0.5, 0.5]})
    >>> acts = pd.DataFrame({"action": ["call"], "role": ["sales"], "hours": [1.0],
    ...                      "cost": [3.0], "risk_reduction": [0.2]})
    >>> usage(build_problem(view, acts, {"sales": 2.0}), np.array([0, 0]))
    (array([2.]), 6.0)
    """
    on = choice >= 0
    acts = choice[on]
    hours = np.bincount(problem.role_of[acts], weights=problem.hours[acts],
                        minlength=len(problem.roles))
    return hours.astype(np.float64), float(problem.cost[acts].sum())


def _fits(problem: Problem, left_hours: FloatArray, left_money: float) -> npt.NDArray[np.bool_]:
    role_tol, money_tol = slack(problem)
    ok = problem.hours <= left_hours[problem.role_of] + role_tol[problem.role_of]
    if problem.budget is not None:
        ok &= problem.cost <= left_money + money_tol
    fits: npt.NDArray[np.bool_] = ok
    return fits


def greedy_fill(problem: Problem, choice: IntArray) -> IntArray:
    """Give the hours and money left over to the best remaining pairs, largest gain first.

    Customers without an action are considered in order of gain (ties by
    customer id, then catalogue order); a pair is taken when its customer is
    still free and its hours and cost fit what is left.

    Parameters
    ----------
    problem : Problem
    choice : numpy.ndarray of int, shape (n_customers,)
        A feasible allocation (-1 for none); not modified.

    Returns
    -------
    numpy.ndarray of int, shape (n_customers,)

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.care._allocate_input import build_problem
    >>> view = pd.DataFrame({"clv": [1000.0, 800.0], "churn_risk": [0.5, 0.5]})
    >>> acts = pd.DataFrame({"action": ["call"], "role": ["sales"], "hours": [1.0],
    ...                      "cost": [0.0], "risk_reduction": [0.2]})
    >>> greedy_fill(build_problem(view, acts, {"sales": 1.0}), np.array([-1, -1])).tolist()
    [0, -1]
    """
    out = choice.copy()
    hours, money = usage(problem, out)
    left_hours = problem.capacity - hours
    left_money = math.inf if problem.budget is None else problem.budget - money
    usable = problem.usable & (out < 0)[:, None] & _fits(problem, left_hours, left_money)[None, :]
    rows, cols = np.nonzero(usable)
    order = np.lexsort((cols, rows, -problem.gain[rows, cols]))
    role_tol, money_tol = slack(problem)
    for i, a in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        role = problem.role_of[a]
        if out[i] >= 0 or problem.hours[a] > left_hours[role] + role_tol[role]:
            continue
        if problem.cost[a] > left_money + money_tol:
            continue
        out[i] = a
        left_hours[role] -= problem.hours[a]
        left_money -= problem.cost[a]
    filled: IntArray = out
    return filled


def enforce_capacity(problem: Problem, choice: IntArray) -> IntArray:
    """Drop the smallest gains of any role or budget that a rounding left over its limit.

    Parameters
    ----------
    problem : Problem
    choice : numpy.ndarray of int, shape (n_customers,)
        Not modified.

    Returns
    -------
    numpy.ndarray of int, shape (n_customers,)
        An allocation using at most every capacity and the budget.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.care._allocate_input import build_problem
    >>> view = pd.DataFrame({"clv": [1000.0, 800.0], "churn_risk": [0.5, 0.5]})
    >>> acts = pd.DataFrame({"action": ["call"], "role": ["sales"], "hours": [1.0],
    ...                      "cost": [0.0], "risk_reduction": [0.2]})
    >>> enforce_capacity(build_problem(view, acts, {"sales": 1.0}), np.array([0, 0])).tolist()
    [0, -1]
    """
    out = choice.copy()
    on = np.nonzero(out >= 0)[0]
    gains = problem.gain[on, out[on]]
    limit = problem.capacity + slack(problem)[0]
    budget = math.inf if problem.budget is None else problem.budget + slack(problem)[1]
    for i in on[np.lexsort((-on, gains))].tolist():
        hours, money = usage(problem, out)
        over = bool((hours > limit).any()) or money > budget
        if not over:
            break
        a = out[i]
        role_over = hours[problem.role_of[a]] > limit[problem.role_of[a]]
        money_over = money > budget
        if (role_over and problem.hours[a] > 0) or (money_over and problem.cost[a] > 0):
            out[i] = -1
    kept: IntArray = out
    return kept
