"""JSON persistence without pickle.

A saved object is a JSON document stamped with the crmkit version, the model
type and a schema version. Loading looks the model type up in a registry of
crmkit's own persistable classes (filled as classes are defined) — a file can
never name a module to import or code to run — and rebuilds the object
through its constructor.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from crmkit.exceptions import InvalidParameterError, ModelFileError

__all__ = ["Persistable", "encode", "decode", "load", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
_P = TypeVar("_P", bound="Persistable")
_REGISTRY: dict[str, type[Persistable]] = {}


def _version() -> str:
    from crmkit import __version__

    return __version__


def encode(value: Any) -> Any:
    """Turn a value into plain JSON types, losslessly.

    Floats round-trip bit for bit; non-finite floats, numpy arrays, tuples and
    nested persistable objects are tagged.

    Parameters
    ----------
    value : object
        None, bool, int, float, str, list, tuple, dict with str keys, numpy
        scalar or array, or a :class:`Persistable`.

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
        if value.dtype.kind not in "biuf":
            return {"__ndarray__": [encode(v) for v in value.ravel().tolist()],
                    "dtype": "object", "shape": list(value.shape)}
        return {
            "__ndarray__": [encode(v) for v in value.ravel().tolist()],
            "dtype": value.dtype.str,
            "shape": list(value.shape),
        }
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


def decode(value: Any) -> Any:
    """Invert :func:`encode`.

    Parameters
    ----------
    value : object
        As produced by :func:`encode` (or parsed from its JSON).

    Returns
    -------
    object

    Raises
    ------
    ModelFileError
        For a malformed tag.

    Examples
    --------
    >>> decode(encode((1, float("inf"))))
    (1, inf)
    """
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    try:
        if "__float__" in value:
            text = value["__float__"]
            if text not in ("inf", "-inf", "nan"):
                raise ModelFileError(f"bad float tag {text!r}")
            return float(text)
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {str(k): decode(v) for k, v in value["__dict__"].items()}
        if "__ndarray__" in value:
            items = [decode(v) for v in value["__ndarray__"]]
            dtype = value["dtype"]
            if dtype == "object":
                arr = np.empty(len(items), dtype=object)
                arr[:] = items
            else:
                arr = np.asarray(items, dtype=np.dtype(dtype))
            return arr.reshape(tuple(int(s) for s in value["shape"]))
        if "__model__" in value:
            return from_dict(value["__model__"])
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError, MemoryError) as exc:
        raise ModelFileError(f"malformed value in model file: {exc}") from exc
    raise ModelFileError(f"unknown object in model file with keys {sorted(value)[:5]}")


class Persistable:
    """Mixin: ``to_dict``/``from_dict`` and ``save``/``load`` as JSON.

    Subclasses provide ``get_params`` (constructor arguments) and override
    ``_get_state``/``_set_state`` for their fitted attributes. Every subclass
    is registered under ``model_type`` (by default
    ``"<public module>.<ClassName>"``) so that :func:`load` can find it.

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
        obj = from_dict(data)
        if not isinstance(obj, cls):
            raise ModelFileError(
                f"the file holds a {data.get('model_type')!r} model, not a {cls.model_type!r}"
            )
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
    def load(cls: type[_P], path: str | os.PathLike[str]) -> _P:
        """Read an object written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            The file.

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
        return cls.from_dict(_read(path))


def _read(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path}: not a crmkit model file (not UTF-8 text)") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"{path}: not a crmkit model file (invalid or truncated JSON: {exc})"
        ) from exc
    except RecursionError:
        raise ModelFileError(
            f"{path}: not a crmkit model file (JSON nested too deeply)"
        ) from None
    if not isinstance(data, dict):
        raise ModelFileError(f"{path}: not a crmkit model file (top level is not an object)")
    return data


def from_dict(data: Mapping[str, Any]) -> Any:
    """Rebuild any registered crmkit object from its dictionary.

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
        When the stamps are missing or wrong or the type is unknown.

    Examples
    --------
    >>> from_dict({"model_type": "nope"})
    Traceback (most recent call last):
    ...
    crmkit.exceptions.ModelFileError: not a crmkit model file: missing 'schema_version'
    """
    if not isinstance(data, Mapping):
        raise ModelFileError("not a crmkit model file: expected a JSON object")
    for key in ("schema_version", "model_type", "params"):
        if key not in data:
            raise ModelFileError(f"not a crmkit model file: missing {key!r}")
    if data["schema_version"] != SCHEMA_VERSION:
        raise ModelFileError(
            f"unsupported model file schema version {data['schema_version']!r} "
            f"(this crmkit reads version {SCHEMA_VERSION})"
        )
    model_type = data["model_type"]
    cls = _REGISTRY.get(model_type) if isinstance(model_type, str) else None
    if cls is None:
        raise ModelFileError(
            f"unknown model type {model_type!r}; crmkit loads only its own model types"
        )
    try:
        params = decode(data["params"])
        state = data.get("state")
        decoded = None if state is None else decode(state)
    except RecursionError:
        raise ModelFileError(f"malformed model file for {model_type}: nested too deeply") from None
    if not isinstance(params, dict):
        raise ModelFileError("malformed model file: 'params' is not an object")
    try:
        obj = cls(**params)
    except TypeError as exc:
        raise ModelFileError(f"model file parameters do not fit {model_type}: {exc}") from exc
    if decoded is not None:
        if not isinstance(decoded, dict):
            raise ModelFileError("malformed model file: 'state' is not an object")
        try:
            obj._set_state(decoded)
        except ModelFileError:
            raise
        except (
            KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError
        ) as exc:
            # a state of the wrong shape fails wherever the model first touches it
            raise ModelFileError(f"malformed fitted state for {model_type}: {exc}") from exc
    return obj


def load(path: str | os.PathLike[str]) -> Any:
    """Load any crmkit model or plugin saved with ``save``.

    Parameters
    ----------
    path : str or path-like
        The JSON file.

    Returns
    -------
    object
        The rebuilt model.

    Raises
    ------
    ModelFileError
        Corrupt or truncated file, unknown model type or schema.

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
    return from_dict(_read(path))
