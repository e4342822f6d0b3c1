"""
Lifecycle stages and how customers move between them
====================================================

Onboarding (*haltuunotto*), development (*kehittäminen*), retention
(*säilyttäminen*) — and, within each stage, the customers who have lapsed.
We stage a synthetic customer base at two dates half a year apart, count the
moves, and follow the first-purchase cohorts.
"""

# %%
# Stages today
# ------------
import matplotlib.pyplot as plt

from crmkit.data import summarize
from crmkit.datasets import make_crm
from crmkit.lifecycle import RuleStager, cohort_retention, stage_history, stage_migration
from crmkit.plotting import plot_migration_flow, plot_migration_heatmap

crm = make_crm(600, seed=11)
view = summarize(crm.data)
stager = RuleStager().fit(view)
staged = stager.stage_frame(view)
view = view.join(staged)
staged.groupby(["stage", "status"], observed=True).size()

# %%
# The rules are readable. A customer younger than a year, or one whose
# purchases are growing, is in development; a mature one in retention. Any of
# them is *lapsed* when it has been silent for more than three times its own
# usual gap between purchases (one-time buyers: the base's typical gap), and
# the purchase model agrees where the view has its P(alive). Typical buyers'
# rhythm, learned from the base, in weeks:
round(stager.typical_interpurchase_, 2)

# %%
# Every customer's stage comes with its reasons, in its own numbers:
staged["stage_reasons"].head(3).tolist()

# %%
# What each stage looks like:
view.groupby("stage", observed=True)[
    ["frequency", "tenure", "purchase_trend", "days_since_last", "revenue"]
].median().round(1)

# %%
# Stage migration
# ---------------
# ``stage_history`` re-stages the records as they were on each date;
# ``stage_migration`` counts the moves, with ``(new)`` customers acquired in
# between (``stage_history(..., column="status")`` gives the statuses, whose
# moves ``stage_migration`` counts the same way).
history = stage_history(crm.data, ["2024-12-31", "2025-06-30"])
migration = stage_migration(history.iloc[:, 0], history.iloc[:, 1])
print(migration.counts)

# %%
ax = plot_migration_heatmap(migration)
plt.show()

# %%
ax = plot_migration_flow(migration)
plt.show()

# %%
# Cohort retention
# ----------------
# The share of each quarter's new customers still buying one, two, ...
# quarters later.
cohorts = cohort_retention(crm.data, freq="Q")
cohorts.shares.round(2)
