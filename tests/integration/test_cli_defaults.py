"""``crmkit demo``, ``report`` and ``assess`` with their defaults print no warning (issue #17).

Each command runs in a fresh subprocess with every Python warning turned
into an error, on the bundled CDNOW sample (``demo`` on its own synthetic
base): crmkit's defaults on its own data must run quietly, saying what they
left out as notes instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crmkit.datasets import load_cdnow

pytest.importorskip("matplotlib", reason="the report needs matplotlib")


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    load_cdnow().to_csv(path, index=False)
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "crmkit.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


def _quiet(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr.lower(), proc.stderr
    assert "warning:" not in proc.stdout.lower(), proc.stdout  # ("early-warning" is a name)


def test_demo_is_quiet() -> None:
    proc = _run("demo", "--customers", "300")
    _quiet(proc)
    assert "Top 8 churn risks and why" in proc.stdout


def test_assess_cdnow_is_quiet_and_notes_what_it_left_out(cdnow_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    proc = _run("assess", str(cdnow_csv), "--as-of", "1997-09-30", "--out", str(out))
    _quiet(proc)
    assert "note: 1,959 transactions after the analysis date left out" in proc.stdout
    assert "note: 9 transaction rows repeat another row's customer" in proc.stdout
    assert "note: churn: early-warning signals left out" in proc.stdout
    result = pd.read_csv(out)
    assert len(result) == 2357 and result["churn_risk"].between(0, 1).all()
    assert not set(result["owner_role"]) & {"key account manager", "account manager"}


def test_report_cdnow_with_holdout_is_quiet(cdnow_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    proc = _run(
        "report",
        str(cdnow_csv),
        "--as-of",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--out",
        str(out),
    )
    _quiet(proc)
    html = out.read_text(encoding="utf-8")
    assert "Each score against a simple baseline" in html
