"""Shared fixtures of the plotting tests: the Agg backend and fresh axes."""

from __future__ import annotations

import pytest

mpl = pytest.importorskip("matplotlib", reason="the plotting tests need matplotlib")
mpl.use("Agg")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


@pytest.fixture
def ax() -> Axes:
    """Axes of a new figure that no pyplot state holds."""
    out: Axes = Figure().subplots()
    return out
