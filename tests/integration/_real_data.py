"""Real-data evaluation of the default Playbook against simple baselines (issue #17).

Shared by ``tests/integration/test_real_data.py`` and
``benchmarks/bench_real_data.py``. Data sets: the CDNOW sample bundled with
crmkit, and the apparel retailer transactions in ``../shared/data/``
(relative to the project root; never copied into the project, see that
folder's README). Each is split into a calibration and a holdout period;
a customer *churned* when it made no purchase in the holdout.

Sign conventions: every score is oriented so that HIGHER means MORE LIKELY
TO CHURN (expected purchases are negated). Decile 1 holds the 10 % highest
scores, decile 10 the lowest (a group of tied scores is spread evenly over
the positions it occupies, so each decile holds a tenth of the customers and
nothing depends on row order); ``spearman`` is
the rank correlation of the decile number (1..10) with the observed churn
rate of the decile, so a score that ranks right has a Spearman near -1 (the
churn rate falls from decile 1 to decile 10). ``lift`` is the churn rate of
decile 1 over the overall churn rate.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmkit import CustomerData
from crmkit.compose import Playbook
from crmkit.data import calibration_holdout
from crmkit.datasets import load_cdnow
from crmkit.exceptions import DataWarning
from crmkit.value import BetaGeo, ParetoNBD, evaluate_holdout

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
APPAREL = SHARED_DATA / "apparel_transactions.csv"


def _cdnow() -> pd.DataFrame:
    return load_cdnow()


def _apparel() -> pd.DataFrame | None:
    if not APPAREL.exists():
        return None
    raw = pd.read_csv(APPAREL, parse_dates=["Date"])
    return raw.rename(columns={"Id": "customer_id", "Date": "date", "Price": "amount"})


@dataclass(frozen=True)
class RealDataSet:
    """A data set and its calibration/holdout split."""

    name: str
    load: Callable[[], pd.DataFrame | None]
    calibration_end: str
    holdout_end: str
    note: str = ""


DATASETS: Mapping[str, RealDataSet] = {
    "cdnow": RealDataSet("cdnow", _cdnow, "1997-09-30", "1998-06-30",
                         "bundled CDNOW sample, 2,357 customers"),
    "apparel": RealDataSet("apparel", _apparel, "2006-12-31", "2010-12-20",
                           f"apparel retailer, 600 customers ({APPAREL})"),
}  # fmt: skip


def decile_rates(score: np.ndarray, churned: np.ndarray) -> list[float]:
    """Observed churn rate of each risk decile, decile 1 = the 10 % highest scores.

    Customers are ordered by score, highest first; a group of tied scores is
    spread evenly over the positions it occupies (its expected share of each
    decile under a random order of the ties), so every decile holds exactly a
    tenth of the customers and the result does not depend on row order.
    """
    s = np.asarray(score, dtype=float)
    y = np.asarray(churned, dtype=float)
    values, inverse = np.unique(-s, return_inverse=True)  # highest score first
    size = np.bincount(inverse, minlength=len(values)).astype(float)
    churners = np.bincount(inverse, weights=y, minlength=len(values))
    start = np.concatenate([[0.0], np.cumsum(size)[:-1]])
    end = start + size
    n = float(len(s))
    rates = []
    for k in range(10):
        lo, hi = k * n / 10, (k + 1) * n / 10
        overlap = np.clip(np.minimum(end, hi) - np.maximum(start, lo), 0.0, None)
        rates.append(float(np.sum(overlap / size * churners) / (hi - lo)))
    return rates


def auc(score: np.ndarray, churned: np.ndarray) -> float:
    """ROC AUC by the Mann-Whitney statistic with mid-ranks (ties count half)."""
    y = np.asarray(churned, dtype=bool)
    ranks = stats.rankdata(np.asarray(score, dtype=float))
    n1, n0 = int(y.sum()), int((~y).sum())
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


@dataclass
class ScoreResult:
    """How one churn score ranks the holdout churners."""

    auc: float
    lift: float
    spearman: float
    decile_rates: list[float]


def rank_quality(score: np.ndarray, churned: np.ndarray) -> ScoreResult:
    """AUC, top-decile lift and decile monotonicity of a churn score (higher = riskier)."""
    y = np.asarray(churned, dtype=bool)
    rates = decile_rates(score, y)
    rho = float(stats.spearmanr(np.arange(1, 11), rates)[0])
    return ScoreResult(auc(score, y), rates[0] / float(y.mean()), rho, rates)


@dataclass
class Evaluation:
    """The default Playbook and the baselines on one data set."""

    name: str
    n_customers: int
    churn_rate: float
    holdout_weeks: float
    scores: dict[str, ScoreResult]
    purchases: dict[str, tuple[float, float]]  # name -> (MAE, aggregate error %)
    calibration: dict[str, float]  # name -> mean P(no purchase over the holdout)
    assessment: pd.DataFrame
    view: pd.DataFrame
    playbook: Any
    playbook_warnings: list[str] = field(default_factory=list)

    def worst_top_tie(self, top: int = 100) -> tuple[int, int]:
        """Largest group of equal churn risks among the ``top`` riskiest, and its histories.

        Returns ``(size, distinct histories)`` of the largest group of equal
        ``churn_risk`` values among the ``top`` highest, where a history is
        ``(frequency, recency, T)``.
        """
        risk = self.assessment["churn_risk"]
        order = np.argsort(-risk.to_numpy(), kind="stable")[:top]
        head = self.view.iloc[order][["frequency", "recency", "T"]].assign(
            risk=risk.to_numpy()[order]
        )
        worst = (0, 0)
        for _, group in head.groupby("risk"):
            histories = len(group.drop_duplicates(["frequency", "recency", "T"]))
            if histories > 1 and len(group) > worst[0]:
                worst = (len(group), histories)
        return worst


def _calibration_data(tx: pd.DataFrame, end: str) -> CustomerData:
    cal = tx.loc[tx["date"] <= pd.Timestamp(end)]
    return CustomerData.from_frames(transactions=cal, as_of=end, time_unit="W")


def evaluate(spec: RealDataSet, playbook: Any = None) -> Evaluation | None:
    """Fit ``playbook`` (default: ``Playbook()``) on the calibration period and evaluate it.

    Returns None when the data set is not available.
    """
    tx = spec.load()
    if tx is None:
        return None
    with warnings.catch_warnings():  # record checks of the raw data (e.g. repeated rows)
        warnings.simplefilter("ignore", DataWarning)
        ch = calibration_holdout(
            tx, calibration_end=spec.calibration_end, holdout_end=spec.holdout_end
        )
        data = _calibration_data(tx, spec.calibration_end)
    churned = (ch["frequency_holdout"] == 0).to_numpy()
    duration = float(ch["duration_holdout"].iloc[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pb = (Playbook() if playbook is None else playbook).fit(data)
        out = pb.assess(data)
    out = out.loc[ch.index]
    view = ch

    days_since = (ch["T"] - ch["recency"]).to_numpy()
    pnbd = ParetoNBD().fit(ch)
    bg = BetaGeo().fit(ch)
    pnbd_expected = pnbd.conditional_expected_purchases(ch, duration).to_numpy()
    scores = {
        "playbook churn_risk": rank_quality(out["churn_risk"].to_numpy(float), churned),
        "baseline: days since last purchase": rank_quality(days_since, churned),
        "baseline: Pareto/NBD expected holdout purchases": rank_quality(-pnbd_expected, churned),
        "reference: BG/NBD 1 - P(alive)": rank_quality(1.0 - bg.p_alive(ch).to_numpy(), churned),
    }
    purchases: dict[str, tuple[float, float]] = {}
    calibration: dict[str, float] = {}
    model = getattr(pb, "purchase_model_", None)
    if model is not None:
        calibration["playbook purchase model"] = float(model.p_no_purchase(ch, duration).mean())
        ev = evaluate_holdout(model, ch)
        purchases["playbook purchase model"] = (ev.mae, float(ev.aggregate_error or 0.0))
        predicted = model.conditional_expected_purchases(ch, duration).to_numpy()
        name = "playbook purchase model: expected holdout purchases"
        scores[name] = rank_quality(-predicted, churned)
    for name, m in (("baseline: Pareto/NBD", pnbd), ("reference: BG/NBD", bg)):
        ev = evaluate_holdout(m, ch)
        purchases[name] = (ev.mae, float(ev.aggregate_error or 0.0))
        calibration[name] = float(m.p_no_purchase(ch, duration).mean())
    return Evaluation(
        spec.name, len(ch), float(churned.mean()), duration, scores, purchases, calibration,
        out, view, pb,
        [f"{w.category.__name__}: {w.message}" for w in caught],
    )


def report(ev: Evaluation) -> str:
    """A plain-text table of an evaluation."""
    lines = [
        f"== {ev.name}: {ev.n_customers} customers, holdout {ev.holdout_weeks:.1f} weeks, "
        f"churn rate {ev.churn_rate:.3f}",
        f"{'score (higher = riskier)':50s} {'AUC':>6s} {'lift':>6s} {'spearman':>9s}  "
        "churn rate by decile (1 = riskiest)",
    ]
    for name, r in ev.scores.items():
        rates = " ".join(f"{v:.2f}" for v in r.decile_rates)
        lines.append(f"{name:50s} {r.auc:6.3f} {r.lift:6.2f} {r.spearman:9.3f}  {rates}")
    lines.append(f"{'holdout purchases':50s} {'MAE':>6s} {'aggregate error %':>18s}")
    for name, (mae, agg) in ev.purchases.items():
        lines.append(f"{name:50s} {mae:6.3f} {agg:18.1f}")
    lines.append(
        f"{'mean P(no purchase in the holdout) vs observed':50s} "
        + ", ".join(f"{k} {v:.3f}" for k, v in ev.calibration.items())
        + f"; observed {ev.churn_rate:.3f}"
    )
    size, histories = ev.worst_top_tie()
    lines.append(
        f"largest tie among the top 100 risks with different histories: {size} customers"
        + (f" ({histories} histories)" if size else "")
    )
    if ev.playbook_warnings:
        lines.append("playbook warnings: " + " | ".join(ev.playbook_warnings))
    return "\n".join(lines)
