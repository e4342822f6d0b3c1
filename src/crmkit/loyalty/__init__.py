"""Loyalty and customer-experience measurement.

- :class:`LoyaltyIndex` -- loyalty 0-100 from buying behaviour (repeat
  rate, tenure, regularity, product breadth, share of wallet) and attitude
  (NPS, CSAT, CES), with its components and the weights used per customer.
- :func:`nps`, :func:`csat`, :func:`ces` -- the basic CX metrics with
  confidence intervals, overall, by segment and over time.
- :func:`cx_pulse` -- the continuous customer pulse: a rolling metric with a
  significant-drop alarm.
- :func:`feedback_loop` -- are complaints and suggestions answered, how fast,
  and what is still open per customer.

Examples
--------
>>> import pandas as pd
>>> from crmkit.loyalty import nps
>>> fb = pd.DataFrame({"customer_id": [1, 2, 3, 4], "date": "2024-05-01", "kind": "nps",
...                    "score": [10, 9, 7, 2]})
>>> float(nps(fb).loc["all", "nps"])
25.0
"""

from crmkit.loyalty._cx import ces, csat, nps
from crmkit.loyalty._feedback_loop import LOOP_KINDS, FeedbackLoopReport, feedback_loop
from crmkit.loyalty._index import COMPONENTS, DEFAULT_WEIGHTS, LoyaltyIndex
from crmkit.loyalty._pulse import PULSE_METRICS, cx_pulse
from crmkit.loyalty._stats import NPS_METHODS

__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "LOOP_KINDS",
    "NPS_METHODS",
    "PULSE_METRICS",
    "FeedbackLoopReport",
    "LoyaltyIndex",
    "ces",
    "csat",
    "cx_pulse",
    "feedback_loop",
    "nps",
]
