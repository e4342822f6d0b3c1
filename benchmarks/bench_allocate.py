"""Capacity-constrained care: the optimiser against the rule table and highest-CLV-first.

Run: ``python benchmarks/bench_allocate.py [n_customers] [n_large]`` (defaults
5000 and 100000).

1. ``make_crm(n_customers, seed=0)`` is assessed by a Playbook (rules
   stager, BG/NBD + Gamma-Gamma, portfolios A-D, SignalRules churn,
   PortfolioCare). Every care role gets one action (:data:`ACTIONS`); the
   rule table's action of a customer is the action of the role its care plan
   names (``owner_role``). The *demand* of a role is the hours it would need
   to give every customer its rule action.
2. At capacities of 10 %, 20 % and 50 % of the demand (every role alike) it
   compares, with the same gains and the same capacities:

   - ``optimiser`` — :func:`crmkit.care.allocate`;
   - ``rule table`` — the rule action, customers served by the care model's
     ``budget_share`` (intensity x value), largest first;
   - ``highest CLV first`` — customers served by CLV, each getting its best
     action that still fits;
   - ``rule action, CLV first`` — the rule action, customers served by CLV.

   and prints the expected value retained, the hours used, the value per
   hour and the share of the LP bound.
3. It times :func:`~crmkit.care.allocate` on ``n_large`` customers x 5
   actions: the assessment rows resampled (with new ids) at 20 % capacity.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

from crmkit.care import allocate, allocate_in_order
from crmkit.compose import Playbook
from crmkit.datasets import make_crm

#: One action per role of PortfolioCare's care plans (B2B roles).
ACTIONS = pd.DataFrame(
    {
        "action": ["key-account visit", "account review visit", "needs call",
                   "win-back offer", "feedback follow-up", "service call", "e-mail"],
        "role": ["key account manager", "account manager", "inside sales", "seller",
                 "customer service manager", "customer service", "marketing"],
        "hours": [2.0, 1.5, 0.5, 0.5, 0.75, 0.25, 0.02],
        "cost": [150.0, 100.0, 10.0, 50.0, 20.0, 5.0, 0.5],
        "risk_reduction": [0.30, 0.25, 0.12, 0.20, 0.25, 0.08, 0.03],
        "segment": [["A"], None, None, None, None, None, None],
    }
)


def assess(n: int) -> pd.DataFrame:
    """The Playbook assessment of ``make_crm(n, seed=0)``, with each customer's rule action."""
    crm = make_crm(n, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = Playbook(stager="rules", purchase_model="bgnbd", spend_model="gammagamma",
                        segmenter="portfolio", churn="signals", care="portfolio")
        result = book.fit(crm.data).assess(crm.data)
    by_role = dict(zip(ACTIONS["role"], ACTIONS["action"], strict=True))
    result["rule_action"] = result["owner_role"].astype(object).map(by_role)
    return result


def demand(assessment: pd.DataFrame) -> dict[str, float]:
    """Hours per role if every customer got its rule action."""
    hours = ACTIONS.set_index("action")["hours"]
    roles = ACTIONS.set_index("action")["role"]
    need = assessment["rule_action"].map(hours).groupby(assessment["rule_action"].map(roles))
    return {role: float(need.sum().get(role, 0.0)) for role in ACTIONS["role"]}


def compare(assessment: pd.DataFrame, share: float) -> pd.DataFrame:
    """Value retained by each way of choosing, at ``share`` of the demand."""
    capacity = {role: share * hours for role, hours in demand(assessment).items()}
    ways = {
        "optimiser": lambda: allocate(assessment, ACTIONS, capacity),
        "rule table": lambda: allocate_in_order(assessment, ACTIONS, capacity,
                                                priority="budget_share",
                                                action_column="rule_action"),
        "highest CLV first": lambda: allocate_in_order(assessment, ACTIONS, capacity),
        "rule action, CLV first": lambda: allocate_in_order(assessment, ACTIONS, capacity,
                                                            action_column="rule_action"),
    }
    rows = []
    for name, run in ways.items():
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        rows.append({
            "capacity": f"{share:.0%}", "way": name, "value_retained": result.objective,
            "hours_used": float(result.hours_used.sum()), "value_per_hour": result.value_per_hour,
            "share_of_bound": result.objective / result.bound, "customers": int(
                result.allocation["action"].notna().sum()), "seconds": seconds,
            "method": result.method,
        })
    return pd.DataFrame(rows)


def scale(assessment: pd.DataFrame, n_large: int) -> None:
    """Time allocate on ``n_large`` resampled customers x 5 actions at 20 % capacity."""
    rng = np.random.default_rng(1)
    big = assessment.iloc[rng.integers(0, len(assessment), n_large)].copy()
    big.index = pd.Index(np.arange(n_large), name="customer_id")
    five = ACTIONS[ACTIONS["action"].isin(["key-account visit", "account review visit",
                                           "needs call", "win-back offer", "e-mail"])]
    keep = big["rule_action"].isin(five["action"])
    big.loc[~keep, "rule_action"] = "needs call"
    hours = five.set_index("action")["hours"]
    roles = five.set_index("action")["role"]
    need = big["rule_action"].map(hours).groupby(big["rule_action"].map(roles)).sum()
    capacity = {role: 0.2 * float(need.get(role, 1.0)) for role in five["role"]}
    start = time.perf_counter()
    result = allocate(big, five, capacity)
    seconds = time.perf_counter() - start
    print(f"\n{n_large:,} customers x {len(five)} actions: {seconds:.1f} s "
          f"({result.method}, gap {result.gap:.2e}, {int(result.allocation['action'].notna().sum()):,}"
          " customers served)")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    n_large = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    assessment = assess(n)
    print(f"make_crm({n}): demand in hours per role")
    print(pd.Series(demand(assessment)).round(1).to_string())
    table = pd.concat([compare(assessment, share) for share in (0.1, 0.2, 0.5)])
    with pd.option_context("display.width", 160, "display.float_format", "{:,.3f}".format):
        print(table.to_string(index=False))
    if n_large:
        scale(assessment, n_large)


if __name__ == "__main__":
    main()
