"""Composition: the :class:`Playbook` that assesses every customer.

A playbook composes a lifecycle stager, a purchase and a spend model, a
loyalty index, segmenters, churn detectors and a care model (chosen by
registry name or given as objects), computes the columns each plugin
requires, and returns one row per customer: stage, status, CLV, P(alive),
expected purchases, loyalty, segment or portfolio, churn risk and reasons,
and the care plan. The same fitted playbook assesses one customer's records
(``assess_one``), exactly as in bulk, and saves to JSON.

:func:`demo_sections` renders the playbook part of ``crmkit demo``.

Examples
--------
>>> from crmkit.compose import Playbook
>>> from crmkit.datasets import make_crm
>>> crm = make_crm(60, seed=3)
>>> result = Playbook(care="lifecycle").fit(crm.data).assess(crm.data)
>>> sorted(result["status"].unique().tolist())
['active', 'lapsed']
"""

from crmkit.compose._assessment import assessment_from_row, lapsed_from
from crmkit.compose._demo import demo_sections
from crmkit.compose._playbook import Playbook
from crmkit.compose._steps import PURCHASE_MODELS, SPEND_MODELS, ObservedSpend

__all__ = [
    "PURCHASE_MODELS",
    "SPEND_MODELS",
    "ObservedSpend",
    "Playbook",
    "assessment_from_row",
    "demo_sections",
    "lapsed_from",
]
