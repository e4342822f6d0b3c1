"""engines.assess / engines.fit on a 2-worker Dask cluster equal the pandas Playbook.

Run with ``-m dask``; skipped with the reason when dask.distributed is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pandas as pd
import pytest

from crmkit.compose import Playbook
from crmkit.data import CustomerData
from crmkit.engines import assess, fit
from crmkit.exceptions import InvalidParameterError
from tests.engines._playbook_data import (
    EARLY,
    KINDS,
    as_engine_types,
    customer_data,
    fitted,
    records,
    reference,
)

dd = pytest.importorskip(
    "dask.dataframe", reason="dask is not installed (pip install crmkit[dask])"
)
distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install crmkit[dask])"
)

pytestmark = [
    pytest.mark.dask,
    pytest.mark.filterwarnings("ignore:.*narwhals-dask.*:FutureWarning"),
]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def recs() -> dict[str, pd.DataFrame]:
    return records()


@pytest.fixture(scope="module")
def playbook(recs: dict[str, pd.DataFrame]) -> Playbook:
    return fitted(recs)


def _dask(recs: dict[str, pd.DataFrame], npartitions: int = 3) -> dict[str, Any]:
    return {k: dd.from_pandas(recs[k], npartitions=npartitions) for k in KINDS}


def _run(pb: Playbook, frames: dict[str, Any], **kw: Any) -> Any:
    tx = frames["transactions"]
    others = {k: v for k, v in frames.items() if k != "transactions"}
    return assess(pb, tx, **others, **kw)


def test_assess_equals_pandas_row_for_row(client: Any, recs: Any, playbook: Playbook) -> None:
    out = _run(playbook, _dask(recs), campaigns=recs["campaigns"], progress=False)
    assert type(out).__name__ == "DataFrame" and hasattr(out, "dask")  # lazy
    got = as_engine_types(out.compute())
    pd.testing.assert_frame_equal(got, reference(playbook, recs), check_exact=True)


def test_assess_with_as_of_and_other_bucketing(client: Any, recs: Any, playbook: Any) -> None:
    out = _run(playbook, _dask(recs, 2), as_of=EARLY, partitions=5, progress=False)
    got = as_engine_types(out.compute())
    expected = reference(playbook, {k: v for k, v in recs.items() if k != "campaigns"}, EARLY)
    assert len(expected) < len(recs["transactions"]["customer_id"].unique())
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_assess_transactions_only_with_mapped_columns(client: Any, recs: Any) -> None:
    tx = recs["transactions"].rename(columns={"customer_id": "cid", "date": "day"})
    pb = Playbook().fit(customer_data({"transactions": recs["transactions"]}))
    out = assess(
        pb, dd.from_pandas(tx, npartitions=2), columns={"customer_id": "cid", "date": "day"},
        progress=False,
    )
    expected = reference(pb, {"transactions": recs["transactions"]})
    pd.testing.assert_frame_equal(as_engine_types(out.compute()), expected, check_exact=True)


def test_fit_on_statistics_and_a_sample(client: Any, recs: Any) -> None:
    frames = _dask(recs)
    pb = fit(Playbook(), frames["transactions"], customers=frames["customers"],
             sample=60, seed=1, progress=False)
    n = recs["transactions"]["customer_id"].nunique()
    assert pb.fit_sample_["customers"] == n
    assert 20 < pb.fit_sample_["sampled"] < 100
    assert any(f"sample of {pb.fit_sample_['sampled']} customers" in t for t in pb.notes_)
    # the sample does not depend on the partitioning
    again = fit(Playbook(), dd.from_pandas(recs["transactions"], npartitions=1),
                customers=dd.from_pandas(recs["customers"], npartitions=1),
                sample=60, seed=1, progress=False)
    assert again.fit_sample_ == pb.fit_sample_
    # value models on all customers' statistics: the pandas fit of the same model
    full = Playbook().fit(customer_data({k: recs[k] for k in ("transactions", "customers")}))
    got = attrs.asdict(pb.purchase_model_.params_)
    for name, value in attrs.asdict(full.purchase_model_.params_).items():
        if isinstance(value, float):
            assert value == pytest.approx(got[name], rel=1e-3)


def test_fit_with_the_whole_sample_equals_pandas(client: Any, recs: Any) -> None:
    frames = _dask(recs)
    others = {k: v for k, v in frames.items() if k != "transactions"}
    pb = fit(Playbook(), frames["transactions"], **others, sample=10**6, progress=False)
    data = customer_data({k: v for k, v in recs.items() if k != "campaigns"})
    assert pb.fit_sample_["sampled"] == data.n_customers
    twin = Playbook().fit(data, value_models=(pb.purchase_model_, pb.spend_model_))
    pd.testing.assert_frame_equal(pb.assess(data), twin.assess(data), check_exact=True)


def test_from_frames_refuses_dask_unless_collect(recs: Any) -> None:
    tx = dd.from_pandas(recs["transactions"], npartitions=2)
    with pytest.raises(InvalidParameterError, match=r"crmkit\.engines\.assess.*collect=True"):
        CustomerData.from_frames(tx)
    data = CustomerData.from_frames(tx, collect=True)
    assert data.n_customers == recs["transactions"]["customer_id"].nunique()


def test_progress_false_is_silent(
    client: Any, recs: Any, playbook: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(playbook, _dask(recs), progress=False)
    fit(Playbook(), dd.from_pandas(recs["transactions"], npartitions=2), sample=50,
        progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_true_draws_the_steps(
    client: Any, recs: Any, playbook: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    _run(playbook, _dask(recs), progress=True)
    assert "engines.assess" in capsys.readouterr().err


def test_mixed_engines_are_refused(recs: Any, playbook: Any) -> None:
    tx = dd.from_pandas(recs["transactions"], npartitions=2)
    with pytest.raises(InvalidParameterError, match="customers is a pandas frame"):
        assess(playbook, tx, customers=recs["customers"])
