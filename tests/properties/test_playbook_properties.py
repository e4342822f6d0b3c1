"""The Playbook assesses each customer from its own records and the fitted state only.

So: ``assess_one`` on one customer's records equals that customer's row of
the bulk assessment; assessing any subset of customers gives exactly their
rows of the bulk assessment; and the order of the records does not matter.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.compose import Playbook, assessment_from_row
from crmkit.data import CustomerData
from tests.reliability import _fitted

pytestmark = pytest.mark.filterwarnings("ignore::crmkit.exceptions.DataWarning")

_PROFILE = settings().max_examples


@pytest.fixture(scope="module")
def fitted() -> tuple[Playbook, CustomerData, pd.DataFrame, pd.DataFrame]:
    playbook = _fitted.shared_fitted("crmkit.compose.Playbook")
    data = _fitted.crm().data
    return playbook, data, playbook.assess(data), playbook.assess(data, include_view=True)


def _subset(data: CustomerData, ids: list[Any], shuffle: bool) -> CustomerData:
    """The records of ``ids`` only (rows shuffled when asked), like ``for_customer``."""
    frames = {}
    for kind, frame in data.frames.items():
        if "customer_id" in frame.columns:
            frame = frame.loc[frame["customer_id"].isin(ids).to_numpy()]
        if shuffle and len(frame):
            frame = frame.iloc[np.random.default_rng(len(frame)).permutation(len(frame))]
        frames[kind] = frame
    return attrs.evolve(data, frames=frames)


@settings(max_examples=max(4, _PROFILE // 3))
@given(st.data())
def test_assess_one_equals_the_bulk_row(fitted: Any, data_strategy: st.DataObject) -> None:
    playbook, data, bulk, bulk_view = fitted
    cid = data_strategy.draw(st.sampled_from(list(bulk.index)))
    one = playbook.assess_one(data.for_customer(cid))
    assert one == assessment_from_row(bulk_view.loc[cid], customer_id=cid)
    assert one.clv == bulk.loc[cid, "clv"] and one.churn_risk == bulk.loc[cid, "churn_risk"]


@settings(max_examples=max(3, _PROFILE // 5))
@given(st.data(), st.booleans())
def test_any_subset_gives_its_bulk_rows(
    fitted: Any, data_strategy: st.DataObject, shuffle: bool
) -> None:
    playbook, data, bulk, _ = fitted
    ids = data_strategy.draw(
        st.lists(st.sampled_from(list(bulk.index)), min_size=1, max_size=25, unique=True)
    )
    part = playbook.assess(_subset(data, ids, shuffle))
    expected = bulk.loc[sorted(ids)]
    pd.testing.assert_frame_equal(part, expected, check_exact=True)
