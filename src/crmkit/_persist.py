"""JSON persistence without pickle.

A saved object is a JSON document stamped with the crmkit version, the model
type and a schema version. Loading finds the class in the explicit table of
persistable types or a plugin entry point (:mod:`crmkit._persist_types`) —
a file can never name a module to import or code to run — reads the file
with limits and strict checks (:mod:`crmkit._persist_read`), and rebuilds the
object through its constructor, checking its parameters against their
constraints and its fitted state.

Files keep loading in later crmkit versions: the reader accepts every
schema version in :data:`READABLE_SCHEMA_VERSIONS`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import scipy.sparse as sp

from crmkit._persist_read import MAX_FILE_BYTES, decode, nonfinite_fields, read_document
from crmkit._persist_types import resolve_type
from crmkit.exceptions import InvalidParameterError, ModelFileError

__all__ = [
    "READABLE_SCHEMA_VERSIONS",
    "SCHEMA_VERSION",
    "Persistable",
    "decode",
    "encode",
    "from_dict",
    "load",
]

#: The schema version this crmkit writes.
SCHEMA_VERSION = 1
#: Every schema version this crmkit reads (each earlier version stays readable).
READABLE_SCHEMA_VERSIONS: frozenset[int] = frozenset({1})
_P = TypeVar("_P", bound="Persistable")
#: Every Persistable subclass defined so far, by model type: for introspection
#: only. Loading never consults it (see crmkit._persist_types.resolve_type).
_REGISTRY: dict[str, type[Persistable]] = {}
_DOCUMENT_KEYS = frozenset({"crmkit_version", "schema_version", "model_type", "params", "state"})
#: numpy dtype kind -> the one dtype the writer stores it as
_WRITE_DTYPES = {"f": "<f8", "i": "<i8", "u": "<i8", "b": "|b1"}


def _version() -> str:
    from crmkit import _version as version  # read when writing (a kernel module)

    return version.__version__


def encode(value: Any) -> Any:
    """Turn a value into plain JSON types, losslessly.

    Floats round-trip bit for bit; non-finite floats, numpy arrays, sparse
    matrices (as CSR: data, indices, indptr and shape), tuples and nested
    persistable objects are tagged.

    Parameters
    ----------
    value : object
        None, bool, int, float, str, list, tuple, dict with str keys, numpy
        scalar or array, ``scipy.sparse`` matrix, or a :class:`Persistable`.

    Returns
    -------
    object
        JSON-serialisable.

    Raises
    ------
    InvalidParameterError
        For anything else (a callable, a DataFrame ...); also a
        :class:`TypeError`.

    Examples
    --------
    >>> encode((1, float("inf")))
    {'__tuple__': [1, {'__float__': 'inf'}]}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else {"__float__": repr(v)}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        dtype = _WRITE_DTYPES.get(value.dtype.kind, "object")
        if value.dtype.kind == "u" and value.size and int(value.max()) > 2**63 - 1:
            raise InvalidParameterError(
                f"cannot save an array of dtype {value.dtype} with values above 2**63 - 1"
            )
        items = value.astype(dtype).ravel().tolist() if dtype != "object" else (
            value.ravel().tolist()
        )
        return {"__ndarray__": [encode(v) for v in items], "dtype": dtype,
                "shape": list(value.shape)}
    if sp.issparse(value):  # stored as CSR: its three arrays and its shape
        source: Any = value
        csr = sp.csr_array(source, copy=True)
        csr.sum_duplicates()  # canonical: sorted column indices, no duplicates
        return {"__csr__": [encode(np.asarray(csr.data, dtype=np.float64)),
                            encode(np.asarray(csr.indices, dtype=np.int64)),
                            encode(np.asarray(csr.indptr, dtype=np.int64))],
                "shape": [int(n) for n in csr.shape]}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidParameterError(
                    f"cannot save a mapping with a non-string key {k!r}"
                )
            out[k] = encode(v)
        return {"__dict__": out}
    if isinstance(value, Persistable):
        return {"__model__": value.to_dict()}
    raise InvalidParameterError(
        f"cannot save a value of type {type(value).__name__} ({value!r:.60}); "
        "crmkit saves only plain values, arrays and crmkit models"
    )


class Persistable:
    """Mixin: ``to_dict``/``from_dict`` and ``save``/``load`` as JSON.

    Subclasses provide ``get_params`` (constructor arguments) and override
    ``_get_state``/``_set_state`` for their fitted attributes. A file names
    its class by ``model_type`` (by default ``"<public module>.<ClassName>"``).
    :func:`load` finds crmkit's own classes in
    :data:`crmkit._persist_types.PERSISTABLE_TYPES` and third-party plugins
    through their entry points; ``Cls.load`` and ``Cls.from_dict`` always
    accept files of ``Cls`` itself.

    Examples
    --------
    >>> from crmkit._estimator import BaseEstimator
    >>> class Scale(BaseEstimator, Persistable):
    ...     model_type = "doc.Scale"
    ...     def __init__(self, factor: float = 2.0) -> None:
    ...         self.factor = factor
    >>> Scale.from_dict(Scale(3.0).to_dict()).factor
    3.0
    """

    model_type: ClassVar[str] = ""
    #: Top-level keys of the fitted state that may hold NaN or infinity
    #: (e.g. undefined standard errors); elsewhere a non-finite number in a
    #: saved fitted state is refused on load.
    _nonfinite_state: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "model_type" not in cls.__dict__ or not cls.__dict__["model_type"]:
            public = ".".join(p for p in cls.__module__.split(".") if not p.startswith("_"))
            cls.model_type = f"{public}.{cls.__qualname__}"
        _REGISTRY[cls.model_type] = cls

    def get_params(self, deep: bool = True) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError  # provided by BaseEstimator

    def _get_state(self) -> dict[str, Any] | None:
        """Fitted state as plain values, or None when not fitted."""
        return None

    def _set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`_get_state` returned."""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready description: stamps, parameters and fitted state.

        Returns
        -------
        dict
            Keys ``crmkit_version``, ``schema_version``, ``model_type``,
            ``params`` and ``state`` (None when unfitted).

        Raises
        ------
        InvalidParameterError
            For a value that cannot be saved, or a fitted state holding NaN
            or infinity outside the fields listed in ``_nonfinite_state``
            (the reader would refuse the file).

        Examples
        --------
        >>> from crmkit._estimator import BaseEstimator
        >>> class Doc1(BaseEstimator, Persistable):
        ...     model_type = "doc.Doc1"
        ...     def __init__(self, k: int = 1) -> None:
        ...         self.k = k
        >>> Doc1().to_dict()["params"]
        {'__dict__': {'k': 1}}
        """
        state = self._get_state()
        if state is not None:
            bad = _nonfinite_state_fields(self, state)
            if bad:
                raise InvalidParameterError(
                    f"cannot save this {type(self).__name__}: its fitted state holds "
                    f"{', '.join(bad[:3])}, and a saved fitted state may be non-finite only "
                    f"in the fields of {type(self).__name__}._nonfinite_state "
                    f"{sorted(self._nonfinite_state)}"
                )
        return {
            "crmkit_version": _version(),
            "schema_version": SCHEMA_VERSION,
            "model_type": self.model_type,
            "params": encode(self.get_params(deep=False)),
            "state": None if state is None else encode(state),
        }

    @classmethod
    def from_dict(cls: type[_P], data: Mapping[str, Any]) -> _P:
        """Rebuild an object from :meth:`to_dict` output.

        Parameters
        ----------
        data : mapping
            As returned by :meth:`to_dict` (or parsed from a saved file).

        Returns
        -------
        object
            A new instance of this class.

        Raises
        ------
        ModelFileError
            When the document is malformed, of another model type or of an
            unsupported schema version.

        Examples
        --------
        >>> from crmkit._estimator import BaseEstimator
        >>> class Doc2(BaseEstimator, Persistable):
        ...     model_type = "doc.Doc2"
        ...     def __init__(self, k: int = 1) -> None:
        ...         self.k = k
        >>> Doc2.from_dict(Doc2(k=4).to_dict()).k
        4
        """
        obj: _P = from_dict(data, _expected=cls)
        return obj

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the object to ``path`` as JSON (no pickle, no customer data).

        Parameters
        ----------
        path : str or path-like
            Target file; usually ``*.json``.

        Returns
        -------
        pathlib.Path
            The path written.

        Examples
        --------
        >>> import tempfile, os
        >>> from crmkit._estimator import BaseEstimator
        >>> class Doc3(BaseEstimator, Persistable):
        ...     model_type = "doc.Doc3"
        ...     def __init__(self, k: int = 1) -> None:
        ...         self.k = k
        >>> p = Doc3(k=2).save(os.path.join(tempfile.mkdtemp(), "m.json"))
        >>> Doc3.load(p).k
        2
        """
        target = Path(path)
        text = json.dumps(self.to_dict(), allow_nan=False, indent=1)
        target.write_text(text, encoding="utf-8")
        return target

    @classmethod
    def load(
        cls: type[_P], path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES
    ) -> _P:
        """Read an object written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            The file.
        max_bytes : int, default=32 MiB
            Largest file accepted.

        Returns
        -------
        object

        Raises
        ------
        ModelFileError
            Corrupt or truncated JSON, another model type, unknown schema.

        Examples
        --------
        See :meth:`save`.
        """
        obj: _P = from_dict(read_document(path, max_bytes), _expected=cls)
        return obj


def _nonfinite_state_fields(obj: Persistable, state: Mapping[str, Any]) -> list[str]:
    allowed = obj._nonfinite_state
    return [
        f for k, v in state.items() if k not in allowed for f in nonfinite_fields(v, f"state.{k}")
    ]


def _check_header(data: Any, where: str) -> None:
    if not isinstance(data, Mapping):
        raise ModelFileError(f"{where}not a crmkit model file: expected a JSON object")
    for key in ("schema_version", "model_type", "params"):
        if key not in data:
            raise ModelFileError(f"{where}not a crmkit model file: missing {key!r}")
    unknown = sorted(str(k) for k in data if k not in _DOCUMENT_KEYS)
    if unknown:
        raise ModelFileError(
            f"{where}not a crmkit model file: unknown fields {unknown[:5]}; a model file "
            f"has the fields {sorted(_DOCUMENT_KEYS)}"
        )
    version = data["schema_version"]
    is_int = isinstance(version, int) and not isinstance(version, bool)
    if not is_int or version not in READABLE_SCHEMA_VERSIONS:
        newer = " (written by a newer crmkit)" if is_int and version > SCHEMA_VERSION else ""
        raise ModelFileError(
            f"{where}unsupported model file schema version {version!r:.40}{newer}; this "
            f"crmkit reads versions {sorted(READABLE_SCHEMA_VERSIONS)}"
        )
    stamp = data.get("crmkit_version")
    if stamp is not None and (not isinstance(stamp, str) or len(stamp) > 64):
        raise ModelFileError(
            f"{where}field 'crmkit_version': expected a version string; got {stamp!r:.40}"
        )


def _class_for(data: Mapping[str, Any], expected: type[_P] | None, where: str) -> type[_P]:
    model_type = data["model_type"]
    if expected is not None and model_type == expected.model_type:
        return expected
    try:
        cls: Any = resolve_type(model_type)
    except ModelFileError as exc:
        if expected is None:
            raise ModelFileError(f"{where}{exc}") from None
        cls = None
    if expected is not None and not (isinstance(cls, type) and issubclass(cls, expected)):
        raise ModelFileError(
            f"{where}the file holds a {model_type!r:.80} model, not a {expected.model_type!r}"
        )
    found: type[_P] = cls
    return found


def _rebuild(cls: type[_P], params: dict[str, Any], where: str) -> _P:
    model_type = cls.model_type
    try:
        obj = cls(**params)
    except Exception as exc:  # constructors only store: any failure is the file's
        raise ModelFileError(
            f"{where}field 'params': the model file parameters do not fit {model_type}: {exc}"
        ) from exc
    validate = getattr(obj, "_validate_params", None)
    if callable(validate):
        try:
            validate()
        except Exception as exc:  # InvalidParameterError, or a predicate failing
            raise ModelFileError(
                f"{where}field 'params': invalid parameter in a {model_type} file: {exc}"
            ) from exc
    return obj


def _restore(obj: Persistable, state: dict[str, Any], where: str) -> None:
    model_type = obj.model_type
    try:
        obj._set_state(state)
    except ModelFileError as exc:
        raise ModelFileError(f"{where}field 'state': {exc}") from exc
    except Exception as exc:  # the state is untrusted input
        # a state of the wrong shape fails wherever the model first touches it
        raise ModelFileError(
            f"{where}field 'state': malformed fitted state for {model_type}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    bad = _nonfinite_state_fields(obj, state)
    if bad:
        raise ModelFileError(
            f"{where}field {bad[0].split(' ')[0]!r}: a {model_type} file holds a non-finite "
            f"number in its fitted state ({', '.join(bad[:3])}); fitted values must be finite"
        )


def from_dict(
    data: Mapping[str, Any],
    *,
    _expected: type[Any] | None = None,
    _where: str = "",
    _depth: int = 0,
) -> Any:
    """Rebuild any persistable crmkit object (or plugin) from its dictionary.

    The class is found by :func:`crmkit._persist_types.resolve_type`; the
    object is built through its constructor, its parameters are checked
    against their constraints and its fitted state is restored and checked.

    Parameters
    ----------
    data : mapping
        As produced by ``to_dict``.

    Returns
    -------
    object

    Raises
    ------
    ModelFileError
        When the stamps are missing or wrong, the type is unknown, a value is
        malformed, a parameter breaks its constraints or the fitted state is
        wrong; the message names the field and the problem.

    Examples
    --------
    >>> from_dict({"model_type": "nope"})
    Traceback (most recent call last):
    ...
    crmkit.exceptions.ModelFileError: not a crmkit model file: missing 'schema_version'
    >>> doc = {"schema_version": 1, "model_type": "crmkit.value.BetaGeo",
    ...        "params": {"__dict__": {"penalizer": -1.0}}}
    >>> from_dict(doc)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmkit.exceptions.ModelFileError: field 'params': invalid parameter in a ... -1.0 instead.
    """
    prefix = f"nested model {_where!r}: " if _where else ""
    _check_header(data, prefix)
    cls = _class_for(data, _expected, prefix)
    base = f"{_where}." if _where else ""
    try:
        params = decode(data["params"], f"{base}params", _depth + 1)
        raw_state = data.get("state")
        state = None if raw_state is None else decode(raw_state, f"{base}state", _depth + 1)
    except RecursionError:
        raise ModelFileError(
            f"{prefix}malformed model file for {cls.model_type}: nested too deeply"
        ) from None
    if not isinstance(params, dict):
        raise ModelFileError(f"{prefix}malformed model file: field 'params' is not an object")
    obj = _rebuild(cls, params, prefix)
    if state is not None:
        if not isinstance(state, dict):
            raise ModelFileError(f"{prefix}malformed model file: field 'state' is not an object")
        _restore(obj, state, prefix)
    return obj


def load(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Load any crmkit model or plugin saved with ``save``, in any process.

    The class is found without relying on what was imported before: crmkit's
    own types come from an explicit table and third-party plugins from
    their entry points. The file is read with limits (size, nesting,
    literal length, array dtypes and sizes) and the object is rebuilt
    through its constructor with its parameters and fitted state checked.

    Parameters
    ----------
    path : str or path-like
        The JSON file.
    max_bytes : int, default=32 MiB
        Largest file accepted.

    Returns
    -------
    object
        The rebuilt model.

    Raises
    ------
    ModelFileError
        Corrupt, truncated, oversized or tampered file, unknown model type or
        schema; the message names the field and the problem.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "bad.json")
    >>> _ = open(p, "w").write('{"model_type": ')
    >>> load(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmkit.exceptions.ModelFileError: ...: not a crmkit model file (invalid or truncated JSON: ...)
    """
    return from_dict(read_document(path, max_bytes))
