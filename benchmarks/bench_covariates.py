"""Benchmark: BG/NBD and Pareto/NBD with static covariates vs the plain fits.

Run with ``python benchmarks/bench_covariates.py [--sizes 100000 1000000]
[--models BetaGeo] [--repeat 2]``.

Customers are simulated from the CDNOW BG/NBD (or Pareto/NBD) estimates with
continuous ``recency`` and ``T`` (collapsing identical rows does not help)
and two random 0/1 covariates on both processes; the covariate fit (four
covariate groups, starting from the plain estimates) is timed against the
plain fit on the same customers. Timings are the best of ``--repeat`` runs.
Issue #19 asks for the covariate BG/NBD at 10^6 customers within 5x the
plain fit's time.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from crmkit.value import BetaGeo, ParetoNBD

TRUTH = {
    "BetaGeo": (BetaGeo, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
    "ParetoNBD": (ParetoNBD, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}),
}
COVARIATES = ["gender", "channel"]


def _best(fit: Callable[[Any], Any], view: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fit(view)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--models", nargs="+", choices=sorted(TRUTH), default=sorted(TRUTH))
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for name, (cls, truth) in TRUTH.items():
        if name not in args.models:
            continue
        for n in args.sizes:
            view = cls.from_params(**truth).sample(n, rng.uniform(30.0, 39.0, n), seed=1)
            for column in COVARIATES:
                view[column] = rng.integers(0, 2, n)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                plain = _best(cls().fit, view, args.repeat)
                model = cls(purchase_covariates=COVARIATES, dropout_covariates=COVARIATES)
                covariate = _best(model.fit, view, args.repeat)
            print(
                f"{name:10s} n={n:>9,d}  plain {plain:7.2f}s  covariates {covariate:7.2f}s  "
                f"ratio {covariate / plain:5.2f}  converged {model.converged_}"
            )


if __name__ == "__main__":
    main()
