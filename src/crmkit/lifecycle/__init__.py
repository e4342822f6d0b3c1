"""Customer lifecycle: stage assignment, stage migration, cohorts, sales pipeline.

Mäntyneva describes four stages of a customership: acquisition
(a prospect), onboarding (the new customer is taken over), development
(loyalty and purchases are grown) and retention (a mature customership is
held on to). Whether the customership is still going on is a separate
*status*: active, or lapsed (most likely stopped buying; the customer keeps
its stage). :mod:`crmkit.domain` holds the stages and the rules between
them; the names are the kernel's (:data:`crmkit.plugins.STAGES`,
:data:`crmkit.plugins.STATUSES`).

Two stagers (plugins of kind ``stagers``) place each customer of a customer
view: ``stage(view)`` returns the categorical ``stage`` column (the four
stages), ``stage_frame(view)`` adds ``status`` and ``stage_reasons`` (the
reasons, with the customer's own numbers):

- :class:`RuleStager` (registry name ``rules``, the default) applies
  transparent thresholds to what each customer did: time since the first
  purchase, purchase trend, product breadth, tenure. It calls a customer
  lapsed when its silence is well beyond its own usual gap between
  purchases and the purchase model's P(alive) agrees (where the view has
  one). Easy to explain and to tune, no model needed; but each customer is
  judged on its own few purchases, so a light buyer's rhythm is noisy.
- :class:`ModelStager` (``model``) lets a fitted purchase model from
  :mod:`crmkit.value` (BG/NBD, Pareto/NBD ...) judge: *development* when
  the model expects the customer to buy faster than it has so far,
  *retention* otherwise, *lapsed* when P(alive) is low and the customer's
  rhythm agrees. The model pools the whole base, so sparse histories are
  read against everybody's; it needs enough repeat buyers to fit, and its
  stages are only as good as the model's fit.

Over time, :func:`stage_history` re-stages the records at several as-of
dates and :func:`stage_migration` counts the moves between two of them
(from ``"(new)"``, to ``"(gone)"``; the same for statuses);
:func:`cohort_retention` follows each first-purchase cohort. For the
acquisition side, :func:`pipeline_report` analyses the sales pipeline of
a sales process (identification, marketing actions, offer, negotiation, order):
funnel, conversion rates, days per stage, win rate and a weighted forecast.

Examples
--------
>>> from crmkit.lifecycle import RuleStager
>>> from crmkit.testing import make_customer_view
>>> view = make_customer_view(200, seed=5)
>>> stages = RuleStager().fit(view).stage(view)
>>> int(stages.value_counts().sum())
200
"""

from crmkit.lifecycle._cohorts import CohortRetention, cohort_retention
from crmkit.lifecycle._history import PROSPECT_PREFIX, stage_history, stage_prospects
from crmkit.lifecycle._migration import GONE, NEW, StageMigration, stage_migration
from crmkit.lifecycle._model import ModelStager
from crmkit.lifecycle._pipeline import PIPELINE_STAGES, PipelineReport, pipeline_report
from crmkit.lifecycle._rules import RuleStager

__all__ = [
    "GONE",
    "NEW",
    "PIPELINE_STAGES",
    "PROSPECT_PREFIX",
    "CohortRetention",
    "ModelStager",
    "PipelineReport",
    "RuleStager",
    "StageMigration",
    "cohort_retention",
    "pipeline_report",
    "stage_history",
    "stage_migration",
    "stage_prospects",
]
