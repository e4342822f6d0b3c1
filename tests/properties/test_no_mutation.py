"""No public function of crmkit modifies its inputs (not even when it raises).

Two tables cover the public functions and estimators of ``crmkit.data``,
``crmkit.value``, ``crmkit.segmentation``, ``crmkit.analysis``,
``crmkit.loyalty``, ``crmkit.lifecycle``, ``crmkit.measure`` and every
registered plugin: ``VIEW_CALLS`` take a customer view (drawn by
hypothesis), ``RECORD_CALLS`` take CRM records (``make_crm`` with a drawn
seed). Each input is deep-copied before the call and compared exactly after
it. ``test_every_public_function_is_covered`` fails when a package exports a
function or estimator neither table calls.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import sqlite3
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit import analysis, lifecycle, loyalty, measure, segmentation
from crmkit.data import CustomerData
from crmkit.exceptions import CrmkitError
from crmkit.plugins import KINDS, default_registry
from crmkit.testing import make_customer_view
from crmkit.testing._dispatch import apply_plugin, fit_plugin
from crmkit.testing.strategies import customer_views
from crmkit.value._bgbb import BetaGeoBetaBinom
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._clv import clv, historic_value
from crmkit.value._equity import customer_equity
from crmkit.value._evaluation import evaluate_holdout, tracking_series
from crmkit.value._gammagamma import GammaGamma
from crmkit.value._mbgnbd import ModifiedBetaGeo
from crmkit.value._paretonbd import ParetoNBD
from crmkit.value._sbg import ShiftedBetaGeo
from tests._dyncov_inputs import fit_dynamic

pytestmark = pytest.mark.filterwarnings("ignore::crmkit.exceptions.DataWarning")

_PROFILE = settings().max_examples
BG = BetaGeo.from_params(r=0.24, alpha=4.4, a=0.79, b=2.4)
PARETO = ParetoNBD.from_params(r=0.55, alpha=10.6, s=0.61, beta=11.7)
GG = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)


@functools.cache
def _bg_fitted() -> BetaGeo:
    """A BG/NBD fitted on 400 customers: with a covariance for the intervals."""
    return BetaGeo().fit(crmkit.summarize(crmkit.datasets.make_crm(400, seed=3).data))


EXTRA = ("clv", "p_alive", "stage", "loyalty", "expected_purchases", "churn_risk", "portfolio")


def _plugins() -> dict[str, tuple[str, str]]:
    reg = default_registry()
    return {f"plugin:{kind}:{name}": (kind, name) for kind in KINDS for name in reg.available(kind)}


PLUGINS = _plugins()
REQUIRES = tuple(
    sorted(
        {c for kind, name in PLUGINS.values() for c in default_registry().get(kind, name).requires}
        | set(EXTRA)
    )
)


def _plugin_call(kind: str, name: str) -> Callable[[pd.DataFrame], Any]:
    def call(v: pd.DataFrame) -> Any:
        plugin = default_registry().get(kind, name)
        fit_plugin(plugin, kind, v)
        return apply_plugin(plugin, kind, v)

    return call


def _checked(function: Callable[..., Any], *args: Any) -> Any:
    """Call ``function`` on inputs derived from the drawn one, checking those too."""
    before = [_fingerprint(a) for a in args]
    try:
        return function(*args)
    finally:
        for i, (b, a) in enumerate(zip(before, args, strict=True)):
            assert _fingerprint(a) == b, f"{function.__name__} modified its argument {i}"


def _filled(v: pd.DataFrame, column: str) -> pd.DataFrame:
    return v.assign(**{column: v[column].astype(object).where(v[column].notna(), "unknown")})


def _labels(v: pd.DataFrame, k: int) -> pd.Series:
    return pd.Series(np.arange(len(v)) % k, index=v.index).astype(str)


def _purchases(v: pd.DataFrame) -> Any:
    return (
        BG.p_alive(v),
        BG.conditional_expected_purchases(v, 13.0),
        BG.log_likelihood(v),
        PARETO.p_alive(v),
        PARETO.conditional_expected_purchases(v, 13.0),
    )


VIEW_CALLS: dict[str, Callable[[pd.DataFrame], Any]] = {
    "value.BetaGeo": lambda v: (BetaGeo().fit(v), _purchases(v)),
    "value.ModifiedBetaGeo": lambda v: ModifiedBetaGeo().fit(v).p_alive(v),
    "value.ParetoNBD": lambda v: ParetoNBD().fit(v).p_alive(v),
    "value.GammaGamma": lambda v: (GammaGamma().fit(v), GG.expected_spend(v)),
    "value.compare_models": lambda v: crmkit.value.compare_models([BG, PARETO], v),
    "value.clv": lambda v: clv(BG, GG, v, horizon=52.0, discount_rate=0.1),
    "value.purchase_intervals": lambda v: crmkit.value.purchase_intervals(_bg_fitted(), v, t=10.0),
    "value.historic_value": lambda v: historic_value(v, margin=0.3),
    "value.sufficient_stats": lambda v: crmkit.value.sufficient_stats(v),
    "value.customer_equity": lambda v: customer_equity(
        BG, GG, v, horizon=52.0, discount_rate=0.1, n_boot=20, seed=0
    ),
    "segmentation.profile_segments": lambda v: segmentation.profile_segments(v, _labels(v, 3)),
    "segmentation.explain_segments": lambda v: segmentation.explain_segments(
        segmentation.DecileSegmenter(n_groups=2).fit(v), v
    ),
    "segmentation.segment_migration": lambda v: segmentation.segment_migration(
        _labels(v, 2), _labels(v, 3)
    ),
    "analysis.decile_profiles": lambda v: analysis.decile_profiles(v, q=4),
    "analysis.rank_groups": lambda v: analysis.rank_groups(v["revenue"].to_numpy(float), 3),
    "analysis.gini": lambda v: analysis.gini(v["revenue"].clip(lower=0)),
    "analysis.herfindahl": lambda v: analysis.herfindahl(v["revenue"].clip(lower=0)),
    "analysis.lorenz_curve": lambda v: analysis.lorenz_curve(v["revenue"].clip(lower=0)),
    "analysis.pareto_customers": lambda v: analysis.pareto_customers(v["revenue"].clip(lower=0)),
    "analysis.pareto_share": lambda v: analysis.pareto_share(v["revenue"].clip(lower=0)),
    "analysis.pareto_table": lambda v: analysis.pareto_table(v, q=4),
    "analysis.top_n_dependence": lambda v: analysis.top_n_dependence(v["revenue"].clip(lower=0)),
    "analysis.lookalike_profile": lambda v: analysis.lookalike_profile(
        v, attributes=["industry", "size_class"]
    ),
    "analysis.predict_from_similar": lambda v: analysis.predict_from_similar(v.iloc[::2], v, k=3),
    "analysis.roc_auc": lambda v: analysis.roc_auc(v["p_alive"], v["frequency"] > 0),
    "analysis.composition_vs_market": lambda v: _checked(
        analysis.composition_vs_market,
        _filled(v, "industry"),
        pd.Series(
            {
                "manufacturing": 5.0,
                "retail": 3.0,
                "services": 2.0,
                "it": 1.0,
                "public": 1.0,
                "unknown": 1.0,
            }
        ),
    ),
    "analysis.item_similarity": lambda v: analysis.item_similarity(
        (v[["frequency", "n_products"]].to_numpy() > 1).astype(float), "jaccard", 1.0
    ),
    "loyalty.LoyaltyIndex": lambda v: loyalty.LoyaltyIndex().fit(v).score(v),
    "lifecycle.stage_migration": lambda v: lifecycle.stage_migration(v["stage"], v["stage"]),
    **{key: _plugin_call(kind, name) for key, (kind, name) in PLUGINS.items()},
}


def _crm(seed: int) -> Any:
    return crmkit.datasets.make_crm(50, seed=seed)


def _records(crm: Any) -> tuple[dict[str, pd.DataFrame], CustomerData]:
    return crm.calibration_frames(), crm.data


def _opportunities(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    p = frames["prospects"]
    p = p.loc[p["created"].notna().to_numpy()]
    created = pd.to_datetime(p["created"]).to_numpy()
    k = np.arange(len(p))
    won = k % 3 == 0
    offer = np.where((k % 2 == 0) | won, created + np.timedelta64(10, "D"), np.datetime64("NaT"))
    order = np.where(won, created + np.timedelta64(30, "D"), np.datetime64("NaT"))
    status = np.where(won, "won", np.where(k % 2 == 0, "open", "lost"))
    return pd.DataFrame(
        {"identified": created, "offer": offer, "order": order, "status": status},
        index=p["prospect_id"].to_numpy(),
    )


def _cal_hold(frames: dict[str, pd.DataFrame], data: CustomerData) -> pd.DataFrame:
    end = data.as_of - pd.Timedelta(days=120)
    return crmkit.data.calibration_holdout(
        frames["transactions"], calibration_end=end, holdout_end=data.as_of
    )


def _recommend(cls: type) -> Callable[[dict[str, pd.DataFrame], CustomerData], Any]:
    return lambda f, d: cls().fit(f["transactions"]).recommend(k=2)


def _sqlite_of(frames: dict[str, pd.DataFrame]) -> sqlite3.Connection:
    """An in-memory SQLite database holding a copy of the transactions."""
    conn = sqlite3.connect(":memory:")
    frames["transactions"].assign(date=lambda t: t["date"].astype(str)).to_sql(
        "transactions", conn, index=False
    )
    return conn


RecordCall = Callable[[dict[str, pd.DataFrame], CustomerData], Any]
RECORD_CALLS: dict[str, RecordCall] = {
    "data.summarize": lambda f, d: (crmkit.summarize(f["transactions"]), crmkit.summarize(d)),
    "data.CustomerData": lambda f, d: CustomerData.from_frames(**f, as_of=d.as_of).for_customer(
        f["transactions"]["customer_id"].iloc[0]
    ),
    "data.calibration_holdout": _cal_hold,
    "data.validate_frame": lambda f, d: crmkit.data.validate_frame(
        f["transactions"], "transactions", crmkit.data.ColumnMap(), []
    ),
    "data.to_pandas": lambda f, d: crmkit.data.to_pandas(f["transactions"], "transactions"),
    "data.as_timestamp": lambda f, d: crmkit.data.as_timestamp(d.as_of, "as_of"),
    "data.read_sql": lambda f, d: crmkit.data.read_sql(
        _sqlite_of(f), {"transactions": "transactions", "customers": None}
    ),
    "data.read_sql_table": lambda f, d: crmkit.data.read_sql_table(
        _sqlite_of(f), "SELECT * FROM transactions", "transactions"
    ),
    "value.BetaGeoBetaBinom": lambda f, d: None,  # fixed input: see test_fixed_inputs
    "value.ShiftedBetaGeo": lambda f, d: None,  # fixed input: see test_fixed_inputs
    "value.ParetoNBDDynamic": lambda f, d: fit_dynamic(crmkit.summarize(d), f["transactions"]),
    "value.evaluate_holdout": lambda f, d: evaluate_holdout(BG, _cal_hold(f, d)),
    "value.tracking_series": lambda f, d: tracking_series(
        BG, np.sort(np.arange(10.0)), np.arange(1.0, 30.0, 0.5), end=40.0
    ),
    "analysis.product_matrix": lambda f, d: analysis.product_matrix(d),
    "analysis.value_pivot": lambda f, d: analysis.value_pivot(f["transactions"]),
    "analysis.visit_history": lambda f, d: analysis.visit_history(d),
    "analysis.seller_coverage": lambda f, d: analysis.seller_coverage(f["interactions"]),
    "analysis.new_purchases": lambda f, d: analysis.new_purchases(
        d, d.as_of - pd.Timedelta(days=90)
    ),
    "analysis.customer_timeline": lambda f, d: analysis.customer_timeline(
        d, f["transactions"]["customer_id"].iloc[0]
    ),
    "analysis.assess_maturity": lambda f, d: analysis.assess_maturity(d),
    "analysis.lookalike_scores": lambda f, d: analysis.lookalike_scores(
        f["prospects"], crmkit.summarize(d)
    ),
    "analysis.hit_rate": lambda f, d: analysis.hit_rate(
        analysis.PopularityRecommender().fit(d).recommend(k=2),
        f["transactions"][["customer_id", "product"]],
    ),
    "analysis.CustomerKNNRecommender": _recommend(analysis.CustomerKNNRecommender),
    "analysis.ItemCoPurchaseRecommender": _recommend(analysis.ItemCoPurchaseRecommender),
    "analysis.PopularityRecommender": _recommend(analysis.PopularityRecommender),
    "loyalty.nps": lambda f, d: (loyalty.nps(d), loyalty.nps(f["feedback"], by="kind")),
    "loyalty.csat": lambda f, d: loyalty.csat(f["feedback"]),
    "loyalty.ces": lambda f, d: loyalty.ces(d),
    "loyalty.cx_pulse": lambda f, d: loyalty.cx_pulse(d, min_responses=2),
    "loyalty.feedback_loop": lambda f, d: loyalty.feedback_loop(f["feedback"]),
    "lifecycle.cohort_retention": lambda f, d: lifecycle.cohort_retention(f["transactions"]),
    "lifecycle.stage_history": lambda f, d: lifecycle.stage_history(
        d, [d.as_of - pd.Timedelta(days=180), d.as_of]
    ),
    "lifecycle.stage_prospects": lambda f, d: lifecycle.stage_prospects(f["prospects"]),
    "lifecycle.pipeline_report": lambda f, d: lifecycle.pipeline_report(
        _opportunities(f), stage_dates=["identified", "offer", "order"], status="status"
    ),
    "measure.campaign_exposures": lambda f, d: measure.campaign_exposures(d),
    "measure.campaign_report": lambda f, d: measure.campaign_report(d),
    "measure.uplift_test": lambda f, d: measure.uplift_test(d, "K1", n_boot=100, seed=0),
    "measure.clv_uplift": lambda f, d: measure.clv_uplift(d, "K1", n_boot=100, seed=0),
    "measure.kpi_series": lambda f, d: measure.kpi_series(d, "Q"),
    "measure.uplift_from_outcomes": lambda f, d: measure.uplift_from_outcomes(
        {"converted": np.arange(20) % 3 == 0, "revenue": np.arange(20.0)},
        {"converted": np.arange(20) % 4 == 0, "revenue": np.arange(20.0)},
        n_boot=100,
        seed=0,
    ),
    "measure.annual_programme": lambda f, d: measure.annual_programme(
        pd.DataFrame(
            {
                "care_model": ["A", "D"],
                "cadence_days": [91, 365],
                "owner_role": ["account manager", "marketing"],
                "channel": ["visit", "email"],
                "activities": ["review", "newsletter"],
            },
            index=pd.Index([1, 2], name="customer_id"),
        ),
        year_start="2026-01-01",
    ),
}


def _fingerprint(obj: Any) -> Any:
    """A value that changes whenever ``obj``'s content, dtypes, labels or names change."""
    if isinstance(obj, CustomerData):
        return ("CustomerData", obj.as_of, obj.time_unit, _fingerprint(dict(obj.frames)))
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        frame = obj.to_frame() if isinstance(obj, pd.Series) else obj
        try:
            content = int(pd.util.hash_pandas_object(frame, index=True).sum())
        except TypeError:  # unhashable cells (lists ...)
            content = hash(repr(frame.to_dict("list")))
        return (
            type(obj).__name__,
            frame.shape,
            tuple(map(str, frame.columns)),
            tuple(map(str, frame.dtypes)),
            tuple(frame.index.names),
            str(frame.index.dtype),
            obj.name if isinstance(obj, pd.Series) else None,
            repr(obj.attrs),
            content,
        )
    if isinstance(obj, dict):
        return {k: _fingerprint(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_fingerprint(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return (obj.dtype.str, obj.shape, obj.tobytes())
    return copy.deepcopy(obj)


def _call(call: Callable[..., Any], inputs: tuple[Any, ...]) -> bool:
    """Run ``call``; True when it returned, False when it refused with a crmkit error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call(*inputs)
    except CrmkitError:  # refusing an input is fine; changing it is not
        return False
    return True


def _run_all(calls: dict[str, Callable[..., Any]], *inputs: Any) -> dict[str, bool]:
    """Run every call on the same inputs and assert that none changed them.

    The inputs are fingerprinted once before and once after all calls; when
    they differ, each call is replayed on a pristine copy to name the culprit.
    """
    pristine = copy.deepcopy(inputs)
    before = _fingerprint(list(inputs))
    done = {name: _call(call, inputs) for name, call in calls.items()}
    if _fingerprint(list(inputs)) != before:
        for name, call in calls.items():
            fresh = copy.deepcopy(pristine)
            _call(call, fresh)
            assert _fingerprint(list(fresh)) == before, f"{name} modified its input"
        raise AssertionError("the inputs were modified by a combination of calls")
    return done


TYPICAL_VIEW = make_customer_view(40, requires=REQUIRES, seed=1)
TYPICAL_SEED = 3


@settings(max_examples=max(2, _PROFILE // 10))
@example(view=TYPICAL_VIEW)
@given(view=customer_views(min_customers=2, max_customers=12, requires=REQUIRES))
def test_view_functions_do_not_mutate(view: pd.DataFrame) -> None:
    done = _run_all(VIEW_CALLS, view)
    if view is TYPICAL_VIEW:  # the tables call each function correctly: not vacuous
        assert all(done.values()), (
            f"refused a typical view: {sorted(k for k, v in done.items() if not v)}"
        )


@settings(max_examples=max(1, _PROFILE // 20))
@example(seed=TYPICAL_SEED)
@given(seed=st.integers(0, 10_000))
def test_record_functions_do_not_mutate(seed: int) -> None:
    frames, data = _records(_crm(seed))
    done = _run_all(RECORD_CALLS, frames, data)
    if seed == TYPICAL_SEED:
        assert all(done.values()), (
            f"refused typical records: {sorted(k for k, v in done.items() if not v)}"
        )


def test_fixed_inputs() -> None:
    donations = crmkit.datasets.load_donations()
    done = _run_all(
        {"bgbb": lambda d: BetaGeoBetaBinom().fit(d, weights=d["weights"]).p_alive(d)}, donations
    )
    assert done == {"bgbb": True}
    survivors = [100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]
    done = _run_all(
        {"sbg": lambda s: ShiftedBetaGeo().fit(s, n=1000).survival(np.arange(5))}, survivors
    )
    assert done == {"sbg": True}


_VALUE_MODULES = (
    "_bgnbd",
    "_mbgnbd",
    "_paretonbd",
    "_bgbb",
    "_gammagamma",
    "_sbg",
    "_clv",
    "_equity",
    "_evaluation",
)


def _exports(package: str) -> dict[str, Any]:
    module = importlib.import_module(f"crmkit.{package}")
    names = getattr(module, "__all__", None)
    if names is not None:
        return {n: getattr(module, n) for n in names}
    out = {}  # crmkit.value before its __init__ exists: its modules' exports
    for mod in _VALUE_MODULES:
        sub = importlib.import_module(f"crmkit.{package}.{mod}")
        out.update({n: getattr(sub, n) for n in sub.__all__})
    return out


def _public(package: str) -> set[str]:
    """Functions and estimators (classes with ``fit``) a package exports."""
    return {
        f"{package}.{name}"
        for name, obj in _exports(package).items()
        if inspect.isfunction(obj) or (inspect.isclass(obj) and callable(getattr(obj, "fit", None)))
    }


#: Estimators exported by a package that are not called directly (abstract bases).
NOT_CALLED = {"analysis.CrossSellRecommender", "value.BetaGeoFamily", "value.PurchaseModel"}


def test_every_public_function_is_covered() -> None:
    covered = set(VIEW_CALLS) | set(RECORD_CALLS)
    plugin_classes = {type(default_registry().get(k, n)).__name__ for k, n in PLUGINS.values()}
    missing = []
    for package in ("data", "value", "segmentation", "analysis", "loyalty", "lifecycle", "measure"):
        for name in sorted(_public(package)):
            if name in covered or name in NOT_CALLED:
                continue
            if name.split(".", 1)[1] in plugin_classes:
                continue  # every registered plugin is called through the registry
            missing.append(name)
    assert not missing, f"public functions no mutation test calls: {missing}"


def test_the_check_names_a_function_that_mutates() -> None:
    def sneaky(v: pd.DataFrame) -> None:
        v.loc[v.index[0], "revenue"] = -1.0

    view = make_customer_view(5, seed=2)
    with pytest.raises(AssertionError, match="sneaky modified its input"):
        _run_all({"harmless": lambda v: v.sum(numeric_only=True), "sneaky": sneaky}, view)
