"""The data subcommands of ``crmkit`` on make_crm CSVs and on CDNOW, and their errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmkit import load
from crmkit._cli import Progress, parse_playbook_spec
from crmkit._cli._io import InputError
from crmkit.cli import main
from crmkit.data import CustomerData, summarize
from crmkit.datasets import load_cdnow, make_crm
from crmkit.exceptions import ConvergenceWarning


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """CSV/Parquet files of a small synthetic CRM (renamed columns) and of CDNOW."""
    root = tmp_path_factory.mktemp("cli")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crm = make_crm(80, seed=6)
    tx = crm.frames["transactions"].rename(
        columns={"customer_id": "cust", "date": "day", "amount": "value"}
    )
    out = {
        "crm": root / "crm.csv",
        "crm_parquet": root / "crm.parquet",
        "feedback": root / "feedback.csv",
        "cdnow": root / "cdnow.csv",
        "root": root,
    }
    tx.to_csv(out["crm"], index=False)
    tx.to_parquet(out["crm_parquet"])
    crm.frames["feedback"].rename(columns={"customer_id": "cust"}).to_csv(
        out["feedback"], index=False
    )
    load_cdnow().to_csv(out["cdnow"], index=False)
    (root / "map.toml").write_text(
        'as_of = "2025-06-30"\n[columns]\ncustomer_id = "cust"\n'
        '"transactions.date" = "day"\namount = "value"\n'
    )
    (root / "map.json").write_text(
        json.dumps(
            {"customer_id": "cust", "transactions.date": "day", "amount": "value", "time_unit": "D"}
        )
    )
    return out


CRM_COLS = ["--customer-id", "cust", "--date", "day", "--amount", "value"]
CDNOW = ["--as-of", "1997-09-30"]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ------------------------------------------------------------------ summarize
def test_summarize_crm_writes_the_view(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "view.csv"
    code, text, err = _run(
        [
            "summarize",
            str(files["crm"]),
            "--columns",
            str(files["root"] / "map.toml"),
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, err
    tx = pd.read_csv(files["crm"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = summarize(tx, customer_id="cust", date="day", amount="value", as_of="2025-06-30")
    written = pd.read_csv(out, index_col="customer_id")
    written.index = written.index.astype(str)  # ids are read as text
    expected = expected.set_axis(expected.index.astype(str)).reindex(written.index)
    assert len(written) == len(expected) == 80 and expected["revenue"].notna().all()
    np.testing.assert_allclose(written["frequency"], expected["frequency"])
    np.testing.assert_allclose(written["revenue"], expected["revenue"])
    assert f"{len(expected):,}" in text and "later transactions" in text
    # the later rows are said in the text (not a warning); no spinner off a terminal
    assert "crmkit: warning" not in err and "\r" not in err


def test_summarize_cdnow_keeps_ids_and_writes_parquet(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "view.parquet"
    code, text, _ = _run(["summarize", str(files["cdnow"]), *CDNOW, "--out", str(out)], capsys)
    assert code == 0
    view = pd.read_parquet(out).set_index("customer_id")
    assert len(view) == 2357 and view.index[0] == "00004"
    assert int(view["frequency"].sum()) == 2457  # repeat purchase days, Fader-Hardie-Lee
    assert "2,357" in text and "repeat buyers" in text


# ------------------------------------------------------------------------ fit
def test_fit_cdnow_reproduces_the_published_bgnbd(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model.json"
    code, text, _ = _run(["fit", str(files["cdnow"]), *CDNOW, "--out", str(out)], capsys)
    assert code == 0
    model = load(out)
    assert type(model).__name__ == "BetaGeo"
    p = model.params_
    assert (p.r, p.alpha, p.a, p.b) == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=2e-3)
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    assert "alpha" in text and "converged" in text and str(out) in text


def test_fit_gamma_gamma_from_parquet(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "gg.json"
    # in days, this synthetic base's Gamma-Gamma likelihood rises monotonically
    # (by 1.0 from p = 1) toward p -> infinity, gamma -> 0 (no spend spread
    # within customers): a flat fit, which must warn (docs: warning policy)
    with pytest.warns(ConvergenceWarning, match="GammaGamma: the likelihood is flat"):
        args = ["fit", str(files["crm_parquet"]), *CRM_COLS, "--model", "gammagamma"]
        code, text, err = _run([*args, "--out", str(out)], capsys)
    assert code == 0, err
    assert type(load(out)).__name__ == "GammaGamma" and "gamma" in text


# --------------------------------------------------------------------- assess
def test_assess_crm_with_a_spec_and_a_saved_playbook(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, book = tmp_path / "a.csv", tmp_path / "book.json"
    spec = "segmenter=portfolio,churn=signals,care=lifecycle"
    code, text, err = _run(
        [
            "assess",
            str(files["crm"]),
            "--columns",
            str(files["root"] / "map.toml"),
            "--records",
            f"feedback={files['feedback']}",
            "--playbook",
            spec,
            "--out",
            str(first),
            "--save-playbook",
            str(book),
        ],
        capsys,
    )
    assert code == 0, err
    result = pd.read_csv(first, index_col="customer_id", dtype={"customer_id": str})
    assert {"stage", "clv", "p_alive", "portfolio", "churn_risk", "care_model"} <= set(
        result.columns
    )
    assert result["churn_risk"].between(0, 1).all()
    assert "Highest churn risks" in text
    again = tmp_path / "b.csv"
    code, _, err = _run(
        [
            "assess",
            str(files["crm"]),
            "--columns",
            str(files["root"] / "map.toml"),
            "--records",
            f"feedback={files['feedback']}",
            "--playbook",
            str(book),
            "--out",
            str(again),
        ],
        capsys,
    )
    assert code == 0, err
    assert again.read_text() == first.read_text()  # the saved playbook assesses alike


def test_assess_cdnow_with_the_default_playbook(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a.parquet"
    code, text, err = _run(["assess", str(files["cdnow"]), *CDNOW, "--out", str(out)], capsys)
    assert code == 0, err
    result = pd.read_parquet(out)
    assert "2,357 customers" in text and "Portfolios" in text
    assert len(result) == 2357 and result["clv"].notna().all()
    assert set(result["portfolio"]) == {"A", "B", "C", "D"}
    # the default churn risk: P(no purchase within the horizon) of the purchase model
    assert "P(no purchase in 52 weeks)" in " ".join(result["churn_reasons"].astype(str))


def test_playbook_spec_parsing() -> None:
    assert parse_playbook_spec("segmenter=portfolio+rfm,loyalty=false,discount_rate=0.05") == {
        "segmenter": ["portfolio", "rfm"],
        "loyalty": False,
        "discount_rate": 0.05,
    }
    with pytest.raises(InputError, match="unknown setting 'colour'"):
        parse_playbook_spec("colour=red")
    with pytest.raises(InputError, match="key=value"):
        parse_playbook_spec("rfm")
    with pytest.raises(InputError, match="number"):
        parse_playbook_spec("horizon=long")


# --------------------------------------------------------------------- report
def test_report_cdnow_tracks_the_holdout(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cdnow.html"
    code, text, err = _run(["report", str(files["cdnow"]), *CDNOW, "--out", str(out)], capsys)
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    assert "holdout: the 1,959 transactions" in text
    holdout = html[html.index('<section id="holdout">') :]
    assert "1997-09-30 – 1998-06-30" in holdout and "<svg" in holdout
    assert "no feedback records" in html  # CDNOW has no NPS: the pulse is left out
    assert "ParetoNBD: log-likelihood -9," in html  # the default purchase model


def test_report_crm_with_feedback_records(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "crm.html"
    code, text, err = _run(
        [
            "report",
            str(files["crm"]),
            "--columns",
            str(files["root"] / "map.json"),
            "--as-of",
            "2025-06-30",
            "--records",
            f"feedback={files['feedback']}",
            "--out",
            str(out),
            "--top",
            "4",
            "--title",
            "ACME",
        ],
        capsys,
    )
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    assert "holdout: the" in text and "transactions after the analysis date" in text
    pulse = html[html.index('<section id="pulse">') :]
    assert "NPS, all answers" in pulse and "<svg" in pulse
    assert "<title>ACME</title>" in html and "times in days" in html


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summarize", "{root}/nope.csv"], "no such file"),
        (["summarize", "{root}/map.toml"], "unsupported input file type"),
        (["summarize", "{root}/empty.csv"], "the file is empty"),
        (["summarize", "{root}/bad.parquet"], "cannot be read as PARQUET"),
        (
            ["summarize", "{crm}", "--amount", "value", "--date", "day"],
            "column 'customer_id': is missing; columns present: ",
        ),
        (
            ["summarize", "{crm}", *CRM_COLS[:4], "--amount", "price"],
            "column 'price': is missing (mapped from role 'amount'); columns present:",
        ),
        (["fit", "{baddate}"], "baddate.csv, column 'date': has values that are not dates "
                               "(1 row: line 9; values ['yesterday'])"),
        (["fit", "{header}"], "header.csv: no rows (only a header line"),
        (["fit", "{cdnow}", "--as-of", "1997-13-45"], "--as-of must be a date"),
        (["fit", "{cdnow}", "--time-unit", "Y"], "argument --time-unit: invalid choice"),
        (["report", "{cdnow}"], "the following arguments are required: --out"),
        (["report", "{cdnow}", "--out", "{root}/no/dir/r.html"], "does not exist"),
        (["assess", "{cdnow}", "--playbook", "colour=red"], "unknown setting 'colour'"),
        (["assess", "{cdnow}", "--playbook", "{root}/map.json"], "not a crmkit model file"),
        (["summarize", "{cdnow}", "--columns", "{root}/nope.toml"], "no such mapping file"),
        (["summarize", "{cdnow}", "--records", "orders={cdnow}"], "unknown record kind"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    files: dict[str, Path], args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = files["root"]
    (root / "empty.csv").write_text("")
    (root / "header.csv").write_text("customer_id,date,amount\n")
    (root / "bad.parquet").write_text("this is not parquet")
    bad = pd.read_csv(files["cdnow"]).head(50)
    bad.loc[7, "date"] = "yesterday"
    bad.to_csv(root / "baddate.csv", index=False)
    names = {
        "root": root,
        "crm": files["crm"],
        "cdnow": files["cdnow"],
        "baddate": root / "baddate.csv",
        "header": root / "header.csv",
    }
    code, out, err = _run([a.format(**names) for a in args], capsys)
    lines = err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("crmkit: error: "), err
    assert message in lines[0]
    assert out == ""


def test_verbose_adds_the_details(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["summarize", str(files["crm"]), "--verbose"], capsys)
    assert code == 2
    assert err.startswith("crmkit: error: ") and "Traceback" in err
    assert "3 problems in the input" in err  # the full message lists every missing column


def test_every_problem_is_listed_with_flags_without_a_traceback(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["summarize", str(files["crm"])], capsys)
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0] == "crmkit: error: 3 problems in the input:"
    assert all(line.startswith(f"  - {files['crm']}, column ") for line in lines[1:]), err
    assert "--customer-id COL" in err and "--date COL" in err and "--amount COL" in err
    assert "columns={" not in err


def test_console_script_exit_code(files: dict[str, Path]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crmkit.cli", "summarize", str(files["root"] / "nope.parquet")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"crmkit: error: {files['root'] / 'nope.parquet'}: no such file"
    ]


def test_progress_on_a_terminal_only() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown = Terminal()
    with Progress(shown, interval=0.005) as progress:
        progress.start("reading")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            CustomerData.from_frames(load_cdnow())  # some work while the spinner runs
        progress.start("fitting")
    text = shown.getvalue()
    assert "reading ... done" in text and "fitting ... done" in text and "\r" in text
    quiet = io.StringIO()
    with pytest.raises(RuntimeError), Progress(quiet) as progress:
        progress.start("reading")
        raise RuntimeError("boom")
    assert quiet.getvalue() == ""
