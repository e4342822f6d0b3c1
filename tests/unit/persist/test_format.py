"""The value encoding: arrays are written in the few dtypes the reader accepts."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from crmkit._persist import encode
from crmkit._persist_read import ARRAY_DTYPES, decode, nonfinite_fields, parse_document
from crmkit.exceptions import InvalidParameterError, ModelFileError


def _round_trip(value: Any) -> Any:
    return decode(json.loads(json.dumps(encode(value), allow_nan=False)))


@pytest.mark.parametrize(
    ("array", "written"),
    [
        (np.array([1.5, np.nan, -np.inf], dtype=np.float32), "<f8"),
        (np.array([[1.0, 2.0], [3.0, 4.0]]), "<f8"),
        (np.array([1, -2, 3], dtype=np.int32), "<i8"),
        (np.array([200, 3], dtype=np.uint8), "<i8"),
        (np.array([True, False]), "|b1"),
        (np.array(["a", "bc"]), "object"),
        (np.array(["x", None, 2.5], dtype=object), "object"),
        (np.zeros((0, 3)), "<f8"),
        (np.array(7.0), "<f8"),
    ],
)
def test_arrays_are_written_in_allowed_dtypes_and_come_back_equal(
    array: np.ndarray[Any, Any], written: str
) -> None:
    doc = encode(array)
    assert doc["dtype"] == written and written in ARRAY_DTYPES
    back = _round_trip(array)
    assert back.shape == array.shape
    if written == "object":
        assert back.tolist() == array.tolist()
    else:
        np.testing.assert_array_equal(back, array.astype(written))


def test_unsigned_values_beyond_int64_are_not_saved() -> None:
    with pytest.raises(InvalidParameterError, match="above 2\\*\\*63 - 1"):
        encode(np.array([2**64 - 1], dtype=np.uint64))


def test_files_of_earlier_writers_with_narrow_dtypes_still_load() -> None:
    legacy = {"__ndarray__": [1, 2, 3], "dtype": "<i4", "shape": [3]}
    back = decode(legacy)
    assert back.dtype == np.int32 and back.tolist() == [1, 2, 3]
    with pytest.raises(ModelFileError, match="does not fit dtype \\|u1"):
        decode({"__ndarray__": [-1], "dtype": "|u1", "shape": [1]})


def test_floats_round_trip_bit_for_bit() -> None:
    values = (0.1, 1e-308, 5e-324, 1.7976931348623157e308, -0.0, float("nan"))
    back = _round_trip(values)
    assert isinstance(back, tuple)
    assert [np.float64(v).tobytes() for v in back] == [np.float64(v).tobytes() for v in values]


def test_nested_containers_round_trip() -> None:
    value = {"a": (1, [2, {"b": None}]), "c": np.arange(4).reshape(2, 2)}
    back = _round_trip(value)
    assert back["a"] == (1, [2, {"b": None}])
    np.testing.assert_array_equal(back["c"], value["c"])


def test_nonfinite_fields_are_located() -> None:
    state = {"x": np.array([[1.0, 2.0], [np.inf, 3.0]]), "y": [1.0, {"z": float("nan")}]}
    assert nonfinite_fields(state, "state") == ["state.x[1,0] (inf)", "state.y[1].z (nan)"]


def test_parse_document_refuses_python_only_literals() -> None:
    for text in ('{"a": NaN}', '{"a": Infinity}', '{"a": 1e400}'):
        with pytest.raises(ModelFileError, match="not a crmkit model file"):
            parse_document(text)


def test_a_state_the_reader_would_refuse_is_not_written() -> None:
    from crmkit.segmentation import DecileSegmenter
    from crmkit.testing import make_customer_view

    seg = DecileSegmenter().fit(make_customer_view(40))
    seg.cut_points_ = seg.cut_points_.copy()
    seg.cut_points_[1] = np.nan
    with pytest.raises(InvalidParameterError, match=r"state\.cut_points\[1\] \(nan\)"):
        seg.to_dict()
