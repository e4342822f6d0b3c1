"""cohort_retention: a hand example and a brute-force comparison."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.data import CustomerData
from crmkit.exceptions import InvalidParameterError, SchemaError
from crmkit.lifecycle import cohort_retention


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 1, 1, 2, 2, 3, 4, 4],
            "date": [
                "2024-01-05",
                "2024-01-20",
                "2024-04-10",
                "2024-02-01",
                "2024-08-01",
                "2024-05-20",
                "2024-06-30",
                "2024-09-30",
            ],
            "amount": [5.0, 1.0, 5.0, 8.0, 8.0, 3.0, 2.0, 2.0],
        }
    )


def test_by_hand() -> None:
    result = cohort_retention(_tx(), freq="Q", columns={"customer_id": "id"})
    assert result.as_of == pd.Timestamp("2024-09-30")
    assert [str(p) for p in result.sizes.index] == ["2024Q1", "2024Q2"]
    assert result.sizes.tolist() == [2, 2]
    # 1: Q1, Q1, Q2; 2: Q1, Q3; 3: Q2; 4: Q2, Q3 -- as_of in Q3
    counts = result.counts.astype("float64").to_numpy()
    np.testing.assert_array_equal(counts, [[2, 1, 1], [2, 1, np.nan]])
    assert all(str(t) == "Int64" for t in result.counts.dtypes)
    assert result.counts.isna().sum().sum() == 1
    np.testing.assert_allclose(result.shares.to_numpy(), [[1, 0.5, 0.5], [1, 0.5, np.nan]])
    np.testing.assert_allclose(result.average().to_numpy(), [1.0, 0.5, 0.5])
    assert result.counts.columns.name == "periods_since_first"


def test_monthly() -> None:
    result = cohort_retention(_tx(), freq="M", columns={"customer_id": "id"})
    # cohorts Jan (1), Feb (2), May (3), Jun (4); Jan..Sep = 9 months
    assert [str(p) for p in result.sizes.index] == ["2024-01", "2024-02", "2024-05", "2024-06"]
    assert result.shares.shape == (4, 9)
    assert result.shares.loc[pd.Period("2024-01", "M"), 3] == 1.0  # April
    assert result.shares.loc[pd.Period("2024-02", "M"), 6] == 1.0  # August
    assert result.shares.loc[pd.Period("2024-06", "M"), 3] == 1.0  # September
    assert np.isnan(result.shares.loc[pd.Period("2024-06", "M"), 4])


def _brute_force(tx: pd.DataFrame, freq: str, as_of: pd.Timestamp) -> pd.DataFrame:
    p = tx["date"].dt.to_period(freq)
    first = p.groupby(tx["customer_id"]).transform("min")
    k = np.array([(a - b).n for a, b in zip(p, first, strict=True)])
    pairs = pd.DataFrame({"cohort": first, "k": k, "c": tx["customer_id"]}).drop_duplicates()
    counts = pairs.groupby(["cohort", "k"]).size().unstack(fill_value=0)
    sizes = pairs.groupby("cohort")["c"].nunique()
    shares = counts.div(sizes, axis=0)
    last = pd.Period(as_of, freq)
    for cohort in shares.index:
        for col in shares.columns:
            if (cohort + col) > last:
                shares.loc[cohort, col] = np.nan
    return shares


@pytest.mark.parametrize("freq", ["M", "Q"])
def test_matches_brute_force_on_synthetic_data(freq: str) -> None:
    from crmkit.datasets import make_crm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = make_crm(150, seed=6).data
    result = cohort_retention(data, freq=freq)
    expected = _brute_force(data.transactions, freq, data.as_of)
    got = result.shares
    assert [str(c) for c in got.index] == [str(c) for c in expected.index]
    sub = got.loc[:, expected.columns]
    np.testing.assert_allclose(sub.to_numpy(), expected.to_numpy(), equal_nan=True)
    extra = got.drop(columns=expected.columns)
    assert ((extra.fillna(0)) == 0).all().all()  # offsets nobody reached: zero or unobserved
    assert (got.iloc[:, 0] == 1).all()
    assert result.sizes.sum() == data.n_customers


def test_customerdata_and_frame_agree() -> None:
    tx = _tx().rename(columns={"id": "customer_id"})
    data = CustomerData.from_frames(transactions=tx, as_of="2024-12-31")
    a = cohort_retention(data)
    b = cohort_retention(tx, as_of="2024-12-31")
    pd.testing.assert_frame_equal(a.shares, b.shares)
    assert a.shares.shape == (2, 4)  # Q1 .. Q4


def test_errors() -> None:
    with pytest.raises(InvalidParameterError, match="freq"):
        cohort_retention(_tx(), freq="D", columns={"customer_id": "id"})
    with pytest.raises(InvalidParameterError, match="CustomerData"):
        cohort_retention([1, 2])  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="customer_id"):
        cohort_retention(_tx())
