"""The synthetic CRM: determinism, schemas, integrity, ground truth and planted effects."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.data._columns import RECORD_SCHEMAS
from crmkit.datasets._synthetic import SyntheticCRM, make_crm
from crmkit.exceptions import InvalidParameterError

N = 3000
DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def crm() -> SyntheticCRM:
    return make_crm(N, seed=0)


def _identical(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same columns, dtypes, index and values (NaN equal to NaN); fast for categoricals."""
    return a.dtypes.equals(b.dtypes) and a.index.equals(b.index) and a.equals(b)


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney ROC AUC (ties count one half)."""
    ranks = pd.Series(score).rank().to_numpy()
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


# ---- determinism and parameters ----------------------------------------------


def test_same_seed_gives_identical_frames_and_truth() -> None:
    a, b = make_crm(250, seed=7), make_crm(250, seed=7)
    assert set(a.frames) == set(b.frames)
    for kind in a.frames:
        assert _identical(a.frames[kind], b.frames[kind]), kind
    assert _identical(a.truth, b.truth)
    assert _identical(a.campaign_truth, b.campaign_truth)
    assert _identical(a.prospect_truth, b.prospect_truth)
    c = make_crm(250, seed=8)
    assert not a.frames["transactions"]["amount"].equals(c.frames["transactions"]["amount"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_customers": 0}, "'n_customers'"),
        ({"n_customers": 2.5}, "'n_customers'"),
        ({"seed": -1}, "'seed'"),
        ({"time_unit": "Y"}, "'time_unit'"),
        ({"r": 0.0}, "'r'"),
        ({"q": 1.0}, "'q'"),
        ({"campaign_uplift": 1.5}, "'campaign_uplift'"),
        ({"n_prospects": -3}, "'n_prospects'"),
        ({"as_of": "2023-03-01"}, "start \\+ 180 days"),
        ({"holdout_end": "2025-06-30"}, "as_of < holdout_end"),
        ({"start": "not a date"}, "start must be a date"),
        ({"as_of": 20250630}, "as_of must be a date"),
    ],
)
def test_bad_parameters_raise(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"n_customers": 20}
    args.update(kwargs)
    with pytest.raises(InvalidParameterError, match=match):
        make_crm(**args)  # type: ignore[arg-type]


def test_time_unit_rescales_the_rates() -> None:
    days = make_crm(400, seed=1, time_unit="D")
    assert days.params["alpha"] == pytest.approx(21.0)
    assert days.params["beta"] == pytest.approx(1750.0)
    assert days.truth["lambda"].mean() == pytest.approx(0.4 / 7, rel=0.15)
    assert days.time_unit == "D"


# ---- schemas and integrity ---------------------------------------------------


def test_frames_have_canonical_columns_and_dtypes(crm: SyntheticCRM) -> None:
    assert set(crm.frames) == set(RECORD_SCHEMAS)
    for kind, frame in crm.frames.items():
        schema = RECORD_SCHEMAS[kind]
        assert set(frame.columns) <= set(schema), kind
        assert {c for c, spec in schema.items() if spec.required} <= set(frame.columns), kind
        assert len(frame) > 0, kind
        for column in frame.columns:
            spec, s = schema[column], frame[column]
            if spec.kind == "date":
                assert s.dtype == "datetime64[ns]", (kind, column)
            elif spec.kind == "number":
                assert s.dtype == np.float64 and np.isfinite(s.dropna()).all(), (kind, column)
            elif spec.kind == "bool":
                assert s.dtype == bool, (kind, column)
            elif spec.kind == "id":
                assert s.dtype == np.int64 or kind == "touches" or kind == "campaigns"
            if not spec.nullable:
                assert s.notna().all(), (kind, column)
        assert isinstance(frame.index, pd.RangeIndex)


def test_referential_integrity(crm: SyntheticCRM) -> None:
    f = crm.frames
    ids = f["customers"]["customer_id"]
    assert ids.is_unique and len(ids) == N
    for kind in ("transactions", "contacts", "interactions", "feedback", "events", "touches"):
        assert f[kind]["customer_id"].isin(ids).all(), kind
    assert f["touches"]["campaign_id"].isin(f["campaigns"]["campaign_id"]).all()
    assert f["campaigns"]["campaign_id"].is_unique
    assert f["contacts"]["contact_id"].is_unique
    assert f["prospects"]["prospect_id"].is_unique
    assert not f["touches"].duplicated(["campaign_id", "customer_id"]).any()
    assert crm.truth.index.equals(pd.Index(ids, name="customer_id"))
    assert crm.prospect_truth.index.equals(pd.Index(f["prospects"]["prospect_id"]))
    assert set(crm.campaign_truth.index) == set(f["campaigns"]["campaign_id"])
    assert len(f["prospects"]) == N // 2
    assert len(make_crm(30, seed=2, n_prospects=7).frames["prospects"]) == 7


def test_record_values_are_valid(crm: SyntheticCRM) -> None:
    f = crm.frames
    tx = f["transactions"]
    assert (tx["amount"] > 0).all() and (tx["quantity"] >= 1).all()
    assert (tx["cost"] >= 0).all() and (tx["cost"] < tx["amount"] * 1.2).all()
    assert tx["date"].is_monotonic_increasing
    assert tx["date"].max() <= crm.holdout_end
    fb = f["feedback"]
    for kind, (low, high) in {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}.items():
        scores = fb.loc[fb["kind"] == kind, "score"]
        assert len(scores) > 0 and scores.between(low, high).all() and (scores % 1 == 0).all()
    tickets = fb["kind"].isin(["complaint", "suggestion"])
    assert fb.loc[tickets, "score"].isna().all() and fb.loc[tickets, "text"].notna().all()
    assert (fb["resolved_date"].dropna() >= fb.loc[fb["resolved_date"].notna(), "date"]).all()
    assert fb.loc[tickets, "resolved_date"].isna().any()  # some complaints stay open
    ct = f["contacts"]
    per_account = ct.groupby("customer_id").size()
    assert per_account.between(1, 6).all() and per_account.index.equals(pd.Index(range(1, N + 1)))
    assert ct.groupby("customer_id")["decision_maker"].any().all()
    assert ct["influence"].between(0, 1).all()
    assert (ct["left_date"].dropna() >= ct.loc[ct["left_date"].notna(), "active_from"]).all()
    assert ct["left_date"].notna().any()
    cust = f["customers"]
    assert cust["industry"].nunique() == 8 and cust["region"].nunique() >= 5
    assert set(cust["size_class"].cat.categories) == {"micro", "small", "medium", "large"}
    assert cust["address"].notna().all() and cust["name"].notna().all()


def test_every_record_reads_into_a_domain_object(crm: SyntheticCRM) -> None:
    from crmkit import domain

    classes = {
        "transactions": domain.Transaction,
        "customers": domain.Customer,
        "contacts": domain.Contact,
        "interactions": domain.Interaction,
        "feedback": domain.Feedback,
        "events": domain.ProfileChange,
        "campaigns": domain.Campaign,
        "touches": domain.CampaignTouch,
        "prospects": domain.Prospect,
    }
    for kind, cls in classes.items():
        frame = crm.frames[kind]
        rows = frame.sample(min(len(frame), 200), random_state=0).to_dict("records")
        objects = [cls.from_row(row) for row in rows]  # type: ignore[attr-defined]
        assert all(isinstance(o, cls) for o in objects), kind


# ---- ground truth ------------------------------------------------------------


def test_truth_is_consistent_with_the_records(crm: SyntheticCRM) -> None:
    tr, tx = crm.truth, crm.frames["transactions"]
    first = tx.groupby("customer_id")["date"].min()
    last = tx.groupby("customer_id")["date"].max()
    assert first.index.equals(tr.index)  # every customer bought
    assert (first <= crm.as_of - 13 * DAY).all()
    assert first.equals(crm.frames["customers"].set_index("customer_id")["customer_since"])
    dead = tr["death_date"].notna()
    assert (last[dead] <= tr.loc[dead, "death_date"]).all()  # no purchases after death
    assert (tr.loc[dead, "death_date"] <= crm.holdout_end).all()
    assert (tr["churned"] == (tr["alive_at_as_of"] & dead)).all()
    churned = tr["churned"]
    assert (tr.loc[churned, "death_date"] >= crm.as_of).all()
    assert (tr.loc[tr["alive_at_as_of"] == False, "death_date"] <= crm.as_of).all()  # noqa: E712
    assert 0.05 < churned.mean() < 0.2 and 0.5 < tr["alive_at_as_of"].mean() < 0.9
    hold = tx.loc[tx["date"] > crm.as_of].drop_duplicates(["customer_id", "date"])
    counts = hold.groupby("customer_id").size().reindex(tr.index, fill_value=0)
    assert (counts == tr["holdout_purchases"]).all()
    assert (tr.loc[~tr["alive_at_as_of"], "holdout_purchases"] == 0).all()
    revenue = tx.loc[tx["date"] > crm.as_of].groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(revenue.reindex(tr.index, fill_value=0), tr["holdout_revenue"])
    assert tr["n_signals"].equals(tr.filter(like="signal_").sum(axis=1).astype(np.int64))


def test_latent_parameters_are_recovered(crm: SyntheticCRM) -> None:
    tr, prm = crm.truth, crm.params
    r, alpha, s, beta = prm["r"], prm["alpha"], prm["s"], prm["beta"]
    assert tr["lambda"].mean() == pytest.approx(r / alpha, rel=0.06)
    assert tr["lambda"].var() / tr["lambda"].mean() ** 2 == pytest.approx(1 / r, rel=0.15)
    assert tr["mu"].mean() == pytest.approx(s / beta, rel=0.06)
    assert tr["mu"].var() / tr["mu"].mean() ** 2 == pytest.approx(1 / s, rel=0.15)
    # Spend: mean observed order value tracks the true mean spend p / nu.
    tx = crm.frames["transactions"]
    orders = tx.groupby(["customer_id", "date"])["amount"].sum().groupby("customer_id")
    n_orders, mean_order = orders.size(), orders.mean()
    many = n_orders[n_orders >= 15].index
    ratio = mean_order[many] / tr.loc[many, "mean_spend"]
    assert ratio.median() == pytest.approx(1.0, abs=0.1)
    assert np.corrcoef(np.log(mean_order[many]), np.log(tr.loc[many, "mean_spend"]))[0, 1] > 0.9
    # Observed purchase rate of long-lived customers tracks lambda.
    span = tx.groupby("customer_id")["date"].max() - tx.groupby("customer_id")["date"].min()
    alive = tr.index[tr["death_date"].isna() & (span.dt.days > 400)]
    days = tx.drop_duplicates(["customer_id", "date"]).groupby("customer_id").size()[alive]
    weekly = days / ((crm.holdout_end - tx.groupby("customer_id")["date"].min()[alive]).dt.days / 7)
    assert np.corrcoef(weekly, tr.loc[alive, "lambda"])[0, 1] > 0.8


def test_bigger_firms_buy_more_and_are_key_accounts(crm: SyntheticCRM) -> None:
    cust = crm.frames["customers"].set_index("customer_id")
    by_size = crm.truth.groupby(cust["size_class"], observed=True)
    lam, spend = by_size["lambda"].mean(), by_size["mean_spend"].median()
    assert lam.is_monotonic_increasing and spend.is_monotonic_increasing
    key = cust.groupby("size_class", observed=True)["key_account"].mean()
    assert key["large"] > 0.2 > key["micro"]
    assert 0.04 < cust["key_account"].mean() < 0.06


def test_products_have_cross_sell_structure(crm: SyntheticCRM) -> None:
    tx = crm.frames["transactions"]
    bought = pd.crosstab(tx["customer_id"], tx["product"]) > 0
    assert bought.sum(axis=1).median() < 12  # customers concentrate on a few products
    p = bought.mean()
    group = np.arange(20) // 4
    lifts = []
    for a in range(20):
        for b in range(20):
            if a != b and group[a] == group[b]:
                cond = bought.iloc[:, b][bought.iloc[:, a]].mean()
                lifts.append(cond / p.iloc[b])
    assert np.mean(lifts) > 1.3  # same-group products are bought together
    industry = crm.frames["customers"].set_index("customer_id")["industry"]
    mix = pd.crosstab(industry.reindex(tx["customer_id"]).to_numpy(), tx["product"],
                      normalize="index")  # fmt: skip
    assert (mix.max() - mix.min()).max() > 0.1  # preferences differ by industry


# ---- churn signals -----------------------------------------------------------


def test_signals_are_more_common_among_churners(crm: SyntheticCRM) -> None:
    tr = crm.truth
    survivors = tr["death_date"].isna()
    for column in tr.filter(like="signal_").columns:
        rate_churned = tr.loc[tr["churned"], column].mean()
        rate_survivors = tr.loc[survivors, column].mean()
        assert rate_churned > 3 * rate_survivors, column
        assert rate_survivors < 0.1, column


def _detector(crm: SyntheticCRM) -> pd.Series:
    """A plain early-warning score computed from the calibration records only."""
    cut, as_of, ids = crm.calibration_frames(), crm.as_of, crm.truth.index
    recent = as_of - 180 * DAY

    def count(frame: pd.DataFrame, mask: pd.Series) -> pd.Series:
        rows = frame.loc[mask & (frame["date"] > recent)]
        return rows.groupby("customer_id").size().reindex(ids, fill_value=0)

    fb, ev, ct = cut["feedback"], cut["events"], cut["contacts"]
    negative = ((fb["kind"] == "nps") & (fb["score"] <= 6)) | (
        (fb["kind"] == "csat") & (fb["score"] <= 2)
    )
    open_complaints = fb.loc[(fb["kind"] == "complaint") & fb["resolved_date"].isna()]
    left = ct.loc[ct["decision_maker"] & (ct["left_date"] > recent)]
    days = cut["transactions"].drop_duplicates(["customer_id", "date"])
    early = count(days, days["date"] <= as_of - 120 * DAY)
    late = count(days, days["date"] > as_of - 120 * DAY)
    return (
        (count(fb, negative) > 0).astype(int)
        + (count(fb, fb["kind"] == "complaint") > 0)
        + (open_complaints.groupby("customer_id").size().reindex(ids, fill_value=0) > 0)
        + (count(ev, ev["kind"] == "address_change") > 0)
        + (left.groupby("customer_id").size().reindex(ids, fill_value=0) > 0)
        + 2 * ((early - late) / (early + late + 1)).clip(lower=0)
    )


def test_a_simple_detector_finds_churners_before_as_of(crm: SyntheticCRM) -> None:
    score = _detector(crm)
    tr = crm.truth
    alive = tr["alive_at_as_of"].to_numpy()
    assert _auc(tr["churned"].to_numpy()[alive], score.to_numpy()[alive]) >= 0.75
    # Also among customers who bought in the last 90 days (observable at as_of).
    last = crm.calibration_frames()["transactions"].groupby("customer_id")["date"].max()
    active = (last > crm.as_of - 90 * DAY).reindex(tr.index).to_numpy()
    assert _auc(tr["churned"].to_numpy()[active], score.to_numpy()[active]) >= 0.75


def test_planted_signals_are_visible_before_as_of(crm: SyntheticCRM) -> None:
    cut, tr = crm.calibration_frames(), crm.truth
    window = crm.as_of - 125 * DAY
    churned = tr.index[tr["churned"]]
    ev = cut["events"]
    moved = set(ev.loc[(ev["kind"] == "address_change") & (ev["date"] >= window), "customer_id"])
    assert set(churned[tr.loc[churned, "signal_address_change"]]) <= moved
    ct = cut["contacts"]
    gone = ct.loc[ct["decision_maker"] & (ct["left_date"] >= window), "customer_id"]
    assert set(churned[tr.loc[churned, "signal_contact_left"]]) <= set(gone)
    fb = cut["feedback"]
    comp = fb.loc[(fb["kind"] == "complaint") & (fb["date"] >= window), "customer_id"]
    assert set(churned[tr.loc[churned, "signal_complaint"]]) <= set(comp)


# ---- campaigns ---------------------------------------------------------------


def _conversion(crm: SyntheticCRM, campaign_id: str) -> tuple[float, float, float]:
    f = crm.frames
    c = f["campaigns"].set_index("campaign_id").loc[campaign_id]
    tx = f["transactions"]
    buyers = set(tx.loc[tx["date"].between(c["start"], c["end"]), "customer_id"])
    touches = f["touches"].loc[f["touches"]["campaign_id"] == campaign_id]
    converted = touches["customer_id"].isin(buyers)
    treated = (touches["group"] == "treatment").to_numpy()
    p1, p0 = converted[treated].mean(), converted[~treated].mean()
    se = np.sqrt(p1 * (1 - p1) / treated.sum() + p0 * (1 - p0) / (~treated).sum())
    return float(p1), float(p0), float(se)


def test_real_campaign_lifts_conversion_and_null_campaign_does_not(crm: SyntheticCRM) -> None:
    ct = crm.campaign_truth
    assert ct.loc["K1", "true_uplift"] > 0.03 and ct.loc["K1", "has_effect"]
    assert ct.loc["K2", "true_uplift"] == 0.0 and not ct.loc["K2", "has_effect"]
    p1, p0, se = _conversion(crm, "K1")
    assert (p1 - p0) / se > 2.0
    assert abs((p1 - p0) - ct.loc["K1", "true_uplift"]) < 3 * se
    assert abs(p0 - ct.loc["K1", "expected_conversion_control"]) < 0.06
    p1, p0, se = _conversion(crm, "K2")
    assert abs(p1 - p0) < 3 * se
    touches = crm.frames["touches"]
    share = (touches["group"] == "treatment").mean()
    assert 0.45 < share < 0.55
    assert (touches.loc[touches["group"] == "control", "cost"] == 0).all()
    assert (crm.frames["campaigns"]["end"] <= crm.as_of).all()


def test_zero_uplift_removes_the_effect() -> None:
    crm = make_crm(400, seed=4, campaign_uplift=0.0)
    assert crm.campaign_truth["true_uplift"].eq(0.0).all()


# ---- prospects -----------------------------------------------------------------


def test_prospects_good_fit_resembles_best_customers(crm: SyntheticCRM) -> None:
    pr, pt = crm.frames["prospects"], crm.prospect_truth
    assert 0.2 < pt["good_fit"].mean() < 0.3
    rank = pr["stage"].cat.codes.to_numpy()
    assert rank[pt["good_fit"].to_numpy()].mean() > rank[~pt["good_fit"].to_numpy()].mean() + 0.5
    assert list(pr["stage"].cat.categories) == [
        "identified", "marketing", "offer", "negotiation", "order"
    ]  # fmt: skip
    big = pr["size_class"].isin(["medium", "large"]).to_numpy()
    assert pt["good_fit"].to_numpy()[big].mean() > pt["good_fit"].to_numpy()[~big].mean()
    assert (pr["created"] <= crm.holdout_end).all()


# ---- the calibration cut and CustomerData ------------------------------------


def test_calibration_frames_hold_nothing_after_as_of(crm: SyntheticCRM) -> None:
    before = {kind: frame.copy() for kind, frame in crm.frames.items()}
    cut = crm.calibration_frames()
    for kind, frame in cut.items():
        for column in frame.columns:
            if frame[column].dtype == "datetime64[ns]" and column != "active_from":
                assert (frame[column].dropna() <= crm.as_of).all(), (kind, column)
    assert len(cut["transactions"]) < len(crm.frames["transactions"])
    for kind in crm.frames:
        assert _identical(crm.frames[kind], before[kind]), kind  # nothing mutated
    # A complaint resolved after as_of is open in the cut.
    fb = crm.frames["feedback"]
    late = fb.loc[(fb["date"] <= crm.as_of) & (fb["resolved_date"] > crm.as_of)]
    assert len(late) > 0
    keys = ["customer_id", "date", "kind", "text"]
    matched = late[keys].merge(cut["feedback"], on=keys, how="left")
    assert len(matched) >= len(late) and matched["resolved_date"].isna().all()
    # Prospects: stage as of as_of never beyond the final stage.
    final = crm.frames["prospects"].set_index("prospect_id")["stage"].cat.codes
    then = cut["prospects"].set_index("prospect_id")["stage"].cat.codes
    assert (then <= final.reindex(then.index)).all() and (then < final.reindex(then.index)).any()
    # Addresses: only moves up to as_of count.
    ev = crm.frames["events"]
    later = ev.loc[(ev["kind"] == "address_change") & (ev["date"] > crm.as_of), "customer_id"]
    earlier = ev.loc[(ev["kind"] == "address_change") & (ev["date"] <= crm.as_of), "customer_id"]
    only_later = sorted(set(later) - set(earlier))
    assert only_later
    addr = cut["customers"].set_index("customer_id")["address"]
    assert (addr[only_later] == crm.truth.loc[only_later, "first_address"]).all()


def test_data_is_the_validated_calibration_container() -> None:
    try:
        from crmkit.data import CustomerData
    except ImportError:  # pragma: no cover - the container is written in parallel
        pytest.skip("crmkit.data.CustomerData is not available yet")
    crm = make_crm(300, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing dropped: the frames are cut first
        data = crm.data
    assert isinstance(data, CustomerData)
    assert data.as_of == crm.as_of and data.time_unit == crm.time_unit
    assert crm.data is data  # cached
    cut = crm.calibration_frames()
    assert len(data.frames["transactions"]) == len(cut["transactions"])
    assert set(data.frames) == set(cut)
