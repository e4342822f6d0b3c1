"""Customer lifecycle: stage assignment, stage migration, cohorts, sales pipeline.

Seed 000 (Mäntyneva) describes four stages of a customership: acquisition
(a prospect), onboarding (the new customer is taken over), development
(loyalty and purchases are grown) and retention (a mature customership is
held on to); a lost customer gets the status *lapsed*
(:mod:`crmkit.domain` holds the stages and the rules between them).

Two stagers (plugins of kind ``stagers``) place each customer of a customer
view in a stage; both return a categorical ``stage`` column with the
categories acquisition, onboarding, development, retention, lapsed:

- :class:`RuleStager` (registry name ``rules``, the default) applies
  transparent thresholds to what each customer did: time since the last
  purchase against its own purchase rhythm (and an absolute limit),
  time since the first purchase, purchase trend, product breadth, tenure.
  Easy to explain and to tune, no model needed; but each customer is judged
  on its own few purchases, so a light buyer's rhythm is noisy.
- :class:`ModelStager` (``model``) lets a fitted purchase model from
  :mod:`crmkit.value` (BG/NBD, Pareto/NBD ...) judge: *lapsed* when
  P(alive) is low, *development* when the model expects the customer to
  buy faster than it has so far (value expected to grow), *retention*
  otherwise. The model pools the whole base, so sparse histories are read
  against everybody's; it needs enough repeat buyers to fit, and its
  stages are only as good as the model's fit.

Over time, :func:`stage_history` re-stages the records at several as-of
dates and :func:`stage_migration` counts the moves between two of them
(from ``"(new)"``, to ``"(gone)"``, into and out of lapsed);
:func:`cohort_retention` follows each first-purchase cohort. For the
acquisition side, :func:`pipeline_report` analyses the sales pipeline of
seed 003 (identification, marketing actions, offer, negotiation, order):
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
