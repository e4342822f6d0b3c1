"""annual_programme: cadence, staggering, workdays, streams, areas, load summaries, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.exceptions import InvalidParameterError, SchemaError
from crmkit.measure import DEFAULT_STREAMS, ProgrammeStream, annual_programme

YEAR = "2026-01-01"


def _plans(n: int = 40) -> pd.DataFrame:
    model = np.array(["A", "B", "C", "D"])[np.arange(n) % 4]
    cadence = {"A": 30, "B": 60, "C": 120, "D": 365}
    return pd.DataFrame({
        "care_model": model,
        "intensity": "medium",
        "cadence_days": [cadence[m] for m in model],
        "channel": np.where(model == "A", "visit", np.where(model == "D", "email", "call")),
        "owner_role": np.where(model == "A", "key account manager", "inside sales"),
        "activities": np.where(model == "A", "business review; offer; service check", ""),
    }, index=pd.Index(np.arange(100, 100 + n), name="customer_id"))  # fmt: skip


def test_care_plan_contacts_follow_the_cadence() -> None:
    plans = _plans()
    prog = annual_programme(plans, year_start=YEAR, streams=(), workdays=False)
    t = prog.touches
    assert prog.year_start == pd.Timestamp("2026-01-01")
    assert prog.year_end == pd.Timestamp("2026-12-31")
    assert t["date"].between(prog.year_start, prog.year_end).all()
    per = t.groupby("customer_id").size()
    cadence = plans["cadence_days"]
    # 365 days: floor or ceil of 365 / cadence contacts, depending on the stagger
    c = cadence.loc[per.index]
    assert ((per >= 365 // c) & (per <= -(-365 // c))).all()
    gaps = t.sort_values("date").groupby("customer_id")["date"].diff().dropna().dt.days
    owners = t.loc[gaps.index, "customer_id"]
    assert (gaps.to_numpy() == cadence.loc[owners].to_numpy()).all()
    first = t.groupby("customer_id")["date"].min()
    assert first.nunique() > len(first) // 2  # staggered, not all on day one
    a = t.loc[t["customer_id"] == 100].sort_values("date")
    assert a["activity"].tolist()[:4] == [
        "business review",
        "offer",
        "service check",
        "business review",
    ]
    assert set(t.loc[t["segment"] == "B", "activity"]) == {"care contact"}
    assert set(t["source"]) == {"care plan"}


def test_areas_workdays_and_streams() -> None:
    prog = annual_programme(_plans(), year_start=YEAR)
    t = prog.touches
    assert (t["date"].dt.day_of_week < 5).all()
    plan = t.loc[t["source"] == "care plan"]
    assert set(plan.loc[plan["channel"] == "visit", "area"]) == {"personal meetings"}
    assert set(plan.loc[plan["channel"] == "call", "area"]) == {"sales"}
    streams = t.loc[t["source"] == "stream"]
    news = streams.loc[streams["activity"] == "newsletter"]
    assert news.groupby("customer_id").size().eq(13).all()  # days 0, 30, ..., 360
    assert news.groupby("date")["customer_id"].nunique().eq(40).all()  # a mass send
    assert set(t["area"]) == {"sales", "marketing", "communication", "service", "personal meetings"}
    assert len(streams) == 40 * sum(len(range(0, 365, s.cadence_days)) for s in DEFAULT_STREAMS)


def test_load_summaries_add_up() -> None:
    plans = _plans()
    prog = annual_programme(plans, year_start=YEAR)
    load = prog.by_role_month
    assert load["n_touches"].sum() == len(prog.touches)
    assert len(load.index.get_level_values("month").unique()) == 12
    kam = load.loc["key account manager"]
    assert (kam["n_customers"] <= 10).all() and kam["n_touches"].sum() > 100
    seg = prog.by_segment
    assert seg["n_touches"].sum() == len(prog.touches)
    assert (seg["n_customers"] == 10).all()
    np.testing.assert_allclose(seg["touches_per_customer"], seg["n_touches"] / 10)


def test_channels_and_targeted_streams() -> None:
    plans = _plans(8).assign(channel="sms")
    with pytest.raises(SchemaError, match="without a programme area: \\['sms'\\]"):
        annual_programme(plans, year_start=YEAR)
    stream = ProgrammeStream(
        area="service",
        channel="chat",
        owner_role="support",
        cadence_days=100,
        activity="check-in",
        care_models=["A"],
    )
    prog = annual_programme(
        plans, year_start=YEAR, channels={"SMS": "communication"}, streams=[stream]
    )
    t = prog.touches
    assert set(t.loc[t["source"] == "care plan", "area"]) == {"communication"}
    assert set(t.loc[t["source"] == "stream", "segment"]) == {"A"}
    assert (t["source"] == "stream").sum() == 2 * 4  # two A customers, days 0/100/200/300


def test_bad_plans_are_refused_with_every_problem() -> None:
    plans = _plans(6)
    plans.loc[101, "cadence_days"] = 0
    plans.loc[102, "owner_role"] = None
    with pytest.raises(SchemaError) as err:
        annual_programme(plans, year_start=YEAR)
    found = {(f.column, f.rows) for f in err.value.failures}
    assert ("cadence_days", (101,)) in found and ("owner_role", (102,)) in found
    with pytest.raises(SchemaError, match=r"'cadence_days'.*is missing"):
        annual_programme(_plans(4).drop(columns="cadence_days"), year_start=YEAR)
    dup = pd.concat([_plans(2), _plans(2)])
    with pytest.raises(SchemaError, match="repeats customer ids"):
        annual_programme(dup, year_start=YEAR)
    with pytest.raises(TypeError, match="year_start must be a date"):
        annual_programme(_plans(4), year_start=2026)
    with pytest.raises(InvalidParameterError, match="'cadence_days' parameter of Programme"):
        ProgrammeStream(area="x", channel="y", owner_role="z", cadence_days=0, activity="a")
    with pytest.raises(InvalidParameterError, match="'area' parameter of ProgrammeStream"):
        ProgrammeStream(area="  ", channel="y", owner_role="z", cadence_days=7, activity="a")
    with pytest.raises(InvalidParameterError, match="'channels' parameter of annual_programme"):
        annual_programme(_plans(4), year_start=YEAR, channels={"email": ""})
    with pytest.raises(InvalidParameterError, match="'streams' parameter of annual_programme"):
        annual_programme(_plans(4), year_start=YEAR, streams=["newsletter"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="DataFrame indexed by customer_id"):
        annual_programme({"a": 1}, year_start=YEAR)  # type: ignore[arg-type]


def test_plans_are_not_modified() -> None:
    plans = _plans(12)
    before = plans.copy()
    annual_programme(plans, year_start=YEAR, segment="care_model")
    pd.testing.assert_frame_equal(plans, before)


@settings(max_examples=30, deadline=None)
@given(
    cadence=st.lists(st.integers(1, 400), min_size=1, max_size=6),
    start=st.dates(
        min_value=pd.Timestamp("2020-01-01").date(), max_value=pd.Timestamp("2030-12-31").date()
    ),
)
def test_every_contact_falls_in_the_year_on_a_workday(cadence: list[int], start: object) -> None:
    plans = pd.DataFrame(
        {"segment": "S", "cadence_days": cadence, "channel": "call", "owner_role": "seller"},
        index=pd.Index(range(len(cadence)), name="customer_id"),
    )
    prog = annual_programme(plans, year_start=start, streams=())
    t = prog.touches
    assert t["date"].between(prog.year_start, prog.year_end).all()
    assert (t["date"].dt.day_of_week < 5).all()
    days = (prog.year_end - prog.year_start).days + 1
    counts = t.groupby("customer_id").size().reindex(plans.index, fill_value=0)
    assert (counts <= -(-days // plans["cadence_days"])).all()
    assert (counts >= days // plans["cadence_days"]).all()
