"""Benchmark: crmkit's ParetoNBD against lifetimes.ParetoNBDFitter.

Simulates customers from the published CDNOW Pareto/NBD parameters
(r=0.553, alpha=10.578, s=0.606, beta=11.669) with a 39-week cohort: each
customer's ``T`` is a whole number of days (1..273) in weeks and, as a
summary built from purchase dates would give, ``recency`` is rounded to
whole days (``--continuous`` keeps the simulated continuous recency).
Both libraries fit the same rows; lifetimes gets them as they are (its
usual use), crmkit collapses identical customers itself.

Reported per size: wall and CPU seconds of each fit, the speed ratio, the
estimates, and the log-likelihood agreement: both estimates are scored with
crmkit's exact per-customer log-likelihood (checked against mpmath in the
tests), so ``LL(crmkit) - LL(lifetimes)`` >= 0 means crmkit found the
higher maximum. lifetimes is slow (Nelder-Mead over scipy's hyp2f1 on every
row): it runs only up to ``--lifetimes-max`` customers; above that its time
is extrapolated linearly in the number of rows (its cost per evaluation is
linear and its iteration count does not depend on the size) and marked so.

Then ``--draws`` random parameter sets (r, s in [0.1, 5], alpha in [0.5, 50],
beta in [0.5, 100], log-uniform; T uniform in 10..60 weeks) are simulated
with ``--draw-size`` customers each and fitted; every failure (exception,
non-finite estimate or prediction) is listed.

Usage::

    python benchmarks/bench_paretonbd.py
    python benchmarks/bench_paretonbd.py --sizes 10000 100000 --lifetimes-max 10000 --draws 5
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from crmkit.value._paretonbd import ParetoNBD, pnbd_loglik

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
NAMES = ("r", "alpha", "s", "beta")


def simulate(n: int, seed: int, continuous: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 39 * 7 + 1, n) / 7.0
    view = ParetoNBD.from_params(**PUBLISHED).sample(n, T, seed=rng)
    if not continuous:
        view["recency"] = np.minimum(np.round(view["recency"] * 7.0) / 7.0, view["T"])
    return view


def total_ll(params: dict[str, float], view: pd.DataFrame) -> float:
    p = np.array([params[k] for k in NAMES])
    x = view["frequency"].to_numpy(np.float64)
    return float(np.sum(pnbd_loglik(p, x, view["recency"].to_numpy(), view["T"].to_numpy())))


def timed(fn: Any) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def fit_crmkit(view: pd.DataFrame) -> tuple[dict[str, float], float, float]:
    model, wall, cpu = timed(lambda: ParetoNBD().fit(view))
    return {k: getattr(model.params_, k) for k in NAMES}, wall, cpu


def fit_lifetimes(view: pd.DataFrame) -> tuple[dict[str, float], float, float]:
    from lifetimes import ParetoNBDFitter  # works unchanged with numpy 2.4 / pandas 3.1

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter, wall, cpu = timed(
            lambda: ParetoNBDFitter().fit(view["frequency"], view["recency"], view["T"])
        )
    return {k: float(fitter.params_[k]) for k in NAMES}, wall, cpu


def compare(sizes: list[int], lifetimes_max: int, continuous: bool) -> list[dict[str, Any]]:
    rows = []
    per_row_lt: float | None = None
    for n in sizes:
        view = simulate(n, seed=n, continuous=continuous)
        n_unique = len(view.drop_duplicates(["frequency", "recency", "T"]))
        est, wall, cpu = fit_crmkit(view)
        row: dict[str, Any] = {
            "n": n,
            "unique_rows": n_unique,
            "crmkit_wall": wall,
            "crmkit_cpu": cpu,
            "crmkit": est,
            "crmkit_ll": total_ll(est, view),
        }
        if n <= lifetimes_max:
            lt, lwall, lcpu = fit_lifetimes(view)
            row.update(
                lifetimes=lt,
                lifetimes_wall=lwall,
                lifetimes_cpu=lcpu,
                lifetimes_ll=total_ll(lt, view),
                lifetimes_measured=True,
            )
            per_row_lt = lcpu / n
        elif per_row_lt is not None:
            row.update(
                lifetimes_cpu=per_row_lt * n,
                lifetimes_wall=per_row_lt * n,
                lifetimes_measured=False,
            )
        rows.append(row)
        print_row(row)
    return rows


def print_row(row: dict[str, Any]) -> None:
    n = row["n"]
    line = (
        f"n={n:>9,d} unique={row['unique_rows']:>8,d}  crmkit {row['crmkit_wall']:7.2f} s "
        f"wall / {row['crmkit_cpu']:7.2f} s cpu"
    )
    if "lifetimes_cpu" in row:
        tag = "" if row["lifetimes_measured"] else " (extrapolated)"
        ratio_cpu = row["lifetimes_cpu"] / row["crmkit_cpu"]
        line += (
            f" | lifetimes {row['lifetimes_wall']:8.1f} s wall / {row['lifetimes_cpu']:8.1f}"
            f" s cpu{tag} | speed-up {ratio_cpu:6.1f}x (cpu)"
        )
        if row["lifetimes_measured"]:
            line += f", {row['lifetimes_wall'] / row['crmkit_wall']:6.1f}x (wall)"
    print(line, flush=True)
    est = ", ".join(f"{k}={row['crmkit'][k]:.4f}" for k in NAMES)
    print(f"    crmkit    {est}  LL={row['crmkit_ll']:.3f}", flush=True)
    if row.get("lifetimes_measured"):
        lt = ", ".join(f"{k}={row['lifetimes'][k]:.4f}" for k in NAMES)
        diff = row["crmkit_ll"] - row["lifetimes_ll"]
        rel = max(abs(row["crmkit"][k] / row["lifetimes"][k] - 1) for k in NAMES)
        print(
            f"    lifetimes {lt}  LL={row['lifetimes_ll']:.3f}  "
            f"LL(crmkit) - LL(lifetimes) = {diff:.4f}; max relative parameter gap {rel:.2e}",
            flush=True,
        )


def random_draws(n_draws: int, size: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    bounds = {"r": (0.1, 5.0), "alpha": (0.5, 50.0), "s": (0.1, 5.0), "beta": (0.5, 100.0)}
    for i in range(n_draws):
        truth = {
            k: float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            for k, (lo, hi) in bounds.items()
        }
        view = ParetoNBD.from_params(**truth).sample(size, rng.uniform(10.0, 60.0, size), seed=rng)
        rec: dict[str, Any] = {"draw": i, "truth": truth}
        w0 = time.perf_counter()
        try:
            model = ParetoNBD().fit(view)
            est = {k: getattr(model.params_, k) for k in NAMES}
            finite = all(math.isfinite(v) for v in est.values()) and math.isfinite(
                model.log_likelihood_
            )
            preds = np.concatenate(
                [
                    model.p_alive(view).to_numpy(),
                    model.conditional_expected_purchases(view, 52).to_numpy(),
                ]
            )
            ok = finite and bool(np.all(np.isfinite(preds)))
            rec.update(estimate=est, ok=ok, error=None if ok else "non-finite output")
        except Exception as exc:  # every failure is reported, none hidden
            rec.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        rec["seconds"] = time.perf_counter() - w0
        out.append(rec)
        status = "ok" if rec["ok"] else f"FAILED ({rec['error']})"
        truth_s = ", ".join(f"{k}={v:.3g}" for k, v in truth.items())
        print(f"  draw {i:2d} [{truth_s}] {rec['seconds']:5.2f} s {status}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--lifetimes-max",
        type=int,
        default=100_000,
        help="largest size lifetimes is run at (default 100000)",
    )
    parser.add_argument(
        "--continuous", action="store_true", help="keep continuous recency (no collapsing benefit)"
    )
    parser.add_argument("--draws", type=int, default=50)
    parser.add_argument("--draw-size", type=int, default=10_000)
    parser.add_argument("--json", help="write all results to this file")
    args = parser.parse_args()

    print(
        "Pareto/NBD fit: crmkit vs lifetimes "
        f"({'continuous' if args.continuous else 'day-rounded'} recency)",
        flush=True,
    )
    rows = compare(sorted(args.sizes), args.lifetimes_max, args.continuous)
    draws: list[dict[str, Any]] = []
    if args.draws:
        print(
            f"\n{args.draws} random parameter draws, {args.draw_size:,d} customers each:",
            flush=True,
        )
        draws = random_draws(args.draws, args.draw_size, seed=2026)
        failed = [d for d in draws if not d["ok"]]
        print(
            f"failures: {len(failed)} of {len(draws)}; total "
            f"{sum(d['seconds'] for d in draws):.1f} s",
            flush=True,
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"sizes": rows, "draws": draws}, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
