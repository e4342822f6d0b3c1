"""NPS, CSAT and CES: hand-computed values, grouping, interval coverage, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmkit.data import CustomerData
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError
from crmkit.loyalty import ces, csat, nps

Z95 = 1.959963984540054


def _fb(kind: str, scores: list[float], **extra: object) -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "date": pd.Timestamp("2024-03-01"),
            "kind": kind,
            "score": np.asarray(scores, dtype=float),
            **extra,
        }
    )


def test_nps_hand_computed_counts_and_wald_interval() -> None:
    fb = _fb("nps", [10, 9, 9, 9, 8, 7, 6, 3, 9, 10])
    row = nps(fb, method="wald").loc["all"]
    assert (row["n"], row["promoters"], row["passives"], row["detractors"]) == (10, 6, 2, 2)
    assert row["nps"] == pytest.approx(40.0)
    # p = 0.6, d = 0.2: Var = (p + d - (p - d)^2) / n = 0.064
    half = 100 * Z95 * math.sqrt(0.064)
    assert row["nps_low"] == pytest.approx(40.0 - half)
    assert row["nps_high"] == pytest.approx(40.0 + half)


def test_nps_adjusted_wald_hand_computed() -> None:
    fb = _fb("nps", [10, 9, 9, 9, 8, 7, 6, 3, 9, 10])
    row = nps(fb).loc["all"]
    p, d = 6.75 / 13, 2.75 / 13
    se = math.sqrt((p + d - (p - d) ** 2) / 13)
    assert row["nps"] == pytest.approx(40.0)
    assert row["nps_low"] == pytest.approx(100 * (p - d - Z95 * se))
    assert row["nps_high"] == pytest.approx(100 * (p - d + Z95 * se))


def test_nps_all_promoters_adjusted_interval_has_width_wald_does_not() -> None:
    fb = _fb("nps", [10, 9, 10, 9])
    adj = nps(fb).loc["all"]
    wald = nps(fb, method="wald").loc["all"]
    assert adj["nps"] == 100 and adj["nps_high"] == 100 and adj["nps_low"] < 60
    assert wald["nps_low"] == wald["nps_high"] == 100


def test_bootstrap_is_reproducible_and_contains_the_estimate() -> None:
    rng = np.random.default_rng(5)
    fb = _fb("nps", rng.integers(0, 11, 200).tolist())
    a = nps(fb, method="bootstrap", seed=3)
    b = nps(fb, method="bootstrap", seed=3)
    pd.testing.assert_frame_equal(a, b)
    row = a.loc["all"]
    assert row["nps_low"] <= row["nps"] <= row["nps_high"]
    wald = nps(fb, method="wald").loc["all"]
    assert row["nps_high"] - row["nps_low"] == pytest.approx(
        wald["nps_high"] - wald["nps_low"], rel=0.15
    )


def test_csat_share_wilson_and_mean_hand_computed() -> None:
    out = csat(_fb("csat", [5, 4, 2, 5])).loc["all"]
    assert (out["n"], out["n_satisfied"]) == (4, 3)
    assert out["csat"] == pytest.approx(75.0)
    n, p, z = 4, 0.75, Z95
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert out["csat_low"] == pytest.approx(100 * (centre - half))
    assert out["csat_high"] == pytest.approx(100 * (centre + half))
    assert out["mean_score"] == pytest.approx(4.0)
    sd = np.std([5, 4, 2, 5], ddof=1)
    half_t = stats.t.ppf(0.975, 3) * sd / 2
    assert out["mean_low"] == pytest.approx(4.0 - half_t)
    assert out["mean_high"] == pytest.approx(min(5.0, 4.0 + half_t))


def test_ces_mean_t_interval_clipped_to_the_scale() -> None:
    out = ces(_fb("ces", [6, 5, 7])).loc["all"]
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, 2) * sd 1 / sqrt(3)
    assert out["ces"] == pytest.approx(6.0)
    assert out["sd"] == pytest.approx(1.0)
    assert out["ces_low"] == pytest.approx(6.0 - half)
    assert out["ces_high"] == 7.0


def test_grouping_by_column_series_customers_and_period() -> None:
    fb = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "date": pd.to_datetime(
                ["2024-01-05", "2024-01-20", "2024-02-03", "2024-04-10", "2024-04-11", "2024-05-01"]
            ),
            "kind": "nps",
            "score": [10.0, 3.0, 9.0, 8.0, 10.0, 0.0],
            "channel": ["web", "web", "phone", "phone", "web", "phone"],
        }
    )
    by_col = nps(fb, by="channel")
    assert by_col.index.name == "channel"
    assert by_col.loc["web", "nps"] == pytest.approx(100 * (2 - 1) / 3)
    assert by_col.loc["phone", "nps"] == pytest.approx(0.0)
    segments = pd.Series(["a", "a", "b", "b", "b", "a"], index=[1, 2, 3, 4, 5, 6], name="segment")
    by_series = nps(fb, by=segments, freq="Q")
    assert by_series.index.names == ["segment", "period"]
    assert by_series.loc[("a", pd.Period("2024Q1")), "n"] == 2
    assert by_series.loc[("b", pd.Period("2024Q2")), "nps"] == pytest.approx(50.0)
    monthly = nps(fb, freq="M")
    assert [str(p) for p in monthly.index] == ["2024-01", "2024-02", "2024-04", "2024-05"]
    assert monthly["n"].sum() == 6
    tx = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6], "date": "2024-01-01", "amount": 1.0})
    cust = pd.DataFrame(
        {"customer_id": [1, 2, 3, 4, 5, 6], "industry": ["x", "x", "y", "y", "y", "x"]}
    )
    data = CustomerData.from_frames(tx, customers=cust, feedback=fb, as_of="2024-06-30")
    by_industry = nps(data, by="industry")
    assert by_industry.loc["y", "n"] == 3
    assert by_industry.loc["x", "nps"] == pytest.approx(100 * (1 - 2) / 3)


def test_customers_without_a_segment_are_left_out_with_a_warning() -> None:
    fb = _fb("csat", [5, 4, 1])
    with pytest.warns(DataWarning, match="1 feedback rows have no segment"):
        out = csat(fb, by=pd.Series({0: "a", 1: "a"}))
    assert out["n"].tolist() == [2]


def test_n_customers_counts_distinct_respondents() -> None:
    fb = _fb("nps", [10, 9, 3]).assign(customer_id=[7, 7, 8])
    assert nps(fb).loc["all", "n_customers"] == 2


def test_inputs_are_not_modified() -> None:
    fb = _fb("nps", [10, 9, 3]).assign(kind=["NPS", "nps", "Nps"])
    before = fb.copy()
    nps(fb, by=pd.Series({0: "a", 1: "b", 2: "a"}), freq="M")
    pd.testing.assert_frame_equal(fb, before)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda fb: nps(fb, level=1.5), InvalidParameterError, "level"),
        (lambda fb: nps(fb, freq="X"), InvalidParameterError, "freq"),
        (lambda fb: nps(fb, method="exact"), InvalidParameterError, "method"),
        (lambda fb: csat(fb), SchemaError, "no 'csat' answers"),
        (lambda fb: nps(fb, by="region"), SchemaError, "region"),
        (lambda fb: nps(fb.assign(score=[11.0, 9.0, 3.0])), SchemaError, "nps scores"),
        (lambda fb: nps(fb.drop(columns="kind")), SchemaError, "kind"),
        (lambda fb: nps(fb.to_dict()), TypeError, "feedback data frame"),
        (lambda fb: nps(fb, by=pd.Series(["a", "b"], index=[0, 0])), SchemaError, "duplicate"),
    ],
)
def test_bad_input_raises_crmkit_errors(call: object, error: type, match: str) -> None:
    fb = _fb("nps", [10, 9, 3])
    with pytest.raises(error, match=match):
        call(fb)  # type: ignore[operator]


# --- coverage by simulation -------------------------------------------------------------------
N_SIM = 400
# 95 % intervals: covered count ~ Binomial(400, 0.95), sd 4.36; accept +-3.2 sd
LOW_OK, HIGH_OK = 366, 394


def _simulated(kind: str, n: int, probs: np.ndarray, values: np.ndarray, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    draws = rng.choice(values, size=(N_SIM, n), p=probs)
    return pd.DataFrame(
        {
            "customer_id": np.arange(N_SIM * n),
            "date": pd.Timestamp("2024-01-01"),
            "kind": kind,
            "score": draws.ravel().astype(float),
            "sample": np.repeat(np.arange(N_SIM), n),
        }
    )


NPS_PROBS = np.array([0.05, 0.05, 0.05, 0.04, 0.03, 0.03, 0.0, 0.15, 0.15, 0.25, 0.20])
TRUE_NPS = 100 * (NPS_PROBS[9:].sum() - NPS_PROBS[:7].sum())


@pytest.mark.parametrize(
    ("method", "n"),
    [("adjusted_wald", 120), ("adjusted_wald", 30), ("wald", 120), ("bootstrap", 120)],
)
def test_nps_interval_coverage(method: str, n: int) -> None:
    fb = _simulated("nps", n, NPS_PROBS, np.arange(11), seed=11)
    out = nps(fb, by="sample", method=method, n_boot=1000, seed=2)
    covered = int(((out["nps_low"] <= TRUE_NPS) & (out["nps_high"] >= TRUE_NPS)).sum())
    assert len(out) == N_SIM
    assert LOW_OK <= covered <= HIGH_OK, covered


def test_csat_wilson_coverage() -> None:
    probs = np.array([0.05, 0.1, 0.15, 0.4, 0.3])
    fb = _simulated("csat", 50, probs, np.arange(1, 6), seed=12)
    out = csat(fb, by="sample")
    true_share, true_mean = 100 * 0.7, float(np.arange(1, 6) @ probs)
    covered = int(((out["csat_low"] <= true_share) & (true_share <= out["csat_high"])).sum())
    covered_mean = int(((out["mean_low"] <= true_mean) & (true_mean <= out["mean_high"])).sum())
    assert LOW_OK <= covered <= HIGH_OK, covered
    assert LOW_OK <= covered_mean <= HIGH_OK, covered_mean


def test_ces_t_coverage() -> None:
    probs = np.array([0.03, 0.05, 0.1, 0.2, 0.27, 0.2, 0.15])
    fb = _simulated("ces", 40, probs, np.arange(1, 8), seed=13)
    out = ces(fb, by="sample")
    true_mean = float(np.arange(1, 8) @ probs)
    covered = int(((out["ces_low"] <= true_mean) & (true_mean <= out["ces_high"])).sum())
    assert LOW_OK <= covered <= HIGH_OK, covered
