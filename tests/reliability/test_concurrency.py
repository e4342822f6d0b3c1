"""Fitted models and Playbooks are safe to use from many threads at once.

Every concrete persistable crmkit object is fitted once; its outputs (all
its predictions on fixed inputs, see :mod:`tests.reliability._fitted`) are
computed in one thread, then again from 8 threads at once, and must agree
bit for bit. A fitted Playbook also assesses single customers concurrently.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.reliability import _fitted

pytestmark = pytest.mark.filterwarnings("ignore::crmkit.exceptions.DataWarning")

N_THREADS = 8
MODEL_TYPES = sorted(_fitted.concrete_classes())


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_outputs_from_8_threads_equal_the_single_thread_result(model_type: str) -> None:
    model = _fitted.shared_fitted(model_type)
    expected = _fitted.outputs(model)
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        results = list(pool.map(lambda _: _fitted.outputs(model), range(N_THREADS)))
    for got in results:
        _fitted.assert_identical(expected, got)


def test_playbook_assesses_single_customers_from_8_threads() -> None:
    playbook = _fitted.shared_fitted("crmkit.compose.Playbook")
    data = _fitted.crm().data
    bulk = playbook.assess(data)
    ids = list(bulk.index[:: max(1, len(bulk) // N_THREADS)][:N_THREADS])

    def one(cid: Any) -> Any:
        return playbook.assess_one(data.for_customer(cid))

    expected = [one(cid) for cid in ids]
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        got = list(pool.map(one, ids))
    assert got == expected
    for cid, assessment in zip(ids, got, strict=True):
        assert assessment.clv == bulk.loc[cid, "clv"]
        assert assessment.churn_risk == bulk.loc[cid, "churn_risk"]
