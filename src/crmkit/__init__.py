"""crmkit: customer relationship management analytics.

Turns transactions, customers, contacts, visits, feedback, campaigns and
prospects into a per-customer view: lifecycle stage, value, loyalty, churn
risk, segment and care model. Subpackages (``crmkit.value``,
``crmkit.segmentation`` ...) are imported on first use, so ``import crmkit``
stays light and loads no plugin.

Examples
--------
>>> import crmkit
>>> tx = crmkit.datasets.load_cdnow()
>>> view = crmkit.summarize(tx[tx["date"] <= "1997-09-30"], as_of="1997-09-30")
>>> len(view), int((view["frequency"] > 0).sum())
(2357, 946)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from crmkit import exceptions
from crmkit._persist import load
from crmkit._version import __version__
from crmkit.data import ColumnMap, CustomerData, summarize

_LAZY_NAMES = {
    "Playbook": "crmkit.compose",
    "spreadsheet_safe": "crmkit._export",
    "write_table": "crmkit._export",
}

if TYPE_CHECKING:  # pragma: no cover
    from crmkit import (
        analysis,
        care,
        churn,
        compose,
        data,
        datasets,
        domain,
        engines,
        lifecycle,
        loyalty,
        measure,
        plotting,
        plugins,
        report,
        segmentation,
        testing,
        value,
    )
    from crmkit._export import spreadsheet_safe, write_table
    from crmkit.compose import Playbook

_SUBPACKAGES = frozenset({
    "analysis", "care", "churn", "compose", "data", "datasets", "domain", "engines",
    "lifecycle", "loyalty", "measure", "plotting", "plugins", "report", "segmentation",
    "testing", "value",
})

__all__ = [
    "ColumnMap",
    "CustomerData",
    "Playbook",
    "__version__",
    "analysis",
    "care",
    "churn",
    "compose",
    "data",
    "datasets",
    "domain",
    "engines",
    "exceptions",
    "lifecycle",
    "load",
    "loyalty",
    "measure",
    "plotting",
    "plugins",
    "report",
    "segmentation",
    "spreadsheet_safe",
    "summarize",
    "testing",
    "value",
    "write_table",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"crmkit.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'crmkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBPACKAGES | set(_LAZY_NAMES))
