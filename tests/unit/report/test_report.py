"""build_report / write_report: the sections, the figures, escaping and self-containment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit.datasets import SyntheticCRM
from crmkit.exceptions import InvalidParameterError, SchemaError
from crmkit.plotting import plot_lorenz_curve
from crmkit.report import build_report, write_report
from crmkit.report._html import FigureMaker

SECTIONS = (
    "glance",
    "concentration",
    "value",
    "lifecycle",
    "portfolio",
    "churn",
    "holdout",
    "pulse",
    "about",
)


def _section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}">')
    return html[start : html.index("</section>", start)]


def test_every_section_and_figure(full_report: str, steps: list[str]) -> None:
    html = full_report
    assert html.startswith("<!DOCTYPE html>")
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in html and f'href="#{anchor}"' in html
    figures = re.findall(r'<figure id="fig-(\d+)"><svg', html)
    assert [int(f) for f in figures] == list(range(1, len(figures) + 1))
    # pareto + deciles, 3 value, stages + 2 migration, portfolio, lift + roc, 3 holdout, pulse
    assert len(figures) == 15
    assert 'class="note omitted"' not in html  # all inputs present: nothing left out
    assert steps[0] == "validating the records" and "drawing the figures" in steps


def test_self_contained_and_unique_ids(full_report: str) -> None:
    html = full_report
    assert not re.search(r"<(link|img)\b", html)
    assert not re.search(r'\b(src|href)="(?!#|data:image/png;base64,)', html)
    assert "url(http" not in html and "@import" not in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for ref in set(re.findall(r'(?:url\(#|href="#)([^")]+)', html)):
        assert ref in ids, ref


def test_title_is_escaped(full_report: str) -> None:
    assert "<title>Report &lt;of&gt; ACME &amp; Co</title>" in full_report
    assert "<of>" not in full_report


def test_numbers_match_the_playbook(crm: SyntheticCRM, playbook: Any, full_report: str) -> None:
    a = playbook.assess(crm.data, include_view=True)
    glance = _section(full_report, "glance")
    assert f'<div class="value">{len(a):,}</div>' in glance
    assert f'<div class="value">{a["clv"].sum():,.0f}</div>' in glance
    assert f'<div class="value">{a["revenue"].sum():,.0f}</div>' in glance
    churn = _section(full_report, "churn")
    # ties in churn risk are broken by the value at risk (clv x churn_risk)
    ranked = a.assign(at_risk=a["clv"] * a["churn_risk"])
    top = ranked.sort_values(["churn_risk", "at_risk"], ascending=False, kind="stable").head(7)
    first_table = churn[: churn.index("</table>")]
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td>", first_table)
    assert [r[0] for r in rows] == [str(i) for i in top.index]
    shown = [
        1.0 - float(r[1].split("−")[1]) if "−" in r[1] else float(r[1].rstrip("%")) / 100
        for r in rows
    ]
    np.testing.assert_allclose(shown, top["churn_risk"], atol=0.0006)
    pulse = _section(full_report, "pulse")
    assert "<svg" in pulse and "NPS, all answers" in pulse


def test_few_transactions_leave_sections_out_with_notes(
    small_tx: pd.DataFrame, tmp_path: Path
) -> None:
    out = write_report(tmp_path / "r.html", small_tx, as_of="2024-02-01", title="Små kunder")
    html = out.read_text(encoding="utf-8")
    assert out == tmp_path / "r.html" and "<title>Små kunder</title>" in html
    value = _section(html, "value")
    assert "could not be fitted" in value and 'class="note omitted"' in value
    assert "customer pulse is left out: no feedback records" in _section(html, "pulse")
    assert "No holdout given" in _section(html, "holdout")
    assert "Stage migration is left out" in _section(html, "lifecycle")
    # customer ids are escaped wherever they appear
    churn = _section(html, "churn")
    assert "<td>&lt;b&gt;a&lt;/b&gt;</td>" in churn and "<td>b&amp;c</td>" in churn
    assert "<b>a</b>" not in html
    with pytest.raises(OSError):
        write_report(tmp_path / "missing" / "r.html", small_tx)


def test_figures_are_deterministic() -> None:
    def draw() -> str:
        return FigureMaker().draw(lambda ax: plot_lorenz_curve([1.0, 4.0, 9.0], ax=ax), "L")

    first = draw()
    assert first == draw()
    assert 'id="f1-' in first and "<?xml" not in first


def test_bad_arguments(small_tx: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match="top_n"):
        build_report(small_tx, top_n=0)
    with pytest.raises(InvalidParameterError, match="title"):
        build_report(small_tx, title=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="migration_days"):
        build_report(small_tx, migration_days=0)
    with pytest.raises(SchemaError, match="amount"):
        build_report(small_tx.drop(columns="amount"))
