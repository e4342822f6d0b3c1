"""Time :func:`make_crm` on about 10 million transaction rows.

Run: ``python benchmarks/bench_make_crm.py [n_customers]``. With the default
parameters a customer has about 55 transaction rows, so 182,000 customers
give about 10^7 rows.
"""

from __future__ import annotations

import sys
import time

from crmkit.datasets._synthetic import make_crm


def main(n_customers: int = 182_000) -> None:
    """Generate the CRM once, print the time and the frame sizes."""
    t0, c0 = time.perf_counter(), time.process_time()
    crm = make_crm(n_customers, seed=0)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    n_rows = len(crm.frames["transactions"])
    print(
        f"make_crm({n_customers:,}): {n_rows:,} transactions in {elapsed:.1f} s wall, "
        f"{cpu:.1f} s CPU ({n_rows / elapsed / 1e6:.2f} M rows/s wall)"
    )
    for kind, frame in crm.frames.items():
        print(f"  {kind:<13}{len(frame):>12,} rows")
    t0 = time.perf_counter()
    crm.calibration_frames()
    print(f"calibration_frames(): {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 182_000)
