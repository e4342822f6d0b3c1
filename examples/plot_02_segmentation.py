"""
Segmentation: RFM cells and A/B/C/D portfolios
==============================================

Two ways to group the customers of a synthetic B2B customer base: RFM cells
from recency, frequency and monetary value, and the A/B/C/D portfolios that
cross current value with potential (predicted CLV) and decide the care model.
"""

# %%
# A customer base with a known truth
# ----------------------------------
import matplotlib.pyplot as plt

from crmkit.data import summarize
from crmkit.datasets import make_crm
from crmkit.plotting import plot_segment_profiles, plot_segment_sizes
from crmkit.segmentation import PortfolioSegmenter, RFMSegmenter, profile_segments
from crmkit.value import BetaGeo, GammaGamma, clv

crm = make_crm(800, seed=7)
view = summarize(crm.data)
view[["frequency", "recency", "T", "revenue", "industry", "size_class"]].head()

# %%
# RFM
# ---
# Each customer scores 1-5 on recency, frequency and monetary value; the
# cells are named (champions, loyal, at risk, can't lose, hibernating ...).
rfm = RFMSegmenter().fit(view)
view["rfm"] = rfm.assign(view)
rfm.describe()

# %%
# How many customers, and how much revenue, each cell holds:
ax = plot_segment_sizes(view["rfm"], view["revenue"])
plt.show()

# %%
# Profiles: what makes a segment distinct? Each cell shows a segment's mean
# of a column over the base mean (its *lift*).
profile = profile_segments(view, view["rfm"])
fig, ax = plt.subplots(figsize=(8, 6))
plot_segment_profiles(
    profile, ["frequency", "days_since_last", "revenue", "n_products", "last_nps"], ax=ax
)
fig.tight_layout()
plt.show()

# %%
# Portfolios A-D
# --------------
# Potential is the predicted value of the next year: BG/NBD + Gamma-Gamma.
bgnbd = BetaGeo().fit(view)
spend = GammaGamma().fit(view)
view["clv"] = clv(bgnbd, spend, view, horizon=52, discount_rate=0.10)

portfolio = PortfolioSegmenter(value_column="revenue", potential_column="clv").fit(view)
view["portfolio"] = portfolio.assign(view)
portfolio.describe()

# %%
# A handful of A customers carry most of the value; B customers are where
# growth is expected.
ax = plot_segment_sizes(view["portfolio"], view["clv"], order=["A", "B", "C", "D"])
plt.show()

# %%
# How the two groupings relate: champions are mostly A, the hibernating
# and lost are mostly D.
view.groupby(["rfm", "portfolio"], observed=True).size().unstack(fill_value=0)
