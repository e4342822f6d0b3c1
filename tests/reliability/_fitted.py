"""Fitted instances of every persistable crmkit model, and their outputs.

Shared by the concurrency tests, the JSON round-trip property and the junk
input test. :func:`fitted_objects` fits each concrete class registered for
persistence (value models, plugins, the loyalty index, recommenders, the
Playbook) on small fixed data; :func:`outputs` computes everything the
object predicts on a fixed input, so two objects (or two threads) can be
compared bit for bit with :func:`assert_identical`.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import sys
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

import crmkit
from crmkit._persist import _REGISTRY
from crmkit._persist_types import NOT_LOADABLE
from crmkit.testing import make_customer_view
from crmkit.testing._dispatch import apply_plugin, fit_plugin, infer_kind
from crmkit.value._bgbb import BetaGeoBetaBinom
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._dyncov import ParetoNBDDynamic
from crmkit.value._gammagamma import GammaGamma
from crmkit.value._mbgnbd import ModifiedBetaGeo
from crmkit.value._paretonbd import ParetoNBD
from crmkit.value._sbg import ShiftedBetaGeo
from tests._dyncov_inputs import dynamic_outputs, fit_dynamic

#: Registered classes that are abstract bases (never fitted themselves), or
#: not persistable by design: the persistence table's list.
NOT_CONCRETE: Mapping[str, str] = NOT_LOADABLE

_SUBPACKAGES = ("analysis", "care", "churn", "compose", "lifecycle", "loyalty",
                "segmentation", "value")  # fmt: skip


def import_everything() -> None:
    """Import every module of the packages that define persistable classes."""
    for name in _SUBPACKAGES:
        package = importlib.import_module(f"crmkit.{name}")
        for info in pkgutil.iter_modules(package.__path__, f"crmkit.{name}."):
            importlib.import_module(info.name)


def concrete_classes() -> dict[str, type]:
    """Every concrete persistable class of crmkit itself.

    Doctest classes and the test doubles that other test modules register
    (``model_type = "tests..."``, defined outside the ``crmkit`` package) are
    left out, so the result does not depend on which tests ran first.
    """
    import_everything()
    out = {}
    for model_type, cls in _REGISTRY.items():
        if not cls.__module__.startswith("crmkit."):
            continue
        module = sys.modules.get(cls.__module__)
        if getattr(module, cls.__qualname__, None) is not cls or model_type in NOT_CONCRETE:
            continue
        out[model_type] = cls
    return out


@functools.cache
def crm() -> crmkit.datasets.SyntheticCRM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmkit.exceptions.DataWarning)
        return crmkit.datasets.make_crm(160, seed=11)


@functools.cache
def view() -> pd.DataFrame:
    """The customer view of :func:`crm`, with every column a plugin may need."""
    v: pd.DataFrame = crmkit.summarize(crm().data)
    extra = make_customer_view(len(v), requires=("clv", "p_alive", "stage", "loyalty"), seed=5)
    for col in ("clv", "p_alive", "stage", "loyalty"):
        v[col] = extra[col].to_numpy()
    return v


def _purchase_view() -> pd.DataFrame:
    return view()[["frequency", "recency", "T"]]


def _fit_value(model_type: str) -> Any:
    v = view()
    if model_type == "crmkit.value.BetaGeoBetaBinom":
        d = crmkit.datasets.load_donations()
        return BetaGeoBetaBinom().fit(d, weights=d["weights"])
    if model_type == "crmkit.value.ShiftedBetaGeo":
        return ShiftedBetaGeo().fit([100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1], n=1000)
    if model_type == "crmkit.value.ParetoNBDDynamic":
        return fit_dynamic(v, crm().data.transactions)
    if model_type == "crmkit.value.ParetoNBDDynamic":
        return fit_dynamic(v, crm().data.transactions)
    model = {
        "crmkit.value.BetaGeo": BetaGeo,
        "crmkit.value.ModifiedBetaGeo": ModifiedBetaGeo,
        "crmkit.value.ParetoNBD": ParetoNBD,
        "crmkit.value.GammaGamma": GammaGamma,
    }[model_type]
    return model().fit(v)


def _value_outputs(model: Any) -> dict[str, Any]:
    if isinstance(model, ParetoNBDDynamic):
        return dynamic_outputs(model, view(), crm().data.transactions)
    if isinstance(model, ParetoNBDDynamic):
        return dynamic_outputs(model, view(), crm().data.transactions)
    if isinstance(model, GammaGamma):
        v = view()
        return {
            "expected_spend": model.expected_spend(v),
            "log_likelihood": model.log_likelihood(v),
            "population_mean_spend": model.population_mean_spend(),
        }
    if isinstance(model, ShiftedBetaGeo):
        t = np.arange(8)
        return {
            "survival": model.survival(t),
            "retention": model.retention(t[1:]),
            "churn_probability": model.churn_probability(t[1:]),
            "residual": model.discounted_expected_residual_lifetime(0.1, 3),
        }
    if isinstance(model, BetaGeoBetaBinom):
        d = crmkit.datasets.load_donations()
        horizon = 5
    else:
        d = _purchase_view()
        horizon = 52
    return {
        "p_alive": model.p_alive(d),
        "expected_purchases": model.conditional_expected_purchases(d, horizon),
        "new_customer": model.expected_purchases([1, 6, horizon]),
        "pmf": model.purchase_pmf([0, 1, 2, 5], 6),
        "log_likelihood": model.log_likelihood(d),
    }


def _fit_plugin(cls: type) -> tuple[Any, str]:
    plugin = cls()
    kind = infer_kind(plugin)
    v = make_customer_view(120, requires=plugin.requires, seed=3)
    fit_plugin(plugin, kind, v)
    return plugin, kind


def _fit_other(model_type: str, cls: type) -> Any:
    if model_type == "crmkit.loyalty.LoyaltyIndex":
        return cls().fit(view())
    if model_type.startswith("crmkit.analysis."):
        return cls().fit(crm().data)
    if model_type == "crmkit.compose.Playbook":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", crmkit.exceptions.DataWarning)
            return cls().fit(crm().data)
    raise LookupError(model_type)


@functools.cache
def shared_fitted(model_type: str) -> Any:
    """A fitted instance shared by the tests that only read it (do not change it)."""
    return fitted_object(model_type)


def fitted_object(model_type: str) -> Any:
    """A new fitted instance of the registered class ``model_type``."""
    cls = concrete_classes()[model_type]
    if model_type.startswith("crmkit.value."):
        return _fit_value(model_type)
    try:
        infer_kind(cls())
    except AssertionError:  # not a plugin
        return _fit_other(model_type, cls)
    return _fit_plugin(cls)[0]


def outputs(obj: Any) -> dict[str, Any]:
    """Everything ``obj`` predicts on the fixed inputs of this module."""
    if obj.model_type.startswith("crmkit.value."):
        return _value_outputs(obj)
    if obj.model_type == "crmkit.loyalty.LoyaltyIndex":
        return {"score": obj.score(view())}
    if obj.model_type.startswith("crmkit.analysis."):
        # every customer of the fitting data: the neighbour pool a loaded model
        # rebuilds from ``data`` is then the pool it was fitted with
        return {"recommend": obj.recommend(None, k=3, data=crm().data)}
    if obj.model_type == "crmkit.compose.Playbook":
        return {"assess": obj.assess(crm().data)}
    kind = infer_kind(obj)
    v = make_customer_view(60, requires=obj.requires, seed=9)
    return {kind: apply_plugin(obj, kind, v)}


def assert_identical(a: Mapping[str, Any], b: Mapping[str, Any]) -> None:
    """Assert two :func:`outputs` are equal bit for bit (NaN equal to NaN)."""
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        assert type(x) is type(y), key
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=True, obj=key)
        elif isinstance(x, pd.Series):
            pd.testing.assert_series_equal(x, y, check_exact=True, obj=key)
        elif isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, key
            assert np.atleast_1d(x).tobytes() == np.atleast_1d(y).tobytes(), key
        else:
            assert np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True), key
