"""The conformance battery: other plugin kinds pass, broken plugins fail the right check."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit._estimator import check_is_fitted
from crmkit.plugins import STAGES, PluginBase, validate_view
from crmkit.segmentation import DecileSegmenter
from crmkit.testing import CHECK_NAMES, check_plugin, iter_checks, parametrize_with_checks
from crmkit.testing._dispatch import infer_kind


class Recency(PluginBase):
    """A churn detector: long silence and detractor NPS raise the risk."""

    model_type = "tests.Recency"

    def __init__(self, *, weight_silence: float = 0.7) -> None:
        self.weight_silence = weight_silence

    @property
    def requires(self) -> tuple[str, ...]:
        return ("days_since_last", "last_nps")

    @property
    def provides(self) -> tuple[str, ...]:
        return ("churn_risk", "reasons", "signal_silence", "signal_detractor")

    def fit(self, view: pd.DataFrame, y: pd.Series | None = None) -> Recency:
        validate_view(
            view,
            "Recency",
            required=self.requires,
            numeric=self.requires,
            nullable=("last_nps",),
            min_customers=1,
        )
        self.scale_ = float(max(view["days_since_last"].max(), 1.0))
        self.base_rate_ = 0.5 if y is None else float(np.mean(y))
        return self

    def score(self, view: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "scale_")
        validate_view(
            view, "Recency", required=self.requires, numeric=self.requires, nullable=("last_nps",)
        )
        silence = np.clip(view["days_since_last"].to_numpy(float) / self.scale_, 0, 1)
        nps = view["last_nps"].to_numpy(float)
        detractor = np.where(np.isnan(nps), 0.0, (nps <= 6).astype(float))
        w = self.weight_silence
        parts = {"silence": w * silence, "detractor": (1 - w) * detractor}
        reasons = [
            "; ".join(f"{k} ({v[i]:.2f})" for k, v in parts.items() if v[i] > 0)
            for i in range(len(view))
        ]
        return pd.DataFrame(
            {
                "churn_risk": parts["silence"] + parts["detractor"],
                "reasons": pd.array(reasons, dtype=object),
                "signal_silence": silence,
                "signal_detractor": detractor,
            },
            index=view.index,
        )

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "scale_"):
            return None
        return {"scale": self.scale_, "base_rate": self.base_rate_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.scale_ = float(state["scale"])
        self.base_rate_ = float(state["base_rate"])


class TwoTier(PluginBase):
    """A care model: customers above the fitted median revenue get account care."""

    model_type = "tests.TwoTier"

    def __init__(self, *, cadence_days: int = 30) -> None:
        self.cadence_days = cadence_days

    @property
    def requires(self) -> tuple[str, ...]:
        return ("revenue", "stage")

    @property
    def provides(self) -> tuple[str, ...]:
        return (
            "care_model",
            "intensity",
            "cadence_days",
            "channel",
            "owner_role",
            "activities",
            "budget_share",
            "care_reasons",
        )

    def fit(self, view: pd.DataFrame) -> TwoTier:
        validate_view(
            view, "TwoTier", required=self.requires, numeric=("revenue",), min_customers=1
        )
        self.median_ = float(view["revenue"].median())
        self.n_fitted_ = len(view)
        return self

    def plan(self, view: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "median_")
        validate_view(view, "TwoTier", required=self.requires, numeric=("revenue",))
        high = view["revenue"].to_numpy(float) >= self.median_
        return pd.DataFrame(
            {
                "care_model": np.where(high, "A", "C").astype(object),
                "intensity": np.where(high, "high", "low").astype(object),
                "cadence_days": np.where(high, self.cadence_days, 4 * self.cadence_days),
                "channel": np.where(high, "visit", "email").astype(object),
                "owner_role": np.where(high, "account manager", "service").astype(object),
                "activities": np.where(high, "plan; visit", "newsletter").astype(object),
                # shares of the budget relative to the fitted base (row-independent)
                "budget_share": np.where(high, 0.8, 0.2) / self.n_fitted_,
                "care_reasons": [f"stage {s}" for s in view["stage"].astype(str)],
            },
            index=view.index,
        )

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "median_"):
            return None
        return {"median": self.median_, "n_fitted": self.n_fitted_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.median_ = float(state["median"])
        self.n_fitted_ = int(state["n_fitted"])


class Silence(PluginBase):
    """A stager from tenure and silence."""

    model_type = "tests.Silence"

    def __init__(self, *, lapse_days: float = 365.0) -> None:
        self.lapse_days = lapse_days

    @property
    def requires(self) -> tuple[str, ...]:
        return ("frequency", "days_since_last")

    @property
    def provides(self) -> tuple[str, ...]:
        return ("stage", "status", "stage_reasons")

    def fit(self, view: pd.DataFrame) -> Silence:
        validate_view(
            view, "Silence", required=self.requires, numeric=self.requires, min_customers=1
        )
        self.fitted_ = True
        return self

    def stage(self, view: pd.DataFrame) -> pd.Series:
        check_is_fitted(self, "fitted_")
        validate_view(view, "Silence", required=self.requires, numeric=self.requires)
        freq = view["frequency"].to_numpy()
        codes = np.select([freq == 0, freq < 3], [1, 2], default=3)
        labels = pd.Categorical.from_codes(codes, categories=list(STAGES))
        return pd.Series(labels, index=view.index, name="stage")

    def stage_frame(self, view: pd.DataFrame) -> pd.DataFrame:
        stage = self.stage(view)
        silent = view["days_since_last"].to_numpy() > self.lapse_days
        status = pd.Categorical(
            np.where(silent, "lapsed", "active"), categories=["active", "lapsed"]
        )
        days = view["days_since_last"].tolist()
        reasons = [f"{s}: silent {d:g} days" for s, d in zip(stage, days, strict=True)]
        return pd.DataFrame(
            {"stage": stage, "status": status, "stage_reasons": reasons}, index=view.index
        )

    def _get_state(self) -> dict[str, Any] | None:
        return {"fitted": True} if hasattr(self, "fitted_") else None

    def _set_state(self, state: dict[str, Any]) -> None:
        self.fitted_ = bool(state["fitted"])


@pytest.mark.parametrize(
    "plugin, kind",
    [(Recency(), "churn_detectors"), (TwoTier(), "care_models"), (Silence(), "stagers")],
)
def test_other_kinds_pass_the_battery(plugin: Any, kind: str) -> None:
    assert infer_kind(plugin) == kind
    check_plugin(plugin)


@parametrize_with_checks([Silence(lapse_days=100.0)])
def test_parametrize_with_checks_runs_each_check(plugin: Any, check: Any) -> None:
    check(plugin)


def test_parametrize_with_checks_builds_named_pairs() -> None:
    mark = parametrize_with_checks([DecileSegmenter(), Silence()])
    assert mark.args[0] == "plugin, check"
    assert len(mark.args[1]) == 2 * len(CHECK_NAMES)
    ids = mark.kwargs["ids"]
    assert ids[0] == "DecileSegmenter()-check_protocol"
    assert ids[-1] == "Silence()-check_hypothesis_views"


# --- broken plugins: each must fail the check aimed at its defect ----------------------


class Halves(PluginBase):
    """A correct segmenter: above or below the fitted median revenue."""

    model_type = "tests.Halves"

    def __init__(self, *, column: str = "revenue") -> None:
        self.column = column

    @property
    def requires(self) -> tuple[str, ...]:
        return (self.column,)

    @property
    def provides(self) -> tuple[str, ...]:
        return ("segment",)

    def fit(self, view: pd.DataFrame) -> Any:
        validate_view(
            view, "Halves", required=self.requires, numeric=self.requires, min_customers=1
        )
        self.median_ = float(view[self.column].median())
        return self

    def assign(self, view: pd.DataFrame) -> pd.Series:
        check_is_fitted(self, "median_")
        validate_view(view, "Halves", required=self.requires, numeric=self.requires)
        high = (view[self.column].to_numpy(float) > self.median_).astype(int)
        labels = pd.Categorical.from_codes(high, categories=["low", "high"])
        return pd.Series(labels, index=view.index, name="segment")

    def describe(self) -> pd.DataFrame:
        check_is_fitted(self, "median_")
        return pd.DataFrame({"median": [self.median_]})

    def _get_state(self) -> dict[str, Any] | None:
        return {"median": self.median_} if hasattr(self, "median_") else None

    def _set_state(self, state: dict[str, Any]) -> None:
        self.median_ = float(state["median"])


class WorkInInit(Halves):
    model_type = "tests.WorkInInit"

    def __init__(self, *, column: str = "revenue") -> None:
        self.column = column.lower()


class FittedInInit(Halves):
    model_type = "tests.FittedInInit"

    def __init__(self, *, column: str = "revenue") -> None:
        self.column = column
        self.median_ = 0.0


class ChangesParams(Halves):
    model_type = "tests.ChangesParams"

    def fit(self, view: pd.DataFrame) -> Any:
        self.column = str(self.column)[:]  # a new object
        self.column = "".join(list(self.column))
        return super().fit(view)


_COUNTER = itertools.count()


class NotIdempotent(Halves):
    model_type = "tests.NotIdempotent"

    def fit(self, view: pd.DataFrame) -> Any:
        super().fit(view)
        self.median_ += next(_COUNTER) % 2 * 1e6
        return self


class MutatesInput(Halves):
    model_type = "tests.MutatesInput"

    def fit(self, view: pd.DataFrame) -> Any:
        view["scratch"] = 1.0
        return super().fit(view)


class SortsOutput(Halves):
    model_type = "tests.SortsOutput"

    def assign(self, view: pd.DataFrame) -> pd.Series:
        return super().assign(view).sort_index()


class UsableUnfitted(Halves):
    model_type = "tests.UsableUnfitted"

    def assign(self, view: pd.DataFrame) -> pd.Series:
        if not hasattr(self, "median_"):
            self.median_ = 0.0
        return super().assign(view)


class KeyErrorWhenMissing(Halves):
    model_type = "tests.KeyErrorWhenMissing"

    def fit(self, view: pd.DataFrame) -> Any:
        self.median_ = float(view[self.column].median())
        return self


class BatchRanked(Halves):
    model_type = "tests.BatchRanked"

    def assign(self, view: pd.DataFrame) -> pd.Series:
        check_is_fitted(self, "median_")
        values = view[self.column]
        high = (values > values.median()).to_numpy().astype(int)
        labels = pd.Categorical.from_codes(high, categories=["low", "high"])
        return pd.Series(labels, index=view.index, name="segment")


class SavesIds(Halves):
    model_type = "tests.SavesIds"

    def fit(self, view: pd.DataFrame) -> Any:
        super().fit(view)
        self.ids_ = tuple(str(i) for i in view.index)
        return self

    def _get_state(self) -> dict[str, Any] | None:
        state = super()._get_state()
        return None if state is None else {**state, "ids": self.ids_}

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.ids_ = state["ids"]


class ForgetsState(Halves):
    model_type = "tests.ForgetsState"

    def _set_state(self, state: dict[str, Any]) -> None:
        self.median_ = float(state["median"]) + 1.0


class SplitsTies(Halves):
    model_type = "tests.SplitsTies"

    def assign(self, view: pd.DataFrame) -> pd.Series:
        out = super().assign(view)
        ranks = view[self.column].rank(method="first").to_numpy()
        codes = (ranks > len(view) / 2).astype(int)
        labels = pd.Categorical.from_codes(codes, categories=["low", "high"])
        return pd.Series(labels, index=out.index, name="segment")


class NeedsTwo(Halves):
    model_type = "tests.NeedsTwo"

    def fit(self, view: pd.DataFrame) -> Any:
        if len(view) < 2:
            raise ValueError("need two customers")
        return super().fit(view)


class BreaksOnMissingIndustry(Halves):
    model_type = "tests.BreaksOnMissingIndustry"

    @property
    def requires(self) -> tuple[str, ...]:
        return ("revenue", "industry")

    def assign(self, view: pd.DataFrame) -> pd.Series:
        check_is_fitted(self, "median_")
        labels = pd.Categorical(view["industry"].to_numpy())
        return pd.Series(labels, index=view.index, name="segment")


def _run(plugin: Any, name: str) -> None:
    checks = {c.__name__: c for c in iter_checks(plugin)}
    checks[name](plugin)


def test_the_reference_segmenter_passes() -> None:
    check_plugin(Halves())


@pytest.mark.parametrize(
    "plugin, check",
    [
        (WorkInInit(), "check_no_work_in_init"),
        (FittedInInit(), "check_no_work_in_init"),
        (UsableUnfitted(), "check_unfitted_raises"),
        (ChangesParams(), "check_params_unchanged_by_fit"),
        (NotIdempotent(), "check_fit_idempotent"),
        (MutatesInput(), "check_input_not_mutated"),
        (SortsOutput(), "check_output_contract"),
        (BatchRanked(), "check_single_row_matches_bulk"),
        (SavesIds(), "check_persistence_roundtrip"),
        (ForgetsState(), "check_persistence_roundtrip"),
        (KeyErrorWhenMissing(), "check_missing_required_columns"),
        (NeedsTwo(), "check_one_customer"),
        (SplitsTies(), "check_identical_customers"),
        (BreaksOnMissingIndustry(), "check_hypothesis_views"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_a_broken_plugin_fails_its_check(plugin: Any, check: str) -> None:
    assert check in CHECK_NAMES
    with pytest.raises(Exception):  # noqa: B017 - AssertionError or the plugin's own error
        _run(plugin, check)


def test_check_plugin_names_the_failing_check() -> None:
    with pytest.raises(AssertionError, match=r"^check_input_not_mutated: MutatesInput changed"):
        check_plugin(MutatesInput())


def test_kind_must_be_unambiguous() -> None:
    class Both(Silence, Halves):
        model_type = "tests.Both"

    with pytest.raises(AssertionError, match="satisfies"):
        check_plugin(Both())
    with pytest.raises(AssertionError, match="Stager protocol"):
        check_plugin(Halves(), kind="stagers")
