"""Composition: the :class:`Playbook` that assesses every customer.

A playbook composes a lifecycle stager, a purchase and a spend model, a
loyalty index, segmenters, churn detectors and a care model (chosen by
registry name or given as objects), computes the columns each plugin
requires, and returns one row per customer: stage, status, CLV, P(alive),
expected purchases, loyalty, segment or portfolio, churn risk and reasons,
and the care plan. The same fitted playbook assesses one customer's records
(``assess_one``), exactly as in bulk, and saves to JSON.

With no arguments, ``Playbook()`` chooses its steps from the records at fit
time (its ``"auto"`` parameters): the purchase and spend models, churn risk
as the probability of no purchase within the horizon with the early-warning
signals the records feed, and consumer or business care tables; it says what
it chose and left out (``resolved_``, ``notes_``, ``result.attrs``).

:func:`demo_sections` renders the playbook part of ``crmkit demo``;
:func:`top_risks` lists the customers most at risk (ties broken by the value
at risk).

Examples
--------
>>> from crmkit.compose import Playbook
>>> from crmkit.datasets import make_crm
>>> crm = make_crm(60, seed=3)
>>> result = Playbook(care="lifecycle").fit(crm.data).assess(crm.data)
>>> sorted(result["status"].unique().tolist())
['active', 'lapsed']
"""

from crmkit.compose._account_plan import Assessor, account_plan
from crmkit.compose._assessment import assessment_from_row, lapsed_from
from crmkit.compose._defaults import AUTO, FIRMOGRAPHIC_COLUMNS
from crmkit.compose._demo import demo_sections
from crmkit.compose._playbook import Playbook
from crmkit.compose._progress import LARGE, StepBar, step_bar
from crmkit.compose._ranking import distinguishing_digits, format_risk, top_risks
from crmkit.compose._steps import PURCHASE_MODELS, SPEND_MODELS, ObservedSpend, value_model
from crmkit.compose._value_defaults import (
    DEFAULT_PENALIZER,
    DEFAULT_PURCHASE_MODEL,
    MIN_REPEAT_BUYERS,
)

__all__ = [
    "AUTO",
    "DEFAULT_PENALIZER",
    "DEFAULT_PURCHASE_MODEL",
    "FIRMOGRAPHIC_COLUMNS",
    "LARGE",
    "MIN_REPEAT_BUYERS",
    "PURCHASE_MODELS",
    "SPEND_MODELS",
    "Assessor",
    "ObservedSpend",
    "Playbook",
    "StepBar",
    "account_plan",
    "assessment_from_row",
    "demo_sections",
    "distinguishing_digits",
    "format_risk",
    "step_bar",
    "lapsed_from",
    "top_risks",
    "value_model",
]
