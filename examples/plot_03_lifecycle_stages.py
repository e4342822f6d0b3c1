"""
Lifecycle stages and how customers move between them
====================================================

Onboarding (*haltuunotto*), development (*kehittäminen*), retention
(*säilyttäminen*) — and lapsed. We stage a synthetic customer base at two
dates half a year apart, count the moves, and follow the first-purchase
cohorts.
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
view["stage"] = stager.stage(view)
view["stage"].value_counts()

# %%
# The rules are readable. A customer who bought once and has been silent for
# longer than a quarter, or anyone silent for over a year, is lapsed; a
# customer younger than a year, or one whose purchases are growing, is in
# development. Typical buyers' rhythm, learned from the base, in weeks:
round(stager.typical_interpurchase_, 2)

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
# between.
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
