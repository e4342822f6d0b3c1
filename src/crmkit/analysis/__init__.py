"""Customer-base analyses: concentration, decile profiles, composition, cross-sell, look-alikes.

What a CRM team asks of its customer base (seeds 000, 002, 003, 004):

- **Concentration** — :func:`pareto_table` (value by customer decile, the
  20/80 and 10/90 rules), :func:`pareto_share`, :func:`pareto_customers`,
  :func:`lorenz_curve`, :func:`gini`, :func:`herfindahl`,
  :func:`top_n_dependence`.
- **Decile profiles** — :func:`decile_profiles`: what unites each decile.
- **Composition vs market** — :func:`composition_vs_market`: over- and
  under-represented industries, chi-square test, our share per profile.
- **Cross-sell** — :func:`product_matrix`, :class:`ItemCoPurchaseRecommender`,
  :class:`CustomerKNNRecommender`, :class:`PopularityRecommender`, judged
  with :func:`new_purchases` and :func:`hit_rate`.
- **New customers and prospects** — :func:`predict_from_similar` (from
  similar known customers), :func:`lookalike_scores` /
  :func:`lookalike_profile` (like the best customers, unlike the worst),
  :func:`roc_auc`.
- **Integrated customer data** — :func:`value_pivot`, :func:`visit_history`,
  :func:`seller_coverage`, :func:`customer_timeline`.
- **Maturity** — :func:`assess_maturity`: Hellman's five levels.

Examples
--------
>>> from crmkit.analysis import gini, pareto_share
>>> values = [80.0, 5.0, 5.0, 5.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0]
>>> pareto_share(values, customers=0.2), round(gini(values), 2)
(0.85, 0.8)
"""

from crmkit.analysis._composition import CompositionResult, composition_vs_market
from crmkit.analysis._concentration import (
    gini,
    herfindahl,
    lorenz_curve,
    pareto_customers,
    pareto_share,
    pareto_table,
    top_n_dependence,
)
from crmkit.analysis._crosssell import CrossSellRecommender, PopularityRecommender
from crmkit.analysis._crosssell_eval import hit_rate, new_purchases
from crmkit.analysis._customer_knn import CustomerKNNRecommender
from crmkit.analysis._inputs import rank_groups
from crmkit.analysis._integrated import seller_coverage, value_pivot, visit_history
from crmkit.analysis._item_based import ItemCoPurchaseRecommender, item_similarity
from crmkit.analysis._lookalike import lookalike_profile, lookalike_scores
from crmkit.analysis._maturity import MATURITY_LEVELS, MaturityAssessment, assess_maturity
from crmkit.analysis._products import product_matrix
from crmkit.analysis._profiles import decile_profiles
from crmkit.analysis._roc import roc_auc
from crmkit.analysis._similar import predict_from_similar
from crmkit.analysis._timeline import customer_timeline

__all__ = [
    "MATURITY_LEVELS",
    "CompositionResult",
    "CrossSellRecommender",
    "CustomerKNNRecommender",
    "ItemCoPurchaseRecommender",
    "MaturityAssessment",
    "PopularityRecommender",
    "assess_maturity",
    "composition_vs_market",
    "customer_timeline",
    "decile_profiles",
    "gini",
    "herfindahl",
    "hit_rate",
    "item_similarity",
    "lookalike_profile",
    "lookalike_scores",
    "lorenz_curve",
    "new_purchases",
    "pareto_customers",
    "pareto_share",
    "pareto_table",
    "predict_from_similar",
    "product_matrix",
    "rank_groups",
    "roc_auc",
    "seller_coverage",
    "top_n_dependence",
    "value_pivot",
    "visit_history",
]
