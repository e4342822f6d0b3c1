"""campaign_report / campaign_exposures: hand-worked toy results, segments, goals, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.data import CustomerData
from crmkit.datasets._synthetic import make_crm
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError
from crmkit.measure import campaign_exposures, campaign_report
from tests.unit.measure._toy import toy_data, toy_frames


@pytest.fixture(scope="module")
def report() -> object:
    return campaign_report(toy_data(), by="industry")


def test_campaign_totals_worked_by_hand(report) -> None:
    k1 = report.campaigns.loc["K1"]
    assert k1["name"] == "Spring offer"
    assert (k1["n_touched"], k1["n_responders"], k1["n_purchases"]) == (3, 2, 2)
    assert k1["conversion_rate"] == pytest.approx(2 / 3)
    assert k1["revenue"] == pytest.approx(190.0)  # 120 (customer 1) + 80 - 10 refund (3)
    assert k1["margin"] == pytest.approx(70.0)
    assert k1["cost"] == pytest.approx(50.0) and k1["cost_source"] == "campaign"
    assert k1["roi"] == pytest.approx((70.0 - 50.0) / 50.0)
    assert k1["n_control"] == 2 and k1["control_conversion_rate"] == pytest.approx(0.5)
    assert k1["incremental_conversions"] == pytest.approx((2 / 3 - 0.5) * 3)
    assert k1["incremental_revenue"] == pytest.approx(190.0 - 20.0 * 3)
    assert k1["incremental_margin"] == pytest.approx(70.0 - 7.5 * 3)
    assert k1["incremental_roi"] == pytest.approx((47.5 - 50.0) / 50.0)
    assert bool(k1["complete"])
    k2 = report.campaigns.loc["K2"]
    assert (k2["n_touched"], k2["n_responders"], k2["revenue"]) == (2, 1, 50.0)
    assert k2["cost"] == pytest.approx(2.0) and k2["cost_source"] == "touches"
    assert k2["roi"] == pytest.approx(9.0)
    assert k2["incremental_conversions"] == pytest.approx(-1.0)
    assert k2["incremental_margin"] == pytest.approx(0.0)
    assert report.value_basis == "margin" and report.window == "campaign"


def test_goals_met_and_missed_on_the_gross_result() -> None:
    report = campaign_report(toy_data(), goal_basis="gross")
    g = report.goals.set_index(["campaign_id", "metric"])
    assert list(g.index) == [("K1", "conversions"), ("K1", "revenue")]  # K2 has no goals
    conv, rev = g.loc[("K1", "conversions")], g.loc[("K1", "revenue")]
    assert (conv["goal"], conv["actual"], conv["difference"], bool(conv["met"])) == (
        2.0,
        2.0,
        0.0,
        True,
    )
    assert rev["difference"] == pytest.approx(-110.0) and not rev["met"]
    assert rev["attainment"] == pytest.approx(190.0 / 300.0)
    assert set(g["basis"]) == {"gross"}


def test_goals_use_the_incremental_result_when_a_control_exists(report) -> None:
    g = report.goals.set_index(["campaign_id", "metric"])
    conv, rev = g.loc[("K1", "conversions")], g.loc[("K1", "revenue")]
    # K1 has two control customers, one of whom bought: rate 1/2 against 2/3
    assert conv["basis"] == "incremental" and conv["gross"] == 2.0
    assert conv["actual"] == pytest.approx((2 / 3 - 0.5) * 3)
    assert not conv["met"]  # two responders, but only half a conversion caused
    assert rev["actual"] == pytest.approx(190.0 - 20.0 * 3) and rev["gross"] == 190.0
    assert rev["difference"] == pytest.approx(130.0 - 300.0)
    assert rev["attainment"] == pytest.approx(130.0 / 300.0)


def test_goals_without_control_stay_gross() -> None:
    frames = toy_frames()
    frames["touches"] = frames["touches"][frames["touches"]["group"] != "control"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        report = campaign_report(frames)
    g = report.goals.set_index(["campaign_id", "metric"])
    assert set(g["basis"]) == {"gross"}
    assert g.loc[("K1", "conversions"), "actual"] == 2.0
    assert (g["actual"] == g["gross"]).all()


def test_incremental_goals_on_make_crm() -> None:
    crm = make_crm(1500, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        auto = campaign_report(crm.data)
        gross = campaign_report(crm.data, goal_basis="gross")
    a = auto.goals.set_index(["campaign_id", "metric"])
    g = gross.goals.set_index(["campaign_id", "metric"])
    c = auto.campaigns
    assert (a["basis"] == "incremental").all()  # both demo campaigns hold a control group
    for campaign in ("K1", "K2"):
        assert a.loc[(campaign, "revenue"), "actual"] == pytest.approx(
            c.loc[campaign, "incremental_revenue"])
        assert a.loc[(campaign, "conversions"), "actual"] == pytest.approx(
            c.loc[campaign, "incremental_conversions"])
        assert g.loc[(campaign, "revenue"), "actual"] == pytest.approx(c.loc[campaign, "revenue"])
    assert (a["gross"] == g["actual"]).all()
    assert (a["met"] == (a["actual"] >= a["goal"])).all()
    # the newsletter K2 causes nothing: the gross revenue "meets" its goal, the increment not
    assert bool(g.loc[("K2", "revenue"), "met"]) and not bool(a.loc[("K2", "revenue"), "met"])


def test_bad_goal_basis() -> None:
    with pytest.raises(InvalidParameterError, match="goal_basis"):
        campaign_report(toy_data(), goal_basis="net")


def test_by_action_uses_each_actions_own_cost(report) -> None:
    a = report.by_action
    mail, call = a.loc[("K1", "mail")], a.loc[("K1", "call")]
    assert (mail["n_touched"], mail["n_responders"], mail["cost"]) == (2, 1, 20.0)
    assert mail["roi"] == pytest.approx((50.0 - 20.0) / 20.0)
    assert mail["n_control"] == 2 and mail["control_conversion_rate"] == pytest.approx(0.5)
    # customer 1 had both actions: its response counts for both
    assert (call["n_touched"], call["n_responders"], call["revenue"]) == (2, 2, 190.0)
    assert call["n_control"] == 0 and np.isnan(call["control_conversion_rate"])
    assert np.isnan(call["incremental_conversions"])


def test_by_segment_and_by_customer(report) -> None:
    s = report.by_segment
    assert report.segment_name == "industry"
    assert (s.loc[("K1", "a"), "n_touched"], s.loc[("K1", "a"), "n_responders"]) == (2, 2)
    assert s.loc[("K1", "a"), "control_conversion_rate"] == 1.0
    assert s.loc[("K1", "b"), "n_responders"] == 0
    assert s.loc[("K1", "a"), "cost"] == pytest.approx(30.0)  # touch costs: 20 + 10
    c = report.by_customer.set_index(["campaign_id", "customer_id"])
    one = c.loc[("K1", 1)]
    assert (one["n_touches"], one["action"], one["group"], one["segment"]) == (
        2,
        "mail",
        "treatment",
        "a",
    )
    assert one["first_touch"] == pd.Timestamp("2024-03-01")
    assert (c.loc[("K1", 3), "n_purchases"], c.loc[("K1", 3), "revenue"]) == (1, 70.0)


def test_window_in_days_starts_at_first_touch() -> None:
    ex = campaign_exposures(toy_data(), window=3).table.set_index(["campaign_id", "customer_id"])
    assert ex.loc[("K1", 1), "window_end"] == pd.Timestamp("2024-03-03")
    assert not ex.loc[("K1", 1), "converted"]  # bought on 03-05, after its 3-day window
    assert ex.loc[("K1", 3), "revenue"] == 80.0  # touched 03-08; the 03-12 refund is outside
    rep = campaign_report(toy_data(), window=3)
    assert rep.window == "3 days" and rep.campaigns.loc["K1", "n_responders"] == 1


def test_margin_share_and_no_cost_at_all() -> None:
    rep = campaign_report(toy_data(), margin=0.5)
    assert rep.campaigns.loc["K1", "margin"] == pytest.approx(95.0)
    f = toy_frames()
    f["transactions"] = f["transactions"].drop(columns="cost")
    f["touches"] = f["touches"].drop(columns="cost")
    f["campaigns"] = f["campaigns"].drop(columns="cost")
    bare = campaign_report(CustomerData.from_frames(**f, as_of="2024-04-30"))
    assert bare.value_basis == "revenue" and "margin" not in bare.campaigns.columns
    assert bare.campaigns["cost"].isna().all() and bare.campaigns["roi"].isna().all()
    assert set(bare.campaigns["cost_source"]) == {"unknown"}


def test_campaign_cost_spread_over_treated_when_touches_have_none() -> None:
    f = toy_frames()
    f["touches"] = f["touches"].drop(columns="cost")
    rep = campaign_report(CustomerData.from_frames(**f, as_of="2024-04-30"))
    k1 = rep.by_customer.loc[rep.by_customer["campaign_id"] == "K1"].set_index("customer_id")
    assert k1.loc[[1, 2, 3], "cost"].tolist() == pytest.approx([50 / 3] * 3)
    assert k1.loc[[4, 5], "cost"].tolist() == [0.0, 0.0]
    assert rep.campaigns.loc["K1", "cost"] == pytest.approx(50.0)


def test_raw_frames_equal_customer_data_and_inputs_untouched() -> None:
    frames = toy_frames()
    before = {k: v.copy() for k, v in frames.items()}
    with pytest.warns(DataWarning, match="incomplete"):  # raw: as_of = last purchase day
        from_raw = campaign_report(frames)
    for k, v in frames.items():
        pd.testing.assert_frame_equal(v, before[k])
    from_data = campaign_report(toy_data())
    pd.testing.assert_frame_equal(
        from_raw.campaigns.drop(columns="complete"), from_data.campaigns.drop(columns="complete")
    )


def test_labels_series_and_view_column() -> None:
    labels = pd.Series({1: "gold", 2: "silver", 3: "gold", 4: "gold"})
    with pytest.warns(DataWarning, match="no 'segment' label"):
        rep = campaign_report(toy_data(), by=labels.rename("segment"))
    assert "(missing)" in rep.by_segment.index.get_level_values("segment")
    view = pd.DataFrame(
        {"tier": ["x", "y", "x", "y", "x", "y"]},
        index=pd.Index([1, 2, 3, 4, 5, 6], name="customer_id"),
    )
    rep = campaign_report(toy_data(), by="tier", view=view)
    assert rep.by_segment.loc[("K1", "x"), "n_touched"] == 2


def test_incomplete_window_is_flagged() -> None:
    with pytest.warns(DataWarning, match="incomplete"):
        rep = campaign_report(toy_data(as_of="2024-04-05"))
    assert rep.campaigns["complete"].tolist() == [True, False]


def test_bad_inputs_raise_clear_errors() -> None:
    f = toy_frames()
    no_touch = CustomerData.from_frames(f["transactions"], as_of="2024-04-30")
    with pytest.raises(SchemaError, match="needs the touches"):
        campaign_report(no_touch)
    bad_group = {**f, "touches": f["touches"].assign(group=["test"] + ["control"] * 8)}
    with pytest.raises(SchemaError, match="'treatment' or 'control'") as err:
        campaign_report(bad_group)
    assert err.value.failures[0].rows == (0,)
    both = {**f, "touches": f["touches"].assign(group=["treatment", "control"] + ["control"] * 7)}
    with pytest.raises(SchemaError, match="both treatment and control"):
        campaign_report(both)
    no_camp = {k: v for k, v in f.items() if k != "campaigns"}
    with pytest.raises(SchemaError, match="window='campaign'"):
        campaign_report(no_camp)
    with pytest.warns(DataWarning, match="incomplete"):
        assert campaign_report(no_camp, window=14).campaigns.loc["K1", "name"] == "K1"
    with pytest.raises(SchemaError, match="no touches of campaign"):
        campaign_exposures(toy_data(), campaign_ids=["K9"])
    with pytest.raises(SchemaError, match="cannot segment"):
        campaign_report(toy_data(), by="size_class")
    with pytest.raises(TypeError, match=r"column name \(a non-empty str\) or a Series"):
        campaign_report(toy_data(), by=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'window'"):
        campaign_report(toy_data(), window=0)
    with pytest.raises(InvalidParameterError, match="'margin'"):
        campaign_report(toy_data(), margin=1.5)


def test_ids_of_another_type_are_refused() -> None:
    # CustomerData checks that record kinds join (issue #20): text ids in the touches and
    # integer ids in the transactions are a SchemaError naming both kinds
    f = toy_frames()
    f["touches"] = f["touches"].assign(customer_id=f["touches"]["customer_id"].astype(str))
    with pytest.raises(SchemaError, match=r"touches\['customer_id'\]: ids are text but the "
                       r"customer ids of transactions"):
        CustomerData.from_frames(**f, as_of="2024-04-30")


def test_tables_add_up_on_synthetic_crm() -> None:
    crm = make_crm(1500, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        rep = campaign_report(crm.data, by="size_class")
    truth = crm.campaign_truth
    camp = rep.campaigns
    assert camp["n_touched"].to_dict() == truth["n_treatment"].to_dict()
    assert camp["n_control"].to_dict() == truth["n_control"].to_dict()
    treated = rep.by_customer.loc[rep.by_customer["group"] == "treatment"]
    per_customer = treated.groupby("campaign_id").agg(
        n_touched=("customer_id", "size"),
        n_responders=("converted", "sum"),
        n_purchases=("n_purchases", "sum"),
        revenue=("revenue", "sum"),
        margin=("margin", "sum"),
    )
    for col in per_customer.columns:
        by_seg = rep.by_segment.groupby(level="campaign_id")[col].sum()
        np.testing.assert_allclose(by_seg.to_numpy(), camp[col].to_numpy())
        np.testing.assert_allclose(per_customer[col].to_numpy(), camp[col].to_numpy())
    assert camp["complete"].all()
    assert not rep.campaigns.isna().any().any()
