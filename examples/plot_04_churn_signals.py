"""
Churn: early-warning signals and how well they predict
======================================================

Negative feedback, open complaints, falling purchases, a change of address,
silence against the customer's own rhythm, a decision maker who left: the
early signals of churn (*asiakaspoistuma*). The synthetic CRM plants such
signals before a customer dies, so we can see how well each detector finds
the customers who really churned in the following half year.
"""

# %%
# Signals and reasons
# -------------------
import matplotlib.pyplot as plt

from crmkit.churn import AliveChurn, SignalRules, evaluate_churn
from crmkit.data import summarize
from crmkit.datasets import make_crm
from crmkit.plotting import plot_churn_lift, plot_churn_roc

crm = make_crm(1000, seed=5)
view = summarize(crm.data)

rules = SignalRules().fit(view)
scores = rules.score(view)
scores.sort_values("churn_risk", ascending=False)[["churn_risk", "reasons"]].head(8)

# %%
# How often each signal fires, and its weight in the risk:
fired = (scores.filter(like="signal_") > 0).mean().rename("share_firing")
fired.index = fired.index.str.removeprefix("signal_")
fired.to_frame().assign(weight=rules.weights_).round(3)

# %%
# Against what happened
# ---------------------
# Customers alive at the analysis date; ``churned`` says who died in the
# holdout half year (the ground truth of ``make_crm``).
alive = crm.truth["alive_at_as_of"]
churned = crm.truth.loc[alive, "churned"]
signals_eval = evaluate_churn(rules, view, churned)
signals_eval.summary()

# %%
# The purchase-model view of churn, P(no purchase within 52 weeks) from a
# Pareto/NBD, sees only purchase timing. In this base dropout is memoryless,
# so past silence says little about who leaves next: the early signals do
# far better.
alive_churn = AliveChurn().fit(view)
evaluate_churn(alive_churn, view, churned).summary()

# %%
risk = scores.loc[churned.index, "churn_risk"]
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
plot_churn_lift(risk, churned, ax=left)
plot_churn_roc(risk, churned, ax=right)
fig.tight_layout()
plt.show()
