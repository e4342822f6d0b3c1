"""Cross-sell recommenders, product matrices and similar-customer prediction at scale (issue #18).

Each case runs in a fresh subprocess (so ``ru_maxrss`` is the case's own
peak memory, records included) on synthetic transactions: ``n`` customers,
``n`` products, 10 lines per customer, product popularity falling as
``1 / rank**zipf`` (default 0.5: a long tail in which the top product is
bought by about 1.6 % of the customers at n = 1e5; ``--zipf 0.8`` makes
the head heavier, about 20 %, which costs the exact customer kNN time
growing with the squared buyers of the popular products). ``predict_from_similar`` predicts ``n / 5`` new
customers from ``n`` known ones on industry, size class, region and a
numeric first-order value. Prints one table: wall time (fit + recommend
for every customer, k=5) and peak RSS.

Run: ``python benchmarks/bench_recommenders.py [--sizes 1000 10000 100000]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ZIPF = 0.5
LINES_PER_CUSTOMER = 10
CASES = ("product_matrix", "popularity", "item", "knn", "similar")

_CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np, pandas as pd
case, n, zipf, lines = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
from crmkit.analysis import (CustomerKNNRecommender, ItemCoPurchaseRecommender,
                             PopularityRecommender, predict_from_similar, product_matrix)
rng = np.random.default_rng(0)
if case == "similar":
    def view(m, seed):
        r = np.random.default_rng(seed)
        return pd.DataFrame({
            "industry": r.choice([f"i{j}" for j in range(12)], m),
            "size_class": pd.Categorical(r.choice(["s", "m", "l"], m), ["s", "m", "l"], ordered=True),
            "region": r.choice([f"r{j}" for j in range(6)], m),
            "first_order": r.gamma(2.0, 50.0, m),
            "revenue": r.gamma(2.0, 500.0, m)},
            index=pd.Index([f"{seed}-{i}" for i in range(m)], name="customer_id"))
    known, new = view(n, 1), view(max(n // 5, 1), 2).drop(columns="revenue")
    feats = ["industry", "size_class", "region", "first_order"]
    start = time.perf_counter()
    out = predict_from_similar(new, known, features=feats, k=10)
    size = len(out)
else:
    p = 1.0 / np.arange(1, n + 1) ** zipf
    m = n * lines
    tx = pd.DataFrame({"customer_id": rng.integers(0, n, m),
                       "product": rng.choice(n, m, p=p / p.sum()),
                       "amount": rng.gamma(2.0, 20.0, m)})
    start = time.perf_counter()
    if case == "product_matrix":
        out = product_matrix(tx, "binary", sparse=True)
        size = out.shape[0]
    else:
        cls = {"popularity": PopularityRecommender, "item": ItemCoPurchaseRecommender,
               "knn": CustomerKNNRecommender}[case]
        out = cls().fit(tx).recommend(k=5)
        size = len(out)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB (Linux)
print(json.dumps({"seconds": seconds, "peak_mb": peak, "rows": size}))
"""


def run(case: str, n: int, zipf: float = ZIPF) -> dict[str, float]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, case, str(n), str(zipf), str(LINES_PER_CUSTOMER)],
        capture_output=True, text=True, env=env, check=False, timeout=1800,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{case} at {n}: {proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--zipf", type=float, default=ZIPF)
    args = parser.parse_args()
    print(f"customers = products = n, {LINES_PER_CUSTOMER} lines per customer, zipf {args.zipf}")
    print(f"{'case':<16}{'n':>9}{'lines':>10}{'seconds':>10}{'growth':>8}{'peak MB':>10}")
    for case in args.cases:
        previous = None
        for n in args.sizes:
            r = run(case, n, args.zipf)
            growth = f"{r['seconds'] / previous:.1f}x" if previous else "-"
            previous = r["seconds"]
            print(f"{case:<16}{n:>9}{n * LINES_PER_CUSTOMER:>10}{r['seconds']:>10.2f}"
                  f"{growth:>8}{r['peak_mb']:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
