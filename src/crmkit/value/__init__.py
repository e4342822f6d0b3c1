"""Customer value: purchase and spend models, CLV and customer equity.

Continuous non-contractual purchase models (:class:`BetaGeo`,
:class:`ParetoNBD`, :class:`ModifiedBetaGeo`), the discrete-opportunity
:class:`BetaGeoBetaBinom`, the contractual :class:`ShiftedBetaGeo`, the
:class:`GammaGamma` spend model, and what is built on them: :func:`clv`,
:func:`customer_equity`, :func:`historic_value`, per-customer intervals
(:func:`purchase_intervals`), holdout evaluation and
:func:`sufficient_stats` for fitting on aggregated data.

Examples
--------
>>> import crmkit
>>> from crmkit.value import BetaGeo
>>> tx = crmkit.datasets.load_cdnow()
>>> view = crmkit.summarize(tx[tx["date"] <= "1997-09-30"], as_of="1997-09-30")
>>> model = BetaGeo().fit(view)
>>> [round(v, 3) for v in model.summary()["estimate"]]
[0.243, 4.414, 0.793, 2.426]
"""

from crmkit.value._base import ValueModel
from crmkit.value._bgbb import BetaGeoBetaBinom, BetaGeoBetaBinomParams
from crmkit.value._bgnbd import BetaGeo, BetaGeoParams
from crmkit.value._clv import PurchaseModelLike, SpendModelLike, clv, historic_value
from crmkit.value._compare import compare_models
from crmkit.value._dyncov import ParetoNBDDynamic
from crmkit.value._equity import CustomerEquity, customer_equity
from crmkit.value._evaluation import HoldoutEvaluation, evaluate_holdout, tracking_series
from crmkit.value._gammagamma import GammaGamma, GammaGammaParams
from crmkit.value._mbgnbd import ModifiedBetaGeo
from crmkit.value._paretonbd import ParetoNBD, ParetoNBDParams
from crmkit.value._purchase import PurchaseModel
from crmkit.value._purchase_intervals import purchase_intervals
from crmkit.value._sbg import ShiftedBetaGeo, ShiftedBetaGeoParams
from crmkit.value._sufficient import PURCHASE_COLUMNS, SPEND_COLUMNS, sufficient_stats

__all__ = [
    "PURCHASE_COLUMNS",
    "SPEND_COLUMNS",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "BetaGeoBetaBinomParams",
    "BetaGeoParams",
    "CustomerEquity",
    "GammaGamma",
    "GammaGammaParams",
    "HoldoutEvaluation",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "ParetoNBDDynamic",
    "ParetoNBDParams",
    "PurchaseModel",
    "PurchaseModelLike",
    "ShiftedBetaGeo",
    "ShiftedBetaGeoParams",
    "SpendModelLike",
    "ValueModel",
    "clv",
    "compare_models",
    "customer_equity",
    "evaluate_holdout",
    "historic_value",
    "purchase_intervals",
    "sufficient_stats",
    "tracking_series",
]
