"""The documentation's own checks, without running Sphinx.

- every public name (each public module's ``__all__``) is on an API page,
  and the check that says so does notice a missing one;
- the ``>>>`` examples of the user guide, getting-started and theory pages
  run and print what the pages say (the theory pages' examples are the
  published results crmkit reproduces);
- every gallery script in ``examples/`` runs (needs matplotlib).

The full build (``.ci/docs``: ``sphinx-build -W``) executes the gallery
again and fails on any warning.
"""

from __future__ import annotations

import doctest
import importlib.util
import runpy
import shutil
import warnings
from pathlib import Path
from types import ModuleType

import pytest

from crmkit.exceptions import DataWarning

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"

pytestmark = pytest.mark.skipif(not (DOCS / "conf.py").is_file(), reason="no docs/ directory")


def _apicheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "crmkit_apicheck", DOCS / "_ext" / "crmkit_apicheck.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_name_is_in_the_api_reference() -> None:
    problems = _apicheck().missing_public_names(DOCS / "api")
    assert problems == [], "\n".join(problems)


def test_api_check_reports_a_missing_name(tmp_path: Path) -> None:
    api = tmp_path / "api"
    shutil.copytree(DOCS / "api", api)
    page = api / "analysis.rst"
    lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
    assert "   gini\n" in lines
    page.write_text("".join(line for line in lines if line != "   gini\n"), encoding="utf-8")
    (api / "cli.rst").unlink()
    problems = _apicheck().missing_public_names(api)
    assert "public name crmkit.analysis.gini is missing from the API reference" in problems
    assert "module crmkit.cli has no API page" in problems
    assert "public name crmkit.cli.main is missing from the API reference" in problems
    assert len(problems) == 4  # gini, the cli page, main, demo_report


def test_api_check_accepts_documented_aliases(tmp_path: Path) -> None:
    # crmkit.summarize is crmkit.data.summarize: documenting it once is enough,
    # but a constant needs its own entry (equal strings are not the same name)
    check = _apicheck()
    objects, modules = check.documented(DOCS / "api")
    assert "crmkit.data.summarize" in objects
    assert "crmkit.summarize" not in objects
    assert {"crmkit", "crmkit.value", "crmkit.testing.strategies"} <= modules


def _pages_with_examples() -> list[Path]:
    pages = [DOCS / "getting_started.rst"]
    pages += sorted((DOCS / "user_guide").glob("*.rst"))
    pages += sorted((DOCS / "theory").glob("*.rst"))
    return [p for p in pages if p.is_file() and ">>> " in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize(
    "page", _pages_with_examples(), ids=lambda p: p.relative_to(DOCS).as_posix()
)
def test_page_examples(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {"__name__": "__docs__"}, page.name, str(page), 0)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    output: list[str] = []
    runner = doctest.DocTestRunner(optionflags=flags, verbose=False)
    with warnings.catch_warnings():
        # CDNOW (and some synthetic bases) repeat a row: crmkit keeps it and says so
        warnings.simplefilter("ignore", DataWarning)
        runner.run(test, out=output.append)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, "".join(output)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(EXAMPLES.glob("plot_*.py")), ids=lambda p: p.name)
def test_gallery_example_runs(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(EXAMPLES)
    plt.close("all")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            runpy.run_path(str(script), run_name="__main__")
        assert plt.get_fignums(), f"{script.name} drew no figure"
    finally:
        plt.close("all")


def test_gallery_has_the_required_examples() -> None:
    names = {p.stem for p in EXAMPLES.glob("plot_*.py")}
    for topic in (
        "quickstart_cdnow",
        "segmentation",
        "lifecycle",
        "churn",
        "campaign_uplift",
        "pareto",
    ):
        assert any(topic in name for name in names), f"no gallery example about {topic}"
    for script in EXAMPLES.glob("plot_*.py"):
        source = script.read_text(encoding="utf-8")
        assert source.startswith('"""'), f"{script.name} needs a title docstring"
        assert "# %%" in source, f"{script.name} needs # %% cells"
