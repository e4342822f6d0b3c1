"""Records that do not join, time zones of as_of, far-future dates (issue #20)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.data import CustomerData, UnmatchedRows
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError


def _tx(ids: list[object]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({"customer_id": ids, "amount": np.arange(1.0, n + 1),
                         "date": pd.date_range("2024-01-01", periods=n, freq="D")})


def _issue_records() -> dict[str, pd.DataFrame]:
    """The issue's setting: 200 customers keyed by text, feedback and contacts by integers."""
    ids = [str(i) for i in range(200)]
    return {
        "transactions": _tx(ids),
        "customers": pd.DataFrame({"customer_id": ids}),
        "feedback": pd.DataFrame({"customer_id": range(200), "date": pd.Timestamp("2024-02-01"),
                                  "kind": "nps", "score": 9}),
        "contacts": pd.DataFrame({"customer_id": range(200), "contact_id": range(200)}),
    }


def _caught(**kw: object) -> tuple[CustomerData, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = CustomerData.from_frames(**kw)
    return data, [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


def test_the_issues_text_vs_integer_ids_are_a_schema_error_naming_both_kinds() -> None:
    with pytest.raises(SchemaError) as err:
        CustomerData.from_frames(**_issue_records())
    failures = {f.frame: f for f in err.value.failures}
    assert set(failures) == {"feedback", "contacts"}
    text = str(err.value)
    assert "feedback['customer_id']: ids are numbers but the customer ids of transactions and " \
           "customers are text (e.g. feedback [0, 1, 2] vs transactions and customers " \
           "['0', '1', '2'])" in text
    assert failures["contacts"].n_failing == 200 and failures["contacts"].rows == (0, 1, 2, 3, 4)


def test_mapped_id_column_is_named_as_the_user_wrote_it() -> None:
    fb = pd.DataFrame({"cid": [1], "date": ["2024-01-02"], "kind": ["nps"], "score": [3]})
    with pytest.raises(SchemaError, match=r"feedback\['cid'\]: ids are numbers"):
        CustomerData.from_frames(_tx(["a", "b"]), feedback=fb,
                                 columns={"feedback.customer_id": "cid"})


@pytest.mark.parametrize(("tx_ids", "other"), [(["007", "8"], ["7"]), (["A1", "b2"], [" a1"]),
                                                (["7", "8"], ["007"])])
def test_ids_written_differently_are_a_schema_error(tx_ids: list[str], other: list[str]) -> None:
    events = pd.DataFrame({"customer_id": other, "date": "2024-01-01", "kind": "moved"})
    with pytest.raises(SchemaError) as err:
        CustomerData.from_frames(_tx(tx_ids), events=events)
    (failure,) = err.value.failures
    assert failure.frame == "events" and failure.values == tuple(other)
    assert "written differently" in failure.check and f"events {other[0]!r} vs" in failure.check


def test_unknown_ids_are_counted_per_kind_in_one_warning_and_kept() -> None:
    ids = [f"c{i}" for i in range(5)]
    fb = pd.DataFrame({"customer_id": ["c1"] + ["ghost"] * 30, "date": "2024-01-02",
                       "kind": "nps", "score": 8})
    visits = pd.DataFrame({"customer_id": ["c2", "nobody"], "date": "2024-01-03"})
    prospects = pd.DataFrame({"prospect_id": [1, 2, 3],
                              "converted_customer_id": ["c0", None, "zz"]})
    data, said = _caught(transactions=_tx(ids), feedback=fb, interactions=visits,
                         prospects=prospects)
    assert data.report.unmatched == (
        UnmatchedRows("interactions", "customer_id", "customer", 1, (1,), ("nobody",)),
        UnmatchedRows("feedback", "customer_id", "customer", 30, (1, 2, 3, 4, 5), ("ghost",)),
        UnmatchedRows("prospects", "converted_customer_id", "customer", 1, (2,), ("zz",)),
    )
    assert data.report.n_unmatched == 32
    joins = [m for m in said if "do not join" in m]
    assert len(joins) == 1 and joins[0].startswith("crmkit: 32 rows do not join")
    assert "30 feedback rows name no known customer (customer_id e.g. 'ghost'" in str(data.report)
    assert len(data.get("feedback")) == 31  # kept: the report says what they are
    view = crmkit.summarize(data)
    assert view["n_feedback"].tolist() == [0, 1, 0, 0, 0]  # the 30 ghost rows count for nobody
    assert "ghost" not in view.index


def test_customers_without_transactions_are_part_of_the_universe() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b", "new"]})
    fb = pd.DataFrame({"customer_id": ["new"], "date": "2024-01-02", "kind": "nps", "score": 8})
    data, said = _caught(transactions=_tx(["a", "b"]), customers=customers, feedback=fb)
    assert data.report.unmatched == () and not said


def test_touches_are_checked_against_the_campaigns() -> None:
    campaigns = pd.DataFrame({"campaign_id": ["spring"]})
    touches = pd.DataFrame({"campaign_id": ["spring", "autumn"], "customer_id": [1, 2],
                            "date": "2024-01-02"})
    data, said = _caught(transactions=_tx([1, 2]), campaigns=campaigns, touches=touches)
    assert [(u.kind, u.column, u.target, u.ids) for u in data.report.unmatched] == [
        ("touches", "campaign_id", "campaign", ("autumn",))]
    assert "campaigns those of the campaigns records" in said[0]


def test_touched_customers_who_never_bought_are_not_unmatched() -> None:
    touches = pd.DataFrame({"campaign_id": ["spring"] * 3, "customer_id": [1, 2, 3],
                            "date": "2024-01-02"})
    data, said = _caught(transactions=_tx([1, 2]), touches=touches)
    assert data.report.unmatched == () and not said  # customer 3 simply did not buy
    with pytest.raises(SchemaError, match="touches"):  # a type mismatch is still an error
        CustomerData.from_frames(transactions=_tx([1, 2]), touches=touches.astype({
            "customer_id": str}))


def test_float_ids_join_integer_ids() -> None:
    fb = pd.DataFrame({"customer_id": [1.0, 2.0], "date": "2024-01-02", "kind": "nps",
                       "score": 8})
    data, said = _caught(transactions=_tx([1, 2]), feedback=fb)
    assert data.report.unmatched == () and not said


def test_bundled_data_joins_without_a_warning() -> None:
    for seed in (0, 1):
        crm = crmkit.datasets.make_crm(300, seed=seed)
        data, said = _caught(**crm.frames, as_of=crm.as_of)
        assert data.report.unmatched == ()
        assert not [m for m in said if "do not join" in m]


# ---------------------------------------------------------------- time zones
JUNE = _tx(["a", "a", "b"]).assign(date=pd.to_datetime(["2024-05-31", "2024-06-01",
                                                         "2024-06-02"]))


@pytest.mark.parametrize("as_of", ["2024-06-01T00:00+05:00", "2024-06-01T23:30-05:00",
                                   pd.Timestamp("2024-06-01 23:59", tz="Pacific/Kiritimati"),
                                   pd.Timestamp("2024-06-01 00:01", tz="Etc/GMT+12")])
def test_an_aware_as_of_keeps_the_day_as_written(as_of: object) -> None:
    data, said = _caught(transactions=JUNE, as_of=as_of)
    assert data.as_of == pd.Timestamp("2024-06-01")
    assert data.transactions["date"].max() == pd.Timestamp("2024-06-01")  # the June-1 sale kept
    assert said == ["crmkit dropped 1 transaction row dated after as_of=2024-06-01 "
                    "(first rows [2])"]


@pytest.mark.parametrize("as_of", ["2300-01-01", "9999-12-31", "1600-01-01", "2262-04-11"])
def test_as_of_out_of_range_is_a_crmkit_error(as_of: str) -> None:
    with pytest.raises(InvalidParameterError, match=r"outside the dates crmkit can compute "
                       r"with \(1677-09-22 \.\. 2262-04-10\)"):
        crmkit.summarize(JUNE, as_of=as_of)


def test_the_last_supported_day_works() -> None:
    view = crmkit.summarize(JUNE, as_of="2262-04-10")
    assert np.isfinite(view["T"]).all()
