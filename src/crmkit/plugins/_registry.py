"""The plugin registry: one-of-N lookup of plugins by kind and name."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from crmkit._params import NON_EMPTY_STR, Constraint, Predicate, validate_params
from crmkit.exceptions import InvalidParameterError, PluginNotFoundError
from crmkit.plugins._builtins import BUILTINS
from crmkit.plugins._protocols import CareModel, ChurnDetector, Segmenter, Stager

__all__ = ["ENTRY_POINT_GROUPS", "KINDS", "PluginRegistry", "default_registry"]

#: The plugin kinds, in pipeline order.
KINDS: tuple[str, ...] = ("segmenters", "churn_detectors", "care_models", "stagers")

#: The entry-point group third-party packages declare plugins under, per kind.
ENTRY_POINT_GROUPS: Mapping[str, str] = {kind: f"crmkit.{kind}" for kind in KINDS}

_PROTOCOLS: Mapping[str, type] = {
    "segmenters": Segmenter,
    "churn_detectors": ChurnDetector,
    "care_models": CareModel,
    "stagers": Stager,
}

Factory = Callable[..., Any]

#: The constraints of :meth:`PluginRegistry.register`'s arguments.
_REGISTER: Mapping[str, list[Constraint]] = {
    "name": [NON_EMPTY_STR],
    "factory": [Predicate(callable, "callable (usually the plugin class)")],
    "replace": [bool],
}


@attrs.define
class _Entry:
    origin: str
    target: str
    loader: Callable[[], Factory]
    factory: Factory | None = None


def _import_target(target: str) -> Factory:
    module_name, _, attr_path = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise PluginNotFoundError(f"{target} is not callable")
    return obj  # type: ignore[no-any-return]


def _load_entry_point(ep: importlib.metadata.EntryPoint) -> Factory:
    obj = ep.load()
    if not callable(obj):
        raise PluginNotFoundError(f"{ep.value} is not callable")
    return obj  # type: ignore[no-any-return]


def _check_kind(kind: str) -> None:
    if not isinstance(kind, str) or kind not in KINDS:
        raise PluginNotFoundError(f"unknown plugin kind {kind!r}; kinds: {', '.join(KINDS)}")


class PluginRegistry:
    """Plugins by kind and name, created on request with their parameters.

    A registry is an explicit object; :func:`default_registry` returns the
    shared one holding crmkit's built-in plugins and every plugin installed
    packages declare under the entry-point groups of
    :data:`ENTRY_POINT_GROUPS` (``crmkit.segmenters``, ``crmkit.churn_detectors``,
    ``crmkit.care_models``, ``crmkit.stagers``). Those sources are read on the
    first lookup, never at import time, and a plugin's module is imported
    only when it is first requested.

    Parameters
    ----------
    builtins : bool, default=False
        Offer crmkit's built-in plugins.
    entry_points : bool, default=False
        Offer the plugins of installed packages' entry points. A name that a
        built-in already uses is skipped with a warning.

    Examples
    --------
    >>> from crmkit.segmentation import DecileSegmenter
    >>> reg = PluginRegistry()
    >>> reg.register("segmenters", "quartiles", DecileSegmenter)
    >>> reg.get("segmenters", "quartiles", n_groups=4)
    DecileSegmenter(n_groups=4)
    >>> reg.available("segmenters")
    ('quartiles',)
    >>> reg.get("segmenters", "quintiles")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.PluginNotFoundError: no segmenters plugin named 'quintiles'; ...
    """

    def __init__(self, *, builtins: bool = False, entry_points: bool = False) -> None:
        self._entries: dict[str, dict[str, _Entry]] = {kind: {} for kind in KINDS}
        self._pending_builtins = builtins
        self._pending_entry_points = entry_points
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        with self._lock:
            parts = []
            if self._pending_builtins:
                parts.append("built-ins pending")
            if self._pending_entry_points:
                parts.append("entry points pending")
            counts = ", ".join(f"{k}={len(v)}" for k, v in self._entries.items())
        return f"PluginRegistry({counts}{'; ' if parts else ''}{', '.join(parts)})"

    def _fill(self) -> None:
        with self._lock:
            if self._pending_builtins:
                self._pending_builtins = False
                for kind, table in BUILTINS.items():
                    for name, target in table.items():
                        self._entries[kind].setdefault(
                            name,
                            _Entry("built-in", target, functools.partial(_import_target, target)),
                        )
            if self._pending_entry_points:
                self._pending_entry_points = False
                for kind in KINDS:
                    self._add_entry_points(kind)

    def _add_entry_points(self, kind: str) -> None:
        group = ENTRY_POINT_GROUPS[kind]
        for ep in importlib.metadata.entry_points(group=group):
            dist = ep.dist.name if ep.dist is not None else "an unknown distribution"
            origin = f"entry point {group}:{ep.name} of {dist}"
            known = self._entries[kind].get(ep.name)
            if known is not None:
                if known.target != ep.value:
                    warnings.warn(
                        f"{origin} ({ep.value}) is ignored: the {kind} name {ep.name!r} "
                        f"is already taken by {known.origin} ({known.target})",
                        UserWarning,
                        stacklevel=4,
                    )
                continue
            self._entries[kind][ep.name] = _Entry(
                origin, ep.value, functools.partial(_load_entry_point, ep)
            )

    def register(self, kind: str, name: str, factory: Factory, *, replace: bool = False) -> None:
        """Add a plugin factory (usually the plugin class) under ``name``.

        Parameters
        ----------
        kind : {"segmenters", "churn_detectors", "care_models", "stagers"}
            The plugin kind.
        name : str
            The lookup name.
        factory : callable
            Called with the keyword parameters given to :meth:`get`.
        replace : bool, default=False
            Allow replacing a plugin already registered under ``name``.

        Raises
        ------
        PluginNotFoundError
            For an unknown kind.
        InvalidParameterError
            For an empty name, a factory that is not callable, or a name in
            use when ``replace`` is false.

        Examples
        --------
        >>> from crmkit.segmentation import RFMSegmenter
        >>> reg = PluginRegistry(builtins=True)
        >>> reg.register("segmenters", "rfm", RFMSegmenter)
        Traceback (most recent call last):
        ...
        crmkit.exceptions.InvalidParameterError: segmenters plugin 'rfm' is already registered ...
        """
        _check_kind(kind)
        validate_params(
            "PluginRegistry.register",
            {"name": name, "factory": factory, "replace": replace},
            _REGISTER,
        )
        with self._lock:
            self._fill()
            known = self._entries[kind].get(name)
            if known is not None and not replace:
                raise InvalidParameterError(
                    f"{kind} plugin {name!r} is already registered ({known.origin} "
                    f"{known.target}); pass replace=True to replace it"
                )
            target = getattr(factory, "__qualname__", repr(factory))
            self._entries[kind][name] = _Entry(
                "registered",
                f"{getattr(factory, '__module__', '?')}:{target}",
                lambda: factory,
                factory,
            )

    def available(self, kind: str) -> tuple[str, ...]:
        """Names of the plugins of one kind, sorted.

        Parameters
        ----------
        kind : {"segmenters", "churn_detectors", "care_models", "stagers"}
            The plugin kind.

        Returns
        -------
        tuple of str

        Raises
        ------
        PluginNotFoundError
            For an unknown kind.

        Examples
        --------
        >>> PluginRegistry(builtins=True).available("segmenters")
        ('deciles', 'firmographic', 'key_accounts', 'kmeans', 'portfolio', 'rfm')
        """
        _check_kind(kind)
        with self._lock:
            self._fill()
            return tuple(sorted(self._entries[kind]))

    def origin(self, kind: str, name: str) -> str:
        """Where a plugin comes from: built-in, registered or an entry point.

        Parameters
        ----------
        kind : str
            The plugin kind.
        name : str
            The lookup name.

        Returns
        -------
        str

        Raises
        ------
        PluginNotFoundError
            For an unknown kind or name.

        Examples
        --------
        >>> PluginRegistry(builtins=True).origin("segmenters", "rfm")
        'built-in'
        """
        return self._entry(kind, name).origin

    def _entry(self, kind: str, name: str) -> _Entry:
        _check_kind(kind)
        with self._lock:
            self._fill()
            entry = self._entries[kind].get(name) if isinstance(name, str) else None
            if entry is None:
                names = ", ".join(sorted(self._entries[kind])) or "(none)"
                raise PluginNotFoundError(f"no {kind} plugin named {name!r}; available: {names}")
            return entry

    def get(self, kind: str, name: str, /, **params: Any) -> Any:
        """Create the plugin registered as ``name`` with ``params``.

        Parameters
        ----------
        kind : {"segmenters", "churn_detectors", "care_models", "stagers"}
            The plugin kind.
        name : str
            The lookup name.
        **params
            Keyword hyperparameters for the plugin.

        Returns
        -------
        object
            A new plugin instance satisfying the kind's protocol.

        Raises
        ------
        PluginNotFoundError
            For an unknown kind or name (listing what exists), a plugin that
            cannot be imported, or an object that does not satisfy the
            kind's protocol.
        InvalidParameterError
            When the plugin does not accept ``params``.

        Examples
        --------
        >>> PluginRegistry(builtins=True).get("segmenters", "deciles", column="margin")
        DecileSegmenter(column='margin')
        """
        entry = self._entry(kind, name)
        with self._lock:
            if entry.factory is None:
                try:
                    entry.factory = entry.loader()
                except Exception as exc:
                    raise PluginNotFoundError(
                        f"{kind} plugin {name!r} ({entry.origin}) could not be loaded "
                        f"from {entry.target}: {type(exc).__name__}: {exc}"
                    ) from exc
            factory = entry.factory
        try:
            plugin = factory(**params)
        except TypeError as exc:
            raise InvalidParameterError(
                f"cannot create {kind} plugin {name!r} with parameters {sorted(params)}: {exc}"
            ) from exc
        protocol = _PROTOCOLS[kind]
        if not isinstance(plugin, protocol):
            missing = [
                m
                for m in ("requires", "provides", *_protocol_methods(kind))
                if not hasattr(plugin, m)
            ]
            raise PluginNotFoundError(
                f"{kind} plugin {name!r} ({entry.origin}) does not implement the "
                f"{protocol.__name__} protocol (missing: {', '.join(missing)})"
            )
        return plugin


def _protocol_methods(kind: str) -> tuple[str, ...]:
    extra = {
        "segmenters": ("assign", "describe"),
        "churn_detectors": ("score",),
        "care_models": ("plan",),
        "stagers": ("stage",),
    }[kind]
    return ("fit", *extra)


_DEFAULT: PluginRegistry | None = None
_DEFAULT_LOCK = threading.Lock()


def default_registry() -> PluginRegistry:
    """The shared registry of built-in and entry-point plugins.

    Created on the first call; it reads its sources on its first lookup.

    Returns
    -------
    PluginRegistry
        The same object on every call.

    Examples
    --------
    >>> reg = default_registry()
    >>> reg is default_registry()
    True
    >>> "rfm" in reg.available("segmenters")
    True
    """
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = PluginRegistry(builtins=True, entry_points=True)
        return _DEFAULT
