"""The conformance checks every plugin must pass (one function per property)."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmkit.exceptions import NotFittedError, SchemaError
from crmkit.plugins import REASONS_SUFFIX
from crmkit.testing._dispatch import (
    APPLY_METHOD,
    apply_plugin,
    assert_same_output,
    assert_valid_output,
    clone,
    fit_plugin,
    infer_kind,
    simple_labels,
)
from crmkit.testing._views import make_customer_view

__all__ = ["CHECKS"]

_N = 60


def _view(plugin: Any, n: int = _N, seed: int = 0) -> pd.DataFrame:
    return make_customer_view(n, requires=tuple(plugin.requires), seed=seed)


def _fitted_names(obj: object) -> list[str]:
    names = getattr(obj, "__dict__", {})
    return sorted(a for a in names if a.endswith("_") and not a.startswith("__"))


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    try:
        return bool(a == b)
    except Exception:
        return repr(a) == repr(b)


def _is_segmenter(kind: str) -> bool:
    return kind == "segmenters"


def check_protocol(plugin: Any, kind: str | None = None) -> None:
    """The plugin satisfies its kind's protocol and declares str column tuples."""
    infer_kind(plugin, kind)
    for attr in ("requires", "provides"):
        value = getattr(plugin, attr)
        if not isinstance(value, tuple) or not all(isinstance(c, str) for c in value):
            raise AssertionError(f"{type(plugin).__name__}.{attr} must be a tuple of str")
    if not plugin.provides:
        raise AssertionError(f"{type(plugin).__name__}.provides must not be empty")
    for method in ("get_params", "set_params", "to_dict", "from_dict"):
        if not callable(getattr(plugin, method, None)):
            raise AssertionError(
                f"{type(plugin).__name__} lacks {method}; inherit crmkit.plugins.PluginBase"
            )


def check_no_work_in_init(plugin: Any, kind: str | None = None) -> None:
    """``__init__`` stores its parameters unchanged and sets no fitted attribute."""
    params = plugin.get_params(deep=False)
    fresh = type(plugin)(**params)
    for name, value in params.items():
        if getattr(fresh, name) is not value:
            raise AssertionError(
                f"{type(plugin).__name__}.__init__ must store parameter {name!r} unchanged"
            )
    if _fitted_names(fresh):
        raise AssertionError(
            f"{type(plugin).__name__}.__init__ sets fitted attributes {_fitted_names(fresh)}"
        )
    sentinels = {name: object() for name in params}
    try:
        odd = type(plugin)(**sentinels)
    except Exception as exc:
        raise AssertionError(
            f"{type(plugin).__name__}.__init__ validates or transforms its parameters "
            f"({type(exc).__name__}: {exc}); do that in fit"
        ) from exc
    for name, value in sentinels.items():
        if getattr(odd, name) is not value:
            raise AssertionError(
                f"{type(plugin).__name__}.__init__ must store parameter {name!r} unchanged"
            )


def check_get_params_clone(plugin: Any, kind: str | None = None) -> None:
    """A clone made from ``get_params`` behaves like the original; ``set_params`` returns self."""
    kind = infer_kind(plugin, kind)
    params = plugin.get_params(deep=False)
    twin = clone(plugin)
    other = twin.get_params(deep=False)
    if set(other) != set(params) or not all(_same_value(params[k], other[k]) for k in params):
        raise AssertionError(f"{type(plugin).__name__}: a clone has different parameters")
    if twin.set_params(**other) is not twin:
        raise AssertionError(f"{type(plugin).__name__}.set_params must return self")
    view = _view(plugin)
    first, second = clone(plugin), clone(plugin)
    fit_plugin(first, kind, view)
    fit_plugin(second, kind, view)
    assert_same_output(
        apply_plugin(first, kind, view), apply_plugin(second, kind, view), "two clones"
    )


def check_unfitted_raises(plugin: Any, kind: str | None = None) -> None:
    """Using a plugin before ``fit`` raises :class:`~crmkit.exceptions.NotFittedError`."""
    kind = infer_kind(plugin, kind)
    view = _view(plugin)
    methods = [APPLY_METHOD[kind]] + (["describe"] if _is_segmenter(kind) else [])
    for method in methods:
        fresh = clone(plugin)
        args = (view,) if method != "describe" else ()
        try:
            getattr(fresh, method)(*args)
        except NotFittedError:
            continue
        except Exception as exc:
            raise AssertionError(
                f"{type(plugin).__name__}.{method} before fit raised {type(exc).__name__} "
                "instead of NotFittedError"
            ) from exc
        raise AssertionError(f"{type(plugin).__name__}.{method} before fit did not raise")


def check_params_unchanged_by_fit(plugin: Any, kind: str | None = None) -> None:
    """``fit`` neither replaces nor mutates any parameter."""
    kind = infer_kind(plugin, kind)
    fresh = clone(plugin)
    before = fresh.get_params(deep=False)
    snapshot = copy.deepcopy(before)
    fit_plugin(fresh, kind, _view(plugin))
    after = fresh.get_params(deep=False)
    for name, value in before.items():
        if after[name] is not value or not _same_value(after[name], snapshot[name]):
            raise AssertionError(f"{type(plugin).__name__}.fit changed parameter {name!r}")


def check_fit_idempotent(plugin: Any, kind: str | None = None) -> None:
    """Fitting twice, or after fitting other data, gives identical output."""
    kind = infer_kind(plugin, kind)
    view, other = _view(plugin, seed=1), _view(plugin, n=45, seed=2)
    p = clone(plugin)
    fit_plugin(p, kind, view)
    once = apply_plugin(p, kind, view)
    described = p.describe() if _is_segmenter(kind) else None
    fit_plugin(p, kind, view)
    assert_same_output(once, apply_plugin(p, kind, view), "fit twice")
    q = clone(plugin)
    fit_plugin(q, kind, other)
    fit_plugin(q, kind, view)
    assert_same_output(once, apply_plugin(q, kind, view), "refit on new data")
    if described is not None:
        assert_same_output(described, q.describe(), "describe after refit")


def check_input_not_mutated(plugin: Any, kind: str | None = None) -> None:
    """``fit`` and the output method leave the view (values, dtypes, index) and ``y`` alone."""
    kind = infer_kind(plugin, kind)
    view = _view(plugin, seed=3)
    snapshot = view.copy(deep=True)
    labels = simple_labels(view)
    label_snapshot = labels.copy(deep=True)
    p = clone(plugin)
    if kind == "churn_detectors":
        p.fit(view, labels)
    else:
        fit_plugin(p, kind, view)
    apply_plugin(p, kind, view)
    if _is_segmenter(kind):
        p.describe()
    try:
        pd.testing.assert_frame_equal(view, snapshot, check_exact=True, check_flags=True)
        pd.testing.assert_series_equal(labels, label_snapshot, check_exact=True)
    except AssertionError as exc:
        raise AssertionError(f"{type(plugin).__name__} changed its input: {exc}") from exc
    if list(view.columns) != list(snapshot.columns) or view.attrs != snapshot.attrs:
        raise AssertionError(f"{type(plugin).__name__} changed its input's columns or attrs")


def check_output_contract(plugin: Any, kind: str | None = None) -> None:
    """Output follows the kind's contract, on the fitting view and on others, in their order."""
    kind = infer_kind(plugin, kind)
    view = _view(plugin, seed=4)
    p = clone(plugin)
    fit_plugin(p, kind, view)
    out = apply_plugin(p, kind, view)
    assert_valid_output(p, kind, view, out)
    other = _view(plugin, n=25, seed=5)
    assert_valid_output(p, kind, other, apply_plugin(p, kind, other))
    reverse = view.iloc[::-1]
    assert_same_output(out.iloc[::-1], apply_plugin(p, kind, reverse), "rows reversed")


def check_single_row_matches_bulk(plugin: Any, kind: str | None = None) -> None:
    """Applying to one customer gives exactly that customer's row of the bulk output."""
    kind = infer_kind(plugin, kind)
    view = _view(plugin, seed=6)
    p = clone(plugin)
    fit_plugin(p, kind, view)
    out = apply_plugin(p, kind, view)
    for i in (0, len(view) // 2, len(view) - 1):
        single = apply_plugin(p, kind, view.iloc[[i]])
        assert_same_output(out.iloc[[i]], single, f"customer {view.index[i]!r} alone")


def _reasons_of(plugin: Any, view: pd.DataFrame) -> pd.Series:
    """The reasons a segmenter gives: its ``reasons``, else ``explain``'s reasons column."""
    name = f"{plugin.provides[0]}{REASONS_SUFFIX}"
    if callable(getattr(plugin, "reasons", None)):
        reasons: pd.Series = plugin.reasons(view)
    else:
        frame = plugin.explain(view)
        if not isinstance(frame, pd.DataFrame) or name not in frame.columns:
            raise AssertionError(
                f"{type(plugin).__name__}.explain must return a DataFrame with a {name!r} column"
            )
        reasons = frame[name]
    return reasons


def check_reasons(plugin: Any, kind: str | None = None) -> None:
    """A segmenter's reasons, when it gives them: a str per customer, like the labels.

    Checked for segmenters with ``reasons`` or ``explain`` (see
    :class:`~crmkit.plugins.Segmenter`): a Series named ``<segment
    column>_reasons``, indexed like the labels, a non-empty str for every
    customer; the same for a customer alone as in bulk, in any row order and
    after save/load; identical for identical customers; ``explain``'s labels
    equal ``assign``'s; before ``fit`` both raise NotFittedError.
    """
    kind = infer_kind(plugin, kind)
    methods = [m for m in ("reasons", "explain") if callable(getattr(plugin, m, None))]
    if not _is_segmenter(kind) or not methods:
        return
    who = type(plugin).__name__
    view = _view(plugin, seed=11)
    for method in methods:
        try:
            getattr(clone(plugin), method)(view)
        except NotFittedError:
            pass
        except Exception as exc:
            raise AssertionError(
                f"{who}.{method} before fit raised {type(exc).__name__} instead of NotFittedError"
            ) from exc
        else:
            raise AssertionError(f"{who}.{method} before fit did not raise")
    p = clone(plugin)
    fit_plugin(p, kind, view)
    labels = apply_plugin(p, kind, view)
    reasons = _reasons_of(p, view)
    name = f"{labels.name}{REASONS_SUFFIX}"
    if not isinstance(reasons, pd.Series) or reasons.name != name:
        raise AssertionError(f"{who}: reasons must be a pandas Series named {name!r}")
    if not reasons.index.equals(labels.index) or reasons.index.dtype != labels.index.dtype:
        raise AssertionError(f"{who}: reasons must be indexed like the labels (the view's ids)")
    texts = reasons.tolist()
    if not all(isinstance(t, str) and t for t in texts):
        raise AssertionError(f"{who}: reasons must hold a non-empty str for every customer")
    if "explain" in methods:
        frame = p.explain(view)
        assert_same_output(labels, frame[labels.name], "explain's labels vs assign")
        if frame[name].tolist() != texts:
            raise AssertionError(f"{who}: explain's reasons differ from reasons")
    for i in (0, len(view) // 2, len(view) - 1):
        if _reasons_of(p, view.iloc[[i]]).tolist() != texts[i : i + 1]:
            raise AssertionError(f"{who}: customer {view.index[i]!r} alone gets another reason")
    if _reasons_of(p, view.iloc[::-1]).tolist() != texts[::-1]:
        raise AssertionError(f"{who}: reasons change when the rows are reversed")
    restored = type(p).from_dict(json.loads(json.dumps(p.to_dict(), allow_nan=False)))
    if _reasons_of(restored, view).tolist() != texts:
        raise AssertionError(f"{who}: reasons differ after to_dict/from_dict")
    base = _view(plugin, n=6, seed=12)
    tied = base.iloc[[0] * len(base)].copy()
    tied.index = base.index
    q = clone(plugin)
    fit_plugin(q, kind, tied)
    if len(set(_reasons_of(q, tied).tolist())) != 1:
        raise AssertionError(f"{who}: identical customers got different reasons")


def check_persistence_roundtrip(plugin: Any, kind: str | None = None) -> None:
    """JSON round trips (dict and file) give identical output; no customer ids are saved."""
    kind = infer_kind(plugin, kind)
    view = _view(plugin, seed=7)
    unfitted = type(plugin).from_dict(json.loads(json.dumps(clone(plugin).to_dict())))
    try:
        apply_plugin(unfitted, kind, view)
    except NotFittedError:
        pass
    else:
        raise AssertionError(f"{type(plugin).__name__}: an unfitted plugin loads as fitted")
    p = clone(plugin)
    fit_plugin(p, kind, view)
    out = apply_plugin(p, kind, view)
    text = json.dumps(p.to_dict(), allow_nan=False)
    leaked = [c for c in view.index if str(c) in text]
    if leaked:
        raise AssertionError(
            f"{type(plugin).__name__}: the saved model holds customer ids {leaked[:3]}"
        )
    restored = type(plugin).from_dict(json.loads(text))
    assert_same_output(out, apply_plugin(restored, kind, view), "to_dict/from_dict")
    if not all(
        _same_value(v, restored.get_params(deep=False)[k])
        for k, v in p.get_params(deep=False).items()
    ):
        raise AssertionError(f"{type(plugin).__name__}: parameters differ after loading")
    with tempfile.TemporaryDirectory() as tmp:
        loaded = type(plugin).load(p.save(Path(tmp) / "plugin.json"))
    assert_same_output(out, apply_plugin(loaded, kind, view), "save/load")
    if _is_segmenter(kind):
        assert_same_output(p.describe(), loaded.describe(), "describe after save/load")


def check_missing_required_columns(plugin: Any, kind: str | None = None) -> None:
    """A missing required column raises a SchemaError naming it (in fit and after)."""
    kind = infer_kind(plugin, kind)
    view = _view(plugin, seed=8)
    fitted = clone(plugin)
    fit_plugin(fitted, kind, view)
    for column in plugin.requires:
        broken = view.drop(columns=[column])
        for stage in ("fit", APPLY_METHOD[kind]):
            try:
                if stage == "fit":
                    fit_plugin(clone(plugin), kind, broken)
                else:
                    apply_plugin(fitted, kind, broken)
            except SchemaError as exc:
                named = any(f.column == column for f in exc.failures) or repr(column) in str(exc)
                if not named:
                    raise AssertionError(
                        f"{type(plugin).__name__}.{stage}: the SchemaError for the missing "
                        f"column {column!r} does not name it: {exc}"
                    ) from exc
                continue
            except Exception as exc:
                raise AssertionError(
                    f"{type(plugin).__name__}.{stage} without {column!r} raised "
                    f"{type(exc).__name__} instead of SchemaError: {exc}"
                ) from exc
            raise AssertionError(
                f"{type(plugin).__name__}.{stage} without required column {column!r} "
                "did not raise SchemaError"
            )


def check_one_customer(plugin: Any, kind: str | None = None) -> None:
    """A view of a single customer can be fitted and scored."""
    kind = infer_kind(plugin, kind)
    view = _view(plugin, n=1, seed=9)
    p = clone(plugin)
    fit_plugin(p, kind, view)
    assert_valid_output(p, kind, view, apply_plugin(p, kind, view))


def check_identical_customers(plugin: Any, kind: str | None = None) -> None:
    """All-tied customers get identical outputs (ties never split arbitrarily)."""
    kind = infer_kind(plugin, kind)
    base = _view(plugin, n=12, seed=10)
    tied = base.iloc[[0] * len(base)].copy()
    tied.index = base.index
    p = clone(plugin)
    fit_plugin(p, kind, tied)
    out = apply_plugin(p, kind, tied)
    assert_valid_output(p, kind, tied, out)
    rows = out.to_frame() if isinstance(out, pd.Series) else out
    if len(rows.astype(str).drop_duplicates()) != 1:
        raise AssertionError(f"{type(plugin).__name__}: identical customers got different outputs")


def check_hypothesis_views(plugin: Any, kind: str | None = None) -> None:
    """Fits and scores hypothesis-generated views (1..12 customers, ties, missing values)."""
    from hypothesis import HealthCheck, Phase, given, settings

    from crmkit.testing.strategies import customer_views

    kind = infer_kind(plugin, kind)

    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),  # no shrinking: fast failure reports
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(view=customer_views(max_customers=12, requires=tuple(plugin.requires)))
    def run(view: pd.DataFrame) -> None:
        p = clone(plugin)
        fit_plugin(p, kind, view)
        out = apply_plugin(p, kind, view)
        assert_valid_output(p, kind, view, out)
        assert_same_output(out, apply_plugin(p, kind, view), "applied twice")

    run()


#: The battery, in the order it runs.
CHECKS = (
    check_protocol,
    check_no_work_in_init,
    check_get_params_clone,
    check_unfitted_raises,
    check_params_unchanged_by_fit,
    check_fit_idempotent,
    check_input_not_mutated,
    check_output_contract,
    check_single_row_matches_bulk,
    check_reasons,
    check_persistence_roundtrip,
    check_missing_required_columns,
    check_one_customer,
    check_identical_customers,
    check_hypothesis_views,
)
