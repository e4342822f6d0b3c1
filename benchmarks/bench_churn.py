"""Time SignalRules on 10**6 customers against a bare pandas/numpy evaluation of its rules.

Run: ``python benchmarks/bench_churn.py [n_customers]``. Each timing is the
best of five repeats, alternating with the baseline in the same run. The
baseline reads the columns as numpy arrays and evaluates the same eight rules
with plain vectorised numpy (comparisons, ``np.where``, ``clip``), combines
them as the same noisy-OR and splits the risk into the same per-signal
shares; its risks are checked to equal SignalRules' to 1e-12. SignalRules additionally validates the
view (every column: dtype, finiteness, duplicate ids) and writes the
``reasons`` text for every customer; the script times that text on its own
as well (``reasons_array``, as ``score`` builds it), and prints the ratio
SignalRules / baseline.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from crmkit.churn import DEFAULT_WEIGHTS, SignalRules
from crmkit.churn._common import reasons_array


def make_view(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    freq = np.minimum(rng.negative_binomial(1, 0.3, n), 40)
    T = rng.uniform(1, 130, n)
    recency = np.where(freq > 0, T * rng.uniform(0, 1, n), 0.0)

    def sometimes(values: np.ndarray, share: float) -> np.ndarray:
        return np.where(rng.random(n) < share, values, np.nan)

    return pd.DataFrame(
        {
            "frequency": freq,
            "recency": recency,
            "T": T,
            "mean_interpurchase": np.where(freq > 0, recency / np.maximum(freq, 1), np.nan),
            "purchase_trend": np.round(rng.uniform(-1, 1, n), 2),
            "last_nps": sometimes(rng.integers(0, 11, n).astype(float), 0.7),
            "mean_csat": sometimes(np.round(rng.uniform(1, 5, n), 1), 0.8),
            "days_since_complaint": sometimes(rng.integers(0, 900, n).astype(float), 0.4),
            "n_complaints_open": rng.poisson(0.15, n),
            "days_since_address_change": sometimes(rng.integers(0, 900, n).astype(float), 0.15),
            "n_decision_makers_left": rng.poisson(0.3, n),
            "days_since_contact_left": sometimes(rng.integers(0, 900, n).astype(float), 0.3),
        },
        index=pd.Index([f"c{i:07d}" for i in range(n)], name="customer_id"),
    )


def bare_rules(view: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The eight default rules, the noisy-OR and the shares, in plain numpy on the columns."""
    col = {c: view[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in view.columns}

    def below(v: np.ndarray, t: float, floor: float) -> np.ndarray:
        return np.where(v <= t, 0.5 + 0.5 * np.clip((t - v) / (t - floor), 0, 1), 0.0)

    def recent(d: np.ndarray, w: float) -> np.ndarray:
        return np.where((d >= 0) & (d <= w), 1.0 - 0.5 * np.clip(d / w, 0, 1), 0.0)

    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (col["T"] - col["recency"]) / col["mean_interpurchase"]
        strengths = [
            below(col["last_nps"], 6.0, 0.0),
            below(col["mean_csat"], 3.0, 1.0),
            recent(col["days_since_complaint"], 120.0),
            np.where(col["n_complaints_open"] >= 1, 1.0, 0.0),
            below(col["purchase_trend"], -0.5, -1.0),
            recent(col["days_since_address_change"], 180.0),
            np.where(ratio >= 3.0, np.minimum(1.0, 0.5 + 0.5 * (ratio - 3.0) / 3.0), 0.0),
            np.where(col["n_decision_makers_left"] >= 1,
                     recent(col["days_since_contact_left"], 180.0), 0.0),
        ]  # fmt: skip
    hazards = [-np.log1p(-s * w) for s, w in zip(strengths, DEFAULT_WEIGHTS.values(), strict=True)]
    total = sum(hazards) - np.log1p(-0.02)
    risk = -np.expm1(-total)
    return risk, np.column_stack(hazards) * (risk / total)[:, None]


def best_of_pair(
    ours: Callable[[], object], baseline: Callable[[], object], repeats: int = 5
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
    rules = SignalRules().fit(view)
    risk, shares = bare_rules(view)
    scored = rules.score(view)
    assert np.allclose(scored["churn_risk"].to_numpy(), risk, rtol=1e-12, atol=1e-15)
    names = list(DEFAULT_WEIGHTS)
    print(f"{n:,} customers; best of 5 alternating runs each; "
          f"{(scored['reasons'] != '').mean():.0%} have a reason")  # fmt: skip
    print(f"{'task':<44}{'crmkit s':>10}{'bare s':>10}{'ratio':>8}")
    rows = [
        ("score (validate, rules, risk, shares, text)", lambda: rules.score(view),
         lambda: bare_rules(view)),
        ("fit + score", lambda: SignalRules().fit(view).score(view), lambda: bare_rules(view)),
        ("reasons text alone (vs the bare rules)",
         lambda: reasons_array(shares, names, minimum=0.005), lambda: bare_rules(view)),
    ]  # fmt: skip
    for name, ours, baseline in rows:
        ours_s, base_s = best_of_pair(ours, baseline)
        print(f"{name:<44}{ours_s:>10.3f}{base_s:>10.3f}{ours_s / base_s:>7.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
