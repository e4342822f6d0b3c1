"""Time RFM and decile segmentation on 10**6 customers against bare ``pandas.qcut``.

Run: ``python benchmarks/bench_segmentation.py [n_customers]``. Each timing is
the best of seven repeats, alternating with the baseline in the same run, and the script prints the
ratio segmenter / qcut (target: below 2x). The baseline is what the
segmenters build on: ``pd.qcut(..., labels=False)`` on the same columns
(three for RFM, one for deciles); the segmenters additionally validate the
view, learn cut points in ``fit``, apply them in ``assign`` and, for RFM, map
every cell to a named segment.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from crmkit.segmentation import DecileSegmenter, RFMSegmenter


def make_view(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frequency = np.minimum(rng.negative_binomial(1, 0.25, n), 60)
    return pd.DataFrame(
        {
            "days_since_last": rng.integers(0, 731, n).astype(np.float64),
            "frequency": frequency,
            "revenue": np.round(rng.lognormal(5.0, 1.2, n), 2) + frequency * 10.0,
        },
        index=pd.Index([f"c{i:07d}" for i in range(n)], name="customer_id"),
    )


def best_of_pair(
    ours: Callable[[], object], baseline: Callable[[], object], repeats: int = 7
) -> tuple[float, float]:
    """Best time of each, running them alternately so machine load hits both alike."""
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for i, fn in enumerate((ours, baseline)):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0], best[1]


def main(n: int) -> None:
    view = make_view(n)
    view.index.is_unique  # noqa: B018 - build the index's hash table once, as any caller would

    def qcut_rfm() -> None:
        for col in ("days_since_last", "frequency", "revenue"):
            pd.qcut(view[col], 5, labels=False, duplicates="drop")

    def qcut_deciles() -> None:
        pd.qcut(view["revenue"], 10, labels=False, duplicates="drop")

    rfm = RFMSegmenter().fit(view)
    deciles = DecileSegmenter().fit(view)
    rows = [
        ("RFM fit + assign", lambda: RFMSegmenter().fit(view).assign(view), qcut_rfm),
        ("RFM assign (fitted)", lambda: rfm.assign(view), qcut_rfm),
        ("deciles fit + assign", lambda: DecileSegmenter().fit(view).assign(view), qcut_deciles),
        ("deciles assign (fitted)", lambda: deciles.assign(view), qcut_deciles),
    ]
    print(f"{n:,} customers; best of 7 alternating runs each")
    print(f"{'task':<26}{'crmkit s':>10}{'qcut s':>10}{'ratio':>8}")
    for name, ours, baseline in rows:
        ours_s, base_s = best_of_pair(ours, baseline)
        print(f"{name:<26}{ours_s:>10.3f}{base_s:>10.3f}{ours_s / base_s:>7.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
