"""The hardened reader of saved model files: bounded parsing and strict decoding.

A model file is untrusted input. It is read with limits on its size, its
nesting depth and the length of its number literals; every tagged value
(arrays, tuples, mappings, non-finite floats, nested models) is checked
before it is built, so an array's element count is compared with its
declared shape before anything is allocated and only a short allow-list of
dtypes is ever handed to numpy. Every problem raises
:class:`~crmkit.exceptions.ModelFileError` naming the field and the problem.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from crmkit.exceptions import ModelFileError

__all__ = [
    "ARRAY_DTYPES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_LITERAL_CHARS",
    "MAX_VALUES",
    "decode",
    "nonfinite_fields",
    "parse_document",
    "read_document",
]

#: Largest model file read, in bytes (a fitted Playbook takes tens of kB; an
#: item co-purchase recommender of 1,000 products about 20 MB).
MAX_FILE_BYTES = 32 * 1024 * 1024
#: Most JSON values in a file (bounds the memory parsing takes: < 100 MB).
MAX_VALUES = 2_000_000
#: Deepest nesting of JSON containers and tagged values.
MAX_DEPTH = 100
#: Longest number literal (a float needs at most 24 characters, an int64 20).
MAX_LITERAL_CHARS = 40
#: Most dimensions of a saved array.
MAX_NDIM = 32
#: dtypes the writer uses; the last group only for files of earlier writers.
ARRAY_DTYPES: frozenset[str] = frozenset({
    "<f8", "<i8", "|b1", "object",
    "<f4", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1",
})  # fmt: skip
_TAGS: Mapping[str, frozenset[str]] = {
    "__float__": frozenset({"__float__"}),
    "__tuple__": frozenset({"__tuple__"}),
    "__dict__": frozenset({"__dict__"}),
    "__ndarray__": frozenset({"__ndarray__", "dtype", "shape"}),
    "__model__": frozenset({"__model__"}),
    "__csr__": frozenset({"__csr__", "shape"}),
}
_INT64 = (-(2**63), 2**63 - 1)


def _bad(where: str, problem: str) -> ModelFileError:
    return ModelFileError(f"malformed value in model file, field {where!r}: {problem}")


def _parse_int(text: str) -> int:
    if len(text) > MAX_LITERAL_CHARS:
        raise ModelFileError(
            f"not a crmkit model file: an integer literal of {len(text)} characters "
            f"(at most {MAX_LITERAL_CHARS}) starting {text[:20]!r}"
        )
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_LITERAL_CHARS:
        raise ModelFileError(
            f"not a crmkit model file: a number literal of {len(text)} characters "
            f"(at most {MAX_LITERAL_CHARS}) starting {text[:20]!r}"
        )
    value = float(text)
    if not math.isfinite(value):
        raise ModelFileError(f"not a crmkit model file: the number {text} is out of range")
    return value


def _parse_constant(text: str) -> float:
    raise ModelFileError(
        f"not a crmkit model file: the literal {text} is not JSON (crmkit writes "
        'non-finite numbers as {"__float__": "nan"})'
    )


def _check_depth(data: Any, source: str) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ModelFileError(
                f"{source}: not a crmkit model file (JSON nested too deeply: more than "
                f"{MAX_DEPTH} levels)"
            )
        children = node.values() if isinstance(node, dict) else node
        stack.extend((v, depth + 1) for v in children if isinstance(v, (dict, list)))


def parse_document(text: str, source: str = "model file") -> dict[str, Any]:
    """Parse the JSON text of a model file with limits.

    Parameters
    ----------
    text : str
        The file's text.
    source : str, default="model file"
        Named in error messages (usually the path).

    Returns
    -------
    dict
        The parsed top-level object.

    Raises
    ------
    ModelFileError
        For more than :data:`MAX_VALUES` values, invalid JSON, a literal
        longer than :data:`MAX_LITERAL_CHARS`,
        ``NaN``/``Infinity`` literals, nesting deeper than
        :data:`MAX_DEPTH` or a top level that is not an object.

    Examples
    --------
    >>> parse_document('{"schema_version": 1}')
    {'schema_version': 1}
    >>> parse_document('{"x": ' + "9" * 5000 + "}")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmkit.exceptions.ModelFileError: model file: not a crmkit model file: an integer literal ...
    """
    # every value but the first follows a comma or opens a container: an upper
    # bound on what parsing would build, counted before anything is built
    n_values = text.count(",") + text.count("[") + text.count("{") + 1
    if n_values > MAX_VALUES:
        raise ModelFileError(
            f"{source}: not a crmkit model file (up to {n_values} JSON values; at most "
            f"{MAX_VALUES} are read)"
        )
    try:
        data = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except ModelFileError as exc:
        raise ModelFileError(f"{source}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"{source}: not a crmkit model file (invalid or truncated JSON: {exc})"
        ) from exc
    except RecursionError:
        raise ModelFileError(
            f"{source}: not a crmkit model file (JSON nested too deeply)"
        ) from None
    except (ValueError, OverflowError, MemoryError) as exc:  # pragma: no cover - defensive
        raise ModelFileError(f"{source}: not a crmkit model file ({exc})") from None
    _check_depth(data, source)
    if not isinstance(data, dict):
        raise ModelFileError(f"{source}: not a crmkit model file (top level is not an object)")
    return data


def read_document(
    path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES
) -> dict[str, Any]:
    """Read and parse a model file, refusing files larger than ``max_bytes``.

    Parameters
    ----------
    path : str or path-like
        The file.
    max_bytes : int, default=MAX_FILE_BYTES
        Largest file accepted (32 MiB); a larger one is refused before it is
        read.

    Returns
    -------
    dict

    Raises
    ------
    ModelFileError
        For a file that is too large, is not UTF-8 text or fails
        :func:`parse_document`.
    OSError
        When the file cannot be opened (``FileNotFoundError`` ...).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "m.json")
    >>> _ = open(p, "w").write('{"a": [1, 2]}')
    >>> read_document(p)
    {'a': [1, 2]}
    >>> read_document(p, max_bytes=5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmkit.exceptions.ModelFileError: ...: not a crmkit model file (larger than 5 bytes: 13)
    """
    with Path(path).open("rb") as fh:  # a missing file is an OSError, as with open()
        size = os.fstat(fh.fileno()).st_size
        if size > max_bytes:
            raise ModelFileError(
                f"{path}: not a crmkit model file (larger than {max_bytes} bytes: {size})"
            )
        raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ModelFileError(f"{path}: not a crmkit model file (larger than {max_bytes} bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path}: not a crmkit model file (not UTF-8 text)") from exc
    return parse_document(text, str(path))


def _float_item(v: Any, where: str) -> float:
    if isinstance(v, dict):
        return float(decode(v, where))  # a __float__ tag (anything else is refused below)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _bad(where, f"expected a number, got {type(v).__name__} {v!r:.40}")
    return float(v)


def _array(value: dict[str, Any], where: str, depth: int, model: Callable[..., Any]) -> Any:
    items, dtype, shape = value["__ndarray__"], value["dtype"], value["shape"]
    if not isinstance(items, list):
        raise _bad(where, f"'__ndarray__' must be a list, got {type(items).__name__}")
    if not isinstance(dtype, str) or dtype not in ARRAY_DTYPES:
        raise _bad(
            where, f"array dtype {dtype!r:.60} is not allowed; allowed: {sorted(ARRAY_DTYPES)}"
        )
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_NDIM
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)
    ):
        raise _bad(
            where, f"array shape must be a list of at most {MAX_NDIM} integers >= 0; "
            f"got {shape!r:.80}"
        )
    count = math.prod(shape)
    if count != len(items):
        raise _bad(where, f"the array's shape {shape} holds {count} elements but "
                   f"{len(items)} are given")
    if dtype == "object":
        arr = np.empty(len(items), dtype=object)
        for i, v in enumerate(items):
            arr[i] = decode(v, f"{where}[{i}]", depth + 1, model)
        return arr.reshape(tuple(shape))
    kind = np.dtype(dtype).kind
    if kind == "f":
        values: list[Any] = [_float_item(v, f"{where}[{i}]") for i, v in enumerate(items)]
    else:
        for i, v in enumerate(items):
            ok = isinstance(v, bool) if kind == "b" else (
                isinstance(v, int) and not isinstance(v, bool)
                and _INT64[0] <= v <= _INT64[1]
            )
            if not ok:
                wanted = "true or false" if kind == "b" else "an integer"
                raise _bad(f"{where}[{i}]", f"expected {wanted} in a {dtype} array, got {v!r:.40}")
        values = items
    try:
        return np.array(values, dtype=np.dtype(dtype)).reshape(tuple(shape))
    except OverflowError as exc:
        raise _bad(where, f"a value does not fit dtype {dtype}: {exc}") from None


def _csr(value: dict[str, Any], where: str, depth: int, model: Callable[..., Any]) -> Any:
    """A sparse CSR matrix: every count, index and value checked before it is built."""
    import scipy.sparse as sp

    parts, shape = value["__csr__"], value["shape"]
    if (
        not isinstance(shape, list)
        or len(shape) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**62 for s in shape)
    ):
        raise _bad(where, f"a sparse matrix shape must be 2 integers >= 0; got {shape!r:.80}")
    if not isinstance(parts, list) or len(parts) != 3 or not all(
        isinstance(a, dict) and set(a) == _TAGS["__ndarray__"]
        and isinstance(a["__ndarray__"], list) and a["dtype"] != "object"
        for a in parts
    ):
        raise _bad(where, "'__csr__' must hold three arrays: data, indices and indptr")
    n_rows, n_cols = shape
    n_data, n_ind, n_ptr = (len(a["__ndarray__"]) for a in parts)
    if n_ptr != n_rows + 1 or n_data != n_ind:
        raise _bad(
            where, f"a sparse matrix of {n_rows} rows needs {n_rows + 1} row pointers and as "
            f"many values as indices; got {n_ptr} pointers, {n_data} values, {n_ind} indices"
        )
    data, indices, indptr = (
        _array(a, f"{where}.{name}", depth + 1, model)
        for a, name in zip(parts, ("data", "indices", "indptr"), strict=True)
    )
    if data.ndim != 1 or data.dtype.kind != "f" or not np.isfinite(data).all():
        raise _bad(where, "sparse matrix values must be a 1-d array of finite floats")
    for arr, name in ((indices, "indices"), (indptr, "indptr")):
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise _bad(where, f"sparse matrix {name} must be a 1-d integer array")
    if indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0):
        raise _bad(where, "sparse matrix row pointers must rise from 0 to the number of values")
    if len(indices) and (indices.min() < 0 or indices.max() >= n_cols):
        raise _bad(where, f"sparse matrix column indices must lie in [0, {n_cols})")
    rising = np.diff(indices) > 0
    row_start = np.zeros(len(indices), dtype=bool)
    row_start[indptr[1:-1][indptr[1:-1] < len(indices)]] = True
    if len(indices) > 1 and not np.all(rising | row_start[1:]):
        raise _bad(where, "sparse matrix column indices must rise strictly within each row")
    return sp.csr_array(
        (data.astype(np.float64), indices.astype(np.int64), indptr.astype(np.int64)),
        shape=(n_rows, n_cols),
    )


def decode(
    value: Any,
    where: str = "value",
    depth: int = 0,
    model: Callable[..., Any] | None = None,
) -> Any:
    """Rebuild a value written by :func:`crmkit._persist.encode`, checking it.

    Parameters
    ----------
    value : object
        Parsed JSON (or an equivalent Python structure).
    where : str, default="value"
        The field's path, named in error messages.
    depth : int, default=0
        Nesting depth of ``value`` (deeper than :data:`MAX_DEPTH` is refused).
    model : callable, optional
        ``model(document, where)`` rebuilds a nested ``__model__``;
        :func:`crmkit._persist.from_dict` by default.

    Returns
    -------
    object

    Raises
    ------
    ModelFileError
        For an unknown or malformed tag, a non-finite float outside a
        ``__float__`` tag, an array of a dtype not in :data:`ARRAY_DTYPES`
        or whose element count differs from its shape, a sparse matrix
        (``__csr__``) whose pointers, indices or values do not fit its shape
        or are not finite, or nesting too deep.

    Examples
    --------
    >>> decode({"__tuple__": [1, {"__float__": "inf"}]})
    (1, inf)
    >>> decode({"__ndarray__": [], "dtype": "(12000,12000)f8", "shape": [1]}, "state.x")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.ModelFileError: malformed value in model file, field 'state.x': array ...
    """
    if depth > MAX_DEPTH:
        raise _bad(where, f"nested too deeply (more than {MAX_DEPTH} levels)")
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(where, f"the number {value} must be written as a '__float__' tag")
        return value
    if isinstance(value, list):
        return [decode(v, f"{where}[{i}]", depth + 1, model) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        raise _bad(where, f"a {type(value).__name__} is not a JSON value")
    tag = next((t for t in _TAGS if t in value), None)
    if tag is None or set(value) != _TAGS[tag]:
        keys = sorted(str(k) for k in value)[:5]
        raise ModelFileError(
            f"unknown object in model file, field {where!r}, with keys {keys}; values are "
            f"plain JSON or one of the tags {sorted(_TAGS)}"
        )
    inner = value[tag]
    if tag == "__float__":
        if inner not in ("inf", "-inf", "nan"):
            raise _bad(where, f"bad float tag {inner!r:.40}; expected 'inf', '-inf' or 'nan'")
        return float(inner)
    if tag == "__tuple__":
        if not isinstance(inner, list):
            raise _bad(where, f"'__tuple__' must hold a list, got {type(inner).__name__}")
        return tuple(decode(v, f"{where}[{i}]", depth + 1, model) for i, v in enumerate(inner))
    if tag == "__dict__":
        if not isinstance(inner, dict):
            raise _bad(where, f"'__dict__' must hold an object, got {type(inner).__name__}")
        out = {}
        for k, v in inner.items():
            if not isinstance(k, str):
                raise _bad(where, f"a mapping key must be a string, got {k!r:.40}")
            out[k] = decode(v, f"{where}.{k}", depth + 1, model)
        return out
    if tag == "__ndarray__":
        return _array(value, where, depth, model or _default_model)
    if tag == "__csr__":
        return _csr(value, where, depth, model or _default_model)
    if not isinstance(inner, dict):
        raise _bad(where, f"'__model__' must hold an object, got {type(inner).__name__}")
    return (model or _default_model)(inner, where, depth + 1)


def _default_model(document: dict[str, Any], where: str, depth: int) -> Any:
    from crmkit._persist import from_dict

    return from_dict(document, _where=where, _depth=depth)


def nonfinite_fields(value: Any, where: str) -> list[str]:
    """Paths of the non-finite floats in a decoded value (models excluded).

    Parameters
    ----------
    value : object
        As returned by :func:`decode`.
    where : str
        The path of ``value``.

    Returns
    -------
    list of str
        One entry per offending field, e.g. ``"state.params.alpha (nan)"``.

    Examples
    --------
    >>> nonfinite_fields({"a": 1.0, "b": (2.0, float("nan"))}, "state")
    ['state.b[1] (nan)']
    """
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, float):
            if not math.isfinite(node):
                found.append(f"{path} ({node})")
        elif isinstance(node, np.ndarray):
            if node.dtype.kind == "f" and not np.isfinite(node).all():
                bad = np.argwhere(~np.isfinite(node))[0].tolist()
                at = ",".join(str(i) for i in bad)
                found.append(f"{path}[{at}] ({node[tuple(bad)]})")
            elif node.dtype == object:
                stack.extend((v, f"{path}[{i}]") for i, v in enumerate(node.ravel().tolist()))
        elif getattr(node, "format", None) == "csr":  # a scipy.sparse matrix
            values = np.asarray(node.data)
            if values.dtype.kind == "f" and not np.isfinite(values).all():
                found.append(f"{path}.data[{int(np.argmin(np.isfinite(values)))}] (non-finite)")
        elif isinstance(node, dict):
            stack.extend((v, f"{path}.{k}") for k, v in node.items())
        elif isinstance(node, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(node))
    return sorted(found)
