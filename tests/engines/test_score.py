"""score_batch / BatchScorer / score: one scoring function, batch-invariant results."""

from __future__ import annotations

import itertools
import json
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.engines import BatchScorer, score, score_batch
from crmkit.exceptions import InvalidParameterError, NotFittedError, SchemaError
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._clv import clv
from crmkit.value._gammagamma import GammaGamma

BG = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
GG = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)


def _view(n: int = 400, seed: int = 0) -> pd.DataFrame:
    view = BG.sample(n, 39.0, seed=seed)
    spend = GG.sample(n, view["frequency"].to_numpy(), seed=seed)
    view["monetary_value"] = spend["monetary_value"].to_numpy()
    view.index = pd.Index([f"id{i:04d}" for i in range(n)], name="customer_id")
    return view


def test_batch_scores_equal_the_model_methods() -> None:
    view = _view()
    out = score_batch(BG, view, horizon=52, spend_model=GG, discount_rate=0.1)
    assert out.index.equals(view.index)
    assert list(out.columns) == [*view.columns, "p_alive", "expected_purchases", "clv"]
    np.testing.assert_array_equal(out["p_alive"], BG.p_alive(view))
    np.testing.assert_array_equal(
        out["expected_purchases"], BG.conditional_expected_purchases(view, 52.0)
    )
    np.testing.assert_array_equal(out["clv"], clv(BG, GG, view, horizon=52, discount_rate=0.1))
    assert ((out["p_alive"] >= 0) & (out["p_alive"] <= 1)).all()
    assert (out["clv"] > 0).all()


def test_without_spend_model_no_clv_and_scores_replace_columns() -> None:
    view = _view(50).assign(p_alive="stale")
    out = score_batch(BG, view, horizon=10)
    assert "clv" not in out.columns
    assert out.columns[-2:].tolist() == ["p_alive", "expected_purchases"]
    assert out["p_alive"].dtype == np.float64
    assert list(out.columns).count("p_alive") == 1


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 120), min_size=1, max_size=6))
def test_scores_do_not_depend_on_batching(sizes: list[int]) -> None:
    view = _view(300, seed=5).reset_index()
    whole = score_batch(BG, view, horizon=52, spend_model=GG, discount_rate=0.05)
    cuts = np.cumsum([0, *sizes])
    cuts = np.unique(np.clip(np.append(cuts, len(view)), 0, len(view)))
    parts = [
        score_batch(
            BG,
            view.iloc[a:b].reset_index(drop=True),
            horizon=52,
            spend_model=GG,
            discount_rate=0.05,
        )
        for a, b in itertools.pairwise(cuts)
    ]
    glued = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(glued, whole, check_exact=True)


def test_empty_batch_gives_empty_float_columns() -> None:
    empty = _view(5).iloc[:0]
    out = score_batch(BG, empty, horizon=52, spend_model=GG)
    assert len(out) == 0
    assert [str(out[c].dtype) for c in ("p_alive", "expected_purchases", "clv")] == ["float64"] * 3


def test_batch_not_mutated() -> None:
    view = _view(30)
    before = view.copy(deep=True)
    score_batch(BG, view, horizon=52, spend_model=GG)
    pd.testing.assert_frame_equal(view, before)


def test_errors_in_a_batch_name_customers() -> None:
    batch = _view(5).reset_index()
    batch.loc[3, "recency"] = -1.0
    with pytest.raises(SchemaError) as info:
        score_batch(BG, batch, horizon=52)
    assert info.value.failures[0].rows == ("id0003",)


def test_bad_arguments() -> None:
    view = _view(5)
    with pytest.raises(InvalidParameterError, match="horizon"):
        score_batch(BG, view, horizon=0)
    with pytest.raises(InvalidParameterError, match="time_unit"):
        score_batch(BG, view, horizon=1, time_unit="Y")
    with pytest.raises(InvalidParameterError, match="margin"):
        BatchScorer(BG, horizon=1, margin=2.0)
    with pytest.raises(TypeError, match=r"'batch' parameter of score_batch must be a pandas Data"):
        score_batch(BG, view.to_dict("list"), horizon=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"'model' .*purchase model.*GammaGamma"):
        score_batch(GG, view, horizon=1)
    with pytest.raises(InvalidParameterError, match=r"'spend_model' .*spend model.*BetaGeo"):
        BatchScorer(BG, horizon=1, spend_model=BG)
    with pytest.raises(NotFittedError):
        BatchScorer(BetaGeo(), horizon=1)
    with pytest.raises(NotFittedError):
        BatchScorer(BG, horizon=1, spend_model=GammaGamma())
    with pytest.raises(InvalidParameterError, match="batch_size"):
        score(view, BG, horizon=1, batch_size=0)


def test_scorer_travels_as_json_without_customer_data() -> None:
    view = _view(20)
    fitted = BetaGeo().fit(_view(2000, seed=1))
    scorer = BatchScorer(fitted, horizon=26, spend_model=GG, discount_rate=0.1)
    payload = json.loads(scorer.payload)
    assert set(payload) == {"models", "modules", "options"}
    assert "id00" not in scorer.payload
    clone = pickle.loads(pickle.dumps(scorer))
    assert len(pickle.dumps(scorer)) < 10_000
    pd.testing.assert_frame_equal(clone(view), scorer(view), check_exact=True)
    expected = score_batch(fitted, view, horizon=26, spend_model=GG, discount_rate=0.1)
    pd.testing.assert_frame_equal(clone(view), expected, check_exact=True)
    assert scorer.input_columns == ("frequency", "recency", "T", "monetary_value")


def test_score_on_pandas_checks_columns_first() -> None:
    view = _view(10)
    out = score(view, BG, horizon=52, spend_model=GG)
    pd.testing.assert_frame_equal(out, score_batch(BG, view, horizon=52, spend_model=GG))
    with pytest.raises(SchemaError, match="monetary_value"):
        score(view.drop(columns="monetary_value"), BG, horizon=52, spend_model=GG)
    with pytest.raises(InvalidParameterError, match=r"score: 'view' must be a data frame.*list"):
        score([1, 2], BG, horizon=52)
