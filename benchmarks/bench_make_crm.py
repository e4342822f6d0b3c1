"""Time :func:`make_crm` on about 10 million transaction rows.

Run: ``python benchmarks/bench_make_crm.py [n_customers]``. With the default
parameters a customer has about 55 transaction rows, so 182,000 customers
give about 10^7 rows. Also times ``crm.data`` (the cut at ``as_of`` and its
validation) and splits CPU into user and system time: system time is mostly
the kernel zeroing fresh pages of new arrays. Run one 10^6-customer process at
a time (about 5 GB).
"""

from __future__ import annotations

import resource
import sys
import time
import warnings

from crmkit.datasets._synthetic import make_crm


def main(n_customers: int = 182_000) -> None:
    """Generate the CRM once, print the time and the frame sizes."""
    t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    crm = make_crm(n_customers, seed=0)
    elapsed, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    n_rows = len(crm.frames["transactions"])
    print(
        f"make_crm({n_customers:,}): {n_rows:,} transactions in {elapsed:.1f} s wall, "
        f"{r1.ru_utime - r0.ru_utime:.1f} s user + {r1.ru_stime - r0.ru_stime:.1f} s system "
        f"({n_rows / elapsed / 1e6:.2f} M rows/s wall)"
    )
    for kind, frame in crm.frames.items():
        print(f"  {kind:<13}{len(frame):>12,} rows")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unmatched ids of the synthetic records
        crm.data  # noqa: B018
    r2 = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"crm.data: {time.perf_counter() - t0:.1f} s wall, {r2.ru_utime - r1.ru_utime:.1f} s "
        f"user + {r2.ru_stime - r1.ru_stime:.1f} s system; peak RSS {r2.ru_maxrss / 1e6:.2f} GB"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 182_000)
