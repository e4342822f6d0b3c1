"""engines.assess / engines.fit on Spark local[2] equal the pandas Playbook.

Run with ``-m spark``; skipped with the reason when pyspark or Java is missing.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

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
    engine_ready,
    fitted,
    records,
    reference,
)

pyspark = pytest.importorskip(
    "pyspark", reason="pyspark is not installed (pip install crmkit[spark])"
)
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip(
        "Java is not installed (PySpark needs a JVM, e.g. OpenJDK 17)", allow_module_level=True
    )

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


@pytest.fixture(scope="module")
def recs() -> dict[str, pd.DataFrame]:
    return records()


@pytest.fixture(scope="module")
def playbook(recs: dict[str, pd.DataFrame]) -> Playbook:
    return fitted(recs)


@pytest.fixture(scope="module")
def frames(spark: Any, recs: dict[str, pd.DataFrame]) -> dict[str, Any]:
    return {k: spark.createDataFrame(engine_ready(recs[k])) for k in KINDS}


def _others(frames: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in frames.items() if k != "transactions"}


def test_assess_equals_pandas_row_for_row(frames: Any, recs: Any, playbook: Playbook) -> None:
    out = assess(playbook, frames["transactions"], **_others(frames),
                 campaigns=recs["campaigns"], progress=False)
    assert type(out).__name__ == "DataFrame" and hasattr(out, "schema")  # lazy Spark frame
    assert out.schema["customer_id"].dataType.typeName() == "long"
    assert out.schema["stage"].dataType.typeName() == "string"
    got = as_engine_types(out.toPandas())
    pd.testing.assert_frame_equal(got, reference(playbook, recs), check_exact=True)


def test_assess_with_as_of_and_more_buckets(frames: Any, recs: Any, playbook: Any) -> None:
    out = assess(playbook, frames["transactions"], **_others(frames), as_of=EARLY,
                 partitions=7, progress=False)
    expected = reference(playbook, {k: v for k, v in recs.items() if k != "campaigns"}, EARLY)
    pd.testing.assert_frame_equal(as_engine_types(out.toPandas()), expected, check_exact=True)


def test_fit_with_the_whole_sample_equals_pandas(
    frames: Any, recs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    tx, customers = frames["transactions"], frames["customers"]
    pb = fit(Playbook(), tx, customers=customers, sample=10**6, progress=False)
    data = customer_data({k: recs[k] for k in ("transactions", "customers")})
    assert pb.fit_sample_ == {"customers": data.n_customers, "sampled": data.n_customers,
                              "seed": 0}
    twin = Playbook().fit(data, value_models=(pb.purchase_model_, pb.spend_model_))
    pd.testing.assert_frame_equal(pb.assess(data), twin.assess(data), check_exact=True)
    small = fit(Playbook(), tx, customers=customers, sample=50, seed=3, progress=False)
    assert 10 < small.fit_sample_["sampled"] < 100
    assert capsys.readouterr().err == ""  # progress=False: silent


def test_from_frames_refuses_spark_unless_collect(frames: Any, recs: Any) -> None:
    with pytest.raises(InvalidParameterError, match=r"pyspark frame.*crmkit\.engines\.fit"):
        CustomerData.from_frames(frames["transactions"])
    data = CustomerData.from_frames(frames["transactions"], collect=True)
    assert data.n_customers == recs["transactions"]["customer_id"].nunique()
