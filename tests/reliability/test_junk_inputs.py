"""Junk arguments never escape as KeyError, IndexError, AttributeError or library internals.

Every public function of every package's ``__all__`` and every public method
of its classes (unfitted, and fitted for the persistable models) is called
with junk for each required argument: None, numbers, strings, empty and
nested lists, dicts, NaN arrays, empty frames, frames with the wrong
columns, objects. Whatever is raised must be a
:class:`~crmkit.exceptions.CrmkitError`, or a ``TypeError``/``ValueError``
with a message raised by crmkit or Python itself - never a ``KeyError``,
``IndexError``, ``AttributeError``, ``ZeroDivisionError``, or an error of
numpy, pandas or scipy (by class or by where it was raised). An ``OSError``
is accepted only from functions that take a path.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.exceptions import CrmkitError
from tests.reliability import _fitted

pytestmark = pytest.mark.filterwarnings("ignore::crmkit.exceptions.DataWarning")

PACKAGES = ("data", "datasets", "domain", "value", "segmentation", "analysis", "loyalty",
            "lifecycle", "measure", "plugins", "testing", "churn", "care", "compose",
            "engines", "plotting", "report")  # fmt: skip

#: Callables left out, and why.
SKIP: dict[str, str] = {
    "testing.check_plugin": "the conformance battery reports a failed check as AssertionError",
    "testing.parametrize_with_checks": "a pytest helper: AssertionError is its contract",
    "testing.iter_checks": "a pytest helper: AssertionError is its contract",
    "cli.main": "parses sys.argv; argparse exits on bad arguments",
}

#: Known defects in packages other helpers are still finishing (strict xfail).
KNOWN: dict[str, str] = {}

JUNK: dict[str, Any] = {
    "None": None,
    "zero": 0,
    "negative": -1,
    "float": 1.5,
    "nan": float("nan"),
    "inf": float("inf"),
    "text": "junk",
    "empty_text": "",
    "empty_list": [],
    "nested_list": [1, [2, 3], "x"],
    "empty_dict": {},
    "dict": {"a": 1},
    "nan_array": np.array([np.nan, np.nan]),
    "empty_frame": pd.DataFrame(),
    "wrong_frame": pd.DataFrame({"x": [1, 2], "y": ["a", None]}),
    "nan_series": pd.Series([1.0, np.nan]),
    "object": object(),
    "bool": True,
}

_LIBRARIES = ("numpy", "pandas", "scipy")
_FORBIDDEN = (KeyError, IndexError, AttributeError, ZeroDivisionError, AssertionError,
              RecursionError, OverflowError)  # fmt: skip


def _is_routine(member: Any) -> bool:
    return inspect.isfunction(member) or inspect.ismethod(member)


def _exports(package: str) -> dict[str, Any]:
    module = importlib.import_module(f"crmkit.{package}")
    return {name: getattr(module, name) for name in getattr(module, "__all__", ())}


def _targets() -> Iterator[tuple[str, str, Any]]:
    """(id, kind, target) of every callable with a required argument.

    Functions; the public methods of each exported class built without
    arguments (classes that need constructor arguments are result containers);
    the public methods of each fitted persistable model except ``fit`` and
    ``set_params``.
    """
    for package in PACKAGES:
        for name, obj in sorted(_exports(package).items()):
            key = f"{package}.{name}"
            if inspect.isfunction(obj):
                if _required(obj):
                    yield key, "function", obj
            elif inspect.isclass(obj) and not issubclass(obj, BaseException):
                try:
                    obj()
                except Exception:  # needs constructor arguments: a result container
                    continue
                for method, member in inspect.getmembers(obj, _is_routine):
                    if not method.startswith("_") and _required(
                        member, skip_self=inspect.isfunction(member)
                    ):
                        yield f"{key}.{method}", "unfitted", (obj, method)
    for model_type, cls in sorted(_fitted.concrete_classes().items()):
        for method, function in inspect.getmembers(cls, _is_routine):
            if method.startswith("_") or method in ("fit", "set_params"):
                continue
            if _required(function, skip_self=inspect.isfunction(function)):
                yield f"fitted:{model_type}.{method}", "fitted", (model_type, method)


def _required(function: Any, skip_self: bool = False) -> list[inspect.Parameter]:
    params = list(inspect.signature(function).parameters.values())
    if skip_self:
        params = params[1:]
    return [
        p for p in params
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]  # fmt: skip


def _callable(kind: str, target: Any) -> Callable[..., Any]:
    if kind == "function":
        return target  # type: ignore[no-any-return]
    if kind == "unfitted":
        cls, method = target
        return getattr(cls(), method)  # type: ignore[no-any-return]
    model_type, method = target
    # a private copy: a junk call must not touch the instance other tests share
    model = copy.deepcopy(_fitted.shared_fitted(model_type))
    return getattr(model, method)  # type: ignore[no-any-return]


def _origin(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return frames[-1].filename if frames else ""


def _problem(exc: BaseException, takes_path: bool) -> str | None:
    """Why ``exc`` is not an acceptable answer to junk, or None."""
    if isinstance(exc, CrmkitError):
        return None if str(exc) else "a crmkit error without a message"
    if isinstance(exc, OSError) and takes_path:
        return None
    if isinstance(exc, _FORBIDDEN) or not isinstance(exc, (TypeError, ValueError)):
        return f"{type(exc).__name__} escaped"
    if type(exc).__module__.split(".")[0] in _LIBRARIES:
        return f"the {type(exc).__module__} error {type(exc).__name__} escaped"
    origin = Path(_origin(exc)).parts
    if any(lib in origin for lib in _LIBRARIES) and "site-packages" in origin:
        return f"{type(exc).__name__} raised inside {'/'.join(origin[-3:])} escaped"
    return None if str(exc) else f"{type(exc).__name__} without a message"


TARGETS = list(_targets())


def _param(key: str, kind: str, target: Any) -> Any:
    marks = []
    bare = key.removeprefix("fitted:").removeprefix("crmkit.")
    if bare in KNOWN:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN[bare]))
    return pytest.param(kind, target, id=key, marks=marks)


@pytest.mark.parametrize(
    ("kind", "target"), [_param(k, kd, t) for k, kd, t in TARGETS if k not in SKIP]
)
def test_junk_arguments(
    kind: str, target: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a junk path writes nowhere that matters
    function = _callable(kind, target)
    signature = inspect.signature(function)
    required = _required(function)
    takes_path = any("path" in p.name or "file" in p.name for p in signature.parameters.values())
    problems = []
    for label, junk in JUNK.items():
        args = [junk for p in required if p.kind is not p.KEYWORD_ONLY]
        kwargs = {p.name: junk for p in required if p.kind is p.KEYWORD_ONLY}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                function(*args, **kwargs)
        except Exception as exc:  # judged below
            problem = _problem(exc, takes_path)
            if problem:
                problems.append(f"{label}: {problem}: {exc!s:.120}")
        finally:
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")
    assert not problems, "\n".join(problems)


def test_the_judge_refuses_library_internals() -> None:
    try:
        bool(pd.Series([1, 2]))
    except ValueError as exc:
        assert "raised inside" in str(_problem(exc, takes_path=False))  # inside pandas
    try:
        {}["x"]
    except KeyError as exc:
        assert _problem(exc, takes_path=False) == "KeyError escaped"
    assert _problem(crmkit.exceptions.SchemaError("bad"), takes_path=False) is None
    assert _problem(TypeError("expected a frame"), takes_path=False) is None
