"""crmkit's own plugins, by kind and name, as ``"module:ClassName"`` targets.

Nothing here is imported until a registry looks a name up. To add a built-in
plugin, add one line under its kind.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["BUILTINS"]

#: kind -> {registry name: "importable.module:ClassName"}
BUILTINS: Mapping[str, Mapping[str, str]] = {
    "segmenters": {
        "rfm": "crmkit.segmentation:RFMSegmenter",
        "deciles": "crmkit.segmentation:DecileSegmenter",
        "portfolio": "crmkit.segmentation:PortfolioSegmenter",
        "kmeans": "crmkit.segmentation:KMeansSegmenter",
        "firmographic": "crmkit.segmentation:FirmographicSegmenter",
        "key_accounts": "crmkit.segmentation:KeyAccountSegmenter",
    },
    "churn_detectors": {
        "signals": "crmkit.churn:SignalRules",
        "alive": "crmkit.churn:AliveChurn",
        "survival": "crmkit.churn:SurvivalChurn",
        "logistic": "crmkit.churn:LogisticChurn",
    },
    "care_models": {
        "portfolio": "crmkit.care:PortfolioCare",
        "lifecycle": "crmkit.care:LifecycleCare",
        "key_accounts": "crmkit.care:KeyAccountCare",
    },
    "stagers": {
        "rules": "crmkit.lifecycle:RuleStager",
        "model": "crmkit.lifecycle:ModelStager",
    },
}
