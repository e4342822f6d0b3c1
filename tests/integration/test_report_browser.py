"""The HTML report in a real browser: headless Chromium loads it without errors and draws it.

Needs Debian's ``chromium`` (``apt-get install -y chromium``); skipped, with the
reason, only where no Chromium can run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the report needs matplotlib")

from crmkit.datasets import make_crm
from crmkit.report import write_report

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def _chromium(profile: Path) -> list[str]:
    exe = next((p for p in map(shutil.which, _NAMES) if p), None)
    if exe is None:
        pytest.skip("no Chromium found (apt-get install -y chromium)")
    base = [exe, *_FLAGS, f"--user-data-dir={profile}"]
    try:
        probe = subprocess.run(
            [*base, "--dump-dom", "about:blank"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"Chromium cannot run here: {exc}")
    if probe.returncode != 0 or "<html" not in probe.stdout:
        first = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"Chromium cannot run here (exit {probe.returncode}): {first}")
    return base


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("browser")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crm = make_crm(100, seed=12)
        path = write_report(
            root / "report.html", crm.data, holdout=crm.frames["transactions"], top_n=5
        )
    return path, path.read_text(encoding="utf-8")


def test_page_loads_without_console_errors_and_every_figure_renders(
    report: tuple[Path, str], tmp_path: Path
) -> None:
    path, html = report
    base = _chromium(tmp_path / "profile")
    proc = subprocess.run(
        [
            *base,
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2000",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    problems = [
        line for line in proc.stderr.splitlines() if "Uncaught" in line or ":CONSOLE" in line
    ]
    assert problems == []
    body = re.search(r"<body([^>]*)>", proc.stdout)
    assert body is not None
    n_figures = len(re.findall(r'<figure id="fig-\d+"><svg', html))
    assert n_figures == 15
    # the page's inline script measured every <svg>: all have a non-zero size
    assert f'data-figures="{n_figures}"' in body.group(1)
    assert 'data-render="ok"' in body.group(1), body.group(1)


def test_screenshot(report: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = report
    base = _chromium(tmp_path / "profile")
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [*base, "--window-size=1280,1600", f"--screenshot={shot}", path.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 1600)
    assert len(data) > 50_000  # a drawn page, not a blank one
