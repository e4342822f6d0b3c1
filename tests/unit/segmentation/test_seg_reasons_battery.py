"""The conformance battery checks a segmenter's reasons when it gives them."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.segmentation import DecileSegmenter, PortfolioSegmenter
from crmkit.testing import CHECK_NAMES, check_plugin, iter_checks


def _check_reasons(plugin: object) -> None:
    (check,) = [c for c in iter_checks(plugin) if c.__name__ == "check_reasons"]
    check(plugin)


class _NoReasons(DecileSegmenter):
    explain = None  # type: ignore[assignment]
    reasons = None  # type: ignore[assignment]


class _Reasons(_NoReasons):
    """Reasons through ``reasons`` only; subclasses break one rule each."""

    def reasons(self, view: pd.DataFrame) -> pd.Series:  # type: ignore[override]
        labels = self.assign(view)
        values = view[self.column].to_numpy()
        texts = [f"{g}: {self.column} {v:.6g}" for g, v in zip(labels, values, strict=True)]
        return pd.Series(texts, index=view.index, name=f"{self.output_name}_reasons")


class _Misnamed(_Reasons):
    def reasons(self, view: pd.DataFrame) -> pd.Series:  # type: ignore[override]
        return super().reasons(view).rename("why")


class _Missing(_Reasons):
    def reasons(self, view: pd.DataFrame) -> pd.Series:  # type: ignore[override]
        out = super().reasons(view).astype(object)
        out.iloc[0] = None
        return out


class _Batchy(_Reasons):
    """Quotes the batch's size: a customer alone gets another text."""

    def reasons(self, view: pd.DataFrame) -> pd.Series:  # type: ignore[override]
        return super().reasons(view) + f" of {len(view)}"


class _Unfitted(_Reasons):
    """Answers before fit."""

    def reasons(self, view: pd.DataFrame) -> pd.Series:  # type: ignore[override]
        return pd.Series("x", index=view.index, name=f"{self.output_name}_reasons")


def test_reasons_check_is_in_the_battery() -> None:
    assert "check_reasons" in CHECK_NAMES
    check_plugin(_Reasons(n_groups=3))
    _check_reasons(PortfolioSegmenter())
    _check_reasons(_NoReasons())  # nothing to check without reasons


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (_Misnamed(n_groups=3), "named 'segment_reasons'"),
        (_Missing(n_groups=3), "non-empty str for every customer"),
        (_Batchy(n_groups=3), "alone gets another reason"),
        (_Unfitted(n_groups=3), "before fit did not raise"),
    ],
    ids=lambda p: type(p).__name__ if not isinstance(p, str) else "",
)
def test_reasons_check_catches_broken_reasons(plugin: object, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        _check_reasons(plugin)
