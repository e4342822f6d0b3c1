"""Care models, account plans and contact coverage.

A care model (*hoitomalli*) says how each customer is looked
after: how intensively, how often, through which channel, by whom, with
which activities and with what share of the care budget. Three care models
(plugins of kind ``care_models``) read a customer's assessment columns and
return the care plan columns of :data:`crmkit.plugins.CARE_PLAN_COLUMNS`:

- :class:`PortfolioCare` (registry name ``portfolio``) — portfolios A-D:
  contract customers with a care and activity plan, growth, contact as
  needed, watched for growth;
- :class:`LifecycleCare` (``lifecycle``) — actions per lifecycle stage:
  onboarding, development, retention, win-back; top-value customers first;
- :class:`KeyAccountCare` (``key_accounts``) — key accounts versus the
  rest, effort prioritised by value.

In all three, churn reasons override routine care: a customer at risk gets
the retention action matching its strongest early-warning signal
(:data:`RETENTION_ACTIONS`). ``plan_one`` plans a single customer.

These default tables describe business-to-business care (key account
managers, sellers). For consumer businesses, :data:`CONSUMER_PORTFOLIO_RULES`,
:data:`CONSUMER_LIFECYCLE_RULES` and :data:`CONSUMER_RETENTION_ACTIONS` say the
same in e-mail, app, service desk, offers and win-back; pass them as
``table`` and ``retention_actions`` (a :class:`crmkit.compose.Playbook` with
``care="auto"`` does so when the records hold no firmographics or contacts).

For key account management, :func:`contact_coverage` / :func:`contact_map`
show who we know at each account, who decides and whose relationship hangs
on one person; :func:`crmkit.compose.account_plan` builds a customer's
account plan from them, a playbook's assessment and cross-sell suggestions.

Examples
--------
>>> import pandas as pd
>>> from crmkit.care import PortfolioCare
>>> view = pd.DataFrame({"portfolio": ["A", "D"], "clv": [5000.0, 20.0],
...                      "churn_risk": [0.1, 0.1]},
...                     index=pd.Index(["a", "b"], name="customer_id"))
>>> PortfolioCare().fit(view).plan(view)["owner_role"].tolist()
['key account manager', 'marketing']
"""

from crmkit.care._allocate import MILP_MAX_PAIRS, Allocation, allocate, allocate_in_order
from crmkit.care._common import INTENSITY_DTYPE, CareModelBase, care_plan_from_row
from crmkit.care._consumer import (
    CONSUMER_LIFECYCLE_RULES,
    CONSUMER_PORTFOLIO_RULES,
    CONSUMER_RETENTION_ACTIONS,
)
from crmkit.care._coverage import COVERAGE_RISKS, contact_coverage, contact_map
from crmkit.care._key_accounts import KEY_ACCOUNT_RULES, KeyAccountCare
from crmkit.care._lifecycle import LIFECYCLE_RULES, LifecycleCare
from crmkit.care._portfolio import PORTFOLIO_RULES, PortfolioCare
from crmkit.care._rules import DEFAULT_INTENSITY_WEIGHTS, RETENTION_ACTIONS
from crmkit.care._tracking import TRACKING_COLUMNS, track_plans

__all__ = [
    "CONSUMER_LIFECYCLE_RULES",
    "CONSUMER_PORTFOLIO_RULES",
    "CONSUMER_RETENTION_ACTIONS",
    "COVERAGE_RISKS",
    "DEFAULT_INTENSITY_WEIGHTS",
    "INTENSITY_DTYPE",
    "KEY_ACCOUNT_RULES",
    "MILP_MAX_PAIRS",
    "LIFECYCLE_RULES",
    "PORTFOLIO_RULES",
    "RETENTION_ACTIONS",
    "TRACKING_COLUMNS",
    "Allocation",
    "CareModelBase",
    "KeyAccountCare",
    "LifecycleCare",
    "PortfolioCare",
    "allocate",
    "allocate_in_order",
    "care_plan_from_row",
    "contact_coverage",
    "contact_map",
    "track_plans",
]
