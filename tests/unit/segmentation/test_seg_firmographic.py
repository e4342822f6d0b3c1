"""FirmographicSegmenter: attributes x volume band, fixed categories, 'other'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import InvalidParameterError, SchemaError
from crmkit.segmentation import FirmographicSegmenter
from crmkit.testing import make_customer_view


def _view() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "size_class": ["large", "small", "large", None, "small", "large"],
            "industry": ["retail", "it", "retail", "it", "it", "public"],
            "revenue": [900.0, 10.0, 500.0, 40.0, 20.0, 300.0],
            "key_account": [True, False, True, False, False, False],
        },
        index=pd.Index(list("abcdef"), name="customer_id"),
    )


def test_labels_join_the_dimensions() -> None:
    view = _view()
    seg = FirmographicSegmenter(volume_bands=2).fit(view)
    assert seg.assign(view).tolist() == [
        "large / retail / high",
        "small / it / low",
        "large / retail / high",
        "unknown / it / low",
        "small / it / low",
        "large / public / high",
    ]
    assert seg.categories_[-1] == "other"
    assert seg.describe().loc["other", "n_customers"] == 0


def test_unseen_and_rare_combinations_are_other() -> None:
    view = _view()
    seg = FirmographicSegmenter(by=("industry",), min_customers=2).fit(view)
    assert list(seg.categories_) == ["it", "retail", "other"]
    new = pd.DataFrame(
        {"industry": ["energy", "it"]}, index=pd.Index(["x", "y"], name="customer_id")
    )
    labels = seg.assign(new)
    assert labels.tolist() == ["other", "it"]
    assert list(labels.cat.categories) == ["it", "retail", "other"]


def test_volume_bands_by_quantile_or_edges_and_labels() -> None:
    view = make_customer_view(90, seed=3)
    seg = FirmographicSegmenter(by=("volume",)).fit(view)
    counts = seg.assign(view).value_counts()
    assert counts[["low", "medium", "high"]].tolist() == [30, 30, 30]
    edges = FirmographicSegmenter(
        by=("volume",), volume_bands=(100.0, 1000.0), volume_labels=("s", "m", "l")
    ).fit(view)
    labels = edges.assign(view)
    rev = view["revenue"].to_numpy()
    expected = np.where(rev <= 100, "s", np.where(rev <= 1000, "m", "l"))
    assert labels.astype(str).tolist() == expected.tolist()
    four = FirmographicSegmenter(by=("volume",), volume_bands=4).fit(view)
    assert set(four.categories_) == {"band 1", "band 2", "band 3", "band 4", "other"}


def test_flag_dimension_and_requires() -> None:
    seg = FirmographicSegmenter(by=("key_account", "industry"))
    assert seg.requires == ("key_account", "industry")
    labels = seg.fit(_view()).assign(_view())
    assert labels.iloc[0] == "True / retail"


def test_errors() -> None:
    with pytest.raises(InvalidParameterError, match="name 3 bands"):
        FirmographicSegmenter(volume_labels=("a", "b")).fit(_view())
    with pytest.raises(InvalidParameterError, match="'volume_bands'"):
        FirmographicSegmenter(volume_bands=(5.0, 1.0)).fit(_view())
    with pytest.raises(SchemaError, match=r"view\['region'\]: is missing"):
        FirmographicSegmenter(by=("region",)).fit(_view())
    with pytest.raises(InvalidParameterError, match="equals a segment"):
        FirmographicSegmenter(by=("industry",), other_label="it").fit(_view())
