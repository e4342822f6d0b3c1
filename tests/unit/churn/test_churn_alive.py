"""AliveChurn: 1 - P(alive), the fitted or given model, the fallback, persistence."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.churn import FALLBACK_BG_PARAMS, AliveChurn
from crmkit.exceptions import (
    DataWarning,
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
    SchemaError,
)
from crmkit.value import BetaGeo


def _cdnow_like(n: int = 2000, seed: int = 1) -> pd.DataFrame:
    model = BetaGeo.from_params(**FALLBACK_BG_PARAMS)
    view = model.sample(n, 39.0, seed=seed)
    view.index = pd.Index([f"c{i:05d}" for i in range(n)], name="customer_id")
    return view


def test_risk_is_one_minus_p_alive_of_the_given_model() -> None:
    view = _cdnow_like(200)
    model = BetaGeo.from_params(r=0.3, alpha=5.0, a=0.8, b=2.5)
    out = AliveChurn(model=model).fit(view).score(view)
    np.testing.assert_allclose(out["churn_risk"], 1.0 - model.p_alive(view), rtol=0, atol=0)
    np.testing.assert_array_equal(out["signal_dropout"], out["churn_risk"])
    high = out["churn_risk"] > 0.05
    assert out.loc[high, "reasons"].str.match(r"^dropout \(\d\.\d\d\)$").all()
    assert (out.loc[~high, "reasons"] == "").all()


def test_without_a_model_a_bgnbd_is_fitted_on_the_view() -> None:
    view = _cdnow_like()
    detector = AliveChurn(penalizer=0.0).fit(view)
    direct = BetaGeo().fit(view)
    assert not detector.fallback_
    np.testing.assert_allclose(
        detector.score(view)["churn_risk"], 1.0 - direct.p_alive(view), rtol=1e-9, atol=1e-12
    )


def test_a_view_that_cannot_identify_the_model_uses_the_fallback() -> None:
    view = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [10.0, 20.0]},
                        index=pd.Index(["a", "b"], name="customer_id"))  # fmt: skip
    with pytest.warns(DataWarning, match="fallback"):
        detector = AliveChurn().fit(view)
    assert detector.fallback_
    assert detector.model_.params_.r == FALLBACK_BG_PARAMS["r"]


def test_the_nested_model_is_saved_without_customer_data() -> None:
    view = _cdnow_like(500)
    detector = AliveChurn().fit(view)
    text = json.dumps(detector.to_dict())
    assert "c00001" not in text and "BetaGeo" in text
    restored = AliveChurn.from_dict(json.loads(text))
    pd.testing.assert_frame_equal(restored.score(view), detector.score(view))
    given = AliveChurn(model=detector.model_).fit(view)
    again = AliveChurn.from_dict(json.loads(json.dumps(given.to_dict())))
    pd.testing.assert_frame_equal(again.score(view), given.score(view))


def test_errors() -> None:
    view = _cdnow_like(50)
    with pytest.raises(NotFittedError):
        AliveChurn(model=BetaGeo()).fit(view)  # an unfitted model
    with pytest.raises(InvalidParameterError, match="p_alive"):
        AliveChurn(model="bg").fit(view)
    with pytest.raises(SchemaError, match="recency"):
        AliveChurn().fit(view.drop(columns=["recency"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        fitted = AliveChurn().fit(view)
    with pytest.raises(SchemaError, match="T"):
        fitted.score(view.drop(columns=["T"]))


def test_a_saved_state_without_a_purchase_model_is_a_model_file_error() -> None:
    saved = AliveChurn().fit(_cdnow_like(300)).to_dict()
    saved["state"]["__dict__"]["model"] = 7
    with pytest.raises(ModelFileError) as info:
        AliveChurn.from_dict(saved)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "AliveChurn" in message and "'model'" in message and "p_alive" in message
    assert message.endswith("got int")
