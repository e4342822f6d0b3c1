"""Plots of crmkit's results (optional: needs matplotlib, ``pip install 'crmkit[plot]'``).

Every function has the form ``plot_*(obj, ..., ax=None) -> Axes``: it draws
on the given matplotlib axes (or on a new figure) and returns them, so plots
can be combined and restyled. matplotlib is imported only when a function
is called, never with :mod:`crmkit`.

- Purchase and value models: :func:`plot_p_alive_matrix`,
  :func:`plot_expected_purchases_matrix`, :func:`plot_purchase_pmf`,
  :func:`plot_clv_distribution`.
- Model against the holdout: :func:`plot_tracking` (cumulative or per
  period), :func:`plot_holdout_by_frequency`.
- Concentration (the 20/80 reading): :func:`plot_pareto_curve`,
  :func:`plot_lorenz_curve`, :func:`plot_decile_bars`.
- Segments, stages, portfolios: :func:`plot_segment_profiles`,
  :func:`plot_segment_sizes`, :func:`plot_migration_heatmap`,
  :func:`plot_migration_flow`.
- Churn: :func:`plot_churn_lift`, :func:`plot_churn_roc` (with the tables
  behind them, :func:`churn_lift_table` and :func:`roc_points`).
- Customer experience: :func:`plot_nps_pulse`.

Examples
--------
>>> from matplotlib.figure import Figure
>>> from crmkit.plotting import plot_lorenz_curve
>>> ax = plot_lorenz_curve([1.0, 2.0, 7.0], ax=Figure().subplots())
>>> ax.get_title()
'Lorenz curve (Gini 0.40)'
"""

from crmkit.plotting._churn import churn_lift_table, plot_churn_lift, plot_churn_roc, roc_points
from crmkit.plotting._common import require_matplotlib
from crmkit.plotting._concentration import plot_decile_bars, plot_lorenz_curve, plot_pareto_curve
from crmkit.plotting._loyalty import plot_nps_pulse
from crmkit.plotting._migration import (
    migration_counts,
    plot_migration_flow,
    plot_migration_heatmap,
)
from crmkit.plotting._segments import plot_segment_profiles, plot_segment_sizes
from crmkit.plotting._tracking import plot_holdout_by_frequency, plot_tracking
from crmkit.plotting._value import (
    frequency_recency_grid,
    plot_clv_distribution,
    plot_expected_purchases_matrix,
    plot_p_alive_matrix,
    plot_purchase_pmf,
)

__all__ = [
    "churn_lift_table",
    "frequency_recency_grid",
    "migration_counts",
    "plot_churn_lift",
    "plot_churn_roc",
    "plot_clv_distribution",
    "plot_decile_bars",
    "plot_expected_purchases_matrix",
    "plot_holdout_by_frequency",
    "plot_lorenz_curve",
    "plot_migration_flow",
    "plot_migration_heatmap",
    "plot_nps_pulse",
    "plot_p_alive_matrix",
    "plot_pareto_curve",
    "plot_purchase_pmf",
    "plot_segment_profiles",
    "plot_segment_sizes",
    "plot_tracking",
    "require_matplotlib",
    "roc_points",
]
