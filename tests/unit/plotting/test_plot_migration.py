"""Migration plots: heat map of row shares and the flow diagram."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from crmkit.exceptions import SchemaError
from crmkit.lifecycle import stage_migration
from crmkit.plotting import migration_counts, plot_migration_flow, plot_migration_heatmap
from crmkit.segmentation import segment_migration


@pytest.fixture(scope="module")
def migration() -> object:
    rng = np.random.default_rng(2)
    stages = np.array(["onboarding", "development", "retention"])
    ids = [f"c{i}" for i in range(120)]
    before = pd.Series(rng.choice(stages, 120), index=ids)
    after = pd.Series(rng.choice(stages, 100), index=ids[20:])
    return stage_migration(before, after)


def test_counts_drop_empty_rows_and_columns(migration: object) -> None:
    counts = migration_counts(migration)
    assert "acquisition" not in counts.index and "acquisition" not in counts.columns
    assert int(counts.to_numpy().sum()) == migration.n_customers  # type: ignore[attr-defined]
    full = migration_counts(migration, drop_empty=False)
    assert full.shape == (5, 5)  # four stages and (new) x four stages and (gone)


def test_heatmap_shows_row_shares_and_counts(migration: object, ax: Axes) -> None:
    plot_migration_heatmap(migration, ax=ax)
    counts = migration_counts(migration)
    shares = counts.to_numpy() / counts.to_numpy().sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), shares)
    assert [t.get_text() for t in ax.texts] == [f"{int(c):,}" for c in counts.to_numpy().ravel()]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(counts.index)


def test_heatmap_of_counts_from_a_segment_migration(ax: Axes) -> None:
    m = segment_migration(
        pd.Series(["A", "B", "B"], index=[1, 2, 3]), pd.Series(["A", "A", "B"], index=[1, 2, 3])
    )
    plot_migration_heatmap(m, normalize=False, ax=ax)
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), [[1, 0], [1, 1]])


def test_flow_has_a_band_per_move_and_blocks_per_group(migration: object, ax: Axes) -> None:
    counts = migration_counts(migration)
    plot_migration_flow(migration, gap=0.0, ax=ax)
    assert len(ax.collections) == int((counts.to_numpy() > 0).sum())
    heights = [p.get_height() for p in ax.patches]
    total = counts.to_numpy().sum()
    expected = [*(counts.sum(axis=1) / total), *(counts.sum(axis=0) / total)]
    np.testing.assert_allclose(heights, expected)
    # every band's width on the left is its count's share of all customers
    first = ax.collections[0].get_paths()[0].vertices
    width_left = first[:, 1].max() - first[:, 1].min()
    assert width_left >= counts.to_numpy()[counts.to_numpy() > 0][0] / total - 1e-9


def test_bad_count_tables_are_refused(ax: Axes) -> None:
    with pytest.raises(SchemaError, match="counts >= 0"):
        plot_migration_heatmap(pd.DataFrame([[1, -1]]), ax=ax)
    with pytest.raises(SchemaError, match="no customers"):
        plot_migration_flow(pd.DataFrame([[0, 0]]), ax=ax)
    with pytest.raises(SchemaError, match="StageMigration"):
        plot_migration_flow([[1]], ax=ax)
