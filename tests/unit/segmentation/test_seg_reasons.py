"""Segment reasons: every built-in segmenter says why, with the customer's own numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.exceptions import InvalidParameterError, NotFittedError
from crmkit.segmentation import (
    DecileSegmenter,
    FirmographicSegmenter,
    KeyAccountSegmenter,
    KMeansSegmenter,
    PortfolioSegmenter,
    RFMSegmenter,
    explain_segments,
)
from crmkit.segmentation._text import format_number, join_texts, number_texts, pick
from crmkit.testing import make_customer_view

#: Each segmenter with the numeric column whose value its reasons must quote.
CASES: list[tuple[Any, str]] = [
    (PortfolioSegmenter(), "clv"),
    (PortfolioSegmenter(thresholds="absolute", value_cuts=(100, 400)), "revenue"),
    (RFMSegmenter(), "days_since_last"),
    (RFMSegmenter(recency_column=None), "frequency"),
    (DecileSegmenter(), "revenue"),
    (DecileSegmenter(column="frequency", n_groups=4), "frequency"),
    (KeyAccountSegmenter(), "revenue"),
    (KeyAccountSegmenter(rule="customer_share", share=0.2), "revenue"),
    (FirmographicSegmenter(), "revenue"),
]
IDS = [repr(c[0]) for c in CASES]


def _view(seg: Any, n: int = 200, seed: int = 4) -> pd.DataFrame:
    return make_customer_view(n, requires=tuple(seg.requires), seed=seed)


@pytest.mark.parametrize(("seg", "column"), CASES, ids=IDS)
def test_reasons_quote_the_customers_numbers(seg: Any, column: str) -> None:
    view = _view(seg)
    fitted = seg.fit(view)
    reasons = fitted.reasons(view)
    labels = fitted.assign(view).astype(str)
    for cid in view.index[:40]:
        text = reasons[cid]
        assert text.startswith(f"{labels[cid]}"), text
        assert format_number(view.loc[cid, column]) in text, (column, text)


@pytest.mark.parametrize(("seg", "column"), CASES, ids=IDS)
def test_reasons_differ_when_histories_differ(seg: Any, column: str) -> None:
    view = _view(seg)
    fitted = seg.fit(view)
    reasons = fitted.reasons(view)
    labels = fitted.assign(view)
    for _, group in view.groupby(labels.to_numpy(), observed=True):
        shown = group[column].map(format_number)
        if shown.nunique() > 1:  # same segment, different numbers: different texts
            first = shown.drop_duplicates().index[:2]
            assert reasons[first[0]] != reasons[first[1]]
    # identical customers: identical texts
    twin = view.iloc[[0, 0]].copy()
    twin.index = pd.Index(["x", "y"], name=view.index.name)
    pair = fitted.reasons(twin)
    assert pair["x"] == pair["y"]


@pytest.mark.parametrize(("seg", "column"), CASES, ids=IDS)
def test_bulk_equals_one_customer_and_explain_matches_assign(seg: Any, column: str) -> None:
    view = _view(seg)
    fitted = seg.fit(view)
    bulk = fitted.explain(view)
    pd.testing.assert_series_equal(bulk[fitted.output_name], fitted.assign(view))
    assert bulk[fitted.reasons_name].notna().all()
    assert str(bulk[fitted.reasons_name].dtype) == "str"
    for i in (0, 17, len(view) - 1):
        one = fitted.reasons(view.iloc[[i]])
        assert one.tolist() == [bulk[fitted.reasons_name].iloc[i]]
    # a later snapshot (other customers) gives the same texts for shared customers
    others = _view(seg, n=30, seed=9)
    others.index = pd.Index([f"new{i}" for i in range(30)], name=view.index.name)
    later = pd.concat([others.iloc[:10], view.iloc[:5], others.iloc[10:]]).iloc[::-1]
    assert fitted.reasons(later).loc[view.index[:5]].tolist() == (
        bulk[fitted.reasons_name].iloc[:5].tolist()
    )


def test_portfolio_reason_reads_like_the_rule() -> None:
    view = pd.DataFrame(
        {"revenue": [1240.0, 100.0, 300.0, 10.0], "clv": [880.0, 2000.0, 150.0, 5.0]},
        index=pd.Index(list("abcd"), name="customer_id"),
    )
    seg = PortfolioSegmenter(
        thresholds="absolute", value_cuts=(50, 410), potential_cuts=(50, 300)
    ).fit(view)
    assert seg.reasons(view).tolist() == [
        "A: revenue 1,240 (>= 410) and clv 880 (>= 300)",
        "B: revenue 100 (50 to 410) and clv 2,000 (>= 300)",
        "C: revenue 300 (50 to 410) and clv 150 (50 to 300)",
        "D: revenue 10 (< 50) and clv 5 (< 50)",
    ]
    quantile = PortfolioSegmenter().fit(_view(PortfolioSegmenter()))
    a = quantile.reasons(view)["a"]
    high = format_number(quantile.thresholds_["value_high"])
    assert a.startswith(f"A: revenue 1,240 (top 20 %, >= {high}) and clv 880")


def test_rfm_reason_names_scores_and_cut_points() -> None:
    view = pd.DataFrame(
        {
            "days_since_last": [5.0, 300.0, 40.0],
            "frequency": [9.0, 0.0, 3.0],
            "revenue": [900.0, 10.0, 120.0],
        },
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    rfm = RFMSegmenter(bins=3, rules=[("all", (1, 3), (1, 3), (1, 3))]).fit(view)
    texts = rfm.reasons(view)
    assert texts["a"] == (
        "all (R3 F3 M3): last purchase 5 days ago (R3: <= 28.3), "
        "frequency 9 (F3: > 5), revenue 900 (M3: > 380)"
    )
    assert texts["b"].startswith("all (R1 F1 M1): last purchase 300 days ago (R1: > 127)")
    assert "(F2: > 2 and <= 5)" in texts["c"]


def test_decile_reason_gives_share_and_range() -> None:
    view = pd.DataFrame(
        {"revenue": np.arange(1.0, 11.0)}, index=pd.Index(range(10), name="customer_id")
    )
    texts = DecileSegmenter(n_groups=5).fit(view).reasons(view)
    assert texts[9] == "1: revenue 10 (top 20 %, > 8.2)"
    assert texts[5] == "3: revenue 6 (top 40-60 %, > 4.6 and <= 6.4)"
    assert texts[0] == "5: revenue 1 (bottom 20 %, <= 2.8)"


def test_kmeans_reason_gives_distance_and_distinguishing_columns() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, 50), rng.normal(20, 1, 30)])
    view = pd.DataFrame(
        {"x": x, "y": rng.normal(0, 1, 80)}, index=pd.Index(range(80), name="customer_id")
    )
    seg = KMeansSegmenter(columns=("x", "y"), k=2).fit(view)
    texts = seg.reasons(view)
    labels = seg.assign(view)
    high = texts[labels == 2].iloc[0]
    assert high.startswith("cluster 2: nearest centre (distance ")
    assert "; next: cluster 1 at " in high
    assert "; distinguishing: high x " in high
    assert f"high x {format_number(view.loc[labels.index[labels == 2][0], 'x'])} (centre" in high
    assert "distinguishing: low x" in texts[labels == 1].iloc[0]
    # the distances quoted are the customer's own
    z = (view[["x", "y"]].to_numpy() - seg.mean_) / seg.scale_
    own = np.sqrt(((z[0] - seg.centroids_[labels.iloc[0] - 1]) ** 2).sum())
    assert f"(distance {format_number(own)};" in texts.iloc[0]
    one = KMeansSegmenter(columns=("x",), k=1).fit(view).reasons(view)
    assert "next" not in one.iloc[0]
    assert "near the average on every column: x " in one.iloc[0]


def test_firmographic_reason_for_other_and_missing() -> None:
    view = pd.DataFrame(
        {
            "size_class": ["large", "large", "small", None],
            "industry": ["retail", "retail", "it", "it"],
            "revenue": [900.0, 500.0, 10.0, 40.0],
        },
        index=pd.Index(list("abcd"), name="customer_id"),
    )
    seg = FirmographicSegmenter(volume_bands=2, min_customers=2).fit(view)
    texts = seg.reasons(view)
    assert texts["a"] == (
        "large / retail / high: size_class large, industry retail, revenue 900 (high: > 270)"
    )
    assert texts["c"].startswith(
        "other: small / it / low is not a fitted segment (segments need >= 2 customers"
    )
    assert "size_class unknown (missing)" in texts["d"]


def test_key_account_flag_reasons() -> None:
    view = pd.DataFrame(
        {"key_account": pd.array([True, False, None], dtype="boolean")},
        index=pd.Index(list("abc"), name="customer_id"),
    )
    texts = KeyAccountSegmenter(rule="flag").fit(view).reasons(view)
    assert texts.tolist() == [
        "key account: key_account is true",
        "other: key_account is false",
        "other: key_account is missing",
    ]


def test_reasons_before_fit_raise_and_empty_views_work() -> None:
    view = _view(DecileSegmenter())
    with pytest.raises(NotFittedError):
        DecileSegmenter().reasons(view)
    with pytest.raises(NotFittedError):
        DecileSegmenter().explain(view)
    for seg, _ in CASES:
        out = seg.fit(_view(seg)).explain(_view(seg).iloc[:0])
        assert out.shape == (0, 2)


def test_reasons_leave_the_view_alone() -> None:
    seg = KMeansSegmenter(log_columns=["revenue"])
    view = _view(seg)
    snapshot = view.copy(deep=True)
    seg.fit(view).explain(view)
    pd.testing.assert_frame_equal(view, snapshot)


class _Plain(DecileSegmenter):
    """A segmenter without reasons (third-party style)."""

    explain = None  # type: ignore[assignment]
    reasons = None  # type: ignore[assignment]


class _OwnReasons(_Plain):
    """A segmenter with a reasons method only."""

    def reasons(self, view: pd.DataFrame) -> pd.Series:  # type: ignore[override]
        labels = self.assign(view)
        return pd.Series([f"group {g}" for g in labels], index=view.index)


class _Misindexed(_Plain):
    def reasons(self, view: pd.DataFrame) -> pd.Series:  # type: ignore[override]
        return pd.Series(["?"] * len(view))


def test_explain_segments_for_any_segmenter() -> None:
    view = _view(DecileSegmenter())
    plain = _Plain(n_groups=3, output_name="tier").fit(view)
    out = explain_segments(plain, view)
    assert out.columns.tolist() == ["tier", "tier_reasons"]
    expected = [f"{g}: assigned by _Plain" for g in plain.assign(view)]
    assert out["tier_reasons"].tolist() == expected
    own = explain_segments(_OwnReasons(n_groups=3).fit(view), view)
    assert own["segment_reasons"].iloc[0] == f"group {own['segment'].iloc[0]}"
    with pytest.raises(InvalidParameterError, match="indexed like the view"):
        explain_segments(_Misindexed(n_groups=3).fit(view), view)
    builtin = DecileSegmenter(n_groups=3).fit(view)
    pd.testing.assert_frame_equal(explain_segments(builtin, view), builtin.explain(view))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.floats(allow_nan=True, allow_infinity=True, width=64) | st.integers(-(10**7), 10**7),
        min_size=1,
        max_size=30,
    )
)
def test_number_texts_match_format_number(values: list[float]) -> None:
    arr = np.asarray(values, dtype=np.float64)
    assert number_texts(arr).tolist() == [format_number(v) for v in arr]


def test_format_number_and_join_paths() -> None:
    assert [format_number(v) for v in (1243.7, 999.6, 41.03, 0.0, -0.001, 1e-9, -2500.0)] == [
        "1,244",
        "1,000",
        "41",
        "0",
        "-0.001",
        "0",
        "-2,500",
    ]
    # values on a rounding edge read the same alone and among others
    edges = np.array([24.15, 99.96, 9.9996, 0.0099996, 999.5, 0.1, 1e-3, -24.15])
    assert number_texts(edges).tolist() == [format_number(v) for v in edges]
    assert [format_number(v) for v in edges[:3]] == ["24.2", "100", "10"]
    pieces = ["x ", number_texts([1.5, 20000.0]), " / ", pick(["a", "b"], [1, 0])]
    fast = join_texts(pieces, 2)
    slow_pieces = [p if isinstance(p, str) else p.astype(object) for p in pieces]
    slow = join_texts(slow_pieces, 2)  # not arrow-backed: the element-wise fallback
    assert list(fast) == list(slow) == ["x 1.5 / b", "x 20,000 / a"]
    assert len(join_texts(pieces, 0)) == 0
