"""allocate / allocate_in_order on small frames: exactness, validation, reasons, order."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit.care import Allocation, allocate, allocate_in_order
from crmkit.exceptions import InvalidParameterError, SchemaError

CAPACITY = {"key account manager": 4.0, "inside sales": 1.0, "marketing": 0.05}


def _view(n: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "clv": rng.lognormal(8, 1.2, n),
            "churn_risk": rng.uniform(0.0, 0.9, n),
            "portfolio": rng.choice(list("ABCD"), n),
        },
        index=pd.Index([f"c{i:02d}" for i in range(n)], name="customer_id"),
    )


def _actions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "action": ["key-account visit", "retention call", "win-back offer", "e-mail"],
            "role": ["key account manager", "inside sales", "inside sales", "marketing"],
            "hours": [2.0, 0.5, 0.25, 0.02],
            "cost": [150.0, 10.0, 60.0, 0.5],
            "risk_reduction": [0.3, 0.15, 0.12, 0.03],
            "segment": [["A", "B"], None, None, None],
        }
    )


def _brute_force(view: pd.DataFrame, actions: pd.DataFrame, capacity: dict[str, float],
                 budget: float | None) -> float:
    """Best objective by enumerating every allocation (tiny problems only)."""
    clv, risk = view["clv"].to_numpy(), view["churn_risk"].to_numpy()
    options = []
    for i in range(len(view)):
        row: list[tuple[int, float]] = [(-1, 0.0)]
        for j, act in actions.iterrows():
            segment = act["segment"]
            if segment is not None and view["portfolio"].iloc[i] not in segment:
                continue
            gain = clv[i] * risk[i] * act["risk_reduction"] - act["cost"]
            if gain > 0:
                row.append((int(j), gain))  # type: ignore[arg-type]
        options.append(row)
    best = 0.0
    for combo in itertools.product(*options):
        hours = dict.fromkeys(capacity, 0.0)
        money = 0.0
        for j, _ in combo:
            if j >= 0:
                hours[actions["role"][j]] += actions["hours"][j]
                money += actions["cost"][j]
        fits = all(hours[r] <= capacity[r] + 1e-9 for r in capacity)
        if fits and (budget is None or money <= budget + 1e-9):
            best = max(best, sum(g for _, g in combo))
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("budget", [None, 300.0])
def test_milp_matches_brute_force(seed: int, budget: float | None) -> None:
    view = _view(6, seed)
    result = allocate(view, _actions(), CAPACITY, budget, method="milp")
    assert result.objective == pytest.approx(_brute_force(view, _actions(), CAPACITY, budget),
                                             rel=1e-9)
    assert result.gap == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("method", ["auto", "milp", "lp"])
def test_capacities_and_budget_respected_exactly(method: Any) -> None:
    view = _view(300, 4)
    result = allocate(view, _actions(), CAPACITY, 500.0, method=method)
    table = result.allocation
    used = table.groupby("role")["hours"].sum()
    for role, hours in CAPACITY.items():
        assert used.get(role, 0.0) <= hours + 1e-9
        assert result.hours_used[role] == pytest.approx(used.get(role, 0.0))
    assert table["cost"].sum() <= 500.0 + 1e-9
    assert result.objective == pytest.approx(table["expected_gain"].sum())
    assert 0.0 <= result.gap < 0.05
    assert result.bound >= result.objective


def test_lp_repair_close_to_exact() -> None:
    view = _view(400, 5)
    exact = allocate(view, _actions(), CAPACITY, 700.0, method="milp")
    repaired = allocate(view, _actions(), CAPACITY, 700.0, method="lp")
    assert repaired.objective <= exact.objective + 1e-6
    assert repaired.objective >= exact.objective * 0.97
    assert repaired.bound >= exact.objective - 1e-6


def test_segments_only_get_their_actions() -> None:
    view = _view(60, 6)
    table = allocate(view, _actions(), {**CAPACITY, "key account manager": 100.0}).allocation
    visited = table["action"] == "key-account visit"
    assert visited.any()
    assert view.loc[visited, "portfolio"].isin(["A", "B"]).all()


def test_result_independent_of_row_order_and_input_untouched() -> None:
    view = _view(80, 7)
    before = view.copy()
    actions = _actions()
    shuffled = view.sample(frac=1.0, random_state=3)
    one = allocate(view, actions, CAPACITY, 400.0)
    two = allocate(shuffled, actions, CAPACITY, 400.0)
    pd.testing.assert_frame_equal(view, before)
    assert two.allocation.index.equals(shuffled.index)
    pd.testing.assert_frame_equal(one.allocation, two.allocation.loc[view.index])
    order_one = allocate_in_order(view, actions, CAPACITY).allocation
    order_two = allocate_in_order(shuffled, actions, CAPACITY).allocation
    pd.testing.assert_frame_equal(order_one, order_two.loc[view.index])


def test_ties_broken_by_customer_id() -> None:
    view = pd.DataFrame({"clv": [100.0] * 3, "churn_risk": [0.5] * 3},
                        index=pd.Index(["c", "a", "b"], name="customer_id"))
    acts = pd.DataFrame({"action": ["call"], "role": ["s"], "hours": [1.0], "cost": [0.0],
                         "risk_reduction": [0.5]})
    served = allocate_in_order(view, acts, {"s": 2.0}, segment_column=None).allocation
    assert served["action"].notna().to_dict() == {"c": False, "a": True, "b": True}


def test_reasons_read_as_sentences() -> None:
    view = _view(40, 8)
    table = allocate(view, _actions(), CAPACITY).allocation
    chosen = table[table["action"].notna()]
    unchosen = table[table["action"].isna()]
    assert len(chosen) and len(unchosen)
    for _, row in chosen.iterrows():
        assert row["reason"].startswith("chosen: ")
        assert f"{row['expected_gain']:,.0f}" in row["reason"]
    assert all(r.startswith("no action: ") for r in unchosen["reason"])
    assert (unchosen["expected_gain"] == 0).all()


def test_reason_names_runner_up_share() -> None:
    view = pd.DataFrame({"clv": [10000.0], "churn_risk": [0.5], "portfolio": ["A"]},
                        index=pd.Index(["a"], name="customer_id"))
    reason = allocate(view, _actions(), CAPACITY).allocation.loc["a", "reason"]
    # visit: 10000 * .5 * .3 - 150 = 1350; call: 750 - 10 = 740 -> 55 %
    assert reason == "chosen: 2 h key-account visit, expected +1,350; retention call would keep " \
                     "55 % of that"


def test_nothing_pays() -> None:
    view = pd.DataFrame({"clv": [1.0, 0.0], "churn_risk": [0.5, 0.0], "portfolio": ["C", "C"]})
    result = allocate(view, _actions(), CAPACITY)
    assert result.objective == 0.0
    assert result.allocation["action"].isna().all()
    assert result.allocation["reason"].str.contains("none pays its cost").all()
    assert result.shadow_prices.eq(0.0).all()


def test_shadow_price_matches_one_more_hour() -> None:
    view = _view(3000, 9)
    capacity = {"key account manager": 120.0, "inside sales": 60.0, "marketing": 5.0}
    base = allocate(view, _actions(), capacity, 20000.0, method="lp")
    for role in capacity:
        more = allocate(view, _actions(), {**capacity, role: capacity[role] + 1.0}, 20000.0,
                        method="lp")
        assert more.bound - base.bound == pytest.approx(base.shadow_prices[role], rel=0.05)
    richer = allocate(view, _actions(), capacity, 20001.0, method="lp")
    assert richer.bound - base.bound == pytest.approx(base.shadow_prices["budget"], rel=0.05,
                                                      abs=1e-6)


def test_in_order_follows_named_actions() -> None:
    view = _view(30, 10)
    view["rule_action"] = np.where(view["portfolio"].isin(["A", "B"]), "key-account visit",
                                   "retention call")
    view.loc[view.index[0], "rule_action"] = None
    result = allocate_in_order(view, _actions(), CAPACITY, priority="clv",
                               action_column="rule_action")
    table = result.allocation
    given = table["action"].notna()
    assert (table.loc[given, "action"] == view.loc[given, "rule_action"]).all()
    assert table.loc[view.index[0], "reason"].endswith("the rule names no action")
    assert result.objective <= allocate(view, _actions(), CAPACITY).objective + 1e-9
    assert isinstance(result, Allocation) and result.method == "in order of clv"


def test_summary_lists_roles_and_budget() -> None:
    result = allocate(_view(50, 11), _actions(), CAPACITY, 250.0)
    table = result.summary()
    assert table.index.tolist() == [*CAPACITY, "budget"]
    assert (table["used"] <= table["available"] + 1e-9).all()


def _bad_actions(**changes: Any) -> pd.DataFrame:
    frame = _actions()
    for column, value in changes.items():
        frame[column] = value
    return frame


@pytest.mark.parametrize(
    ("actions", "needle"),
    [
        (_actions().drop(columns="hours"), "actions['hours']: is missing"),
        (_bad_actions(role=["key account manager", "inside sales", "nobody", "marketing"]),
         "actions['role']: has roles without a capacity"),
        (_bad_actions(hours=[2.0, -0.5, 0.25, 0.02]), "actions['hours']: must be >= 0 (1 row; "
                                                       "rows [1])"),
        (_bad_actions(risk_reduction=[0.3, 1.5, 0.1, 0.0]),
         "actions['risk_reduction']: must be in [0, 1]"),
        (_bad_actions(cost=[1.0, np.nan, 1.0, 1.0]), "actions['cost']: has missing or infinite"),
        (_bad_actions(action=["a", "a", "b", "c"]), "actions['action']: repeats a name"),
        (_actions().iloc[:0], "actions['<frame>']: has no rows"),
    ],
)
def test_bad_actions_raise_schema_error(actions: pd.DataFrame, needle: str) -> None:
    with pytest.raises(SchemaError, match=None) as info:
        allocate(_view(), actions, CAPACITY)
    assert needle in str(info.value)


def test_bad_assessment_raises_schema_error() -> None:
    view = _view().drop(columns="churn_risk")
    with pytest.raises(SchemaError, match=r"assessment\['churn_risk'\]: is missing"):
        allocate(view, _actions(), CAPACITY)
    view = _view()
    view.iloc[2, 0] = -5.0
    view.iloc[3, 1] = np.nan
    with pytest.raises(SchemaError) as info:
        allocate(view, _actions(), CAPACITY)
    text = str(info.value)
    assert "assessment['clv']: must be >= 0 (1 row; rows ['c02'])" in text
    assert "assessment['churn_risk']: has missing or infinite values (1 row; rows ['c03'])" in text
    with pytest.raises(SchemaError, match=r"assessment\['portfolio'\]: is missing"):
        allocate(_view().drop(columns="portfolio"), _actions(), CAPACITY)
    doubled = pd.concat([_view(3), _view(3)])
    with pytest.raises(SchemaError, match="repeats customer ids"):
        allocate(doubled, _actions(), CAPACITY)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"capacity": {"inside sales": -1.0}}, "'capacity' parameter of allocate"),
        ({"capacity": {}}, "'capacity' parameter of allocate"),
        ({"budget": -3.0}, "'budget' parameter of allocate"),
        ({"method": "simplex"}, "'method' parameter of allocate"),
        ({"time_limit": 0}, "'time_limit' parameter of allocate"),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, Any], needle: str) -> None:
    arguments: dict[str, Any] = {"capacity": CAPACITY, **kwargs}
    with pytest.raises(InvalidParameterError, match=needle):
        allocate(_view(), _actions(), **arguments)


def test_in_order_bad_columns() -> None:
    view = _view()
    with pytest.raises(SchemaError, match=r"assessment\['nope'\]: is missing"):
        allocate_in_order(view, _actions(), CAPACITY, priority="nope")
    view["rule_action"] = "telepathy"
    with pytest.raises(SchemaError, match="names actions not in the catalogue"):
        allocate_in_order(view, _actions(), CAPACITY, action_column="rule_action")
