"""
Value concentration: Pareto, deciles and the Lorenz curve
=========================================================

Does a fifth of the customers bring four fifths of the revenue? We read the
concentration of two customer bases: CDNOW's music buyers and a synthetic
B2B base.
"""

# %%
# Profitability deciles
# ---------------------

import matplotlib.pyplot as plt

import crmkit
from crmkit.analysis import gini, pareto_customers, pareto_share, pareto_table
from crmkit.datasets import make_crm
from crmkit.plotting import plot_decile_bars, plot_lorenz_curve, plot_pareto_curve

tx = crmkit.datasets.load_cdnow()
cdnow = crmkit.summarize(tx, as_of="1998-06-30")
b2b = crmkit.summarize(make_crm(1500, seed=2).data)

pareto_table(cdnow, by="revenue")[["n_customers", "value_share", "cum_value_share"]].round(3)

# %%
# The numbers of the 20/80 rule, for both bases:
for name, view in (("CDNOW", cdnow), ("B2B", b2b)):
    revenue = view["revenue"]
    print(
        f"{name}: top 20 % of customers bring {pareto_share(revenue, customers=0.2):.0%} "
        f"of revenue; 80 % of revenue comes from {pareto_customers(revenue, share=0.8):.0%} "
        f"of customers; Gini {gini(revenue):.2f}"
    )

# %%
# Curves
# ------
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
plot_pareto_curve(cdnow, by="revenue", ax=axes[0])
plot_lorenz_curve(b2b, by="revenue", ax=axes[1])
plot_decile_bars(b2b, by="revenue", ax=axes[2])
axes[0].set_title("CDNOW: " + axes[0].get_title())
axes[1].set_title("B2B: " + axes[1].get_title())
axes[2].set_title("B2B: " + axes[2].get_title())
fig.tight_layout()
plt.show()
