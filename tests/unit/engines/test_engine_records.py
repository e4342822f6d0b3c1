"""engines.assess / engines.fit without an engine: packing, types, checks, the local path."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from crmkit.compose import Playbook
from crmkit.data import CustomerData
from crmkit.datasets import make_crm
from crmkit.engines import assess, fit
from crmkit.engines._assess import EngineRecords, parse_as_of
from crmkit.engines._records import (
    KIND,
    PlaybookRunner,
    cast_output,
    output_layout,
    unpack,
)
from crmkit.exceptions import InvalidParameterError, NotFittedError, SchemaError
from crmkit.value import BetaGeo


@pytest.fixture(scope="module")
def crm() -> object:
    return make_crm(120, seed=4)


@pytest.fixture(scope="module")
def playbook(crm: object) -> Playbook:
    return Playbook().fit(crm.data)  # type: ignore[attr-defined]


def test_unpack_restores_the_types_the_union_widened() -> None:
    packed = pd.DataFrame({
        KIND: [0, 1, 0],
        "c0_0": [1.0, np.nan, 2.0],
        "c0_1": [True, None, False],
        "c1_0": [np.nan, 7.0, np.nan],
        "c1_1": [None, "x", None],
    })
    layout = [
        ("transactions", [("c0_0", "customer_id", "int64"), ("c0_1", "flag", "bool")]),
        ("customers", [("c1_0", "customer_id", "int64"), ("c1_1", "name", None)]),
    ]
    parts = unpack(packed, layout)
    assert parts["transactions"]["customer_id"].dtype == np.int64
    assert parts["transactions"]["flag"].tolist() == [True, False]
    assert parts["customers"].to_dict("list") == {"customer_id": [7], "name": ["x"]}
    assert packed.shape == (3, 5)  # never mutated


def test_cast_output_maps_types_and_keeps_missing_values() -> None:
    out = pd.DataFrame(
        {
            "stage": pd.Categorical(["retention", None]),
            "n": pd.array([3, None], dtype="Int64"),
            "x": [1.5, np.nan],
        },
        index=pd.Index(["a", "b"], name="customer_id"),
    )
    flat = cast_output(out, [("stage", "string"), ("n", "int"), ("x", "float")])
    assert flat["customer_id"].tolist() == ["a", "b"]
    assert flat["stage"].tolist() == ["retention", None] and flat["stage"].dtype == object
    assert str(flat["n"].dtype) == "Int64" and flat["n"].isna().tolist() == [False, True]
    with pytest.raises(SchemaError, match="missing from a partition"):
        cast_output(out, [("clv", "float")])


def test_layout_comes_from_the_fitted_steps(playbook: Playbook, crm: object) -> None:
    layout = dict(output_layout(playbook, parse_as_of("2025-06-30"), 0))
    expected = playbook.assess(crm.data)  # type: ignore[attr-defined]
    assert list(layout) == list(expected.columns)
    assert layout["stage"] == "string" and layout["clv"] == "float"
    assert layout["cadence_days"] == "int"


def test_runner_travels_as_json_and_equals_the_bulk_rows(playbook: Playbook, crm: object) -> None:
    data = crm.data  # type: ignore[attr-defined]
    tx = data.transactions
    names = [f"c0_{j}" for j in range(tx.shape[1])]
    layout = [("transactions", [(g, c, None) for g, c in zip(names, tx.columns, strict=True)])]
    packed = tx.set_axis(names, axis=1).assign(**{KIND: 0})
    runner = PlaybookRunner(playbook, layout, output_layout(playbook, data.as_of, 0), "int64",
                            data.as_of, {})
    copy = pickle.loads(pickle.dumps(runner))
    assert copy._playbook is None  # rebuilt from the JSON where it runs
    half = packed[packed["c0_0"] % 2 == 0]
    got = copy(half).set_index("customer_id")
    bulk = playbook.assess(CustomerData.from_frames(tx)).loc[got.index]
    assert np.array_equal(got["clv"].to_numpy(), bulk["clv"].to_numpy())
    assert got["stage"].tolist() == bulk["stage"].astype(str).tolist()
    assert copy(packed.iloc[:0]).columns.tolist() == ["customer_id", *bulk.columns]


def test_local_frames_assess_and_fit_as_pandas(playbook: Playbook, crm: object) -> None:
    data = crm.data  # type: ignore[attr-defined]
    tx = data.transactions
    pd.testing.assert_frame_equal(assess(playbook, tx, progress=False),
                                  playbook.assess(CustomerData.from_frames(tx)))
    pb = fit(Playbook(), tx, progress=False)
    assert pb.order_ == Playbook().fit(CustomerData.from_frames(tx)).order_


def test_checks_on_the_driver(playbook: Playbook, crm: object) -> None:
    tx = crm.data.transactions  # type: ignore[attr-defined]
    with pytest.raises(NotFittedError):
        assess(Playbook(), tx)
    with pytest.raises(InvalidParameterError, match="must be a crmkit Playbook"):
        assess(object(), tx)
    with pytest.raises(InvalidParameterError, match="transactions are required"):
        EngineRecords({"transactions": None}, None, "demo")
    with pytest.raises(SchemaError, match=r"customers\['cid'\]: is missing"):
        EngineRecords({"transactions": tx.rename(columns={"customer_id": "cid"}),
                       "customers": pd.DataFrame({"customer_id": [1]})},
                      {"customer_id": "cid"}, "demo")
    text = tx.assign(date=tx["date"].dt.strftime("%Y-%m-%d"))
    with pytest.raises(InvalidParameterError, match="pass as_of="):
        EngineRecords({"transactions": text}, None, "demo").last_day("demo")
    with pytest.raises(InvalidParameterError, match="'sample' parameter"):
        fit(Playbook(), tx, sample=0)


def test_parse_as_of_reads_the_day_as_written() -> None:
    assert parse_as_of("2024-06-01T23:30-05:00") == pd.Timestamp("2024-06-01")
    with pytest.raises(InvalidParameterError):
        parse_as_of("2300-01-01")


def test_playbook_fit_takes_fitted_value_models(crm: object) -> None:
    data = crm.data  # type: ignore[attr-defined]
    bg = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    pb = Playbook().fit(data, value_models=(bg, None))
    assert pb.purchase_model_ is bg and pb.spend_model_ is None
    assert "fitted before" in pb.resolved_["purchase_model"]
    with pytest.raises(NotFittedError, match="not fitted"):
        Playbook().fit(data, value_models=(BetaGeo(), None))
    with pytest.raises(InvalidParameterError, match="must be a pair"):
        Playbook().fit(data, value_models=[bg, None])  # type: ignore[arg-type]


def test_score_progress_bar_on_request_and_silent_when_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("tqdm")
    from crmkit.engines import score

    m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    view = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 30.0], "T": [38.0, 38.0]})
    quiet = score(view, m, horizon=52, progress=False)
    assert capsys.readouterr().err == ""
    loud = score(view, m, horizon=52, progress=True)
    assert "engines.score" in capsys.readouterr().err
    pd.testing.assert_frame_equal(quiet, loud)


def test_partitions_must_be_positive(playbook: Playbook, crm: object) -> None:
    tx = crm.data.transactions  # type: ignore[attr-defined]
    with pytest.raises(InvalidParameterError, match="'partitions' parameter"):
        assess(playbook, tx, partitions=0)
