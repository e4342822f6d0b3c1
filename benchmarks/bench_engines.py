"""Benchmark: summarize, sufficient statistics and scoring on every engine, side by side.

Writes N synthetic transactions to Parquet (timestamps in microseconds, as
Spark needs), then for each engine (pandas, polars, DuckDB, Dask, Spark)
times

- ``summarize``: Parquet -> customer view, materialised in the engine;
- ``stats``: :func:`crmkit.engines.sufficient_stats` of that view;
- ``score``: :func:`crmkit.engines.score` of every customer (p_alive,
  expected purchases over 52 weeks and CLV with a Gamma-Gamma spend model),
  materialised;

and checks that every engine gives the pandas numbers. Finally it times the
BG/NBD fit on the sufficient statistics against the fit on all customers.

Usage::

    python benchmarks/bench_engines.py                       # 10**7 transactions
    python benchmarks/bench_engines.py --n 1000000 --engines pandas polars duckdb
    python benchmarks/bench_engines.py --spark-n 2000000     # smaller data for Spark
    python benchmarks/bench_engines.py --assess --sizes 1e6 1e7 --engines spark dask
        # engines.assess of a fitted Playbook vs pandas Playbook.assess, and
        # Spark summarize vs pandas, at each size (--playbook: the same)

The ``if __name__ == "__main__"`` guard is required: Dask's LocalCluster
starts worker processes that re-import this file.
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
from crmkit.engines import SPEND_COLUMNS, score, sufficient_stats
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._gammagamma import GammaGamma

AS_OF = "2024-12-31"
OPTIONS: dict[str, Any] = {"horizon": 52.0, "discount_rate": 0.1, "time_unit": "W"}
ENGINES = ("pandas", "polars", "duckdb", "dask", "spark")
#: The assessment column compared across engines: the first of these the Playbook gives.
COMPARED = ("clv", "expected_purchases", "stage")


def make_parquet(n_tx: int, path: Path, seed: int = 0) -> None:
    """Write ``n_tx`` transactions of ``n_tx // 10`` customers over two years."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    n_cust = max(n_tx // 10, 1)
    # first purchase in the first year; a customer's share of the rows ~ gamma(0.8)
    weights = rng.gamma(0.8, 1.0, n_cust)
    counts = rng.multinomial(n_tx - n_cust, weights / weights.sum()) + 1
    cid = np.repeat(np.arange(n_cust, dtype=np.int64), counts)
    first = rng.integers(0, 365, n_cust)
    span = 731 - first
    offset = (rng.random(n_tx) * np.repeat(span, counts)).astype(np.int64)
    is_first = np.zeros(n_tx, dtype=bool)
    is_first[np.concatenate([[0], np.cumsum(counts)[:-1]])] = True
    day = np.repeat(first, counts) + np.where(is_first, 0, offset)
    seconds = rng.integers(0, 86_400, n_tx)
    ts = (
        np.datetime64("2023-01-01", "us")
        + day.astype("timedelta64[D]")
        + seconds.astype("timedelta64[s]")
    ).astype("datetime64[us]")
    amount = np.round(rng.lognormal(3.0, 0.6, n_tx), 2)
    product = rng.integers(0, 50, n_tx)
    order = rng.permutation(n_tx)  # no engine gets sorted input for free
    table = pa.table(
        {
            "customer_id": cid[order],
            "date": pa.array(ts[order], type=pa.timestamp("us")),
            "amount": amount[order],
            "product": product[order],
        }
    )
    pq.write_table(table, path, row_group_size=1_000_000)


def timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run_pandas(path: Path, models: Any) -> dict[str, Any]:
    def summ() -> pd.DataFrame:
        return crmkit.summarize(pd.read_parquet(path), as_of=AS_OF)

    view, t_sum = timed(summ)
    stats, t_stats = timed(lambda: sufficient_stats(view))
    scored, t_score = timed(lambda: score(view, models[0], spend_model=models[1], **OPTIONS))
    return {
        "summarize": t_sum,
        "stats": t_stats,
        "score": t_score,
        "view": view,
        "stats_table": stats,
        "scores": scored["clv"],
    }


def run_polars(path: Path, models: Any) -> dict[str, Any]:
    import polars as pl

    lazy, _ = timed(lambda: crmkit.summarize(pl.scan_parquet(path), as_of=AS_OF))
    view, t_sum = timed(lazy.collect)
    stats, t_stats = timed(lambda: sufficient_stats(view))
    scored, t_score = timed(lambda: score(view, models[0], spend_model=models[1], **OPTIONS))
    clv = scored.select("customer_id", "clv").to_pandas().set_index("customer_id")["clv"]
    return {
        "summarize": t_sum,
        "stats": t_stats,
        "score": t_score,
        "stats_table": stats,
        "scores": clv,
    }


def run_duckdb(path: Path, models: Any) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")

    def summ() -> Any:
        rel = crmkit.summarize(con.read_parquet(str(path)), as_of=AS_OF)
        return rel.to_arrow_table()  # materialised

    table, t_sum = timed(summ)
    view = duckdb.from_arrow(table)
    stats, t_stats = timed(lambda: sufficient_stats(view))
    scored, t_score = timed(
        lambda: score(view, models[0], spend_model=models[1], **OPTIONS).to_arrow_table()
    )
    clv = scored.select(["customer_id", "clv"]).to_pandas().set_index("customer_id")["clv"]
    return {
        "summarize": t_sum,
        "stats": t_stats,
        "score": t_score,
        "stats_table": stats,
        "scores": clv,
    }


def run_dask(path: Path, models: Any) -> dict[str, Any]:
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    with (
        dask.config.set({"dataframe.shuffle.method": "tasks"}),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="5GB",
            dashboard_address=None,
        ) as cluster,
        Client(cluster),
    ):

        def summ() -> Any:
            view = crmkit.summarize(dd.read_parquet(str(path)), as_of=AS_OF)
            return view.persist(fuse=False)  # see docs/scaling.md: fusion is slow here

        view, t_sum = timed(lambda: _wait(summ()))
        stats, t_stats = timed(lambda: sufficient_stats(view))
        scored, t_score = timed(
            lambda: score(view, models[0], spend_model=models[1], **OPTIONS)[
                ["customer_id", "clv"]
            ].compute()
        )
    clv = scored.set_index("customer_id")["clv"]
    return {
        "summarize": t_sum,
        "stats": t_stats,
        "score": t_score,
        "stats_table": stats,
        "scores": clv,
    }


def _wait(collection: Any) -> Any:
    from distributed import wait

    wait(collection)
    return collection


def run_spark(path: Path, models: Any) -> dict[str, Any]:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("crmkit-bench")
        .config("spark.driver.memory", "6g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:

        def summ() -> Any:
            view = crmkit.summarize(spark.read.parquet(str(path)), as_of=AS_OF).cache()
            view.count()  # materialised in executor memory
            return view

        view, t_sum = timed(summ)
        stats, t_stats = timed(lambda: sufficient_stats(view))

        def sc() -> pd.DataFrame:
            out = score(view, models[0], spend_model=models[1], **OPTIONS)
            out.write.format("noop").mode("overwrite").save()  # every row scored
            return out.select("customer_id", "clv").toPandas()

        scored, t_score = timed(sc)
        clv = scored.set_index("customer_id")["clv"]
    finally:
        spark.stop()
    return {
        "summarize": t_sum,
        "stats": t_stats,
        "score": t_score,
        "stats_table": stats,
        "scores": clv,
    }


def _spark_session(shuffle_partitions: int = 8) -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("crmkit-bench-playbook")
        .config("spark.driver.memory", "6g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _pandas_side(path: Path, purchase_model: str) -> tuple[Any, pd.Series, dict[str, float], int]:
    """pandas: summarize, then the reference Playbook (fit once) and its assessment."""
    from crmkit.compose import Playbook
    from crmkit.data import CustomerData

    view, t_sum = timed(lambda: crmkit.summarize(pd.read_parquet(path), as_of=AS_OF))
    del view
    data, t_data = timed(lambda: CustomerData.from_frames(pd.read_parquet(path), as_of=AS_OF))
    playbook = Playbook(purchase_model=purchase_model)
    pb, t_fit = timed(lambda: playbook.fit(data, progress=False))
    ref, t_assess = timed(lambda: pb.assess(data, progress=False))
    n = data.n_customers
    times = {"summarize": t_sum, "data": t_data, "fit": t_fit, "assess": t_assess}
    # clv needs the value models; without them (see the notes) compare the next output
    column = next(c for c in (*COMPARED, *ref.columns) if c in ref.columns)
    return pb, ref[column].sort_index(), times, n


def _spark_side(
    path: Path, pb: Any, partitions: int, warm: Path | None, column: str
) -> dict[str, Any]:
    """Spark local[2]: summarize (``noop`` write) and engines.assess (``clv`` collected)."""
    from crmkit.engines import assess

    spark = _spark_session(partitions)
    try:
        if warm is not None:  # JIT, Python workers and their crmkit import: not timed
            crmkit.summarize(spark.read.parquet(str(warm)), as_of=AS_OF).write.format("noop").mode(
                "overwrite"
            ).save()
            assess(pb, spark.read.parquet(str(warm)), as_of=AS_OF, progress=False).select(
                "customer_id", column
            ).toPandas()

        def summ() -> None:
            view = crmkit.summarize(spark.read.parquet(str(path)), as_of=AS_OF)
            view.write.format("noop").mode("overwrite").save()  # every customer, not collected

        _, t_sum = timed(summ)

        def run() -> pd.Series:
            out = assess(pb, spark.read.parquet(str(path)), as_of=AS_OF, progress=False)
            # the Python function computes every column; two of them are collected
            got = out.select("customer_id", column).toPandas()
            return got.set_index("customer_id")[column]

        clv, t = timed(run)
    finally:
        spark.stop()
    return {"summarize": t_sum, "assess": t, "clv": clv}


def _dask_side(path: Path, pb: Any, partitions: int, column: str) -> dict[str, Any]:
    """A 2-worker dask.distributed LocalCluster: engines.assess (``clv`` collected)."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from crmkit.engines import assess

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="5GB",
            dashboard_address=None,
        ) as cluster,
        Client(cluster),
    ):

        def run() -> pd.Series:
            tx = dd.read_parquet(str(path))
            out = assess(pb, tx, as_of=AS_OF, partitions=partitions, progress=False)
            return out[["customer_id", column]].compute().set_index("customer_id")[column]

        clv, t = timed(run)
    return {"assess": t, "clv": clv}


def assess_bench(
    path: Path,
    engines: list[str],
    partitions: int,
    warm: Path | None = None,
    purchase_model: str = "auto",
) -> list[dict[str, Any]]:
    """engines.assess of a fitted default Playbook: pandas, Spark local[2], 2-worker Dask.

    The playbook is fitted once with pandas on all records; each engine then
    assesses every customer from the Parquet file (read included; pandas
    ``from_frames`` + ``assess``), ``customer_id`` and ``clv`` collected
    (every column is computed), and its ``clv`` (or, when the Playbook has no
    value models, the first of :data:`COMPARED` it gives) is compared with
    pandas ``Playbook.assess`` (exact equality expected). Spark ``summarize``
    (``noop`` write) is timed against pandas ``read_parquet`` + ``summarize``
    too. The pandas records are freed before the engines run.
    """
    pb, ref_clv, pt, n_cust = _pandas_side(path, purchase_model)
    column = str(ref_clv.name)
    print(
        f"\nPlaybook(purchase_model={purchase_model!r}) on {n_cust:,} customers; "
        f"compared: {column!r}"
    )
    for note in pb.notes_:
        print(f"  note: {note}")
    print(
        f"  pandas: read + summarize {pt['summarize']:.1f} s; read + validate {pt['data']:.1f} s,"
        f" fit {pt['fit']:.1f} s, assess {pt['assess']:.1f} s"
    )

    def compare(clv: pd.Series) -> str:
        got = clv.sort_index()
        if not got.index.equals(ref_clv.index):
            return "DIFFERENT customers"
        exact = bool(np.array_equal(got.to_numpy(), ref_clv.to_numpy(), equal_nan=True))
        return f"{column} identical" if exact else f"{column} DIFFERS"

    rows: list[dict[str, Any]] = [
        {
            "engine": "pandas",
            "cores": 1,
            "assess": pt["data"] + pt["assess"],
            "summarize": pt["summarize"],
            "same": "reference",
        }
    ]
    if "spark" in engines:
        res = _spark_side(path, pb, partitions, warm, column)
        same = compare(res.pop("clv"))
        rows.append({"engine": "spark", "cores": 2, **res, "same": same})
    if "dask" in engines:
        res = _dask_side(path, pb, partitions, column)
        same = compare(res.pop("clv"))
        rows.append({"engine": "dask", "cores": 2, **res, "same": same})
    base = rows[0]
    print(
        f"\n{'engine':8} {'read + assess':>14} {'x pandas':>9} {'customers/s/core':>17} "
        f"{'summarize':>10} {'x pandas':>9}  vs pandas"
    )
    for row in rows:
        rate = n_cust / (row["assess"] * row["cores"])
        summ = row.get("summarize")
        summ_text = f"{summ:>9.1f}s {summ / base['summarize']:>8.2f}x" if summ else " " * 20
        print(
            f"{row['engine']:8} {row['assess']:>13.1f}s {row['assess'] / base['assess']:>8.2f}x "
            f"{rate:>17,.0f} {summ_text}  {row['same']}"
        )
        row["customers"] = n_cust
    return rows


def _assess_main(args: Any, workdir: Path) -> None:
    warm = None
    if "spark" in args.engines and not args.no_warmup:
        warm = workdir / "warm.parquet"
        make_parquet(100_000, warm, seed=1)
    summary = []
    for n in args.sizes or [args.n]:
        path = workdir / f"tx_{n}.parquet"
        _, t_gen = timed(lambda n=n, path=path: make_parquet(n, path))
        print(
            f"\n{n:,} transactions -> {path.stat().st_size / 1e6:.0f} MB Parquet in {t_gen:.1f} s"
        )
        engines = [e for e in args.engines if e in ("spark", "dask")]
        summary += [
            {"transactions": n, **row}
            for row in assess_bench(path, engines, args.partitions, warm, args.purchase_model)
        ]
        path.unlink()
    print(f"\n{'transactions':>13} {'engine':8} {'assess s':>9} {'summarize s':>12}")
    for row in summary:
        summ = f"{row['summarize']:>12.1f}" if row.get("summarize") else ""
        print(f"{row['transactions']:>13,} {row['engine']:8} {row['assess']:>9.1f} {summ}")


RUNNERS = {
    "pandas": run_pandas,
    "polars": run_polars,
    "duckdb": run_duckdb,
    "dask": run_dask,
    "spark": run_spark,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="transactions")
    parser.add_argument(
        "--spark-n", type=int, default=None, help="transactions for Spark (default: --n)"
    )
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument(
        "--assess",
        "--playbook",
        dest="assess",
        action="store_true",
        help="only engines.assess of a fitted Playbook (pandas, spark, dask) and summarize",
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=lambda text: int(float(text)),
        default=None,
        help="with --assess: transactions, one run each (1e7 allowed; default --n)",
    )
    parser.add_argument(
        "--purchase-model",
        default="auto",
        help="with --assess: the Playbook's purchase_model (e.g. bgnbd when the default "
        "Pareto/NBD is not identified on the synthetic data)",
    )
    parser.add_argument(
        "--no-warmup", action="store_true", help="with --assess: no untimed Spark warm-up"
    )
    parser.add_argument("--partitions", type=int, default=8, help="customer buckets")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    workdir = Path(tempfile.mkdtemp(prefix="crmkit-bench-"))
    if args.assess:
        try:
            _assess_main(args, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    try:
        path = workdir / "tx.parquet"
        _, t_gen = timed(lambda: make_parquet(args.n, path))
        print(
            f"{args.n:,} transactions -> {path.stat().st_size / 1e6:.0f} MB Parquet "
            f"in {t_gen:.1f} s"
        )
        # reference: the pandas view and models fitted on its sufficient statistics
        view = crmkit.summarize(pd.read_parquet(path), as_of=AS_OF)
        print(f"{len(view):,} customers, {int((view['frequency'] > 0).sum()):,} repeat buyers")
        stats, t_stats = timed(lambda: sufficient_stats(view))
        bg, t_fit_stats = timed(lambda: BetaGeo().fit(stats, weights=stats["weights"]))
        bg_all, t_fit_all = timed(lambda: BetaGeo().fit(view))
        spend = sufficient_stats(view, SPEND_COLUMNS, resolution=0.01)
        gg = GammaGamma().fit(spend, weights=spend["weights"])
        models = (bg, gg)
        print("\nBG/NBD fit")
        print(f"  on all customers:       {len(view):>10,} rows  {t_fit_all:7.2f} s")
        print(
            f"  on sufficient stats:    {len(stats):>10,} rows  {t_fit_stats:7.2f} s "
            f"(+ {t_stats:.2f} s to count them)"
        )
        rel = np.max(np.abs(bg.summary()["estimate"] / bg_all.summary()["estimate"] - 1))
        print(
            f"    largest relative parameter difference: {rel:.1e}; "
            f"log-likelihoods {bg.log_likelihood_:.4f} vs {bg_all.log_likelihood_:.4f}"
        )
        coarse, t_coarse = timed(lambda: sufficient_stats(view, resolution=1.0))
        bg_c, t_fit_c = timed(lambda: BetaGeo().fit(coarse, weights=coarse["weights"]))
        rel_c = np.max(np.abs(bg_c.summary()["estimate"] / bg_all.summary()["estimate"] - 1))
        print(
            f"  on stats rounded to 1 week: {len(coarse):>6,} rows  {t_fit_c:7.2f} s "
            f"(+ {t_coarse:.2f} s; an approximation: parameters within {rel_c:.1e})"
        )
        rows = []
        ref_scores = None
        ref_stats = stats
        for engine in args.engines:
            src = path
            n = args.n
            if engine == "spark" and args.spark_n and args.spark_n != args.n:
                n = args.spark_n
                src = workdir / "tx_spark.parquet"
                make_parquet(n, src)
            try:
                res, t_all = timed(lambda e=engine, s=src: RUNNERS[e](s, models))
            except ImportError as exc:
                print(f"{engine}: skipped ({exc})")
                continue
            same = "-"
            if n == args.n:
                if ref_scores is None:
                    ref_scores = res["scores"].sort_index()
                got = res["scores"].sort_index()
                same_stats = res["stats_table"].equals(ref_stats)
                diff = float(np.max(np.abs(got.to_numpy() / ref_scores.to_numpy() - 1)))
                same = f"stats {'identical' if same_stats else 'DIFFER'}; CLV rel. diff {diff:.0e}"
            rows.append((engine, n, res["summarize"], res["stats"], res["score"], t_all, same))
        print(
            f"\n{'engine':8} {'transactions':>13} {'summarize':>10} {'stats':>7} "
            f"{'score':>7} {'total':>7}  vs pandas"
        )
        for engine, n, t1, t2, t3, tt, same in rows:
            print(f"{engine:8} {n:>13,} {t1:>9.1f}s {t2:>6.1f}s {t3:>6.1f}s {tt:>6.1f}s  {same}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
