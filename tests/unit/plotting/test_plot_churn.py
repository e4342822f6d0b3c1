"""Churn plots: lift table and bars, ROC points and curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from crmkit.analysis import roc_auc
from crmkit.exceptions import InvalidParameterError, SchemaError
from crmkit.plotting import churn_lift_table, plot_churn_lift, plot_churn_roc, roc_points


@pytest.fixture(scope="module")
def scored() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(4)
    risk = pd.Series(rng.uniform(0, 1, 400), index=[f"c{i}" for i in range(400)])
    churned = pd.Series(rng.uniform(0, 1, 400) < risk, index=risk.index)
    return risk, churned.sample(frac=1.0, random_state=1)  # labels in another order


def test_lift_table_by_hand(scored: tuple[pd.Series, pd.Series]) -> None:
    risk, churned = scored
    table = churn_lift_table(risk, churned, n_bins=4)
    aligned = churned.reindex(risk.index).to_numpy()
    order = np.argsort(-risk.to_numpy(), kind="stable")
    groups = np.array_split(aligned[order], 4)
    base = aligned.mean()
    np.testing.assert_allclose(table["churn_rate"], [g.mean() for g in groups])
    np.testing.assert_allclose(table["lift"], [g.mean() / base for g in groups])
    assert table["capture"].iloc[-1] == pytest.approx(1.0)
    assert table["cum_lift"].iloc[-1] == pytest.approx(1.0)
    assert table["lift"].iloc[0] > 1.3 > table["lift"].iloc[-1]


def test_lift_plot_bars_and_line(scored: tuple[pd.Series, pd.Series], ax: Axes) -> None:
    risk, churned = scored
    plot_churn_lift(risk, churned, n_bins=5, ax=ax)
    table = churn_lift_table(risk, churned, n_bins=5)
    np.testing.assert_allclose([p.get_height() for p in ax.patches], table["lift"])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), table["cum_lift"])
    assert ax.lines[1].get_ydata()[0] == 1.0


def test_roc_points_and_the_auc_label(scored: tuple[pd.Series, pd.Series], ax: Axes) -> None:
    risk, churned = scored
    pts = roc_points(risk, churned)
    assert (pts["fpr"].iloc[0], pts["tpr"].iloc[0]) == (0.0, 0.0)
    assert (pts["fpr"].iloc[-1], pts["tpr"].iloc[-1]) == (1.0, 1.0)
    assert pts["fpr"].is_monotonic_increasing and pts["tpr"].is_monotonic_increasing
    area = float(np.trapezoid(pts["tpr"], pts["fpr"]))
    auc = roc_auc(risk, churned.reindex(risk.index).astype(int))
    assert area == pytest.approx(auc, abs=1e-12)  # ties move diagonally: trapezoid = AUC
    plot_churn_roc(risk, churned, ax=ax)
    assert ax.lines[0].get_label() == f"ROC (AUC {auc:.2f})"


def test_roc_of_several_scores(scored: tuple[pd.Series, pd.Series], ax: Axes) -> None:
    risk, churned = scored
    plot_churn_roc({"model": risk, "noise": pd.Series(0.5, index=risk.index)}, churned, ax=ax)
    assert len(ax.lines) == 3
    assert ax.lines[1].get_label() == "noise (AUC 0.50)"
    np.testing.assert_allclose(ax.lines[1].get_xydata(), [[0, 0], [1, 1]])


def test_ties_and_frames() -> None:
    frame = pd.DataFrame({"churn_risk": [0.5, 0.5, 0.1]})
    pts = roc_points(frame, [1, 0, 0])
    assert pts[["fpr", "tpr"]].to_numpy().tolist() == [[0, 0], [0.5, 1.0], [1.0, 1.0]]


def test_bad_labels_and_parameters(ax: Axes) -> None:
    with pytest.raises(SchemaError, match="single class"):
        plot_churn_roc([0.1, 0.2], [1, 1], ax=ax)
    with pytest.raises(SchemaError, match="0/1"):
        churn_lift_table([0.1, 0.2], [1, 2])
    with pytest.raises(SchemaError, match="one 0/1"):
        churn_lift_table([0.1, 0.2], [1])
    with pytest.raises(SchemaError, match="at least n_bins"):
        churn_lift_table([0.1, 0.2], [1, 0], n_bins=3)
    with pytest.raises(InvalidParameterError):
        churn_lift_table([0.1, 0.2], [1, 0], n_bins=0)
    with pytest.raises(SchemaError, match="churn_risk"):
        roc_points(pd.DataFrame({"risk": [0.1]}), [1])
    with pytest.raises(SchemaError, match="no label"):
        roc_points(pd.Series([0.1, 0.2], index=["a", "b"]), pd.Series([1], index=["a"]))
