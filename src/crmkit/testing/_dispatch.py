"""How the battery drives each plugin kind: fit, apply, and output contracts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmkit._estimator import clone
from crmkit.plugins import (
    CARE_PLAN_COLUMNS,
    CHURN_SCORE_COLUMNS,
    STAGER_COLUMNS,
    STAGES,
    STATUSES,
    CareModel,
    ChurnDetector,
    Segmenter,
    Stager,
)

__all__ = [
    "APPLY_METHOD",
    "apply_plugin",
    "assert_same_output",
    "assert_valid_output",
    "clone",
    "fit_plugin",
    "infer_kind",
    "simple_labels",
]

#: The method that produces each kind's output.
APPLY_METHOD: dict[str, str] = {
    "segmenters": "assign",
    "churn_detectors": "score",
    "care_models": "plan",
    "stagers": "stage",
}

_PROTOCOLS: dict[str, type] = {
    "segmenters": Segmenter,
    "churn_detectors": ChurnDetector,
    "care_models": CareModel,
    "stagers": Stager,
}


def infer_kind(plugin: object, kind: str | None = None) -> str:
    """The plugin's kind, from ``kind`` or from the protocol it satisfies.

    Parameters
    ----------
    plugin : object
        The plugin.
    kind : str or None, default=None
        Force a kind (needed when a plugin satisfies several protocols).

    Returns
    -------
    str

    Raises
    ------
    AssertionError
        When the plugin satisfies no protocol, several, or not ``kind``'s.

    Examples
    --------
    >>> from crmkit.segmentation import RFMSegmenter
    >>> infer_kind(RFMSegmenter())
    'segmenters'
    """
    if kind is not None:
        if kind not in _PROTOCOLS:
            raise AssertionError(f"unknown plugin kind {kind!r}; kinds: {', '.join(_PROTOCOLS)}")
        if not isinstance(plugin, _PROTOCOLS[kind]):
            raise AssertionError(
                f"{type(plugin).__name__} does not satisfy the "
                f"{_PROTOCOLS[kind].__name__} protocol of kind {kind!r}"
            )
        return kind
    kinds = [k for k, proto in _PROTOCOLS.items() if isinstance(plugin, proto)]
    if len(kinds) != 1:
        raise AssertionError(
            f"{type(plugin).__name__} satisfies {kinds or 'no'} plugin protocols; "
            "it must satisfy exactly one (or pass kind=...)"
        )
    return kinds[0]


def simple_labels(view: pd.DataFrame) -> pd.Series:
    """Churn labels for fitting a churn detector in the battery.

    The half of the customers longest without a purchase (by
    ``days_since_last`` when present, else by row order) churned.

    Parameters
    ----------
    view : pandas.DataFrame
        Customer view.

    Returns
    -------
    pandas.Series of bool
        Indexed like ``view``, named ``"churned"``.

    Examples
    --------
    >>> from crmkit.testing import make_customer_view
    >>> int(simple_labels(make_customer_view(10)).sum())
    5
    """
    n = len(view)
    if "days_since_last" in view.columns:
        values = view["days_since_last"].to_numpy(dtype=np.float64)
        ranks = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    else:
        ranks = np.arange(n)
    result: pd.Series = pd.Series(ranks >= n - n // 2, index=view.index, name="churned")
    return result


def fit_plugin(plugin: Any, kind: str, view: pd.DataFrame) -> None:
    """Fit a plugin as its kind requires and check that ``fit`` returns it.

    Churn detectors get :func:`simple_labels` as ``y``.

    Parameters
    ----------
    plugin : object
        The plugin.
    kind : str
        Its kind.
    view : pandas.DataFrame
        The view.

    Raises
    ------
    AssertionError
        When ``fit`` does not return the plugin itself.

    Examples
    --------
    >>> from crmkit.segmentation import DecileSegmenter
    >>> from crmkit.testing import make_customer_view
    >>> fit_plugin(DecileSegmenter(), "segmenters", make_customer_view(10))
    """
    if kind == "churn_detectors":
        result = plugin.fit(view, simple_labels(view))
    else:
        result = plugin.fit(view)
    if result is not plugin:
        raise AssertionError(f"{type(plugin).__name__}.fit must return self")


def apply_plugin(plugin: Any, kind: str, view: pd.DataFrame) -> Any:
    """Call the kind's output method (``assign``/``score``/``plan``/``stage``).

    Parameters
    ----------
    plugin : object
        A fitted plugin.
    kind : str
        Its kind.
    view : pandas.DataFrame
        The view.

    Returns
    -------
    pandas.Series or pandas.DataFrame

    Examples
    --------
    >>> from crmkit.segmentation import DecileSegmenter
    >>> from crmkit.testing import make_customer_view
    >>> v = make_customer_view(10)
    >>> apply_plugin(DecileSegmenter().fit(v), "segmenters", v).name
    'segment'
    """
    return getattr(plugin, APPLY_METHOD[kind])(view)


def _fail(plugin: Any, text: str) -> AssertionError:
    return AssertionError(f"{type(plugin).__name__}: {text}")


def _check_float_column(
    plugin: Any, frame: pd.DataFrame, col: str, lo: float | None = None, hi: float | None = None
) -> None:
    series = frame[col]
    if not pd.api.types.is_float_dtype(series.dtype):
        raise _fail(plugin, f"output column {col!r} must be float, got {series.dtype}")
    values = series.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise _fail(plugin, f"output column {col!r} holds NaN or infinite values")
    if lo is not None and (values < lo).any():
        raise _fail(plugin, f"output column {col!r} holds values below {lo}")
    if hi is not None and (values > hi).any():
        raise _fail(plugin, f"output column {col!r} holds values above {hi}")


def _check_text_column(plugin: Any, frame: pd.DataFrame, col: str) -> None:
    if not all(isinstance(v, str) for v in frame[col].tolist()):
        raise _fail(plugin, f"output column {col!r} must hold a str for every customer")


def _check_stage_frame(plugin: Any, view: pd.DataFrame, stage: pd.Series) -> None:
    """A stager's ``stage_frame`` (when it has one): stage, status and reasons."""
    if not callable(getattr(plugin, "stage_frame", None)):
        return
    frame = plugin.stage_frame(view)
    if not isinstance(frame, pd.DataFrame) or not frame.index.equals(view.index):
        raise _fail(plugin, "stage_frame must return a DataFrame indexed like the view")
    missing = [c for c in STAGER_COLUMNS if c not in frame.columns]
    if missing:
        raise _fail(plugin, f"stage_frame output lacks {missing}")
    if frame["stage"].astype(object).tolist() != stage.astype(object).tolist():
        raise _fail(plugin, "stage_frame's stage differs from stage()")
    status = frame["status"]
    if (
        not isinstance(status.dtype, pd.CategoricalDtype)
        or tuple(status.cat.categories) != STATUSES
        or status.isna().any()
    ):
        raise _fail(plugin, f"stage_frame's status must be categorical with {STATUSES}, no gaps")
    _check_text_column(plugin, frame, "stage_reasons")
    if any(not v.strip() for v in frame["stage_reasons"].tolist()):
        raise _fail(plugin, "stage_frame's stage_reasons must give a reason for every customer")


def assert_valid_output(plugin: Any, kind: str, view: pd.DataFrame, out: Any) -> None:
    """Check one output against its kind's contract.

    Every kind: indexed by exactly ``view.index`` (same ids, same order), no
    missing values where the contract forbids them, and the columns (or the
    Series name) listed in ``provides``. Segmenters and stagers: a
    categorical Series (stagers: named ``"stage"`` with categories
    :data:`~crmkit.plugins.STAGES`; a stager's ``stage_frame``, when it has
    one, with ``status`` in :data:`~crmkit.plugins.STATUSES` and a
    ``stage_reasons`` text for every customer). Churn detectors: ``churn_risk`` float in
    [0, 1], ``reasons`` str, ``signal_*`` floats. Care models: the
    :data:`~crmkit.plugins.CARE_PLAN_COLUMNS`.

    Parameters
    ----------
    plugin : object
        The plugin (for messages and ``provides``).
    kind : str
        Its kind.
    view : pandas.DataFrame
        The view it was applied to.
    out : object
        What it returned.

    Raises
    ------
    AssertionError
        Naming the broken part of the contract.

    Examples
    --------
    >>> from crmkit.segmentation import DecileSegmenter
    >>> from crmkit.testing import make_customer_view
    >>> v = make_customer_view(10)
    >>> seg = DecileSegmenter().fit(v)
    >>> assert_valid_output(seg, "segmenters", v, seg.assign(v))
    """
    provides = tuple(plugin.provides)
    series_kind = kind in ("segmenters", "stagers")
    wanted = pd.Series if series_kind else pd.DataFrame
    if not isinstance(out, wanted):
        raise _fail(
            plugin,
            f"{APPLY_METHOD[kind]} must return a {wanted.__name__}, got {type(out).__name__}",
        )
    if not out.index.equals(view.index) or out.index.dtype != view.index.dtype:
        raise _fail(plugin, "output must be indexed by the view's customer ids in the same order")
    if isinstance(out, pd.Series):
        if not isinstance(out.dtype, pd.CategoricalDtype):
            raise _fail(plugin, f"output must be a categorical Series, got dtype {out.dtype}")
        if out.isna().any():
            raise _fail(plugin, "output holds missing labels")
        if out.name not in provides:
            raise _fail(plugin, f"output is named {out.name!r}, not one of provides={provides}")
        if kind == "stagers":
            if out.name != "stage" or tuple(out.cat.categories) != STAGES:
                raise _fail(plugin, f"stage output must be named 'stage' with categories {STAGES}")
            _check_stage_frame(plugin, view, out)
        return
    missing = [c for c in provides if c not in out.columns]
    if missing:
        raise _fail(plugin, f"output lacks the columns it provides: {missing}")
    if kind == "churn_detectors":
        absent = [c for c in CHURN_SCORE_COLUMNS if c not in out.columns]
        if absent:
            raise _fail(plugin, f"score output lacks {absent}")
        _check_float_column(plugin, out, "churn_risk", 0.0, 1.0)
        _check_text_column(plugin, out, "reasons")
        signals = [c for c in out.columns if str(c).startswith("signal_")]
        if not signals:
            raise _fail(plugin, "score output needs at least one signal_<name> column")
        for col in signals:
            _check_float_column(plugin, out, col)
    elif kind == "care_models":
        absent = [c for c in CARE_PLAN_COLUMNS if c not in out.columns]
        if absent:
            raise _fail(plugin, f"plan output lacks {absent}")
        if out["care_model"].isna().any():
            raise _fail(plugin, "plan output holds missing care models")
        for col in ("activities", "care_reasons", "channel", "owner_role"):
            _check_text_column(plugin, out, col)
        budget = pd.to_numeric(out["budget_share"], errors="coerce").to_numpy(dtype=np.float64)
        if not (np.isfinite(budget) & (budget >= 0)).all():
            raise _fail(plugin, "plan output's budget_share must be finite numbers >= 0")
        cadence = pd.to_numeric(out["cadence_days"], errors="coerce").to_numpy(dtype=np.float64)
        if not (np.isfinite(cadence) & (cadence > 0)).all():
            raise _fail(plugin, "plan output's cadence_days must be positive numbers")


def assert_same_output(first: Any, second: Any, what: str) -> None:
    """Check two outputs are identical: values, dtypes, categories, index, order.

    Parameters
    ----------
    first, second : pandas.Series or pandas.DataFrame
        Outputs to compare.
    what : str
        What is being compared (for the message).

    Raises
    ------
    AssertionError

    Examples
    --------
    >>> import pandas as pd
    >>> assert_same_output(pd.Series([1]), pd.Series([2]), "demo")
    Traceback (most recent call last):
    ...
    AssertionError: demo: outputs differ...
    """
    try:
        if type(first) is not type(second):
            raise AssertionError(f"types {type(first).__name__} != {type(second).__name__}")
        if isinstance(first, pd.DataFrame):
            pd.testing.assert_frame_equal(first, second, check_exact=True, check_categorical=True)
        elif isinstance(first, pd.Series):
            pd.testing.assert_series_equal(first, second, check_exact=True, check_categorical=True)
            if isinstance(first.dtype, pd.CategoricalDtype):
                if not first.cat.categories.equals(second.cat.categories) or (
                    first.cat.categories.dtype != second.cat.categories.dtype
                ):
                    raise AssertionError("categories differ")
        elif not np.array_equal(np.asarray(first), np.asarray(second)):
            raise AssertionError("values differ")
    except AssertionError as exc:
        raise AssertionError(f"{what}: outputs differ: {exc}") from exc
