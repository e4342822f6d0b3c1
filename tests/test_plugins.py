"""The conformance battery over every plugin the default registry lists.

Plugins added later (built-in or through entry points) are picked up here
automatically.
"""

from __future__ import annotations

from typing import Any

from crmkit.plugins import KINDS, default_registry
from crmkit.testing import parametrize_with_checks

_REGISTRY = default_registry()
PLUGINS = [_REGISTRY.get(kind, name) for kind in KINDS for name in _REGISTRY.available(kind)]

SEGMENTERS = ("deciles", "firmographic", "key_accounts", "kmeans", "portfolio", "rfm")


@parametrize_with_checks(PLUGINS)
def test_plugin_conforms(plugin: Any, check: Any) -> None:
    check(plugin)


def test_registry_lists_every_builtin_segmenter() -> None:
    assert set(SEGMENTERS) <= set(_REGISTRY.available("segmenters"))
    assert all(_REGISTRY.origin("segmenters", name) == "built-in" for name in SEGMENTERS)


def test_battery_covers_every_registered_plugin() -> None:
    listed = sum(len(_REGISTRY.available(kind)) for kind in KINDS)
    assert len(PLUGINS) == listed >= len(SEGMENTERS)
