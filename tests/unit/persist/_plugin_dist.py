"""A tiny third-party plugin distribution, written to a directory for tests.

:func:`make_distribution` writes a package ``crmkit_acme_tiers`` (one
segmenter, ``Tiers``) and its ``crmkit_acme_tiers-0.1.dist-info`` folder
declaring the entry point ``crmkit.segmenters: acme_tiers``. With the
directory on ``sys.path`` (or ``PYTHONPATH``), :mod:`importlib.metadata`
finds the distribution as if it were installed.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = "crmkit_acme_tiers"
MODEL_TYPE = f"{PACKAGE}.Tiers"
ENTRY_POINT = "acme_tiers"

_SOURCE = '''"""Acme's revenue tiers: a third-party crmkit segmenter."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmkit.exceptions import NotFittedError
from crmkit.plugins import PluginBase, validate_view


class Tiers(PluginBase):
    """Customers in ``n_tiers`` revenue tiers cut at the fitted quantiles."""

    def __init__(self, *, column: str = "revenue", n_tiers: int = 3) -> None:
        self.column = column
        self.n_tiers = n_tiers

    @property
    def requires(self) -> tuple[str, ...]:
        return (self.column,)

    @property
    def provides(self) -> tuple[str, ...]:
        return ("tier",)

    def fit(self, view: pd.DataFrame) -> Tiers:
        validate_view(view, "Tiers", required=self.requires, numeric=self.requires,
                      min_customers=1)
        probs = np.linspace(0.0, 1.0, self.n_tiers + 1)[1:-1]
        self.edges_ = np.quantile(view[self.column].to_numpy(float), probs)
        return self

    def _check(self) -> None:
        if not hasattr(self, "edges_"):
            raise NotFittedError("This Tiers is not fitted yet: call 'fit' before using it.")

    def assign(self, view: pd.DataFrame) -> pd.Series:
        self._check()
        validate_view(view, "Tiers", required=self.requires, numeric=self.requires)
        codes = np.searchsorted(self.edges_, view[self.column].to_numpy(float), side="right")
        labels = pd.Categorical.from_codes(
            codes, categories=[f"T{i + 1}" for i in range(self.n_tiers)]
        )
        return pd.Series(labels, index=view.index, name="tier")

    def describe(self) -> pd.DataFrame:
        self._check()
        return pd.DataFrame({"upper_edge": list(self.edges_) + [np.inf]})

    def _get_state(self) -> dict[str, Any] | None:
        return {"edges": self.edges_} if hasattr(self, "edges_") else None

    def _set_state(self, state: dict[str, Any]) -> None:
        edges = np.asarray(state["edges"], dtype=np.float64)
        if edges.shape != (self.n_tiers - 1,):
            raise ValueError(f"expected {self.n_tiers - 1} tier edges, got {edges.shape}")
        self.edges_ = edges
'''


def make_distribution(root: Path, *, broken: bool = False) -> Path:
    """Write the package and its dist-info under ``root``; return ``root``.

    Parameters
    ----------
    root : pathlib.Path
        An empty directory.
    broken : bool, default=False
        Make the package fail on import (a broken third-party install).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> root = make_distribution(Path(tempfile.mkdtemp()))
    >>> sorted(p.name for p in root.iterdir())
    ['crmkit_acme_tiers', 'crmkit_acme_tiers-0.1.dist-info']
    """
    package = root / PACKAGE
    package.mkdir(parents=True)
    source = "raise ImportError('acme is broken')\n" if broken else _SOURCE
    (package / "__init__.py").write_text(source, encoding="utf-8")
    info = root / f"{PACKAGE}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: crmkit-acme-tiers\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[crmkit.segmenters]\n{ENTRY_POINT} = {PACKAGE}:Tiers\n", encoding="utf-8"
    )
    return root
