"""Purchase-model plots: frequency/recency matrices, purchase PMF, CLV distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from crmkit.exceptions import InvalidParameterError, NotFittedError, SchemaError
from crmkit.plotting import (
    frequency_recency_grid,
    plot_clv_distribution,
    plot_expected_purchases_matrix,
    plot_p_alive_matrix,
    plot_purchase_pmf,
)
from crmkit.value import BetaGeo, ParetoNBD

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def model() -> BetaGeo:
    return BetaGeo.from_params(**CDNOW)


def test_grid_rows_and_the_zero_frequency_row() -> None:
    g = frequency_recency_grid(3, 20.0, n_recency=4)
    assert len(g) == 16
    assert g["frequency"].tolist() == [0.0] * 4 + [1.0] * 4 + [2.0] * 4 + [3.0] * 4
    assert (g.loc[g["frequency"] == 0, "recency"] == 0).all()
    assert g.loc[g["frequency"] == 1, "recency"].tolist() == [2.5, 7.5, 12.5, 17.5]
    assert (g["T"] == 20.0).all()
    with pytest.raises(InvalidParameterError):
        frequency_recency_grid(0, 20.0)
    with pytest.raises(InvalidParameterError):
        frequency_recency_grid(3, -1.0)


def test_p_alive_matrix_holds_the_models_values(model: BetaGeo, ax: Axes) -> None:
    out = plot_p_alive_matrix(model, max_frequency=6, T=39.0, n_recency=10, ax=ax)
    assert out is ax
    image = np.asarray(ax.images[0].get_array())
    assert image.shape == (7, 10)
    grid = frequency_recency_grid(6, 39.0, 10)
    expected = model.p_alive(grid).to_numpy().reshape(7, 10)
    np.testing.assert_allclose(image, expected)
    # BG/NBD: nobody who never repeated is dead; at fixed frequency, later purchase = more alive
    assert np.allclose(image[0], 1.0)
    assert np.all(np.diff(image[3]) > 0)
    assert ax.images[0].get_extent() == [0.0, 39.0, -0.5, 6.5]
    assert "frequency" in ax.get_ylabel() and "recency" in ax.get_xlabel()


def test_matrix_defaults_come_from_the_view(model: BetaGeo, ax: Axes) -> None:
    view = model.sample(400, 39.0, seed=3)
    plot_p_alive_matrix(model, view, ax=ax)
    image = np.asarray(ax.images[0].get_array())
    expected_max = max(1, int(np.ceil(np.quantile(view["frequency"], 0.99))))
    assert image.shape == (expected_max + 1, 40)
    assert ax.images[0].get_extent()[1] == pytest.approx(view["T"].max())


def test_expected_purchases_matrix(model: BetaGeo, ax: Axes) -> None:
    plot_expected_purchases_matrix(model, t=10.0, max_frequency=4, T=30.0, n_recency=5, ax=ax)
    image = np.asarray(ax.images[0].get_array())
    grid = frequency_recency_grid(4, 30.0, 5)
    expected = model.conditional_expected_purchases(grid, 10.0).to_numpy().reshape(5, 5)
    np.testing.assert_allclose(image, expected)
    with pytest.raises(InvalidParameterError):
        plot_expected_purchases_matrix(model, t=0.0, max_frequency=4, T=30.0, ax=ax)


def test_matrix_needs_a_view_or_the_extent(model: BetaGeo, ax: Axes) -> None:
    with pytest.raises(InvalidParameterError, match="max_frequency"):
        plot_p_alive_matrix(model, T=10.0, ax=ax)
    with pytest.raises(InvalidParameterError, match=r"'T' parameter .* when no view is given"):
        plot_p_alive_matrix(model, max_frequency=3, ax=ax)
    with pytest.raises(SchemaError, match="frequency"):
        plot_p_alive_matrix(model, pd.DataFrame({"T": [3.0]}), ax=ax)
    with pytest.raises(NotFittedError):
        plot_p_alive_matrix(BetaGeo(), max_frequency=3, T=10.0, ax=ax)
    with pytest.raises(InvalidParameterError, match="ax"):
        plot_p_alive_matrix(model, max_frequency=3, T=10.0, ax="not axes")  # type: ignore[arg-type]


def test_purchase_pmf_bars_are_the_counts_and_the_model_expectation(ax: Axes) -> None:
    model = ParetoNBD.from_params(r=0.55, alpha=10.6, s=0.61, beta=11.7)
    view = model.sample(300, np.linspace(20.0, 39.0, 300), seed=5)
    plot_purchase_pmf(model, view, max_frequency=4, ax=ax)
    actual, fitted = ax.containers
    heights = [float(b.get_height()) for b in actual]
    freq = view["frequency"].to_numpy()
    assert heights == [float(((freq == k) if k < 4 else (freq >= 4)).sum()) for k in range(5)]
    expected = np.zeros(5)
    for T in view["T"]:  # one customer at a time: independent of the vectorised code
        p = model.purchase_pmf(np.arange(4), float(T))
        expected[:4] += p
        expected[4] += 1.0 - p.sum()
    np.testing.assert_allclose([b.get_height() for b in fitted], expected, rtol=1e-9)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4+"]
    assert fitted.get_label() == "ParetoNBD"


def test_purchase_pmf_rejects_bad_views(model: BetaGeo, ax: Axes) -> None:
    with pytest.raises(SchemaError, match="T"):
        plot_purchase_pmf(model, pd.DataFrame({"frequency": [1]}), ax=ax)
    with pytest.raises(SchemaError, match="missing values"):
        plot_purchase_pmf(model, pd.DataFrame({"frequency": [1, None], "T": [3.0, 4.0]}), ax=ax)
    with pytest.raises(InvalidParameterError):
        plot_purchase_pmf(
            model, pd.DataFrame({"frequency": [1], "T": [3.0]}), max_frequency=0, ax=ax
        )


def test_clv_distribution_counts_everybody_and_marks_mean_and_median(ax: Axes) -> None:
    rng = np.random.default_rng(1)
    clv = pd.Series(rng.gamma(0.6, 200.0, 500), name="clv")
    plot_clv_distribution(clv, bins=20, clip_quantile=0.95, ax=ax)
    assert sum(p.get_height() for p in ax.patches) == 500
    top = np.quantile(clv, 0.95)
    assert ax.patches[-1].get_height() >= (clv > top).sum()
    x_lines = [line.get_xdata()[0] for line in ax.lines]
    assert x_lines == pytest.approx([min(clv.mean(), top), clv.median()])
    assert "above" in ax.get_xlabel()


def test_clv_distribution_rejects_bad_values(ax: Axes) -> None:
    with pytest.raises(SchemaError, match="missing"):
        plot_clv_distribution([1.0, float("nan")], ax=ax)
    with pytest.raises(SchemaError, match="not numeric"):
        plot_clv_distribution(pd.Series(["a", "b"]), ax=ax)
    with pytest.raises(InvalidParameterError):
        plot_clv_distribution([1.0, 2.0], clip_quantile=0.0, ax=ax)


def test_a_new_figure_when_no_axes_are_given(model: BetaGeo) -> None:
    import matplotlib.pyplot as plt

    out = plot_p_alive_matrix(model, max_frequency=2, T=10.0, n_recency=3)
    try:
        assert isinstance(out, Axes) and out.figure is not None
    finally:
        plt.close(out.figure)  # type: ignore[arg-type]
