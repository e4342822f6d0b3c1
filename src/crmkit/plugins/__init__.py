"""Plugin protocols, the plugin registry and a base class for plugins.

Four kinds of plugin read the customer view and add columns: segmenters,
churn detectors, care models and stagers. Each kind is a
:class:`typing.Protocol`; a :class:`PluginRegistry` finds plugins by name,
and :func:`default_registry` offers crmkit's built-ins plus every plugin that
installed packages declare under the entry-point groups ``crmkit.segmenters``,
``crmkit.churn_detectors``, ``crmkit.care_models`` and ``crmkit.stagers``.

A third-party package declares a plugin in its ``pyproject.toml``::

    [project.entry-points."crmkit.segmenters"]
    my_segments = "my_package.segments:MySegmenter"

and can check it with :func:`crmkit.testing.check_plugin`; inheriting
:class:`PluginBase` supplies the parameter and persistence methods the
battery needs.

Examples
--------
>>> from crmkit.plugins import default_registry
>>> default_registry().get("segmenters", "deciles", n_groups=5)
DecileSegmenter(n_groups=5)
"""

from crmkit.plugins._base import PluginBase
from crmkit.plugins._protocols import (
    CARE_PLAN_COLUMNS,
    CHURN_SCORE_COLUMNS,
    REASONS_SUFFIX,
    STAGER_COLUMNS,
    STAGES,
    STATUSES,
    CareModel,
    ChurnDetector,
    Plugin,
    Segmenter,
    Stager,
)
from crmkit.plugins._registry import ENTRY_POINT_GROUPS, KINDS, PluginRegistry, default_registry
from crmkit.plugins._view import validate_view

__all__ = [
    "CARE_PLAN_COLUMNS",
    "CHURN_SCORE_COLUMNS",
    "ENTRY_POINT_GROUPS",
    "KINDS",
    "REASONS_SUFFIX",
    "STAGER_COLUMNS",
    "STAGES",
    "STATUSES",
    "CareModel",
    "ChurnDetector",
    "Plugin",
    "PluginBase",
    "PluginRegistry",
    "Segmenter",
    "Stager",
    "default_registry",
    "validate_view",
]
