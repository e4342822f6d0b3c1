"""ModelStager: column mode, model mode (BG/NBD), persistence, validation."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import InvalidParameterError, NotFittedError, SchemaError
from crmkit.lifecycle import ModelStager, RuleStager
from crmkit.testing import check_plugin, make_customer_view
from crmkit.value._bgnbd import BetaGeo

from ._views import view_of

# published CDNOW BG/NBD estimates (Fader, Hardie & Lee 2005), weeks
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def crm_view() -> pd.DataFrame:
    from crmkit.data import summarize
    from crmkit.datasets import make_crm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        view: pd.DataFrame = summarize(make_crm(500, seed=5).data, include_records=False)
    return view


def test_column_mode_rules() -> None:
    view = view_of(
        {
            "new": {
                "frequency": 1,
                "recency": 2.0,
                "T": 6.0,
                "p_alive": 0.9,
                "expected_purchases": 5.0,
            },
            # past rate 4 / 52; expected 8 / 52 per week: twice as fast
            "rising": {
                "frequency": 4,
                "recency": 50.0,
                "T": 52.0,
                "p_alive": 0.9,
                "expected_purchases": 8.0,
            },
            # past rate 29 / 104 = 0.28 a week; expected 0.23 a week
            "steady": {
                "frequency": 29,
                "recency": 100.0,
                "T": 104.0,
                "p_alive": 0.97,
                "expected_purchases": 12.0,
            },
            "gone": {
                "frequency": 7,
                "recency": 30.0,
                "T": 100.0,
                "p_alive": 0.2,
                "expected_purchases": 0.5,
            },
            "prospect": {"n_transactions": 0, "frequency": 0, "recency": None, "T": None},
        }
    )
    out = ModelStager().fit(view).stage_frame(view)
    assert out["stage"].tolist() == [
        "onboarding", "development", "retention", "retention", "acquisition"
    ]  # fmt: skip
    assert out["status"].tolist() == ["active", "active", "active", "lapsed", "active"]
    assert out.loc["gone", "stage_reasons"] == (
        "retention: 8 purchases over 100 weeks, last 70 weeks ago, expected 0.5 purchases in the "
        "next 52 weeks, no faster than its past 3.6; lapsed: no purchase for 70 weeks, 16.3x its "
        "usual gap of 4.3 weeks, P(alive) 0.20"
    )
    # a larger growth margin turns the rising customer into retention
    assert ModelStager(growth_margin=1.5).fit(view).stage(view)["rising"] == "retention"

    def status(stager: ModelStager) -> str:
        return str(stager.fit(view).stage_frame(view).loc["gone", "status"])

    assert status(ModelStager(alive_threshold=0.1)) == "active"
    # the rhythm must agree: idle 70 weeks is 16x the usual gap, not 20x
    assert status(ModelStager(lapse_factor=20.0)) == "active"
    assert status(ModelStager(lapse_factor=None)) == "lapsed"  # the model alone
    assert status(ModelStager(lapse_after=60.0, alive_threshold=0.1)) == "lapsed"


def test_column_mode_validates_columns() -> None:
    view = make_customer_view(10, requires=("p_alive", "expected_purchases"), seed=1)
    bad = view.assign(p_alive=np.linspace(0, 1.5, 10))
    with pytest.raises(SchemaError, match="within"):
        ModelStager().fit(bad)
    negative = view.assign(expected_purchases=-1.0)
    with pytest.raises(SchemaError, match="expected_purchases"):
        ModelStager().fit(negative)
    with pytest.raises(SchemaError, match="p_alive"):
        ModelStager().fit(view.drop(columns="p_alive"))


def test_model_mode_matches_the_model_predictions(crm_view: pd.DataFrame) -> None:
    model = BetaGeo().fit(crm_view)
    stager = ModelStager(model=model, refit=False, horizon=26.0).fit(crm_view)
    assert stager.requires == ("n_transactions", "frequency", "recency", "T")
    got = stager.stage_frame(crm_view)
    p_alive = model.p_alive(crm_view).to_numpy()
    expected = model.conditional_expected_purchases(crm_view, 26.0).to_numpy()
    freq, T = crm_view["frequency"].to_numpy(), crm_view["T"].to_numpy()
    rec = crm_view["recency"].to_numpy()
    onboarding = (T <= 13.0) | (freq < 1)
    growing = expected / 26.0 > 1.1 * freq / T
    want = np.where(onboarding, "onboarding", np.where(growing, "development", "retention"))
    assert got["stage"].astype(str).tolist() == want.tolist()
    repeat = crm_view.loc[freq > 0]
    typical = float(np.median(repeat["recency"] / repeat["frequency"]))
    assert stager.typical_interpurchase_ == pytest.approx(typical)
    gap = np.where(freq > 0, rec / np.maximum(freq, 1), typical)
    rhythm = T - rec > np.maximum(3.0 * gap, 13.0)
    # BG/NBD's P(alive) = 1 of customers without repeat purchase is no evidence
    informative = ~((freq == 0) & (p_alive >= 1 - 1e-9))
    lapsed = rhythm & (~informative | (p_alive < 0.5))
    assert (got["status"] == "lapsed").tolist() == lapsed.tolist()
    assert set(got["stage"].unique()) == {"onboarding", "development", "retention"}
    assert 0 < lapsed.sum() < len(lapsed)


def test_refit_fits_a_copy_and_never_touches_the_parameter(crm_view: pd.DataFrame) -> None:
    model = BetaGeo()
    stager = ModelStager(model=model).fit(crm_view)
    assert not hasattr(model, "params_")
    assert stager.model is model and stager.model_ is not model
    assert stager.model_.converged_
    prefitted = BetaGeo.from_params(**CDNOW)
    kept = ModelStager(model=prefitted, refit=False).fit(crm_view)
    assert kept.model_ is not prefitted and kept.model_.params_ == prefitted.params_
    refitted = ModelStager(model=prefitted, refit=True).fit(crm_view)
    assert refitted.model_.params_ != prefitted.params_


def test_model_mode_single_row_equals_bulk_and_round_trip(crm_view: pd.DataFrame) -> None:
    stager = ModelStager(model=BetaGeo(), lapse_after=52.0).fit(crm_view)
    bulk = stager.stage_frame(crm_view)
    for i in (0, 17, len(crm_view) - 1):
        single = stager.stage_frame(crm_view.iloc[[i]])
        pd.testing.assert_frame_equal(single, bulk.iloc[[i]])
    text = json.dumps(stager.to_dict(), allow_nan=False)
    restored = ModelStager.from_dict(json.loads(text))
    pd.testing.assert_frame_equal(restored.stage_frame(crm_view), bulk)
    assert type(restored.model_).__name__ == "BetaGeo"


def test_prospect_rows_are_not_sent_to_the_model(crm_view: pd.DataFrame) -> None:
    prospects = pd.DataFrame(
        {"n_transactions": [0, 0], "frequency": [0, 0], "recency": [np.nan] * 2, "T": [np.nan] * 2},
        index=pd.Index(["p1", "p2"], name="customer_id"),
    )
    both = pd.concat([crm_view[list(prospects.columns)], prospects])
    stager = ModelStager(model=BetaGeo.from_params(**CDNOW), refit=False).fit(both)
    out = stager.stage(both)
    assert out.loc[["p1", "p2"]].tolist() == ["acquisition", "acquisition"]
    alone = stager.stage(crm_view)
    assert out.iloc[:-2].tolist() == alone.tolist()
    assert out.index[:-2].tolist() == alone.index.tolist()


def test_model_stager_agrees_broadly_with_rules(crm_view: pd.DataFrame) -> None:
    model_status = ModelStager(model=BetaGeo()).fit(crm_view).stage_frame(crm_view)["status"]
    rule_status = RuleStager().fit(crm_view).stage_frame(crm_view)["status"]
    model_lapsed = (model_status == "lapsed").to_numpy()
    rule_lapsed = (rule_status == "lapsed").to_numpy()
    assert model_lapsed.sum() >= 0.05 * len(crm_view)
    # most customers the model calls gone are overdue by the rules too
    assert rule_lapsed[model_lapsed].mean() > 0.8


@pytest.mark.parametrize(
    "params",
    [
        {"model": "bgnbd"},
        {"alive_threshold": 1.5},
        {"horizon": 0.0},
        {"refit": 1},
        {"growth_margin": -0.1},
        {"lapse_after": 0},
        {"lapse_factor": 0.0},
        {"lapse_grace": -1.0},
        {"time_unit": "Y"},
    ],
)
def test_invalid_parameters(params: dict[str, Any]) -> None:
    view = make_customer_view(10, requires=("p_alive", "expected_purchases"))
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        ModelStager(**params).fit(view)


def test_unfitted_raises() -> None:
    view = make_customer_view(10, requires=("p_alive", "expected_purchases"))
    with pytest.raises(NotFittedError):
        ModelStager().stage(view)


def test_non_default_column_stager_passes_the_battery() -> None:
    check_plugin(ModelStager(alive_threshold=0.3, lapse_after=40.0, onboarding_purchases=3))
