"""Time the Playbook end to end (fit + assess) on 10**5 customers, step by step.

Run: ``python benchmarks/bench_playbook.py [n_customers] [--care NAME]``, or
``python benchmarks/bench_playbook.py --table 10000 100000 1000000`` for the
scaling table of the performance page: each size in a fresh process, timing
``make_crm``, ``fit(data)`` then ``assess(data)`` and ``fit_assess(data)``
side by side (alternating, medians of 3 up to 10^5 customers; the ratio is
the saving of summarising the records once), the
growth of ``fit_assess`` per 10x customers, and the peak resident memory
(after generating the records, and overall), plus the Playbook's own peak
above the records: once the records are built and freed memory is handed back
to the system (``malloc_trim``), the kernel's high-water mark of resident
memory is reset (``5`` written to ``/proc/self/clear_refs``) and
read back (``VmHWM``) after ``fit_assess``. Where ``/proc`` cannot be written,
the resident memory is sampled every 10 ms instead (marked ``~``: a sampled
peak can miss a short spike).

The records come from :func:`crmkit.datasets.make_crm` (transactions,
customers, contacts, interactions, feedback, events, campaigns). The script
times generating and validating them, then ``Playbook().fit(data)`` and
``playbook.assess(data)`` with the default components (rule stager, BG/NBD +
Gamma-Gamma CLV, loyalty index, portfolio segmenter, signal-rule churn
detector, portfolio care model), and prints the seconds and the share of
each step (``Playbook.timings_``: summarising the records into the customer
view, creating the components (first imports included), value models, loyalty, stager, segmenter, churn, care, assembling the
result). It ends with the cost of assessing one customer from its own
records (``assess_one(data.for_customer(id))``, the path of services that
embed crmkit), averaged over 20 customers, with the share of summarising
those records into the one-row customer view.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import resource
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from crmkit.compose import Playbook
from crmkit.data import summarize
from crmkit.datasets import make_crm
from crmkit.exceptions import DataWarning

STEPS = ("view", "setup", "value", "loyalty", "stager", "segmenter", "churn", "care", "assemble")


def table(title: str, timings: dict[str, float], total: float) -> str:
    lines = [f"{title}: {total:.2f} s", f"  {'step':<11}{'seconds':>9}{'share':>8}"]
    for step in STEPS:
        if step in timings:
            lines.append(f"  {step:<11}{timings[step]:>9.3f}{timings[step] / total:>8.1%}")
    other = total - sum(timings.values())
    lines.append(f"  {'(other)':<11}{other:>9.3f}{other / total:>8.1%}")
    return "\n".join(lines)


def main(n: int, care: str) -> None:
    warnings.simplefilter("ignore", DataWarning)
    start = time.perf_counter()
    crm = make_crm(n, seed=0)
    data = crm.data
    made = time.perf_counter() - start
    print(
        f"{n:,} customers, {len(data.transactions):,} transaction lines "
        f"(generated and validated in {made:.1f} s)"
    )
    playbook = Playbook(care=care)
    memory: dict[str, float] = {}
    with peak_above(memory):
        start = time.perf_counter()
        playbook.fit(data)
        fit_s = time.perf_counter() - start
        fit_t = dict(playbook.timings_)
        start = time.perf_counter()
        result = playbook.assess(data)
        assess_s = time.perf_counter() - start
    assess_t = dict(playbook.timings_)
    print(table("fit", fit_t, fit_s))
    print(table("assess", assess_t, assess_s))
    total = fit_s + assess_s
    merged = {k: fit_t.get(k, 0.0) + assess_t.get(k, 0.0) for k in STEPS}
    print(table(f"end to end (fit + assess), {total / n * 1e6:.0f} us per customer", merged, total))
    print(
        f"peak resident memory of fit + assess above the records: "
        f"{'~' if memory['above_sampled'] else ''}{memory['above_gb']:.2f} GB"
    )
    customers = list(result.index[: min(20, len(result))])
    playbook.assess_one(data.for_customer(customers[0]))  # warm up
    steps: dict[str, float] = {}
    start = time.perf_counter()
    for customer in customers:
        playbook.assess_one(data.for_customer(customer))
        for k, v in playbook.timings_.items():
            steps[k] = steps.get(k, 0.0) + v / len(customers)
    one = (time.perf_counter() - start) / len(customers)
    histories = [data.for_customer(customer) for customer in customers]
    start = time.perf_counter()
    for history in histories:
        summarize(history)
    summary = (time.perf_counter() - start) / len(customers)
    print(
        f"one customer (for_customer + assess_one), mean of {len(customers)}: {one * 1000:.0f} ms"
        f"; summarize(data.for_customer(id)) alone {summary * 1000:.1f} ms; steps: "
        + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in steps.items())
    )


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # kB on Linux


def _status_gb(field: str) -> float | None:
    """A memory line of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in GB; None without /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024**2  # kB
    except OSError:
        pass
    return None


def _release_free_memory() -> None:
    """Hand memory freed by earlier steps back to the system (glibc), so it is not reused unseen."""
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _reset_high_water_mark() -> bool:
    """Reset the kernel's peak resident memory (VmHWM) to the current one; False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


@contextmanager
def peak_above(out: dict[str, float]) -> Iterator[None]:
    """Measure the peak resident memory of the block above the memory at its start.

    Sets ``out["above_gb"]`` and ``out["above_sampled"]`` (1.0 when the peak
    was sampled every 10 ms because the kernel's high-water mark could not be
    reset; then it can miss a short spike).
    """
    _release_free_memory()  # the start is then the records alone, not also freed heap
    start = _status_gb("VmRSS")
    exact = start is not None and _reset_high_water_mark()
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            now = _status_gb("VmRSS")
            samples.append(now if now is not None else _peak_gb())

    watcher = None if exact else threading.Thread(target=sample, daemon=True)
    if watcher is not None:
        watcher.start()
    try:
        yield
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
        base = start if start is not None else _peak_gb()
        high = _status_gb("VmHWM") if exact else max(samples, default=base)
        out["above_gb"] = max((high or base) - base, 0.0)
        out["above_sampled"] = 0.0 if exact else 1.0


def measure(n: int) -> dict[str, float]:
    """One size, in this process: seconds, transaction lines and peak memory."""
    warnings.simplefilter("ignore", DataWarning)
    small = make_crm(300, seed=1).data  # warm up: first imports, registry, caches
    Playbook().fit(small).assess(small)
    Playbook().fit_assess(small)
    start = time.perf_counter()
    data = make_crm(n, seed=0).data
    out = {"n": n, "lines": len(data.transactions), "make": time.perf_counter() - start}
    out["records_gb"] = _peak_gb()
    once, twice = [], []
    for rep in range(3 if n <= 100_000 else 1):  # alternating; medians on a shared machine
        with peak_above(out) if rep == 0 else _nothing():
            start = time.perf_counter()
            one = Playbook().fit_assess(data)
            once.append(time.perf_counter() - start)
        if rep == 0:
            out["peak_gb"] = _peak_gb()
        start = time.perf_counter()
        two = Playbook().fit(data).assess(data)
        twice.append(time.perf_counter() - start)
        assert one.equals(two), "fit_assess must equal fit then assess"
        del one, two
    out["fit_assess"] = sorted(once)[len(once) // 2]
    out["fit_then_assess"] = sorted(twice)[len(twice) // 2]
    return out


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def scaling_table(sizes: list[int]) -> None:
    """Each size in a fresh process (so peak memory is its own), then the table."""
    rows = []
    for n in sizes:
        done = subprocess.run(
            [sys.executable, __file__, str(n), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        f"{'customers':>10}{'lines':>12}{'make_crm':>10}{'fit+assess':>12}{'fit_assess':>12}"
        f"{'ratio':>7}{'growth':>8}{'records':>9}{'peak':>7}{'above records':>15}"
    )
    previous = None
    for row in rows:
        growth = "-" if previous is None else f"{row['fit_assess'] / previous:.1f}x"
        print(
            f"{row['n']:>10,}{row['lines']:>12,}{row['make']:>9.1f}s"
            f"{row['fit_then_assess']:>11.2f}s{row['fit_assess']:>11.2f}s"
            f"{row['fit_then_assess'] / row['fit_assess']:>6.2f}x{growth:>8}"
            f"{row['records_gb']:>8.2f}G{row['peak_gb']:>6.2f}G"
            f"{'~' if row['above_sampled'] else '':>10}{row['above_gb']:.2f}G"
        )
        previous = row["fit_assess"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_customers", nargs="?", type=int, default=100_000)
    parser.add_argument("--care", default="portfolio")
    parser.add_argument("--table", nargs="+", type=int, metavar="N")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.table:
        scaling_table(args.table)
    elif args.json:
        print(json.dumps(measure(args.n_customers)))
    else:
        main(args.n_customers, args.care)
