"""The README's quickstart runs as written."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_opens_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert first_block is not None
    lines = [line for line in first_block.group(1).splitlines() if line.strip()]
    assert lines[0].startswith("# run the main job")
    assert lines[1] == 'pip install -e ".[plot]" && crmkit demo'  # the report needs matplotlib
    assert lines[2].startswith("# run the tests")
    assert "pytest" in lines[3]


def test_quickstart_runs(capsys: pytest.CaptureFixture[str]) -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None
    namespace: dict[str, object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(block.group(1), str(README), "exec"), namespace)
    view = namespace["view"]
    assert {"p_alive", "next_year", "clv"} <= set(view.columns)  # type: ignore[attr-defined]
    assert "r" in capsys.readouterr().out
