"""
Campaign uplift against a control group
=======================================

The synthetic CRM ran two campaigns with random control groups: a
cross-sell offer (``K1``) that makes some treated customers buy once more,
and a newsletter (``K2``) that changes nothing. Only the comparison with
the control group tells them apart.
"""

# %%
# Campaigns against their goals
# -----------------------------
import matplotlib.pyplot as plt
import numpy as np

from crmkit.datasets import make_crm
from crmkit.measure import campaign_report, uplift_test

crm = make_crm(3000, seed=0)
report = campaign_report(crm.data)
report.campaigns[
    ["name", "n_touched", "conversion_rate", "n_control", "control_conversion_rate", "roi"]
].round(3)

# %%
# The goals are evaluated on the incremental result (treatment against
# control): what the campaign caused. ``gross`` is what happened during it —
# by that measure both campaigns met their revenue goals.
report.goals.set_index(["campaign_id", "metric"])

# %%
# Uplift tests
# ------------
# Conversion in the campaign window, treatment against control: a
# two-proportion z-test and a seeded bootstrap interval.
results = {c: uplift_test(crm.data, c, n_boot=1000, seed=0) for c in ("K1", "K2")}
for campaign, result in results.items():
    print(campaign, "\n", result.to_frame().round(3), "\n")

# %%
# The truth behind the data: K1 has a real effect, K2 none.
crm.campaign_truth[["name", "true_uplift", "has_effect"]]

# %%
fig, ax = plt.subplots(figsize=(6, 3))
names = list(results)
uplift = np.array([results[c].conversion_uplift for c in names])
frame = {c: results[c].to_frame().loc["conversion_rate"] for c in names}
low = uplift - np.array([frame[c]["lower"] for c in names])
high = np.array([frame[c]["upper"] for c in names]) - uplift
ax.errorbar(uplift, names, xerr=[low, high], fmt="o", capsize=4)
ax.axvline(0.0, color="grey", linewidth=1)
ax.set_xlabel("conversion uplift (treatment - control), 95 % interval")
ax.set_title("Campaign uplift")
fig.tight_layout()
plt.show()
