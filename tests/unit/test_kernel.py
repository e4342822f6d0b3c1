"""The kernel helpers every layer shares: one clone, one set of argument checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit._checks import as_values, check_fraction, check_int, label_series, raise_if
from crmkit._estimator import BaseEstimator, clone
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure


class _Toy(BaseEstimator):
    def __init__(self, *, k: int = 3, weights: list[float] | None = None) -> None:
        self.k = k
        self.weights = weights

    def fit(self) -> _Toy:
        self.total_ = self.k
        return self


def test_clone_drops_learned_state_and_copies_parameters() -> None:
    weights = [1.0, 2.0]
    fitted = _Toy(k=4, weights=weights).fit()
    twin = clone(fitted)
    assert type(twin) is _Toy and twin.get_params() == fitted.get_params()
    assert not hasattr(twin, "total_")
    assert twin.weights == weights and twin.weights is not weights


def test_clone_keeps_a_nested_fitted_estimator_fitted() -> None:
    # a stager wrapping an already fitted model relies on this (refit=False)
    inner = _Toy(k=2).fit()
    outer = _Toy(k=1, weights=inner)  # type: ignore[arg-type]
    copied = clone(outer).weights
    assert copied is not inner and copied.total_ == 2


def test_clone_refuses_an_object_without_get_params_unless_told() -> None:
    with pytest.raises(InvalidParameterError, match="no 'get_params' method"):
        clone({"a": [1]})
    value = {"a": [1]}
    copy = clone(value, safe=False)
    assert copy == value and copy["a"] is not value["a"]


def test_every_clone_of_crmkit_is_the_kernel_one() -> None:
    from crmkit.testing import _dispatch

    assert _dispatch.clone is clone


@pytest.mark.parametrize(
    ("value", "low", "message"),
    [
        (0, 1, "The 'q' parameter of demo must be an int >= 1. Got 0 instead."),
        (True, 1, "The 'q' parameter of demo must be an int >= 1. Got True instead."),
        (2.0, 1, "The 'q' parameter of demo must be an int >= 1. Got 2.0 instead."),
        (1, 2, "The 'q' parameter of demo must be an int >= 2. Got 1 instead."),
    ],
)
def test_check_int_says_what_was_wrong(value: object, low: int, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        check_int(value, "q", "demo", low=low)
    assert str(info.value) == message


def test_check_int_and_fraction_return_plain_numbers() -> None:
    assert check_int(np.int64(3), "q", "demo") == 3
    assert type(check_int(np.int64(3), "q", "demo")) is int
    assert check_fraction(np.float32(0.5), "s", "demo") == 0.5
    assert check_fraction(1, "s", "demo", closed=True) == 1.0


@pytest.mark.parametrize(
    ("value", "closed", "bound"),
    [(0.0, False, "< 1"), (1.0, False, "< 1"), (1.5, True, "<= 1"), ("x", False, "< 1")],
)
def test_check_fraction_says_what_was_wrong(value: object, closed: bool, bound: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        check_fraction(value, "s", "demo", closed=closed)
    assert str(info.value) == (
        f"The 's' parameter of demo must be a float > 0 and {bound}. Got {value!r} instead."
    )


def test_as_values_lists_missing_and_infinite_values() -> None:
    with pytest.raises(SchemaError) as info:
        as_values(pd.Series([1.0, np.nan, np.inf], index=["a", "b", "c"], name="v"), "demo")
    text = str(info.value)
    assert "contains missing values" in text and "['b']" in text
    assert "is not finite" in text and "['c']" in text


def test_label_series_and_raise_if() -> None:
    labels, failures = label_series(pd.Series(["A", "B"], index=[1, 2]), "before")
    assert failures == [] and labels.tolist() == ["A", "B"]
    raise_if(failures)
    with pytest.raises(SchemaError, match="is not a pandas Series"):
        label_series(["A"], "after")
    _, failures = label_series(pd.Series(["A", "B"], index=[1, 1]), "after")
    with pytest.raises(SchemaError, match="duplicate customer ids"):
        raise_if(failures)
    with pytest.raises(SchemaError, match="view\\['T'\\]: is missing"):
        raise_if([SchemaFailure("view", "T", "is missing")])


def test_both_migration_tables_share_the_label_check() -> None:
    from crmkit.lifecycle import stage_migration
    from crmkit.segmentation import segment_migration

    dup = pd.Series(["onboarding", "retention"], index=[7, 7])
    ok = pd.Series(["onboarding"], index=[7])
    for table in (stage_migration, segment_migration):
        with pytest.raises(SchemaError, match="has duplicate customer ids"):
            table(dup, ok)
        with pytest.raises(SchemaError, match="is not a pandas Series"):
            table([1], ok)


def test_rfm_refuses_a_missing_frequency_or_monetary_column_at_fit() -> None:
    from crmkit.segmentation import RFMSegmenter
    from crmkit.testing import make_customer_view

    view = make_customer_view(20)
    for name in ("frequency_column", "monetary_column"):
        with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of RFMSegmenter"):
            RFMSegmenter(**{name: None}).fit(view)  # type: ignore[arg-type]


def test_churn_detectors_share_one_view_check() -> None:
    from crmkit.churn import LogisticChurn, SignalRules

    view = pd.DataFrame({"frequency": [1.0]}, index=["a"])
    for detector in (SignalRules(), LogisticChurn()):
        with pytest.raises(SchemaError, match=f"{type(detector).__name__}.fit"):
            detector.fit(view, pd.Series([True], index=["a"]))
