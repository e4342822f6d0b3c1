"""``Playbook()`` with no arguments on any valid records: what it resolves, notes and says."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit import load
from crmkit.care import PortfolioCare
from crmkit.churn import AliveChurn, SignalRules
from crmkit.compose import ObservedSpend, Playbook
from crmkit.data import CustomerData, summarize
from crmkit.datasets import load_cdnow, make_crm
from crmkit.exceptions import DataWarning
from crmkit.value import ParetoNBD

ROOT = Path(__file__).resolve().parents[3]
APPAREL = ROOT.parent / "shared" / "data" / "apparel_transactions.csv"

#: Owner roles of business-to-business care, which consumer care must not use.
B2B_ROLES = {"key account manager", "account manager", "inside sales", "seller"}


def _quiet(make: Any) -> Any:
    """Build records outside the checks (reading CDNOW warns about its 9 duplicate rows)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return make()


@pytest.fixture(scope="module")
def cdnow_tx() -> pd.DataFrame:
    tx = load_cdnow()
    return tx.loc[(tx["date"] <= "1997-09-30").to_numpy()]


@pytest.fixture(scope="module")
def cdnow(cdnow_tx: pd.DataFrame) -> CustomerData:
    return _quiet(lambda: CustomerData.from_frames(cdnow_tx, as_of="1997-09-30"))


@pytest.fixture(scope="module")
def cdnow_book(cdnow: CustomerData) -> Playbook:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return Playbook().fit(cdnow)


@pytest.fixture(scope="module")
def crm() -> CustomerData:
    return _quiet(lambda: make_crm(300, seed=5).data)


def _run_silently(data: CustomerData, **params: Any) -> tuple[Playbook, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every warning, not just ConvergenceWarning
        book = Playbook(**params).fit(data)
        return book, book.assess(data)


# -------------------------------------------------------- transactions only


def test_transactions_only_cdnow_runs_without_warning(
    cdnow_book: Playbook, cdnow: CustomerData
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = cdnow_book.assess(cdnow)
    assert len(out) == cdnow.n_customers == 2357
    for col in ("clv", "p_alive", "churn_risk", "loyalty", "budget_share"):
        assert np.isfinite(out[col].to_numpy(dtype=np.float64)).all(), col
    assert set(out["portfolio"].astype(str)) == {"A", "B", "C", "D"}


def test_transactions_only_resolves_the_churn_step_on_the_purchase_model(
    cdnow_book: Playbook,
) -> None:
    assert isinstance(cdnow_book.purchase_model_, ParetoNBD)
    (detector,) = cdnow_book.plugins_["churn"]
    assert isinstance(detector, AliveChurn)
    params = detector.get_params(deep=False)
    assert params["model"].params_ == cdnow_book.purchase_model_.params_
    assert params["horizon"] == cdnow_book.horizon and params["time_unit"] == "W"
    assert params["signals"] == ("falling_purchases", "overdue")
    assert cdnow_book.churn_labels_ == ("alive",)
    assert "ParetoNBD" in cdnow_book.resolved_["purchase_model"]
    assert "falling_purchases, overdue" in cdnow_book.resolved_["churn"]


def test_transactions_only_gets_consumer_care(cdnow_book: Playbook, cdnow: CustomerData) -> None:
    care = cdnow_book.plugins_["care"]
    assert isinstance(care, PortfolioCare)
    assert "consumer tables" in cdnow_book.resolved_["care"]
    out = cdnow_book.assess(cdnow)
    assert not set(out["owner_role"].astype(str)) & B2B_ROLES
    assert "visit" not in set(out["channel"].astype(str))


def test_notes_say_what_was_left_out_and_why(cdnow_book: Playbook, cdnow: CustomerData) -> None:
    notes = " | ".join(cdnow_book.notes_)
    assert "nps_detractor needs last_nps (no feedback records)" in notes
    assert "key_contact_left needs" in notes and "(no contacts records)" in notes
    assert "loyalty: left out breadth (no n_products)" in notes
    out = cdnow_book.assess(cdnow)
    assert out.attrs["playbook"] == {
        "resolved": cdnow_book.resolved_,
        "notes": list(cdnow_book.notes_),
    }


def test_repr_and_html_show_the_resolved_steps(cdnow_book: Playbook) -> None:
    text = repr(cdnow_book)
    assert text.splitlines()[0] == "Playbook()"
    assert "churn: AliveChurn" in text and "note: churn: early-warning signals" in text
    html = cdnow_book._repr_html_()
    assert "auto → AliveChurn" in html and "consumer tables" in html
    assert repr(Playbook()) == "Playbook()"  # unfitted: the parameters only


def test_explicit_signals_use_what_the_records_feed(cdnow: CustomerData) -> None:
    book, out = _run_silently(cdnow, churn="signals")
    (detector,) = book.plugins_["churn"]
    assert isinstance(detector, SignalRules)
    assert detector.signals == ("falling_purchases", "overdue")
    assert book.churn_labels_ == ("signals",)
    assert out["churn_risk"].between(0, 1).all()


def test_fit_does_not_depend_on_row_order(cdnow_tx: pd.DataFrame, cdnow_book: Playbook) -> None:
    shuffled = cdnow_tx.sample(frac=1.0, random_state=3)
    data = _quiet(lambda: CustomerData.from_frames(shuffled, as_of="1997-09-30"))
    book = Playbook().fit(data)
    assert book.resolved_ == cdnow_book.resolved_ and book.notes_ == cdnow_book.notes_
    assert book.purchase_model_.params_ == cdnow_book.purchase_model_.params_


def test_saved_default_playbook_loads_and_assesses_alike(
    cdnow_book: Playbook, cdnow: CustomerData, tmp_path: Path
) -> None:
    path = tmp_path / "pb.json"
    cdnow_book.save(path)
    again = load(path)
    assert again.resolved_ == cdnow_book.resolved_ and again.notes_ == cdnow_book.notes_
    ids = summarize(cdnow).index[:40]
    sub = CustomerData.from_frames(
        cdnow.transactions.loc[cdnow.transactions["customer_id"].isin(ids).to_numpy()],
        as_of=cdnow.as_of,
    )
    pd.testing.assert_frame_equal(again.assess(sub), cdnow_book.assess(sub))


# ------------------------------------------------- with a customers table


def test_transactions_and_a_consumer_customer_table(cdnow_tx: pd.DataFrame) -> None:
    ids = pd.unique(cdnow_tx["customer_id"])
    customers = pd.DataFrame(
        {"customer_id": ids, "region": np.where(np.arange(len(ids)) % 2 == 0, "north", "south")}
    )
    data = _quiet(
        lambda: CustomerData.from_frames(cdnow_tx, customers=customers, as_of="1997-09-30")
    )
    book, out = _run_silently(data)
    assert "consumer tables" in book.resolved_["care"]
    assert not set(out["owner_role"].astype(str)) & B2B_ROLES


def test_transactions_and_firmographics_get_business_care(cdnow_tx: pd.DataFrame) -> None:
    ids = pd.unique(cdnow_tx["customer_id"])
    customers = pd.DataFrame(
        {"customer_id": ids, "industry": np.where(np.arange(len(ids)) % 3 == 0, "retail", "it")}
    )
    data = _quiet(
        lambda: CustomerData.from_frames(cdnow_tx, customers=customers, as_of="1997-09-30")
    )
    book, out = _run_silently(data)
    assert "business-to-business" in book.resolved_["care"]
    assert "firmographics (industry)" in book.resolved_["care"]
    assert "key account manager" in set(out["owner_role"].astype(str))


# --------------------------------------------------------------- B2B CRM


def test_full_crm_records_use_every_signal_and_key_account_care(crm: CustomerData) -> None:
    book, out = _run_silently(crm)
    from crmkit.churn import HISTORY_SIGNALS, RULES

    resolved = book.resolved_["churn"]
    seen = [n for n in RULES if n not in HISTORY_SIGNALS]
    assert "with the signals " + ", ".join(seen) + ";" in resolved
    assert all(n in resolved.split(";")[1] for n in HISTORY_SIGNALS)  # named, weighing 0
    assert set(book.plugins_["churn"][0].signals) == set(RULES)  # every signal is fed
    assert not any(n.startswith("churn:") for n in book.notes_)
    assert "business-to-business" in book.resolved_["care"]
    assert "key account manager" in set(out["owner_role"].astype(str))


# ----------------------------------------- zero and negative priced purchases


def _with_bad_spenders(tx: pd.DataFrame) -> tuple[pd.DataFrame, list[Any]]:
    """Give two repeat buyers only free purchases and one a net refund."""
    counts = tx.groupby("customer_id")["date"].nunique()
    repeaters = counts.index[(counts >= 3).to_numpy()][:3].tolist()
    out = tx.copy()
    for k, cid in enumerate(repeaters):
        rows = (out["customer_id"] == cid).to_numpy()
        out.loc[rows, "amount"] = 0.0 if k < 2 else -5.0
    return out, repeaters


def test_zero_and_negative_spend_are_left_out_of_the_default_spend_model(
    cdnow_tx: pd.DataFrame,
) -> None:
    tx, bad = _with_bad_spenders(cdnow_tx)
    data = _quiet(lambda: CustomerData.from_frames(tx, as_of="1997-09-30"))
    book, out = _run_silently(data)  # no warning: the default chose to leave them out
    view = summarize(data)
    repeat = (view["frequency"] > 0).to_numpy()
    n_bad = int((repeat & (view["monetary_value"] <= 0).to_numpy()).sum())
    assert n_bad >= 3 and (view.loc[bad, "monetary_value"] <= 0).all()
    (note,) = [n for n in book.notes_ if n.startswith("spend model:")]
    assert note.startswith(f"spend model: {n_bad} repeat buyers with zero or negative mean spend")
    spenders = int((repeat & (view["monetary_value"] > 0).to_numpy()).sum())
    assert book.resolved_["spend_model"] == (
        f"GammaGamma fitted on {spenders} repeat buyers with positive spend"
    )
    assert np.isfinite(out["clv"].to_numpy()).all() and (out["clv"] >= 0).all()
    # their spend is predicted from 0 (the refund clipped), below the population mean
    clipped = view.loc[bad].assign(monetary_value=0.0)
    spend = book.spend_model_.expected_spend(clipped).to_numpy()
    assert (spend > 0).all() and (spend < book.spend_model_.population_mean_spend()).all()


def test_a_chosen_spend_model_warns_about_buyers_left_out(cdnow_tx: pd.DataFrame) -> None:
    tx, _ = _with_bad_spenders(cdnow_tx)
    data = _quiet(lambda: CustomerData.from_frames(tx, as_of="1997-09-30"))
    with pytest.warns(DataWarning, match="repeat buyers with zero or negative mean spend"):
        book = Playbook(spend_model="gammagamma").fit(data)
    assert any(n.startswith("spend model: ") for n in book.notes_)
    assert "GammaGamma fitted on" in book.resolved_["spend_model"]


def test_too_few_repeat_buyers_leave_the_value_models_out() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 4],
            "date": ["2024-01-01", "2024-02-01", "2024-01-03", "2024-01-09", "2024-02-11"],
            "amount": [5.0, 0.0, 7.0, 9.0, 2.0],
        }
    )
    data = CustomerData.from_frames(tx, as_of="2024-03-01")
    book, out = _run_silently(data)
    assert book.purchase_model_ is None and "clv" not in out.columns
    assert any("1 repeat buyers, fewer than the 10" in n for n in book.notes_)
    assert "segment" in out.columns  # RFM instead of portfolios, without a clv
    assert "LifecycleCare" in book.resolved_["care"]


# ------------------------------------------------------------------ apparel


@pytest.mark.skipif(not APPAREL.exists(), reason="../shared/data/apparel_transactions.csv absent")
def test_apparel_with_zero_priced_purchases_runs_without_warning() -> None:
    raw = pd.read_csv(APPAREL, parse_dates=["Date"])
    tx = raw.rename(columns={"Id": "customer_id", "Date": "date", "Price": "amount"})
    assert (tx["amount"] == 0).any()  # the case this test is about
    for as_of in ("2006-12-31", "2010-12-20"):
        cut = tx.loc[(tx["date"] <= as_of).to_numpy()]
        data = _quiet(lambda cut=cut, as_of=as_of: CustomerData.from_frames(cut, as_of=as_of))
        book, out = _run_silently(data)
        assert len(out) == data.n_customers
        assert np.isfinite(out["clv"].to_numpy()).all() and (out["clv"] >= 0).all()
        assert out["churn_risk"].between(0, 1).all()
        assert "consumer tables" in book.resolved_["care"]


def test_a_spend_model_the_data_cannot_identify_gives_way_to_observed_spend(
    cdnow_tx: pd.DataFrame,
) -> None:
    # every purchase costs exactly 10: there is no spread of spend to learn
    tx = cdnow_tx.assign(amount=10.0)
    data = _quiet(lambda: CustomerData.from_frames(tx, as_of="1997-09-30"))
    book, out = _run_silently(data)
    assert book.spend_model_ is None
    assert book.resolved_["spend_model"] == "observed spend per purchase (ObservedSpend)"
    assert any(n.startswith("spend model: ") for n in book.notes_)
    spend = ObservedSpend().expected_spend(summarize(data))
    ratio = out["clv"] / (out["expected_purchases"] * spend)  # observed spend, discounted
    assert ratio[out["expected_purchases"] > 0.5].between(0.85, 1.0).all()


def test_a_purchase_model_without_visible_dropout_is_kept_with_a_note() -> None:
    # 40 customers who all keep buying to the end: nobody has dropped out yet
    rng = np.random.default_rng(4)
    rows = []
    for cid in range(40):
        days = np.sort(rng.choice(300, size=2 + cid % 4, replace=False))
        days[-1] = 330 + cid % 30
        rows += [
            (cid, pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(d)), 10.0 + cid) for d in days
        ]
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    data = CustomerData.from_frames(tx, as_of="2024-12-31")
    book, out = _run_silently(data)  # any flat-likelihood warning became a note
    assert isinstance(book.purchase_model_, ParetoNBD)
    for note in (n for n in book.notes_ if n.startswith("value: ")):
        assert "ParetoNBD" in note
    assert np.isfinite(out["churn_risk"].to_numpy()).all()
