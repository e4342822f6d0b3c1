"""Sparse matrices in model files: stored as CSR (data, indices, indptr, shape), checked on load."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from crmkit._persist import encode
from crmkit._persist_read import decode, nonfinite_fields
from crmkit.exceptions import ModelFileError


def _doc() -> dict[str, Any]:
    matrix = sp.csr_array(np.array([[0.0, 1.5, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, 3.0]]))
    doc: dict[str, Any] = json.loads(json.dumps(encode(matrix)))
    return doc


def test_round_trip_is_exact_and_canonical() -> None:
    coo = sp.coo_array(([1.0, 2.0, 0.25], ([2, 0, 2], [1, 3, 1])), shape=(3, 4))
    source = sp.csr_array(coo)  # duplicates, as scipy built them
    before = (source.data.copy(), source.indices.copy(), source.indptr.copy())
    back = decode(json.loads(json.dumps(encode(source))))
    assert isinstance(back, sp.csr_array) and back.has_canonical_format
    np.testing.assert_array_equal(back.toarray(), coo.toarray())
    for a, b in zip(before, (source.data, source.indices, source.indptr), strict=True):
        np.testing.assert_array_equal(a, b)  # the caller's matrix is untouched
    empty = decode(encode(sp.csr_array((0, 5))))
    assert empty.shape == (0, 5) and empty.nnz == 0


def _tamper(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(_doc())
    target: Any = doc
    keys = path.split("/")
    for key in keys[:-1]:
        target = target[int(key) if key.isdigit() else key]
    last = keys[-1]
    target[int(last) if last.isdigit() else last] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_tamper("shape", [3]), "2 integers"),
        (_tamper("shape", [3, -1]), "2 integers"),
        (_tamper("shape", [2, 3]), "row pointers"),  # indptr holds 4 pointers
        (_tamper("__csr__", [1, 2]), "three arrays"),
        (_tamper("__csr__/0/dtype", "object"), "three arrays"),
        (_tamper("__csr__/0/__ndarray__", [1.5, 2.0]), "row pointers"),
        (_tamper("__csr__/0/__ndarray__", [1.5, {"__float__": "nan"}, 3.0]), "finite"),
        (_tamper("__csr__/0/dtype", "<i8"), "expected an integer"),
        (_tamper("__csr__/1/__ndarray__", [1, 0, 3]), "column indices must lie"),
        (_tamper("__csr__/1/__ndarray__", [1, 2, 0]), "rise strictly"),
        (_tamper("__csr__/1/dtype", "<f8"), "integer"),
        (_tamper("__csr__/2/__ndarray__", [0, 2, 1, 3]), "row pointers must rise"),
        (_tamper("__csr__/2/__ndarray__", [1, 1, 1, 3]), "row pointers must rise"),
        (_tamper("__csr__/2/__ndarray__", [0, 1, 1, 2]), "row pointers must rise"),
        (_tamper("__csr__/0/shape", [4]), "holds 4 elements"),
    ],
)
def test_tampered_sparse_matrices_are_refused(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ModelFileError, match=message):
        decode(doc, "state.similarity_")


def test_a_huge_declared_shape_allocates_nothing() -> None:
    doc = _tamper("shape", [2**40, 2**40])
    with pytest.raises(ModelFileError, match="row pointers"):
        decode(doc)  # refused from the list lengths, before any array is built


def test_nonfinite_values_in_a_sparse_state_are_found() -> None:
    bad = sp.csr_array(np.array([[0.0, np.inf]]))
    assert nonfinite_fields({"m": bad}, "state") == ["state.m.data[0] (non-finite)"]
