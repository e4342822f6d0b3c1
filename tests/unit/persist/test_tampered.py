"""Tampered model files: each is refused with a ModelFileError naming the field and problem.

Every file is small; what it declares is not (arrays of 10**24 elements,
sub-array dtypes of 1.1 GB, 5,000-digit numbers, 100,000 levels of
nesting). Each case must fail fast (< 1 s) and allocate little (< 100 MB):
measured in this process with :mod:`tracemalloc` and, for the whole
battery, as the peak resident memory of a fresh process.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit.exceptions import ModelFileError
from tests.data import make_golden

MB = 1024 * 1024
GOLDEN_BG = make_golden.golden_path("bgnbd")
GOLDEN_PLAYBOOK = make_golden.golden_path("playbook")

Doc = dict[str, Any]


def _bg() -> Doc:
    doc: Doc = json.loads(GOLDEN_BG.read_text())
    return doc


def _bg_state(**fields: Any) -> Doc:
    doc = _bg()
    doc["state"]["__dict__"].update(fields)
    return doc


def _bg_fitted(name: str, value: Any) -> Doc:
    doc = _bg()
    doc["state"]["__dict__"]["params"]["__dict__"][name] = value
    return doc


def _bg_param(value: Any) -> Doc:
    return {**_bg(), "params": {"__dict__": {"penalizer": value}}}


def _array(items: Any, dtype: Any, shape: Any) -> Doc:
    return _bg_state(covariance={"__ndarray__": items, "dtype": dtype, "shape": shape})


def _playbook_param(name: str, value: Any) -> Doc:
    doc: Doc = json.loads(GOLDEN_PLAYBOOK.read_text())
    doc["params"]["__dict__"][name] = value
    return doc


def _decile_state() -> Doc:
    from crmkit.segmentation import DecileSegmenter
    from crmkit.testing import make_customer_view

    doc: Doc = json.loads(json.dumps(DecileSegmenter().fit(make_customer_view(40)).to_dict()))
    cuts = doc["state"]["__dict__"]["cut_points"]
    cuts["__ndarray__"][2] = {"__float__": "nan"}
    return doc


def _nested(levels: int) -> Doc:
    value: Any = 1.0
    for _ in range(levels):
        value = [value]
    return _bg_param(value)


#: name -> (file content: a JSON-able document or raw text, fragments the message must hold)
CASES: dict[str, tuple[Callable[[], Any], tuple[str, ...]]] = {
    # ---- arrays: declared sizes and dtypes
    "subarray_dtype_1_1GB": (
        lambda: _array([0.0], "(12000,12000)f8", [1]),
        ("state.covariance", "dtype '(12000,12000)f8' is not allowed"),
    ),
    "void_dtype": (lambda: _array([], "V1000000000", [1]), ("dtype 'V1000000000'",)),
    "big_endian_dtype": (lambda: _array([1.0], ">f8", [1]), ("dtype '>f8'",)),
    "string_dtype": (lambda: _array(["a"], "<U100000000", [1]), ("is not allowed",)),
    "pickled_object_dtype": (lambda: _array([1], "O", [1]), ("dtype 'O'",)),
    "dtype_not_text": (lambda: _array([1.0], ["<f8"], [1]), ("is not allowed",)),
    "shape_10e24_elements": (
        lambda: _array([], "<f8", [10**12, 10**12]),
        ("state.covariance", "holds 1000000000000000000000000 elements but 0 are given"),
    ),
    "shape_product_mismatch": (lambda: _array([1.0] * 3, "<f8", [2, 2]), ("holds 4 elements",)),
    "shape_negative": (lambda: _array([], "<f8", [-1]), ("shape must be a list",)),
    "shape_not_list": (lambda: _array([1.0], "<f8", 1), ("shape must be a list",)),
    "shape_of_bools": (lambda: _array([1.0], "<f8", [True]), ("shape must be a list",)),
    "shape_too_many_dims": (lambda: _array([1.0], "<f8", [1] * 64), ("shape must be a list",)),
    "shape_huge_literal": (lambda: '{"x": {"shape": [' + "9" * 5000 + "]}}", ("literal",)),
    "array_items_not_list": (lambda: _array({"a": 1}, "<f8", [1]), ("must be a list",)),
    "array_text_in_floats": (
        lambda: _array(["1.0", 2.0, 3.0, 4.0], "<f8", [2, 2]),
        ("state.covariance[0]", "expected a number"),
    ),
    "array_int64_overflow": (
        lambda: _bg_state(extra={"__ndarray__": [2**70], "dtype": "<i8", "shape": [1]}),
        ("state.extra[0]", "expected an integer"),
    ),
    "array_bool_not_bool": (
        lambda: _bg_state(extra={"__ndarray__": [1], "dtype": "|b1", "shape": [1]}),
        ("expected true or false",),
    ),
    "array_extra_key": (
        lambda: _bg_state(
            covariance={"__ndarray__": [], "dtype": "<f8", "shape": [0], "allow_pickle": True}
        ),
        ("unknown object in model file", "state.covariance"),
    ),
    # ---- literals
    "int_5000_digits": (
        lambda: json.dumps(_bg_param(12345)).replace("12345", "9" * 5000),
        ("an integer literal of 5000 characters",),
    ),
    "float_5000_digits": (lambda: '{"a": 0.' + "1" * 5000 + "}", ("literal of 5002",)),
    "float_out_of_range": (lambda: '{"a": 1e999}', ("out of range",)),
    "nan_literal": (lambda: '{"a": NaN}', ("literal NaN",)),
    "infinity_literal": (lambda: '{"a": -Infinity}', ("literal -Infinity",)),
    # ---- containers of the wrong type
    "dict_tag_holding_list": (
        lambda: {**_bg(), "params": {"__dict__": [1, 2]}},
        ("field 'params'", "'__dict__' must hold an object"),
    ),
    "tuple_tag_holding_object": (
        lambda: _bg_param({"__tuple__": {"a": 1}}),
        ("params.penalizer", "'__tuple__' must hold a list"),
    ),
    "float_tag_bad_text": (lambda: _bg_param({"__float__": "1e5"}), ("bad float tag",)),
    "model_tag_holding_list": (
        lambda: _bg_param({"__model__": [1]}),
        ("'__model__' must hold an object",),
    ),
    "unknown_tag": (
        lambda: _bg_param({"__set__": [1, 2]}),
        ("unknown object in model file", "params.penalizer", "__set__"),
    ),
    "params_not_object": (lambda: {**_bg(), "params": [0.1]}, ("'params' is not an object",)),
    "state_not_object": (lambda: {**_bg(), "state": [1, 2]}, ("'state' is not an object",)),
    "state_params_list": (
        lambda: _bg_state(params=[0.2, 4.4, 0.8, 2.4]),
        ("field 'state'", "expected ['a', 'alpha', 'b', 'r']"),
    ),
    "top_level_list": (lambda: [_bg()], ("top level is not an object",)),
    "top_level_string": (lambda: '"crmkit"', ("top level is not an object",)),
    "unknown_top_field": (lambda: {**_bg(), "code": "import os"}, ("unknown fields ['code']",)),
    "schema_version_text": (
        lambda: {**_bg(), "schema_version": "1"},
        ("unsupported model file schema version '1'",),
    ),
    "schema_version_bool": (
        lambda: {**_bg(), "schema_version": True},
        ("unsupported model file schema version True",),
    ),
    "schema_version_newer": (
        lambda: {**_bg(), "schema_version": 99},
        ("schema version 99 (written by a newer crmkit)",),
    ),
    "crmkit_version_object": (
        lambda: {**_bg(), "crmkit_version": {"a": 1}},
        ("field 'crmkit_version'",),
    ),
    # ---- parameters (checked against the constraints at load time)
    "penalizer_text": (lambda: _bg_param("abc"), ("'penalizer' parameter of BetaGeo", "'abc'")),
    "penalizer_negative": (lambda: _bg_param(-1e9), ("'penalizer' parameter", "-1000000000.0")),
    "penalizer_nan": (lambda: _bg_param({"__float__": "nan"}), ("'penalizer' parameter", "nan")),
    "unknown_parameter": (
        lambda: {**_bg(), "params": {"__dict__": {"penaliser": 0.1}}},
        ("do not fit crmkit.value.BetaGeo", "penaliser"),
    ),
    "playbook_discount_rate_text": (
        lambda: _playbook_param("discount_rate", "abc"),
        ("'discount_rate' parameter of Playbook", "'abc'"),
    ),
    "playbook_model_of_wrong_kind": (
        lambda: _playbook_param(
            "purchase_model",
            {"__model__": {"schema_version": 1, "model_type": "crmkit.value.GammaGamma",
                           "params": {"__dict__": {}}}},
        ),
        ("'purchase_model' parameter of Playbook",),
    ),
    # ---- fitted state
    "fitted_alpha_nan": (
        lambda: _bg_fitted("alpha", {"__float__": "nan"}),
        ("invalid parameters", "'alpha': nan"),
    ),
    "fitted_r_infinite": (lambda: _bg_fitted("r", {"__float__": "inf"}), ("'r': inf",)),
    "fitted_r_text": (lambda: _bg_fitted("r", "0.5; rm -rf /"), ("malformed fitted state",)),
    "fitted_n_customers_nan": (
        lambda: _bg_state(n_customers={"__float__": "nan"}),
        ("field 'state.n_customers'", "non-finite", "fitted values must be finite"),
    ),
    "fitted_n_iter_infinite": (
        lambda: _bg_state(n_iter={"__float__": "inf"}),
        ("malformed fitted state", "infinity"),
    ),
    "fitted_covariance_wrong_shape": (
        lambda: _array([0.0] * 9, "<f8", [3, 3]),
        ("covariance of shape (3, 3)", "expected (4, 4)"),
    ),
    "fitted_state_missing_field": (
        lambda: {**_bg(), "state": {"__dict__": {}}},
        ("malformed fitted state", "KeyError"),
    ),
    "fitted_segment_cut_nan": (
        _decile_state,
        ("field 'state.cut_points[2]'", "non-finite"),
    ),
    # ---- type names
    "type_os_system": (
        lambda: {**_bg(), "model_type": "os.system"},
        ("unknown model type 'os.system'",),
    ),
    "type_abstract_base": (
        lambda: {**_bg(), "model_type": "crmkit.value.ValueModel"},
        ("cannot be loaded", "abstract base"),
    ),
    "type_not_text": (lambda: {**_bg(), "model_type": ["x"]}, ("field 'model_type'",)),
    "type_huge": (lambda: {**_bg(), "model_type": "a." * 100_000}, ("field 'model_type'",)),
    "nested_type_unknown": (
        lambda: _playbook_param(
            "purchase_model",
            {"__model__": {"schema_version": 1, "model_type": "subprocess.Popen",
                           "params": {"__dict__": {"args": ["true"]}}}},
        ),
        ("nested model 'params.purchase_model'", "unknown model type 'subprocess.Popen'"),
    ),
    # ---- nesting
    "nesting_100k_brackets": (lambda: "[" * 100_000 + "]" * 100_000, ("nested too deeply",)),
    "nesting_150_lists": (lambda: _nested(150), ("nested too deeply",)),
    "nesting_deep_models": (
        lambda: _deep_models(60),
        ("nested too deeply",),
    ),
    "two_million_values": (
        lambda: '{"a": [' + "0," * 2_000_000 + "0]}",
        ("JSON values; at most 2000000 are read",),
    ),
    # ---- files
    "binary_garbage": (lambda: bytes(range(256)) * 64, ("not UTF-8",)),
    "truncated": (lambda: json.dumps(_bg())[:200], ("invalid or truncated JSON",)),
}


def _deep_models(levels: int) -> Doc:
    doc = _bg()
    for _ in range(levels):
        doc = _bg_param({"__model__": copy.deepcopy(doc)})
    return doc


def write_case(name: str, folder: Path) -> Path:
    """Write the file of case ``name`` into ``folder``."""
    content = CASES[name][0]()
    path = folder / f"{name}.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        text = content if isinstance(content, str) else json.dumps(content)
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_tampered_file_is_refused_fast_and_small(name: str, tmp_path: Path) -> None:
    path = write_case(name, tmp_path)
    crmkit.load(GOLDEN_PLAYBOOK)  # warm: every module a load may import is imported
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ModelFileError) as info:
            crmkit.load(path)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    for fragment in CASES[name][1]:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert seconds < 1.0, f"{name}: {seconds:.2f} s"
    assert peak < 100 * MB, f"{name}: {peak / MB:.0f} MB"


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        crmkit.load(tmp_path / "nothing.json")


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as fh:  # a sparse 1 GB file: nothing of it is read
        fh.truncate(1024 * MB)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="larger than 33554432 bytes"):
            crmkit.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * MB
    with pytest.raises(ModelFileError, match="larger than 100 bytes"):
        crmkit.load(GOLDEN_BG, max_bytes=100)


_BATTERY = """
import json, resource, sys, time
import crmkit
from crmkit.exceptions import ModelFileError
crmkit.load(sys.argv[1])  # warm
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times = {}
for path in sys.argv[2:]:
    start = time.perf_counter()
    try:
        crmkit.load(path)
    except ModelFileError:
        times[path] = time.perf_counter() - start
    else:
        times[path] = None
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"extra_kb": peak - base, "times": times}))
"""


def test_whole_battery_in_a_fresh_process_stays_under_100_mb(tmp_path: Path) -> None:
    paths = [str(write_case(name, tmp_path)) for name in sorted(CASES)]
    proc = subprocess.run(
        [sys.executable, "-c", _BATTERY, str(GOLDEN_PLAYBOOK), *paths],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    accepted = [p for p, t in result["times"].items() if t is None]
    assert not accepted, f"loaded without error: {accepted}"
    slow = {p: t for p, t in result["times"].items() if t >= 1.0}
    assert not slow
    assert result["extra_kb"] < 100 * 1024, f"{result['extra_kb'] / 1024:.0f} MB extra"
