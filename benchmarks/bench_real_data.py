"""The default Playbook on real data against simple baselines, in one run (issue #17).

Run: ``python benchmarks/bench_real_data.py``. For the bundled CDNOW sample
(calibration to 1997-09-30, holdout to 1998-06-30) and the apparel retailer
transactions in ``../shared/data/`` (calibration to 2006-12-31, holdout to
2010-12-20; skipped when absent), it prints per score (higher = riskier):
churn AUC (churned = no purchase in the holdout), top-decile lift, the
observed churn rate of each risk decile (decile 1 = riskiest) and their
Spearman correlation with the decile number (near -1 = ranks right); then
the holdout purchase MAE and aggregate error (percent) of the purchase
models; then AliveChurn's ranking (P(no purchase in 52 weeks)) with each
purchase model, to choose the default. The Playbook is ``Playbook()``.
Definitions: ``tests/integration/_real_data.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.integration._real_data import DATASETS, evaluate, rank_quality, report  # noqa: E402

from crmkit.churn import AliveChurn  # noqa: E402
from crmkit.value import BetaGeo, ModifiedBetaGeo, ParetoNBD  # noqa: E402


def main() -> None:
    for spec in DATASETS.values():
        start = time.perf_counter()
        ev = evaluate(spec)
        if ev is None:
            print(f"== {spec.name}: not available ({spec.note}); skipped\n")
            continue
        elapsed = time.perf_counter() - start
        print(report(ev))
        print(f"(fit + assess + baselines: {elapsed:.1f} s)")
        churned = (ev.view["frequency_holdout"] == 0).to_numpy()
        print("AliveChurn(horizon=52) with each purchase model (AUC / lift / spearman):")
        for cls in (BetaGeo, ModifiedBetaGeo, ParetoNBD):
            for penalizer in (0.0, 0.01):
                model = cls(penalizer=penalizer).fit(ev.view)
                risk = AliveChurn(model=model, horizon=52.0).fit(ev.view).score(ev.view)
                r = rank_quality(risk["churn_risk"].to_numpy(float), churned)
                print(f"  {cls.__name__:16s} penalizer {penalizer:<5g} "
                      f"{r.auc:.4f} / {r.lift:.2f} / {r.spearman:.3f}")  # fmt: skip
        print()


if __name__ == "__main__":
    main()
