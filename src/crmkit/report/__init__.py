"""The customer-base report: one self-contained HTML file a manager can open.

:func:`build_report` returns the page as a string, :func:`write_report`
saves it. The report needs matplotlib (``pip install 'crmkit[plot]'``); it
has no external assets (inline styles, inline SVG figures and a small
inline script that checks every figure rendered).

Examples
--------
>>> from crmkit.datasets import load_cdnow, CDNOW_CALIBRATION_END
>>> from crmkit.report import build_report
>>> tx = load_cdnow()
>>> html = build_report(tx, as_of=CDNOW_CALIBRATION_END, holdout=tx)  # doctest: +SKIP
"""

from crmkit.report._build import build_report, write_report

__all__ = ["build_report", "write_report"]
