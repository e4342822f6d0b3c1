"""Benchmark: BG/NBD fitting and scoring, crmkit vs lifetimes and bare numpy.

Run with ``python benchmarks/bench_bgnbd.py [--sizes 10000 100000 1000000]``.

1. Fit ``crmkit.value.BetaGeo`` and ``lifetimes.BetaGeoFitter`` on the same
   customers simulated from known parameters (continuous ``recency`` and
   ``T``, so collapsing identical rows does not help), timing both in the
   same run and comparing their log-likelihoods on the same (unscaled) data.
2. Score ``p_alive`` + ``conditional_expected_purchases`` for 10^6 customers
   and compare with a bare numpy/scipy evaluation of the same closed formula
   (Fader, Hardie & Lee 2005, eq. 10 and 11) without input checks.

Timings are the best of several runs (one lifetimes run at 10^6 customers),
so that a busy machine distorts them less.

Compatibility shims needed by lifetimes 0.11 under numpy 2 / pandas 3 live
in this script only (see ``_lifetimes_fitter``).
"""

from __future__ import annotations

import os

# Single-threaded BLAS for both contenders: on a small shared machine
# OpenBLAS threads only add synchronisation cost to the tiny optimiser
# steps (set before numpy is imported; an explicit setting wins).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from crmkit.value._bgnbd import BetaGeo

TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _lifetimes_fitter():  # type: ignore[no-untyped-def]
    """Import lifetimes, with the shims it needs under numpy 2 / pandas 3."""
    if not hasattr(np, "float_"):  # removed in numpy 2; lifetimes' utils still use it
        np.float64 = np.float64  # type: ignore[attr-defined]
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from lifetimes import BetaGeoFitter

    return BetaGeoFitter


def simulate(n: int, seed: int) -> pd.DataFrame:
    T = np.random.default_rng(seed).uniform(20.0, 80.0, n)
    return BetaGeo.from_params(**TRUTH).sample(n, T, seed=seed + 1)


def _best_of(repeat: int, fit: Any) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs of ``fit()`` (as timeit does) and its result."""
    best, result = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fit()
        best = min(best, time.perf_counter() - t0)
    return best, result


def bench_fit(n: int, seed: int = 0) -> dict[str, float]:
    view = simulate(n, seed)
    # best of 3 for both where lifetimes is quick; one lifetimes run at 10^6
    repeat_lf = 3 if n <= 100_000 else 1
    t_ours, ours = _best_of(3, lambda: BetaGeo().fit(view))
    row: dict[str, float] = {"n": n, "crmkit_s": t_ours, "crmkit_ll": ours.log_likelihood_}
    try:
        fitter_cls = _lifetimes_fitter()
        t_lf, lf = _best_of(
            repeat_lf,
            lambda: fitter_cls().fit(view["frequency"], view["recency"], view["T"]),
        )
        prm = {k: float(lf.params_[k]) for k in TRUTH}
        # lifetimes' own likelihood on the unscaled data (it fits on rescaled time)
        nll = fitter_cls._negative_log_likelihood(
            np.log([prm[k] for k in TRUTH]),
            view["frequency"].to_numpy(float),
            view["recency"].to_numpy(),
            view["T"].to_numpy(),
            np.ones(n),
            0.0,
        )
        row.update(
            lifetimes_s=t_lf,
            speedup=t_lf / t_ours,
            lifetimes_ll_own=-float(nll) * n,
            lifetimes_ll_crmkit=float(BetaGeo.from_params(**prm).log_likelihood(view).sum()),
        )
    except Exception as exc:  # report, keep the crmkit numbers
        print(f"  lifetimes failed at n={n}: {type(exc).__name__}: {exc}")
    return row


def bare_scoring(
    view: pd.DataFrame, t: float, p: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """The textbook closed formula, no checks (the baseline)."""
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    x = view["frequency"].to_numpy(float)
    tx = view["recency"].to_numpy()
    T = view["T"].to_numpy()
    ratio = a / (b + np.maximum(x, 1.0) - 1.0) * ((alpha + T) / (alpha + tx)) ** (r + x)
    p_alive = 1.0 / (1.0 + np.where(x > 0, ratio, 0.0))
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1.0, z)
    num = (a + b + x - 1.0) / (a - 1.0) * (1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    return p_alive, num * p_alive


def bench_scoring(n: int = 1_000_000, t: float = 39.0, repeat: int = 5) -> dict[str, float]:
    view = simulate(n, 42)
    model = BetaGeo.from_params(**TRUTH)
    best_ours = best_bare = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        pa = model.p_alive(view)
        ce = model.conditional_expected_purchases(view, t)
        best_ours = min(best_ours, time.perf_counter() - t0)
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            pa0, ce0 = bare_scoring(view, t, TRUTH)
        best_bare = min(best_bare, time.perf_counter() - t0)
    ok = np.isfinite(ce0)
    rel = np.abs(ce.to_numpy()[ok] - ce0[ok]) / np.maximum(np.abs(ce0[ok]), 1e-300)
    return {
        "n": n,
        "crmkit_s": best_ours,
        "bare_s": best_bare,
        "ratio": best_ours / best_bare,
        "max_rel_diff": float(rel.max()),
        "bare_nonfinite": int((~ok).sum()),
        "p_alive_max_abs_diff": float(np.max(np.abs(pa.to_numpy() - pa0))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--score-n", type=int, default=1_000_000)
    args = parser.parse_args()
    print("BG/NBD fit: crmkit.value.BetaGeo vs lifetimes.BetaGeoFitter")
    for n in args.sizes:
        row = bench_fit(n)
        text = f"  n={n:>9,}: crmkit {row['crmkit_s']:8.3f} s"
        if "lifetimes_s" in row:
            text += (
                f" | lifetimes {row['lifetimes_s']:8.2f} s | speed-up {row['speedup']:6.1f}x"
                f" | LL crmkit {row['crmkit_ll']:.4f}, lifetimes (own formula)"
                f" {row['lifetimes_ll_own']:.4f}, (crmkit formula) {row['lifetimes_ll_crmkit']:.4f}"
            )
        print(text, flush=True)
    s = bench_scoring(args.score_n)
    print(
        f"Scoring p_alive + conditional_expected_purchases, n={s['n']:,}: crmkit {s['crmkit_s']:.3f} s,"
        f" bare numpy {s['bare_s']:.3f} s, ratio {s['ratio']:.2f}x; max rel. diff {s['max_rel_diff']:.2e}"
        f" (bare formula non-finite for {s['bare_nonfinite']} customers); p_alive max abs diff"
        f" {s['p_alive_max_abs_diff']:.1e}"
    )


if __name__ == "__main__":
    main()
