"""Progress bars on long work: tqdm when installed, silent otherwise, off with progress=False."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from crmkit.compose import Playbook, StepBar, step_bar
from crmkit.datasets import make_crm
from crmkit.exceptions import InvalidParameterError


@pytest.fixture(scope="module")
def crm() -> Any:
    return make_crm(120, seed=2)


def test_progress_true_draws_a_bar_and_changes_nothing(
    crm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    quiet = Playbook().fit(crm.data, progress=False)
    assert capsys.readouterr().err == ""
    shown = Playbook().fit(crm.data, progress=True)
    assert "Playbook.fit" in capsys.readouterr().err
    a = quiet.assess(crm.data, progress=False)
    assert capsys.readouterr().err == ""
    b = shown.assess(crm.data, progress=True)
    assert "Playbook.assess" in capsys.readouterr().err
    assert a.equals(b)
    c = Playbook().fit_assess(crm.data, progress=True)
    assert "Playbook.fit_assess" in capsys.readouterr().err
    assert c.equals(a)


def test_default_is_silent_for_small_data_off_a_terminal(
    crm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Playbook(churn=None, care=None).fit_assess(crm.data)
    assert capsys.readouterr().err == ""


def test_without_tqdm_a_bar_is_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tqdm" else real(name, *a))
    bar = step_bar(True, 10**6, "Playbook.fit")
    bar.step("value")
    assert bar._bar is None and bar.steps == ["value"]


def test_progress_must_be_a_bool_or_none() -> None:
    with pytest.raises(InvalidParameterError, match="progress must be True, False or None"):
        step_bar(1, 10, "x")  # type: ignore[arg-type]
    assert isinstance(step_bar(None, 0, "x"), StepBar)


def test_report_progress_false_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    from crmkit.datasets import load_cdnow
    from crmkit.report import build_report

    tx = load_cdnow().head(300)
    build_report(tx, as_of="1997-09-30", progress=False)
    assert capsys.readouterr().err == ""
    pytest.importorskip("tqdm")
    build_report(tx, as_of="1997-09-30", progress=True)
    assert "crmkit report" in capsys.readouterr().err
