"""JSON round trip: a saved and loaded model predicts bit for bit what the original did.

Every concrete persistable class registered with crmkit (value models,
plugins, the loyalty index, recommenders, the Playbook) is fitted, saved to a
JSON file, loaded back with ``crmkit.load`` and with its own ``load``, and
must give identical outputs (see :mod:`tests.reliability._fitted`) and an
identical document. A hypothesis property does the same for value models
with any parameters on any valid histories.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmkit
from crmkit.value import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD
from tests.properties.test_value_properties import param, purchase_views
from tests.reliability import _fitted

pytestmark = pytest.mark.filterwarnings("ignore::crmkit.exceptions.DataWarning")

MODEL_TYPES = sorted(_fitted.concrete_classes())


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_round_trip_gives_identical_outputs(model_type: str, tmp_path: Path) -> None:
    model = _fitted.shared_fitted(model_type)
    expected = _fitted.outputs(model)
    path = model.save(tmp_path / "model.json")
    again = crmkit.load(path)
    assert type(again) is type(model)
    _fitted.assert_identical(expected, _fitted.outputs(again))
    _fitted.assert_identical(expected, _fitted.outputs(type(model).load(path)))
    # saving the loaded model writes the same document
    assert json.loads(path.read_text()) == again.to_dict() | {"crmkit_version": crmkit.__version__}


def test_every_concrete_persistable_class_is_covered() -> None:
    # a class registered for persistence but neither abstract nor fittable here fails loudly
    for model_type in MODEL_TYPES:
        assert _fitted.shared_fitted(model_type).model_type == model_type


_PARAMS = {
    BetaGeo: ("r", "alpha", "a", "b"),
    ModifiedBetaGeo: ("r", "alpha", "a", "b"),
    ParetoNBD: ("r", "alpha", "s", "beta"),
}


@given(
    st.sampled_from(sorted(_PARAMS, key=lambda c: c.__name__)),
    st.lists(param, min_size=4, max_size=4),
    purchase_views(),
)
def test_value_model_round_trip_with_any_parameters(
    cls: Any, values: list[float], view: pd.DataFrame
) -> None:
    model = cls.from_params(**dict(zip(_PARAMS[cls], values, strict=True)))
    text = json.dumps(model.to_dict(), allow_nan=False)
    again = crmkit._persist.from_dict(json.loads(text))
    for method in ("p_alive", "log_likelihood"):
        pd.testing.assert_series_equal(
            getattr(model, method)(view), getattr(again, method)(view), check_exact=True
        )
    pd.testing.assert_series_equal(
        model.conditional_expected_purchases(view, 26.0),
        again.conditional_expected_purchases(view, 26.0),
        check_exact=True,
    )


@given(
    st.lists(param, min_size=3, max_size=3), st.lists(st.floats(0.01, 1e6), min_size=1, max_size=8)
)
def test_spend_model_round_trip_with_any_parameters(
    values: list[float], spend: list[float]
) -> None:
    p, q, gamma = values
    model = GammaGamma.from_params(p=p, q=q + 1.0, gamma=gamma)
    again = crmkit._persist.from_dict(json.loads(json.dumps(model.to_dict(), allow_nan=False)))
    view = pd.DataFrame({"frequency": range(1, len(spend) + 1), "monetary_value": spend})
    pd.testing.assert_series_equal(
        model.expected_spend(view), again.expected_spend(view), check_exact=True
    )
