"""Reasons of an allocation, one sentence per customer, and the allocation table."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.care._allocate_input import Problem

__all__ = ["allocation_frame", "optimal_reasons", "ordered_reasons"]

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


def _what(problem: Problem, a: int) -> str:
    hours = float(problem.hours[a])
    name = problem.actions[a]
    return f"{hours:g} h {name}" if hours > 0 else name


def _money(value: float) -> str:
    return f"{'+' if value >= 0 else '-'}{abs(value):,.0f}"


def _runner_up(problem: Problem, i: int, a: int) -> str:
    gains = np.where(problem.usable[i], problem.gain[i], -np.inf)
    gains[a] = -np.inf
    b = int(np.argmax(gains))
    if not np.isfinite(gains[b]):
        return "no other action pays"
    share = 100.0 * float(gains[b]) / float(problem.gain[i, a])
    return f"{problem.actions[b]} would keep {share:.0f} % of that"


def _unchosen(problem: Problem, i: int, role_prices: FloatArray, budget_price: float) -> str:
    eligible = problem.eligible[i]
    if not eligible.any():
        return "no action: none applies to this customer's segment"
    gains = np.where(eligible, problem.gain[i], -np.inf)
    b = int(np.argmax(gains))
    best = float(gains[b])
    if best <= 0:
        name = problem.actions[b]
        return f"no action: none pays its cost (best: {name}, expected {_money(best)})"
    role = problem.role_of[b]
    elsewhere = float(role_prices[role] * problem.hours[b] + budget_price * problem.cost[b])
    head = f"no action: {_what(problem, b)} would keep {_money(best)}"
    if elsewhere > best:
        where = problem.roles[role]
        return f"{head}, less than the {elsewhere:,.0f} its {where} time earns elsewhere"
    return f"{head}, but the {problem.roles[role]} hours or the budget ran out"


def optimal_reasons(
    problem: Problem, choice: IntArray, role_prices: FloatArray, budget_price: float
) -> list[str]:
    """Why each customer got its action, or none, in an optimised allocation.

    Parameters
    ----------
    problem : Problem
    choice : numpy.ndarray of int, shape (n_customers,)
        The chosen action of each customer (-1 for none), in problem order.
    role_prices : numpy.ndarray of float, shape (n_roles,)
        Shadow price of one hour of each role.
    budget_price : float
        Shadow price of one unit of budget.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from crmkit.care._allocate_input import build_problem
    >>> view = pd.DataFrame({"clv": [9000.0, 100.0], "churn_risk": [0.5, 0.5]})
    >>> acts = pd.DataFrame({"action": ["visit", "e-mail"], "role": ["kam", "mkt"],
    ...                      "hours": [2.0, 0.0], "cost": [100.0, 1.0],
    ...                      "risk_reduction": [0.3, 0.03]})
    >>> p = build_problem(view, acts, {"kam": 2.0, "mkt": 1.0})
    >>> for reason in optimal_reasons(p, np.array([0, 1]), np.array([500.0, 0.0]), 0.0):
    ...     print(reason)
    chosen: 2 h visit, expected +1,250; e-mail would keep 11 % of that
    chosen: e-mail, expected +0; no other action pays
    """
    reasons = []
    for i, a in enumerate(choice.tolist()):
        if a < 0:
            reasons.append(_unchosen(problem, i, role_prices, budget_price))
            continue
        gain = float(problem.gain[i, a])
        reasons.append(
            f"chosen: {_what(problem, a)}, expected {_money(gain)}; {_runner_up(problem, i, a)}"
        )
    return reasons


def ordered_reasons(
    problem: Problem, choice: IntArray, rank: IntArray, priority: str, wanted: IntArray
) -> list[str]:
    """Why each customer got its action, or none, when served in order of ``priority``.

    Parameters
    ----------
    problem : Problem
    choice : numpy.ndarray of int, shape (n_customers,)
        The action given (-1 for none), in problem order.
    rank : numpy.ndarray of int, shape (n_customers,)
        Place of each customer in the serving order (1 = first).
    priority : str
        The column that ordered the customers.
    wanted : numpy.ndarray of int, shape (n_customers,)
        The action the rule named (-1: the best that fits, -2: none named).

    Returns
    -------
    list of str

    Examples
    --------
    >>> from crmkit.care._allocate_input import build_problem
    >>> view = pd.DataFrame({"clv": [9000.0, 100.0], "churn_risk": [0.5, 0.5]})
    >>> acts = pd.DataFrame({"action": ["visit"], "role": ["kam"], "hours": [2.0],
    ...                      "cost": [100.0], "risk_reduction": [0.3]})
    >>> p = build_problem(view, acts, {"kam": 2.0})
    >>> for reason in ordered_reasons(p, np.array([0, -1]), np.array([1, 2]), "clv",
    ...                               np.array([0, 0])):
    ...     print(reason)
    served 1st by clv: 2 h visit, expected +1,250
    not served (2nd by clv): 2 h visit no longer fits the hours or budget left
    """
    reasons = []
    for i, (a, r, w) in enumerate(zip(choice.tolist(), rank.tolist(), wanted.tolist(),
                                      strict=True)):
        place = f"{r}{_suffix(r)} by {priority}"
        if a >= 0:
            gain = float(problem.gain[i, a])
            reasons.append(f"served {place}: {_what(problem, a)}, expected {_money(gain)}")
        elif w == -2:
            reasons.append(f"not served ({place}): the rule names no action")
        elif w >= 0:
            reasons.append(f"not served ({place}): {_what(problem, w)} no longer fits the hours "
                           "or budget left")
        else:
            reasons.append(f"not served ({place}): no action that pays fits the hours or budget "
                           "left")
    return reasons


def _suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def allocation_frame(
    problem: Problem, choice: IntArray, reasons: list[str], order: pd.Index
) -> pd.DataFrame:
    """The allocation table: action, role, hours, cost, expected gain and reason per customer.

    Parameters
    ----------
    problem : Problem
    choice : numpy.ndarray of int, shape (n_customers,)
        In problem (sorted) order.
    reasons : list of str
        In problem order.
    order : pandas.Index
        The caller's customer order, for the returned rows.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``order``; ``action`` and ``role`` are None and
        ``hours``, ``cost`` and ``expected_gain`` 0 for customers without
        an action.

    Examples
    --------
    >>> from crmkit.care._allocate_input import build_problem
    >>> view = pd.DataFrame({"clv": [9000.0]}, index=pd.Index(["a"], name="customer_id"))
    >>> view["churn_risk"] = 0.5
    >>> acts = pd.DataFrame({"action": ["visit"], "role": ["kam"], "hours": [2.0],
    ...                      "cost": [100.0], "risk_reduction": [0.3]})
    >>> p = build_problem(view, acts, {"kam": 2.0})
    >>> allocation_frame(p, np.array([0]), ["why"], view.index)[["action", "expected_gain"]]
                action  expected_gain
    customer_id
    a            visit         1250.0
    """
    on = choice >= 0
    safe = np.where(on, choice, 0)
    names = [problem.actions[a] if o else None for a, o in zip(safe.tolist(), on.tolist(),
                                                                  strict=True)]
    roles = [problem.roles[problem.role_of[a]] if o else None
             for a, o in zip(safe.tolist(), on.tolist(), strict=True)]
    rows = np.arange(len(choice))
    frame = pd.DataFrame(
        {
            "action": pd.Series(names, problem.customers, dtype="object"),
            "role": pd.Series(roles, problem.customers, dtype="object"),
            "hours": np.where(on, problem.hours[safe], 0.0),
            "cost": np.where(on, problem.cost[safe], 0.0),
            "expected_gain": np.where(on, problem.gain[rows, safe], 0.0),
            "reason": pd.Series(reasons, problem.customers, dtype="object"),
        },
        index=problem.customers,
    )
    ordered: pd.DataFrame = frame.reindex(order)
    return ordered
