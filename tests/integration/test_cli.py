"""The command line: demo output and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crmkit.cli import main


def test_demo_prints_an_overview(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--customers", "300", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "customers" in out and "revenue to date" in out and "top 10% of customers" in out
    assert "Five customers" in out


def test_demo_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo", "--customers", "200", "--seed", "5"])
    first = capsys.readouterr().out
    main(["demo", "--customers", "200", "--seed", "5"])
    assert capsys.readouterr().out == first


def test_bad_arguments_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--customers", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("crmkit: error:")


def test_console_script_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "crmkit.cli", "demo", "--customers", "150"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "crmkit demo" in proc.stdout


def test_demo_fits_100_columns_and_writes_the_plan_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.md"
    assert main(["demo", "--customers", "300", "--plan-out", str(plan)]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines() if str(plan) not in line) <= 100
    assert "recency (wk)" in out and "T (wk)" in out
    assert "## Next steps" not in out  # the Markdown goes to the file
    assert plan.read_text(encoding="utf-8").startswith("# Account plan:")
    assert f"the full account plan (Markdown): {plan}" in out
