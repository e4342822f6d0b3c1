"""Time ``crmkit.summarize`` against a plain pandas groupby and a bare numpy lower bound.

Run by hand: ``python benchmarks/bench_summarize.py [--sizes 1e5 1e6 1e7]``.
All three compute the core customer view (frequency, recency, T, monetary
value, revenue, number of rows) from the same transactions, in one run; the
ratios are what to read (the machine is shared and noisy). crmkit's time
includes full validation and the extra view columns.

``--spark 1e6 1e7`` times, side by side in one run, Parquet -> customer view
on pandas (``pd.read_parquet`` + ``summarize``) and on Spark ``local[2]``
(``summarize(spark.read.parquet(...))`` written to the ``noop`` sink, so every
row is computed and nothing is collected), after a warm-up job, and checks
that the two views are identical (money too).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import crmkit


def make_transactions(n_rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_customers = max(n_rows // 10, 1)
    ids = rng.integers(0, n_customers, n_rows)
    days = rng.integers(0, 3 * 365, n_rows)
    dates = np.datetime64("2022-01-01", "ns") + days.astype("timedelta64[D]")
    return pd.DataFrame({"customer_id": ids, "date": dates,
                         "amount": np.round(rng.gamma(2.0, 30.0, n_rows), 2)})


AS_OF = pd.Timestamp("2024-12-31")


def pandas_groupby(tx: pd.DataFrame) -> pd.DataFrame:
    day = tx["date"].dt.normalize()
    per_day = tx.assign(day=day).groupby(["customer_id", "day"], sort=True)["amount"].agg(
        ["sum", "size"])
    per_day = per_day.reset_index()
    g = per_day.groupby("customer_id", sort=True)
    first = g["day"].transform("min")
    per_day["repeat"] = np.where(per_day["day"] != first, per_day["sum"], 0.0)
    g = per_day.groupby("customer_id", sort=True)
    out = g.agg(first=("day", "min"), last=("day", "max"), n_days=("day", "size"),
                revenue=("sum", "sum"), repeat=("repeat", "sum"), n_rows=("size", "sum"))
    out["frequency"] = out["n_days"] - 1
    out["recency"] = (out["last"] - out["first"]).dt.days / 7.0
    out["T"] = (AS_OF - out["first"]).dt.days / 7.0
    out["monetary_value"] = np.where(out["frequency"] > 0,
                                     out["repeat"] / out["frequency"].clip(lower=1), 0.0)
    return out


def numpy_lower_bound(tx: pd.DataFrame) -> dict[str, np.ndarray]:
    """The least work for the same numbers: factorize, one sort, segment sums."""
    codes, _ = pd.factorize(tx["customer_id"], sort=True)
    day = tx["date"].to_numpy().view(np.int64) // 86_400_000_000_000
    amount = tx["amount"].to_numpy()
    dmin = day.min()
    span = day.max() - dmin + 1
    key = codes.astype(np.int64) * span + (day - dmin)
    # np.sort of the key packed with the row number beats argsort by ~3x
    bits = int(len(key) - 1).bit_length()
    packed = (key << bits) | np.arange(len(key), dtype=np.int64)
    packed.sort()
    order = packed & ((1 << bits) - 1)
    ks = key[order]
    start = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    pk = ks[start]
    pc = pk // span
    pd_ = pk - pc * span + dmin
    pa = np.add.reduceat(amount[order], start)
    cs = np.flatnonzero(np.r_[True, pc[1:] != pc[:-1]])
    ce = np.r_[cs[1:], len(pc)]
    freq = ce - cs - 1
    rev = np.add.reduceat(pa, cs)
    as_of = (np.datetime64(AS_OF.date(), "D") - np.datetime64("1970-01-01", "D")).astype(int)
    return {"frequency": freq, "recency": (pd_[ce - 1] - pd_[cs]) / 7.0,
            "T": (as_of - pd_[cs]) / 7.0,
            "monetary_value": np.where(freq > 0, (rev - pa[cs]) / np.maximum(freq, 1), 0.0),
            "revenue": rev, "n_rows": np.bincount(codes)}


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _spark_session() -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("crmkit-bench-summarize")
        .config("spark.driver.memory", "6g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_vs_pandas(sizes: list[float]) -> None:
    """Parquet -> customer view on pandas and on Spark local[2], side by side."""
    spark = _spark_session()
    workdir = Path(tempfile.mkdtemp(prefix="crmkit-bench-summarize-"))
    rows = []
    try:
        # the JVM compiles Spark's hot paths over the first jobs: warm it up properly
        warm = workdir / "warm.parquet"
        make_transactions(1_000_000, seed=1).to_parquet(warm, coerce_timestamps="us")
        for _ in range(3):
            crmkit.summarize(spark.read.parquet(str(warm)), as_of=AS_OF).write.format(
                "noop").mode("overwrite").save()
        for size in sizes:
            n = int(size)
            path = workdir / f"tx_{n}.parquet"
            make_transactions(n).to_parquet(path, coerce_timestamps="us")

            def on_spark(path: Path = path) -> Any:
                view = crmkit.summarize(spark.read.parquet(str(path)), as_of=AS_OF)
                view.write.format("noop").mode("overwrite").save()
                return view

            t_pd, ref = best_of(lambda p=path: crmkit.summarize(pd.read_parquet(p), as_of=AS_OF), 1)
            t_sp, view = best_of(on_spark, 1)
            got = view.toPandas().set_index("customer_id").sort_index()
            same = all(
                np.array_equal(got[c].to_numpy(float), ref[c].to_numpy(float), equal_nan=True)
                for c in ("frequency", "recency", "T", "monetary_value", "revenue",
                          "n_transactions", "n_products", "purchase_trend")
                if c in ref.columns
            )
            rows.append((n, t_pd, t_sp, same))
    finally:
        spark.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{'rows':>12} {'pandas s':>9} {'spark s':>9} {'spark/pandas':>13}  identical")
    for n, t_pd, t_sp, same in rows:
        print(f"{n:>12,} {t_pd:>9.2f} {t_sp:>9.2f} {t_sp / t_pd:>13.2f}  {same}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="*", type=float, default=[1e5, 1e6, 1e7])
    parser.add_argument("--spark", nargs="*", type=float, default=None,
                        help="also time pandas vs Spark local[2] at these sizes")
    args = parser.parse_args()
    if args.spark:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spark_vs_pandas(args.spark)
        return
    print(f"{'rows':>10} {'crmkit s':>9} {'pandas s':>9} {'numpy s':>9} "
          f"{'crmkit/numpy':>13} {'pandas/crmkit':>14}")
    for size in args.sizes:
        n = int(size)
        tx = make_transactions(n)
        repeat = 3 if n <= 1_000_000 else 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ck, view = best_of(lambda tx=tx: crmkit.summarize(tx, as_of=AS_OF), repeat)
        t_pd, ref = best_of(lambda tx=tx: pandas_groupby(tx), repeat)
        t_np, low = best_of(lambda tx=tx: numpy_lower_bound(tx), repeat)
        for col in ("frequency", "recency", "T", "monetary_value"):
            np.testing.assert_allclose(view[col].to_numpy(float), ref[col].to_numpy(float),
                                       rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(view[col].to_numpy(float), low[col], rtol=1e-9,
                                       atol=1e-9)
        print(f"{n:>10,} {t_ck:>9.3f} {t_pd:>9.3f} {t_np:>9.3f} {t_ck / t_np:>13.2f} "
              f"{t_pd / t_ck:>14.2f}")


if __name__ == "__main__":
    main()
