"""Time the Playbook end to end (fit + assess) on 10**5 customers, step by step.

Run: ``python benchmarks/bench_playbook.py [n_customers] [--care NAME]``.

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
import time
import warnings

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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_customers", nargs="?", type=int, default=100_000)
    parser.add_argument("--care", default="portfolio")
    args = parser.parse_args()
    main(args.n_customers, args.care)
