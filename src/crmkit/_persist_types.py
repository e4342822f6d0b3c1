"""Which classes a saved file may name, resolved without import side effects.

A saved file names its class by ``model_type``. This module turns that name
into a class from two sources only, so that loading works the same in a
fresh process as in one that happened to import the class already:

1. :data:`PERSISTABLE_TYPES`, an explicit, complete table of crmkit's own
   persistable classes (``model_type -> "module:ClassName"``); the module is
   imported on demand, like the plugin registry's built-in targets.
2. Third-party plugins declared by installed distributions under the
   plugin entry-point groups (``crmkit.segmenters``,
   ``crmkit.churn_detectors``, ``crmkit.care_models``, ``crmkit.stagers``).
   Only entry points whose target module lies in the top-level package the
   name starts with are loaded (``acme.segments.Tiers`` loads the entry
   points pointing into ``acme``), and the class found must carry exactly
   that ``model_type``.

A name in neither source is refused before anything is imported: a file
can never make crmkit import a module of its choosing.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crmkit.exceptions import ModelFileError

if TYPE_CHECKING:  # pragma: no cover
    from crmkit._persist import Persistable

__all__ = ["ENTRY_POINT_GROUPS", "NOT_LOADABLE", "PERSISTABLE_TYPES", "resolve_type"]

#: crmkit's own persistable classes: model type -> "importable.module:ClassName".
#: To make a new class loadable, add one line here (a unit test checks that
#: every persistable class of crmkit is listed and that each line resolves).
PERSISTABLE_TYPES: Mapping[str, str] = {
    # value models
    "crmkit.value.BetaGeo": "crmkit.value._bgnbd:BetaGeo",
    "crmkit.value.ModifiedBetaGeo": "crmkit.value._mbgnbd:ModifiedBetaGeo",
    "crmkit.value.ParetoNBD": "crmkit.value._paretonbd:ParetoNBD",
    "crmkit.value.ParetoNBDDynamic": "crmkit.value._dyncov:ParetoNBDDynamic",
    "crmkit.value.GammaGamma": "crmkit.value._gammagamma:GammaGamma",
    "crmkit.value.BetaGeoBetaBinom": "crmkit.value._bgbb:BetaGeoBetaBinom",
    "crmkit.value.ShiftedBetaGeo": "crmkit.value._sbg:ShiftedBetaGeo",
    # loyalty
    "crmkit.loyalty.LoyaltyIndex": "crmkit.loyalty._index:LoyaltyIndex",
    # lifecycle stagers
    "crmkit.lifecycle.RuleStager": "crmkit.lifecycle._rules:RuleStager",
    "crmkit.lifecycle.ModelStager": "crmkit.lifecycle._model:ModelStager",
    # segmenters
    "crmkit.segmentation.RFMSegmenter": "crmkit.segmentation._rfm:RFMSegmenter",
    "crmkit.segmentation.DecileSegmenter": "crmkit.segmentation._deciles:DecileSegmenter",
    "crmkit.segmentation.PortfolioSegmenter": "crmkit.segmentation._portfolio:PortfolioSegmenter",
    "crmkit.segmentation.KMeansSegmenter": "crmkit.segmentation._kmeans:KMeansSegmenter",
    "crmkit.segmentation.FirmographicSegmenter": (
        "crmkit.segmentation._firmographic:FirmographicSegmenter"
    ),
    "crmkit.segmentation.KeyAccountSegmenter": (
        "crmkit.segmentation._key_accounts:KeyAccountSegmenter"
    ),
    # churn detectors
    "crmkit.churn.SignalRules": "crmkit.churn._signals:SignalRules",
    "crmkit.churn.AliveChurn": "crmkit.churn._alive:AliveChurn",
    "crmkit.churn.SurvivalChurn": "crmkit.churn._survival:SurvivalChurn",
    "crmkit.churn.LogisticChurn": "crmkit.churn._logistic:LogisticChurn",
    # care models
    "crmkit.care.PortfolioCare": "crmkit.care._portfolio:PortfolioCare",
    "crmkit.care.LifecycleCare": "crmkit.care._lifecycle:LifecycleCare",
    "crmkit.care.KeyAccountCare": "crmkit.care._key_accounts:KeyAccountCare",
    # recommenders
    "crmkit.analysis.PopularityRecommender": "crmkit.analysis._crosssell:PopularityRecommender",
    "crmkit.analysis.CustomerKNNRecommender": (
        "crmkit.analysis._customer_knn:CustomerKNNRecommender"
    ),
    "crmkit.analysis.ItemCoPurchaseRecommender": (
        "crmkit.analysis._item_based:ItemCoPurchaseRecommender"
    ),
    # composition
    "crmkit.compose.Playbook": "crmkit.compose._playbook:Playbook",
}

#: crmkit's persistable classes that no file can name, and why.
NOT_LOADABLE: Mapping[str, str] = {
    "crmkit.value.ValueModel": "abstract base of the value models",
    "crmkit.value.PurchaseModel": "abstract base of the purchase models",
    "crmkit.value.BetaGeoFamily": "shared base of BG/NBD and MBG/NBD",
    "crmkit.value.CoefficientMixin": "mixin: covariate coefficients of the value models",
    "crmkit.value.CovariateMixin": "mixin: covariates of the purchase models",
    "crmkit.value.ContinuousTimeMixin": "mixin: sampling of the continuous-time purchase models",
    "crmkit.analysis.CrossSellRecommender": "abstract base of the recommenders",
    "crmkit.care.CareModelBase": "abstract base of the care models",
    "crmkit.lifecycle.StagerBase": "abstract base of the stagers",
    "crmkit.plugins.PluginBase": "base class of plugins",
    "crmkit.segmentation.SegmenterBase": "abstract base of the segmenters",
    "crmkit.churn.SklearnChurn": "wraps an arbitrary scikit-learn estimator: not saved by design",
}

#: Entry-point groups searched for third-party persistable plugins.
ENTRY_POINT_GROUPS: tuple[str, ...] = (
    "crmkit.segmenters",
    "crmkit.churn_detectors",
    "crmkit.care_models",
    "crmkit.stagers",
)


def _import(target: str, model_type: str) -> type[Persistable]:
    from crmkit._persist import Persistable

    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and issubclass(obj, Persistable)):  # pragma: no cover
        raise ModelFileError(f"model type {model_type!r}: {target} is not a persistable class")
    if obj.model_type != model_type:  # pragma: no cover - guarded by a unit test
        raise ModelFileError(
            f"model type {model_type!r}: {target} declares model type {obj.model_type!r}"
        )
    return obj


def _top_package(dotted: str) -> str:
    return dotted.split(".", 1)[0].strip()


def _from_entry_points(model_type: str) -> type[Persistable] | None:
    import importlib.metadata  # only when a file names a type crmkit does not know

    from crmkit._persist import Persistable

    package = _top_package(model_type)
    if not package or package == "crmkit":
        return None
    failures = []
    for group in ENTRY_POINT_GROUPS:
        for ep in importlib.metadata.entry_points(group=group):
            if _top_package(ep.value.partition(":")[0]) != package:
                continue
            try:
                obj = ep.load()
            except Exception as exc:  # a broken third-party package
                failures.append(f"{group}:{ep.name} ({ep.value}): {type(exc).__name__}: {exc}")
                continue
            if (
                isinstance(obj, type)
                and issubclass(obj, Persistable)
                and obj.model_type == model_type
            ):
                return obj
    if failures:
        raise ModelFileError(
            f"model type {model_type!r}: the plugin entry points of package {package!r} "
            f"could not be loaded: {'; '.join(failures)}"
        )
    return None


def resolve_type(model_type: object) -> type[Persistable]:
    """The class a saved file names, from crmkit's table or a plugin entry point.

    Parameters
    ----------
    model_type : object
        The file's ``model_type`` field.

    Returns
    -------
    type
        A :class:`~crmkit._persist.Persistable` subclass whose ``model_type``
        is ``model_type``.

    Raises
    ------
    ModelFileError
        When the name is neither one of crmkit's persistable types nor the
        model type of a plugin declared through an entry point (nothing is
        imported then), or names a class that is never saved (an abstract
        base ...).

    Examples
    --------
    >>> resolve_type("crmkit.value.BetaGeo").__name__
    'BetaGeo'
    >>> resolve_type("os.system")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.ModelFileError: unknown model type 'os.system'; crmkit loads only its ...
    """
    if not isinstance(model_type, str) or not model_type or len(model_type) > 200:
        raise ModelFileError(
            f"field 'model_type': expected the name of a model type; got {model_type!r:.80}"
        )
    target = PERSISTABLE_TYPES.get(model_type)
    if target is not None:
        return _import(target, model_type)
    if model_type in NOT_LOADABLE:
        raise ModelFileError(
            f"model type {model_type!r} cannot be loaded: {NOT_LOADABLE[model_type]}"
        )
    found = _from_entry_points(model_type)
    if found is None:
        raise ModelFileError(
            f"unknown model type {model_type!r}; crmkit loads only its own model types "
            "and those of plugins that installed packages declare under the entry-point "
            f"groups {', '.join(ENTRY_POINT_GROUPS)}"
        )
    return found
