"""The report tells the truth about its scores: AUC and lift against days since last purchase."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.analysis import roc_auc
from crmkit.compose import distinguishing_digits, top_risks
from crmkit.datasets import load_cdnow
from crmkit.exceptions import DataWarning
from crmkit.report import build_report
from crmkit.report._scores import BASELINE, score_checks, score_verdicts, top_decile_lift


def _section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}"')
    return html[start : html.index("</section>", start)]


def _text(html: str) -> str:
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_top_decile_lift_counts_ties_in_proportion() -> None:
    rng = np.random.default_rng(1)
    scores = np.round(rng.uniform(size=200), 1)  # many ties at the cut
    churned = rng.uniform(size=200) < scores
    lift = top_decile_lift(scores, churned)
    order = rng.permutation(200)
    assert top_decile_lift(scores[order], churned[order]) == pytest.approx(lift, abs=1e-12)
    top = scores >= np.sort(scores)[::-1][19]
    # between the rate of the strictly-above group and that of the whole tied-in group
    assert lift <= churned[scores > np.sort(scores)[::-1][19]].mean() / churned.mean() + 1e-12
    assert lift >= churned[top].mean() / churned.mean() - 1e-12


def test_score_checks_name_each_verdict() -> None:
    idx = pd.RangeIndex(100)
    days = pd.Series(np.arange(100.0), index=idx)
    lost = pd.Series(np.arange(100) % 3 != 0, index=idx) & (days > 30)
    sharper = days + 200.0 * lost  # knows the outcome: better than the baseline
    backwards = -days
    table = score_checks(
        {"sharp": sharper, "backwards": backwards, "same": days * 2.0, BASELINE: days}, lost
    )
    assert table.loc[BASELINE, "AUC"] == pytest.approx(roc_auc(days, lost))
    assert table["verdict"].to_dict() == {
        "sharp": "better than the baseline",
        "backwards": "worse than chance",
        "same": "no better than the baseline",
        BASELINE: "baseline",
    }
    sentences = score_verdicts(table)
    assert len(sentences) == 2 and sentences[0].startswith("backwards ranks the holdout")
    assert "no better than the baseline (AUC" in sentences[1]


def test_top_risks_break_ties_by_value_at_risk_and_never_by_row_order() -> None:
    result = pd.DataFrame(
        {"churn_risk": [0.5, 0.9, 0.9, 0.9, 0.2], "clv": [100.0, 10.0, 30.0, 30.0, 500.0]},
        index=pd.Index(["v", "w", "x", "y", "z"], name="customer_id"),
    )
    top = top_risks(result, 4)
    assert top.index.tolist() == ["x", "y", "w", "v"]
    assert top["value_at_risk"].tolist() == pytest.approx([27.0, 27.0, 9.0, 50.0])
    shuffled = result.iloc[[4, 3, 1, 0, 2]]
    assert top_risks(shuffled, 4).index.tolist() == top.index.tolist()
    assert distinguishing_digits(np.array([0.33412, 0.33414])) == 5


@pytest.fixture(scope="module")
def cdnow_report() -> str:
    tx = load_cdnow()
    cal = tx.loc[(tx["date"] <= "1997-09-30").to_numpy()]
    later = tx.loc[(tx["date"] > "1997-09-30").to_numpy()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # CDNOW's 9 duplicate rows
        from crmkit import CustomerData

        data = CustomerData.from_frames(cal, as_of="1997-09-30")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return build_report(data, holdout=later, holdout_end="1998-06-30", top_n=30)


def test_cdnow_report_compares_every_score_with_the_baseline(cdnow_report: str) -> None:
    churn = _text(_section(cdnow_report, "churn"))
    assert "Each score against a simple baseline: the days since the last purchase" in churn
    rows = dict(
        re.findall(r"(churn risk|1 − P\(alive\)|days since last purchase) (0\.\d{3})", churn)
    )
    assert set(rows) == {"churn risk", "1 − P(alive)", BASELINE}
    assert float(rows[BASELINE]) == pytest.approx(0.771, abs=0.001)  # the reference
    for name, auc in rows.items():
        if name != BASELINE and float(auc) <= float(rows[BASELINE]) + 0.01:
            assert f"{name} ranks the holdout churners no better than the baseline" in churn


def test_cdnow_top_risk_table_shows_distinguishing_figures(cdnow_report: str) -> None:
    churn = _section(cdnow_report, "churn")
    table = churn[: churn.index("</table>")]
    risks = re.findall(r'<tr><td>[^<]+</td><td class="num">([^<]+)</td>', table)
    assert len(risks) == 30
    reasons = re.findall(
        r'<tr><td>[^<]+</td><td class="num">[^<]+</td><td class="num">[^<]*</td><td>([^<]*)</td>',
        table,
    )
    shown = pd.Series(risks)
    for figure, group in pd.Series(reasons).groupby(shown.to_numpy()):
        # equal figures only for equal histories: the reasons quote each history's numbers
        assert group.nunique() == 1 or len(group) <= 3, figure
