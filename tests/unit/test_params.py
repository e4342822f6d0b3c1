"""The constraint engine: one vocabulary and one message for every parameter check."""

from __future__ import annotations

import inspect
import math
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest

from crmkit._estimator import BaseEstimator
from crmkit._params import (
    COLUMN_NAME,
    NON_EMPTY_STR,
    Interval,
    Options,
    column_names,
    describe_value,
    field_validator,
    instance_of,
    parameter_error,
    validate_args,
)
from crmkit.exceptions import InvalidParameterError


@validate_args(
    {
        "top_n": [Interval("int", 1, None)],
        "column": [COLUMN_NAME],
        "how": [Options(frozenset({"rank", "minmax"}))],
        "view": [None, instance_of(pd.DataFrame, "a pandas DataFrame (a customer view)")],
    }
)
def _report(view: Any = None, *, top_n: int = 3, column: str = "clv", how: str = "rank") -> str:
    return f"{top_n} {column} {how}"


def test_validate_args_passes_good_calls_through_unchanged() -> None:
    assert _report(top_n=5, column="revenue", how="minmax") == "5 revenue minmax"
    assert _report(pd.DataFrame()) == "3 clv rank"
    assert _report.__name__ == "_report"
    assert "top_n" in str(inspect.signature(_report))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"top_n": 0}, "The 'top_n' parameter of _report must be an int >= 1. Got 0 instead."),
        ({"top_n": True}, "The 'top_n' parameter of _report must be an int >= 1. Got True instead"),
        (
            {"column": ""},
            "The 'column' parameter of _report must be a column name (a non-empty str). "
            "Got '' instead.",
        ),
        (
            {"how": "zscore"},
            "The 'how' parameter of _report must be one of {'minmax', 'rank'}. "
            "Got 'zscore' instead.",
        ),
        (
            {"view": {"a": 1}},
            "The 'view' parameter of _report must be None or a pandas DataFrame (a customer "
            "view). Got {'a': 1} instead.",
        ),
    ],
)
def test_validate_args_names_parameter_allowed_values_and_value(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        _report(**kwargs)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, (ValueError, TypeError))


def test_validate_args_checks_positional_arguments_and_leaves_wrong_calls_to_python() -> None:
    with pytest.raises(InvalidParameterError, match="'view' parameter"):
        _report(3)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        _report(nope=1)  # type: ignore[call-arg]


def test_validate_args_refuses_a_constraint_on_a_missing_argument() -> None:
    with pytest.raises(TypeError, match=r"has no arguments \['k'\]"):

        @validate_args({"k": [Interval("int", 1, None)]})
        def f(n: int) -> int:  # pragma: no cover - never defined
            return n


def test_validate_args_says_the_owner_it_is_given() -> None:
    @validate_args({"k": [Interval("int", 1, None)]}, owner="Thing.method")
    def f(k: int) -> int:
        return k

    with pytest.raises(InvalidParameterError, match=r"of Thing\.method must"):
        f(0)


def test_finite_interval_refuses_infinity_and_says_so() -> None:
    finite = Interval("real", 0, None, finite=True)
    assert finite.accepts(1e300) and not finite.accepts(math.inf) and not finite.accepts(-1.0)
    assert not finite.accepts(math.nan)
    assert Interval("real", 0, None).accepts(math.inf)  # the default keeps infinity
    assert finite.describe() == "a finite float >= 0"
    assert Interval("int", 1, None, finite=True).describe() == "an int >= 1"


@pytest.mark.parametrize(
    ("value", "accepted", "allow_empty"),
    [
        (("a", "b"), True, False),
        (["a"], True, False),
        ((), False, False),
        ((), True, True),
        (("a", "a"), False, False),
        (("a", ""), False, False),
        ("ab", False, False),
        (("a", 1), False, False),
        (None, False, True),
    ],
)
def test_column_names(value: Any, accepted: bool, allow_empty: bool) -> None:
    assert column_names(allow_empty=allow_empty).accepts(value) is accepted


def test_column_name_and_non_empty_str() -> None:
    for constraint in (COLUMN_NAME, NON_EMPTY_STR):
        assert constraint.accepts("x")
        assert not constraint.accepts("") and not constraint.accepts(None)
        assert not constraint.accepts(3)
    assert NON_EMPTY_STR.describe() == "a non-empty str"


def test_parameter_error_words_a_hand_written_check_like_the_engine() -> None:
    err = parameter_error("evaluate_churn", "k", "at most the 30 customers", 31)
    assert isinstance(err, InvalidParameterError)
    assert str(err) == (
        "The 'k' parameter of evaluate_churn must be at most the 30 customers. Got 31 instead."
    )


def test_describe_value_keeps_a_message_to_one_line() -> None:
    frame = pd.DataFrame({"a": range(10)})
    assert describe_value(frame) == "a DataFrame of shape (10, 1)"
    assert describe_value({"t": frame}) == "a dict"
    assert describe_value(np.arange(3)) == "array([0, 1, 2])"
    assert len(describe_value("x" * 500)) == 60


@attrs.frozen
class _Stream:
    cadence_days: int = attrs.field(validator=field_validator(Interval("int", 1, None)))
    name: str = attrs.field(default="news", validator=field_validator(NON_EMPTY_STR))


def test_field_validator_checks_attrs_fields_with_the_engine() -> None:
    assert _Stream(7).cadence_days == 7
    assert _Stream(np.int64(7)).cadence_days == 7
    with pytest.raises(InvalidParameterError) as info:
        _Stream(0)
    assert str(info.value) == (
        "The 'cadence_days' parameter of _Stream must be an int >= 1. Got 0 instead."
    )
    with pytest.raises(InvalidParameterError, match="'name' parameter of _Stream"):
        _Stream(1, name="")


class _Toy(BaseEstimator):
    _parameter_constraints = {"columns": [column_names(), None]}  # noqa: RUF012

    def __init__(self, columns: tuple[str, ...] | None = None) -> None:
        self.columns = columns


def test_validated_checks_one_parameter_before_fit() -> None:
    assert _Toy(("a",))._validated("columns") == ("a",)
    assert _Toy()._validated("columns") is None
    with pytest.raises(InvalidParameterError, match="'columns' parameter of _Toy"):
        _Toy(("a", "a"))._validated("columns")
