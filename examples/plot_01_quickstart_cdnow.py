"""
Quickstart: CDNOW, BG/NBD, P(alive) and CLV
===========================================

The CDNOW sample holds every purchase of 2,357 customers of an online music
store who first bought in the first quarter of 1997, until the end of June
1998. We summarise the first 39 weeks into the customer view, fit the
BG/NBD purchase model and the Gamma-Gamma spend model, score every
customer, and check the predictions against the following 39 weeks.
"""

# %%
# The customer view
# -----------------
# ``summarize`` turns the transactions into one row per customer. A few
# CDNOW rows repeat another row exactly; crmkit keeps them (two identical
# purchases are possible) and counts them in the data's validation report.
import matplotlib.pyplot as plt

import crmkit
from crmkit.data import calibration_holdout
from crmkit.plotting import (
    plot_clv_distribution,
    plot_holdout_by_frequency,
    plot_p_alive_matrix,
)
from crmkit.value import BetaGeo, GammaGamma, clv, evaluate_holdout

tx = crmkit.datasets.load_cdnow()
view = calibration_holdout(tx, calibration_end="1997-09-30", holdout_end="1998-06-30")
view[["frequency", "recency", "T", "monetary_value", "frequency_holdout"]].head()

# %%
# The BG/NBD purchase model
# -------------------------
# The estimates and log-likelihood are those published by Fader, Hardie &
# Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
bgnbd = BetaGeo().fit(view)
print(bgnbd.summary().round(3))
print(f"log-likelihood {bgnbd.log_likelihood_:.1f}")

# %%
# Who is still active?
# --------------------
# The probability of being alive depends on how often a customer bought
# (frequency) and how long ago its last purchase was (recency against T):
# a frequent buyer who has been silent for months is probably gone.
view["p_alive"] = bgnbd.p_alive(view)
view["next_year"] = bgnbd.conditional_expected_purchases(view, t=52)
ax = plot_p_alive_matrix(bgnbd, view)
plt.show()

# %%
# Checking against the holdout period
# -----------------------------------
# Customers grouped by their calibration frequency: the purchases the model
# expected of them in the 39 holdout weeks, against what they did.
evaluation = evaluate_holdout(bgnbd, view)
print(evaluation.by_frequency.round(2))
ax = plot_holdout_by_frequency(evaluation)
plt.show()

# %%
# Customer lifetime value
# -----------------------
# The Gamma-Gamma model (p = 6.25, q = 3.74, gamma = 15.44 in Fader & Hardie
# 2013) gives each customer's expected spend per purchase; with the BG/NBD
# it gives the value of the next 52 weeks at a 10 % annual discount rate.
spend = GammaGamma().fit(view)
print(spend.summary().round(2))
view["clv"] = clv(bgnbd, spend, view, horizon=52, discount_rate=0.10)
ax = plot_clv_distribution(view["clv"])
plt.show()

# %%
# The most valuable customers:
view.sort_values("clv", ascending=False)[
    ["frequency", "recency", "T", "monetary_value", "p_alive", "next_year", "clv"]
].head(10).round(2)
