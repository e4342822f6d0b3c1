"""The CRM domain: lifecycle stages, entities and value objects (pure Python).

Everything here is an immutable :mod:`attrs` class with validated fields;
change one with :func:`attrs.evolve`. Entities (:class:`Customer`,
:class:`Contact`, :class:`Prospect`, :class:`Campaign`) compare by id; records
and value objects compare by value. Rows of the canonical record frames are
read with the ``from_row`` named constructors.

Examples
--------
>>> from crmkit.domain import LifecycleStage, Customer
>>> LifecycleStage.ONBOARDING.transition("development").value
'development'
>>> Customer.from_row({"customer_id": "C1", "key_account": True}).key_account
True
"""

from crmkit.domain._assessment import CustomerAssessment
from crmkit.domain._campaigns import Campaign, CampaignTouch, TouchGroup
from crmkit.domain._lifecycle import (
    ALLOWED_TRANSITIONS,
    LAPSED,
    STAGE_ORDER,
    CustomerStatus,
    LifecycleStage,
    LifecycleState,
    can_transition,
    check_transition,
)
from crmkit.domain._parties import Contact, Customer, PipelineStage, Prospect
from crmkit.domain._plans import AccountPlan, BuyingRole, CareIntensity, CarePlan, NextStep
from crmkit.domain._records import (
    SCORE_SCALES,
    Feedback,
    FeedbackKind,
    Interaction,
    InteractionKind,
    NpsClass,
    ProfileChange,
    Transaction,
)
from crmkit.domain._targets import PLAN_METRICS, PlanTarget

__all__ = [
    "ALLOWED_TRANSITIONS",
    "LAPSED",
    "PLAN_METRICS",
    "SCORE_SCALES",
    "STAGE_ORDER",
    "AccountPlan",
    "BuyingRole",
    "Campaign",
    "CampaignTouch",
    "CareIntensity",
    "CarePlan",
    "Contact",
    "Customer",
    "CustomerAssessment",
    "CustomerStatus",
    "Feedback",
    "FeedbackKind",
    "Interaction",
    "InteractionKind",
    "LifecycleStage",
    "LifecycleState",
    "NextStep",
    "NpsClass",
    "PipelineStage",
    "PlanTarget",
    "ProfileChange",
    "Prospect",
    "TouchGroup",
    "Transaction",
    "can_transition",
    "check_transition",
]
