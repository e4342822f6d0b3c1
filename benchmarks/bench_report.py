"""Time ``crmkit report`` against ``summarize`` + ``Playbook().fit_assess`` on the same CSV.

Run by hand: ``python benchmarks/bench_report.py [--customers 25000] [--repeats 3]``.

The transactions of :func:`crmkit.datasets.make_crm` (``make_crm(25_000)``
gives about 1.1 million lines; only the transactions, as a user's export
would hold) are written once to a CSV file. Then, each in a fresh process and
alternating so that both see the same machine load:

(a) ``crmkit report tx.csv --out report.html`` (the command line, end to end:
    start-up, reading the CSV, validation, the playbook, the report's own
    analyses, the figures and the page);
(b) a script that reads the same CSV with pandas (ids as text, as the
    command line reads them), validates it into ``CustomerData``, runs
    ``summarize`` and ``Playbook().fit_assess``.

Printed: every run's wall and CPU seconds (user + system of the process),
the medians, the ratio (a) / (b) (issue #18 asks for at most 2) and the
report's own overhead ``((a) - (b)) / (b)``. The machine may be shared: the
ratios are what to read, not the seconds, and on a loaded machine the CPU
ratio is the steadier one.

``--as-of DATE`` reports as of that date (transactions after it become the
holdout the report tracks; the baseline validates with the same date).
``--compare SRC`` also times the report with crmkit imported from ``SRC``
(say the ``src/`` of an earlier checkout), in the same alternation.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE = """
import sys, time, warnings
t0 = time.perf_counter()
import pandas as pd
from crmkit.compose import Playbook
from crmkit.data import CustomerData, summarize
from crmkit.exceptions import DataWarning
warnings.simplefilter("ignore", DataWarning)
tx = pd.read_csv(sys.argv[1], dtype={"customer_id": str})
data = CustomerData.from_frames(transactions=tx, as_of=sys.argv[2] if len(sys.argv) > 2 else None)
view = summarize(data)
result = Playbook().fit_assess(data)
print(len(view), len(result), f"{time.perf_counter() - t0:.3f}")
"""


def write_csv(path: Path, n_customers: int) -> int:
    """Write the transactions of ``make_crm(n_customers)`` to ``path``; return the lines."""
    import warnings

    from crmkit.datasets import make_crm
    from crmkit.exceptions import DataWarning

    warnings.simplefilter("ignore", DataWarning)
    tx = make_crm(n_customers, seed=0).data.transactions
    tx.to_csv(path, index=False, date_format="%Y-%m-%d")
    return len(tx)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], pythonpath: str | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd`` in a fresh process (fails loudly)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    took = time.perf_counter() - start, _cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=25_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--csv", type=Path, help="reuse (or create) this CSV file")
    parser.add_argument(
        "--as-of", help="analysis date of the report (later transactions become its holdout)"
    )
    parser.add_argument(
        "--compare",
        metavar="SRC",
        help="also time the report with crmkit imported from SRC (e.g. the src/ of an "
        "earlier checkout), alternating with the others",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crmkit-bench-report-"))
    csv = args.csv or work / "tx.csv"
    if not csv.exists():
        start = time.perf_counter()
        n_lines = write_csv(csv, args.customers)
        print(
            f"wrote {n_lines:,} transaction lines to {csv} in {time.perf_counter() - start:.1f} s"
        )
    run_cli = "import sys; from crmkit.cli import main; sys.exit(main())"
    report = [sys.executable, "-c", run_cli, "report", str(csv), "--out", str(work / "r.html")]
    baseline = [sys.executable, "-c", BASELINE, str(csv)]
    if args.as_of:
        report += ["--as-of", args.as_of]
        baseline += [args.as_of]
    runs: list[tuple[str, list[str], str | None]] = [
        ("report", report, None),
        ("baseline", baseline, None),
    ]
    if args.compare:
        runs.insert(1, ("report (SRC)", report, str(Path(args.compare).resolve())))
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in runs}
    for i in range(args.repeats):
        for name, cmd, path in runs:
            times[name].append(timed(cmd, path))
            wall, cpu = times[name][-1]
            print(f"run {i + 1}: {name:<13}{wall:8.2f} s wall{cpu:8.2f} s CPU", flush=True)
    for k, what in enumerate(("wall", "CPU")):
        b = statistics.median(t[k] for t in times["baseline"])
        print(
            f"\n{what}, median of {args.repeats}: read + summarize + "
            f"Playbook().fit_assess {b:.2f} s"
        )
        for name, _, _ in runs:
            if name != "baseline":
                a = statistics.median(t[k] for t in times[name])
                print(
                    f"  crmkit {name:<13}{a:6.2f} s: ratio {a / b:.2f}x (target <= 2), own "
                    f"overhead {(a - b) / b:.2f}x of the baseline"
                )


if __name__ == "__main__":
    main()
