"""Each bad input gets a clear crmkit error naming the column, the problem and the rows."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.exceptions import CrmkitError, DataWarning, SchemaError


def _tx(**overrides: object) -> pd.DataFrame:
    base = {
        "customer_id": [1, 1, 2, 3],
        "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-10", "2024-03-01"]),
        "amount": [10.0, 20.0, 5.0, 7.5],
    }
    base.update(overrides)  # type: ignore[arg-type]
    return pd.DataFrame(base, index=[10, 11, 12, 13])


def _error(tx: pd.DataFrame, **kw: object) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        crmkit.summarize(tx, **kw)  # type: ignore[arg-type]
    err = info.value
    assert isinstance(err, CrmkitError) and isinstance(err, ValueError)
    return err


def test_nan_and_none_ids() -> None:
    err = _error(_tx(customer_id=[1.0, np.nan, 2.0, 3.0]))
    assert "customer_id" in str(err) and "null ids" in str(err) and "[11]" in str(err)
    err = _error(_tx(customer_id=["a", None, "b", "c"]))
    assert "null ids" in str(err) and "rows [11]" in str(err)


def test_ids_mixing_int_and_str() -> None:
    err = _error(_tx(customer_id=pd.Series([1, "1", 2, 3], dtype=object, index=[10, 11, 12, 13])))
    text = str(err)
    assert "mixes id types" in text and "3 int" in text and "1 str" in text and "[11]" in text


def test_nat_and_unparseable_dates() -> None:
    err = _error(_tx(date=pd.to_datetime(["2024-01-01", None, "2024-01-10", "2024-03-01"])))
    assert "date" in str(err) and "missing dates" in str(err) and "[11]" in str(err)
    err = _error(_tx(date=["2024-01-01", "not a date", "2024-01-10", "2024-03-01"]))
    assert "not dates" in str(err) and "'not a date'" in str(err) and "[11]" in str(err)


def test_mixed_tz_aware_and_naive_dates() -> None:
    dates = pd.Series(
        [dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2024, 2, 1),
         dt.datetime(2024, 1, 10), dt.datetime(2024, 3, 1)], dtype=object, index=[10, 11, 12, 13])
    err = _error(_tx(date=dates))
    assert "timezone-aware and naive" in str(err)


def test_tz_aware_dates_are_converted_to_utc() -> None:
    dates = pd.to_datetime(
        ["2024-01-01 23:30", "2024-02-01 00:00", "2024-01-10 00:00", "2024-03-01 00:00"]
    )
    aware = dates.tz_localize("Europe/Helsinki")
    view = crmkit.summarize(_tx(date=aware), as_of="2024-03-01")
    # 23:30 in Helsinki on Jan 1st is 21:30 UTC the same day
    assert view.loc[1, "first_purchase"] == pd.Timestamp("2024-01-01")


def test_integer_epoch_dates_are_refused() -> None:
    err = _error(_tx(date=[1704067200, 1706745600, 1704844800, 1709251200]))
    assert "not dates" in str(err) and "unit='s'" in str(err)


def test_numeric_strings_as_amounts() -> None:
    err = _error(_tx(amount=["10.0", "20", "5", "7.5"]))
    assert "amount" in str(err) and "pd.to_numeric" in str(err)


def test_nan_and_inf_amounts() -> None:
    err = _error(_tx(amount=[10.0, np.nan, np.inf, 1.0]))
    text = str(err)
    assert "contains NaN" in text and "[11]" in text
    assert "infinite" in text and "[12]" in text
    assert text.startswith("2 problems")


def test_empty_input() -> None:
    err = _error(_tx().iloc[0:0])
    assert "empty" in str(err)


def test_as_of_before_all_data() -> None:
    err = _error(_tx(), as_of="2020-01-01")
    assert "after as_of=2020-01-01" in str(err)


def test_missing_column_names_the_mapping() -> None:
    err = _error(_tx().rename(columns={"amount": "value"}))
    text = str(err)
    assert "'amount'" in text and "is missing" in text and "value" in text
    view = crmkit.summarize(_tx().rename(columns={"amount": "value"}), amount="value")
    assert view["revenue"].sum() == pytest.approx(42.5)


def test_all_problems_are_listed_at_once() -> None:
    tx = _tx(customer_id=[1.0, np.nan, 2.0, 3.0], amount=[np.nan, 1.0, 2.0, 3.0])
    err = _error(tx)
    assert len(err.failures) == 2
    assert {f.column for f in err.failures} == {"customer_id", "amount"}


def test_rows_after_as_of_are_counted_and_warned() -> None:
    with pytest.warns(DataWarning, match="dropped 1 transaction row"):
        view = crmkit.summarize(_tx(), as_of="2024-02-15")
    assert 3 not in view.index


def test_bad_argument_types() -> None:
    with pytest.raises(TypeError, match="time_unit"):
        crmkit.summarize(_tx(), time_unit="Y")
    with pytest.raises(TypeError, match="as_of must be a date"):
        crmkit.summarize(_tx(), as_of=20240101)
    with pytest.raises(TypeError, match="data frame"):
        crmkit.summarize([1, 2, 3])


def test_categorical_ids_with_unused_categories() -> None:
    ids = pd.Categorical(["a", "a", "b", "c"], categories=["a", "b", "c", "zzz"])
    view = crmkit.summarize(_tx(customer_id=ids))
    assert list(view.index) == ["a", "b", "c"]


def test_feedback_scores_out_of_scale() -> None:
    fb = pd.DataFrame({"customer_id": [1, 2], "date": pd.to_datetime(["2024-01-05"] * 2),
                       "kind": ["nps", "csat"], "score": [11.0, 3.0]})
    with pytest.raises(SchemaError, match=r"nps scores must be in 0\.\.10"):
        crmkit.CustomerData.from_frames(transactions=_tx(), feedback=fb)


def test_duplicated_rows_are_counted_in_the_report_without_a_warning() -> None:
    tx = pd.concat([_tx(), _tx().iloc[:1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = crmkit.CustomerData.from_frames(transactions=tx)
    assert any("1 transaction rows repeat another row" in n for n in data.report.notes)
    assert "repeat another row" in str(data.report)


def test_inputs_are_not_mutated_on_error() -> None:
    tx = _tx(amount=[np.nan, 1.0, 2.0, 3.0])
    before = tx.copy(deep=True)
    with pytest.raises(SchemaError):
        crmkit.summarize(tx)
    pd.testing.assert_frame_equal(tx, before)


def test_polars_bad_inputs() -> None:
    pl = pytest.importorskip("polars")
    tx = pl.DataFrame({"customer_id": [1, None], "date": [dt.datetime(2024, 1, 1)] * 2,
                       "amount": [1.0, float("nan")]})
    with pytest.raises(SchemaError) as info:
        crmkit.summarize(tx)
    assert {f.column for f in info.value.failures} == {"customer_id", "amount"}
    tx2 = pl.DataFrame({"customer_id": [1], "date": [20240101], "amount": [1.0]})
    with pytest.raises(SchemaError, match="epoch"):
        crmkit.summarize(tx2)


def test_other_records_give_aggregates() -> None:
    tx = _tx()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = crmkit.CustomerData.from_frames(
            transactions=tx,
            customers=pd.DataFrame({"customer_id": [1, 2, 3], "industry": ["x", "y", "x"],
                                    "customer_since": pd.to_datetime(["2023-01-01", None,
                                                                      None])}),
            feedback=pd.DataFrame({"customer_id": [1, 1, 2],
                                   "date": pd.to_datetime(["2024-01-02", "2024-02-02",
                                                           "2024-01-12"]),
                                   "kind": ["nps", "nps", "complaint"],
                                   "score": [9.0, 3.0, np.nan],
                                   "resolved_date": pd.to_datetime([None, None, None])}),
            contacts=pd.DataFrame({"customer_id": [1, 1, 2], "contact_id": ["p", "q", "r"],
                                   "decision_maker": [True, False, True],
                                   "left_date": pd.to_datetime(["2024-02-20", None, None])}),
            events=pd.DataFrame({"customer_id": [3], "date": pd.to_datetime(["2024-02-01"]),
                                 "kind": ["address_change"]}),
            as_of="2024-03-01",
        )
    view = crmkit.summarize(data)
    assert view.loc[1, "last_nps"] == 3.0
    assert np.isnan(view.loc[3, "last_nps"])
    assert view.loc[2, "n_complaints_open"] == 1
    assert view.loc[1, "n_decision_makers"] == 0 and view.loc[1, "n_decision_makers_left"] == 1
    assert view.loc[3, "days_since_address_change"] == 29
    assert view.loc[1, "industry"] == "x"
    assert view.loc[1, "tenure"] > view.loc[1, "T"]


def test_data_warnings_point_at_the_users_line() -> None:
    import crmkit

    tx = pd.DataFrame({"customer_id": [1, 1], "date": ["2024-01-01", "2024-03-01"],
                       "amount": [1.0, 2.0]})
    with pytest.warns(DataWarning, match="dropped 1 transaction row dated after") as caught:
        crmkit.summarize(tx, as_of="2024-02-01")  # through summarize -> from_frames
    assert caught[0].filename == __file__
    with pytest.warns(DataWarning) as caught:
        crmkit.CustomerData.from_frames(tx, as_of="2024-02-01")
    assert caught[0].filename == __file__


def test_header_only_transactions_say_no_rows_not_types() -> None:
    import crmkit
    from crmkit.exceptions import SchemaError

    empty = pd.DataFrame({"customer_id": pd.Series([], dtype=object),
                          "date": pd.Series([], dtype=object),
                          "amount": pd.Series([], dtype=object)})  # as read from a header-only CSV
    with pytest.raises(SchemaError) as err:
        crmkit.CustomerData.from_frames(empty)
    assert "is empty: no transactions" in str(err.value)
    assert "numeric" not in str(err.value)


def test_a_few_text_amounts_are_shown_with_their_rows() -> None:
    err = _error(_tx(amount=["10.0", "12,50", "5", "EUR 7"]))
    text = str(err)
    assert "2 of 4 values are not numbers" in text and "pd.to_numeric" not in text
    assert "12,50" in text and "EUR 7" in text
