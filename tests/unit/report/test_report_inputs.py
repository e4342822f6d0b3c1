"""The report's inputs computed the short way give what the long way gives.

The stage migration reuses the assessment's stages at the analysis date
where a second staging would give the same (rule stagers), the portfolio
table splits each distinct activity text once, and the holdout tracking
looks each customer id up once; each is checked against the plain
computation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmkit.lifecycle
from crmkit.compose import Playbook
from crmkit.data import TIME_UNITS
from crmkit.datasets import SyntheticCRM, make_crm
from crmkit.lifecycle import RuleStager, stage_history, stage_migration
from crmkit.report._analyse import _stages_now, analyse
from crmkit.report._sections import _first_items, _mode
from crmkit.value import tracking_series


def _plain_migration(data: Any, stager: Any, days: int) -> pd.DataFrame:
    start = data.as_of - pd.Timedelta(days=days)
    history = stage_history(data, [start, data.as_of], stager=stager)
    out: pd.DataFrame = stage_migration(history.iloc[:, 0], history.iloc[:, 1]).counts
    return out


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def spy(data: Any, at: Any, **kwargs: Any) -> pd.DataFrame:
        calls.append(len(at))
        return stage_history(data, at, **kwargs)

    monkeypatch.setattr(crmkit.lifecycle, "stage_history", spy)
    return calls


@pytest.mark.parametrize(
    ("unit", "stager"),
    [("W", "rules"), ("D", "rules"), ("W", RuleStager(onboarding_window=20.0, lapse_after=30.0))],
)
def test_migration_reuses_rule_stages(
    monkeypatch: pytest.MonkeyPatch, unit: str, stager: Any
) -> None:
    data = make_crm(400, seed=3, time_unit=unit).data
    expected = _plain_migration(data, stager, 120)
    calls = _spy(monkeypatch)
    inputs = analyse(data, playbook=Playbook(stager=stager), migration_days=120)
    assert calls == [1]  # staged again at the earlier date only
    pd.testing.assert_frame_equal(inputs.migration.counts, expected)
    assert int(expected.to_numpy().sum()) == data.n_customers


def test_migration_stages_twice_when_the_stagers_differ(
    monkeypatch: pytest.MonkeyPatch, crm: SyntheticCRM
) -> None:
    # fitted with other settings, then told "rules": stage_history stages with the defaults
    book = Playbook(stager=RuleStager(onboarding_window=3.0)).fit(crm.data)
    book.set_params(stager="rules")
    assert _stages_now("rules", book, book.assess(crm.data)) is None
    calls = _spy(monkeypatch)
    inputs = analyse(crm.data, playbook=book, migration_days=120)
    assert calls == [2]
    pd.testing.assert_frame_equal(inputs.migration.counts, _plain_migration(crm.data, "rules", 120))


def test_other_stagers_are_staged_again(crm: SyntheticCRM) -> None:
    class MyRules(RuleStager):
        pass

    book = Playbook(stager=MyRules()).fit(crm.data)
    assert _stages_now(book.plugins_["stager"], book, book.assess(crm.data)) is None
    rules = Playbook().fit(crm.data)
    assessed = rules.assess(crm.data)
    now = _stages_now("rules", rules, assessed)
    assert now is not None and now.equals(assessed["stage"])
    assert _stages_now("rules", rules, assessed.drop(columns="stage")) is None


@pytest.mark.parametrize("dtype", ["str", object])
def test_first_items_match_splitting_every_row(dtype: Any) -> None:
    values = pd.Series(
        ["visit; call", " call ;visit", None, "mail", "visit; call", "", ";x"] * 3,
        index=[f"c{i}" for i in range(21)],
        dtype=dtype,
    )
    plain = values.astype(str).str.split(";").str[0].str.strip()
    fast = _first_items(values)
    assert fast.dtype == plain.dtype
    assert fast.fillna("<na>").tolist() == plain.fillna("<na>").tolist()
    for part in (slice(0, 7), slice(3, 21), [1, 4, 8]):
        assert _mode(fast.iloc[part]) == _mode(plain.iloc[part])


def test_holdout_tracking_matches_isin_lookup(crm: SyntheticCRM) -> None:
    data = crm.data
    inputs = analyse(data, holdout=crm.frames["transactions"])
    hold = inputs.holdout
    assert hold is not None and hold.tracking is not None
    # the plain computation: every transaction row looked up with isin
    later = crm.frames["transactions"]
    later = later.loc[(later["date"] > data.as_of).to_numpy()]
    keep = ["customer_id", "date", "amount"]
    both = pd.concat([data.transactions[keep], later[keep]], ignore_index=True)
    days = both.assign(day=both["date"].dt.normalize())[["customer_id", "day"]]
    days = days.loc[days["customer_id"].isin(hold.cal_hold.index).to_numpy()].drop_duplicates()
    first = days.groupby("customer_id")["day"].transform("min")
    repeat = days.loc[(days["day"] > first).to_numpy(), "day"]
    origin = pd.Timestamp(data.transactions["date"].min()).normalize()
    unit = TIME_UNITS[data.time_unit]
    first_t = (hold.cal_hold["first_purchase"] - origin).dt.days.to_numpy(np.float64) / unit
    repeat_t = (repeat - origin).dt.days.to_numpy(np.float64) / unit
    end_t = float((hold.end - origin).days / unit)
    model = inputs.playbook.purchase_model_
    expected = tracking_series(model, first_t, repeat_t, end=end_t, step=1.0)
    pd.testing.assert_frame_equal(hold.tracking, expected)
