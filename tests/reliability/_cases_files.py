"""Battery cases for saved model files: corrupt, foreign, malicious.

Every malicious file tries to create :attr:`Context.sentinel` (by running a
shell command, importing a module that writes it, or unpickling an object
whose ``__reduce__`` writes it). Loading must raise
:class:`~crmkit.exceptions.ModelFileError` and the sentinel must not exist.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

import crmkit
from crmkit.exceptions import ModelFileError
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._gammagamma import GammaGamma
from tests.reliability._harness import Case, Context, Raises


class _Payload:
    """Unpickling this object would run ``os.system('touch <path>')``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch {self.path}",))


def _write(ctx: Context, name: str, content: str | bytes) -> Path:
    path = ctx.tmp / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _good_doc(ctx: Context) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(ctx.bg.to_dict()))
    return doc


def _load_doc(ctx: Context, name: str, doc: Any) -> Any:
    return crmkit.load(_write(ctx, name, json.dumps(doc)))


def _with_param(ctx: Context, name: str, value: Any) -> dict[str, Any]:
    doc = _good_doc(ctx)
    doc["state"]["__dict__"]["params"]["__dict__"][name] = value
    return doc


def _no_sentinel(ctx: Context) -> None:
    assert not ctx.sentinel.exists(), "a model file executed code"


def _evil_module(ctx: Context) -> Any:
    """A module on sys.path that writes the sentinel when imported; the file names it."""
    module = ctx.tmp / "crmkit_evil_plugin.py"
    module.write_text(
        f"open({str(ctx.sentinel)!r}, 'w').write('imported')\nclass Model:\n    pass\n"
    )
    sys.path.insert(0, str(ctx.tmp))
    try:
        doc = {
            "schema_version": 1,
            "model_type": "crmkit_evil_plugin.Model",
            "params": {},
            "state": None,
        }
        return _load_doc(ctx, "evil_module.json", doc)
    finally:
        sys.path.remove(str(ctx.tmp))
        assert "crmkit_evil_plugin" not in sys.modules


def _command(ctx: Context) -> str:
    return f"touch {ctx.sentinel}"


def _deep_tags(ctx: Context) -> Any:
    """A document parsed by another reader (no depth limit) handed to ``from_dict``."""
    value: Any = 1.0
    for _ in range(5000):
        value = {"__tuple__": [value]}
    doc = {
        "schema_version": 1,
        "model_type": "crmkit.value.BetaGeo",
        "params": {"__dict__": {"penalizer": value}},
        "state": None,
    }
    return BetaGeo.from_dict(doc)


def _with_state(ctx: Context, **fields: Any) -> dict[str, Any]:
    doc = _good_doc(ctx)
    doc["state"]["__dict__"].update(fields)
    return doc


def _numpy_pickle(ctx: Context) -> Any:
    """An ``.npy`` file holding a pickled object array, renamed ``.json``."""
    np.save(
        ctx.tmp / "arr.npy", np.array([_Payload(ctx.sentinel)], dtype=object), allow_pickle=True
    )
    target = ctx.tmp / "arr.json"
    os.replace(ctx.tmp / "arr.npy", target)
    return crmkit.load(target)


CASES: list[Case] = [
    # ---- corrupt or foreign files
    Case(
        "file_of_another_model_type",
        "load",
        lambda c: GammaGamma.load(c.bg.save(c.tmp / "bg.json")),
        Raises(
            ModelFileError,
            None,
            ("holds a 'crmkit.value.BetaGeo' model", "not a 'crmkit.value.GammaGamma'"),
        ),
    ),
    Case(
        "file_truncated_json",
        "load",
        lambda c: crmkit.load(_write(c, "truncated.json", json.dumps(_good_doc(c))[:120])),
        Raises(ModelFileError, None, ("invalid or truncated JSON",)),
    ),
    Case(
        "file_binary_garbage",
        "load",
        lambda c: crmkit.load(_write(c, "garbage.json", bytes(range(256)) * 4)),
        Raises(ModelFileError, None, ("not a crmkit model file", "not UTF-8")),
    ),
    Case(
        "file_empty",
        "load",
        lambda c: crmkit.load(_write(c, "empty.json", "")),
        Raises(ModelFileError, None, ("invalid or truncated JSON",)),
    ),
    Case(
        "file_top_level_list",
        "load",
        lambda c: _load_doc(c, "list.json", [_good_doc(c)]),
        Raises(ModelFileError, None, ("top level is not an object",)),
    ),
    Case(
        "file_unknown_schema_version",
        "load",
        lambda c: _load_doc(c, "schema.json", {**_good_doc(c), "schema_version": 99}),
        Raises(ModelFileError, None, ("unsupported model file schema version 99",)),
    ),
    Case(
        "file_unknown_parameter",
        "load",
        lambda c: _load_doc(
            c, "param.json", {**_good_doc(c), "params": {"__dict__": {"penaliser": 0.1}}}
        ),
        Raises(ModelFileError, None, ("parameters do not fit crmkit.value.BetaGeo", "penaliser")),
    ),
    Case(
        "file_nan_fitted_parameter",
        "load",
        lambda c: _load_doc(c, "nan.json", _with_param(c, "alpha", {"__float__": "nan"})),
        Raises(ModelFileError, None, ("invalid parameters", "'alpha': nan", "finite number > 0")),
    ),
    Case(
        "file_negative_fitted_parameter",
        "load",
        lambda c: _load_doc(c, "neg.json", _with_param(c, "r", -0.5)),
        Raises(ModelFileError, None, ("invalid parameters", "'r': -0.5")),
    ),
    Case(
        "file_text_fitted_parameter",
        "load",
        lambda c: _load_doc(c, "text.json", _with_param(c, "a", "0.5; rm -rf /")),
        Raises(ModelFileError, None, ("malformed fitted state",)),
    ),
    Case(
        "file_infinite_iteration_count",
        "load",
        lambda c: _load_doc(c, "iter.json", _with_state(c, n_iter={"__float__": "inf"})),
        Raises(ModelFileError, None, ("malformed fitted state", "infinity")),
    ),
    Case(
        "file_deeply_nested_json",
        "load",
        lambda c: crmkit.load(_write(c, "deep.json", "[" * 100_000 + "]" * 100_000)),
        Raises(ModelFileError, None, ("nested too deeply",)),
    ),
    Case(
        "file_deeply_nested_tags",
        "load",
        _deep_tags,
        Raises(ModelFileError, None, ("nested too deeply",)),
    ),
    Case(
        "file_huge_array_shape",
        "load",
        lambda c: _load_doc(
            c,
            "shape.json",
            {
                **_good_doc(c),
                "params": {
                    "__dict__": {
                        "penalizer": {"__ndarray__": [], "dtype": "<f8", "shape": [10**12, 10**12]}
                    }
                },
            },
        ),
        Raises(ModelFileError, None, ("malformed value",)),
    ),
    # ---- files crafted to execute code
    Case(
        "exec_model_type_os_system",
        "load",
        lambda c: _load_doc(
            c,
            "os.json",
            {
                "schema_version": 1,
                "model_type": "os.system",
                "params": {"__dict__": {"command": _command(c)}},
            },
        ),
        Raises(
            ModelFileError,
            None,
            ("unknown model type 'os.system'", "only its own model types"),
            after=_no_sentinel,
        ),
    ),
    Case(
        "exec_model_type_subprocess",
        "load",
        lambda c: _load_doc(
            c,
            "popen.json",
            {
                "schema_version": 1,
                "model_type": "subprocess.Popen",
                "params": {"__dict__": {"args": ["touch", str(c.sentinel)]}},
            },
        ),
        Raises(
            ModelFileError, None, ("unknown model type 'subprocess.Popen'",), after=_no_sentinel
        ),
    ),
    Case(
        "exec_model_type_builtins_eval",
        "load",
        lambda c: _load_doc(
            c,
            "eval.json",
            {
                "schema_version": 1,
                "model_type": "builtins.eval",
                "params": {"__dict__": {"source": f"open({str(c.sentinel)!r}, 'w')"}},
            },
        ),
        Raises(ModelFileError, None, ("unknown model type 'builtins.eval'",), after=_no_sentinel),
    ),
    Case(
        "exec_model_type_module_path_import",
        "load",
        _evil_module,
        Raises(
            ModelFileError,
            None,
            ("unknown model type 'crmkit_evil_plugin.Model'",),
            after=_no_sentinel,
        ),
    ),
    Case(
        "exec_reduce_payload_in_params",
        "load",
        lambda c: _load_doc(
            c,
            "reduce.json",
            {
                **_good_doc(c),
                "params": {"__dict__": {"penalizer": {"__reduce__": ["os.system", [_command(c)]]}}},
            },
        ),
        Raises(
            ModelFileError, None, ("unknown object in model file", "__reduce__"), after=_no_sentinel
        ),
    ),
    Case(
        "exec_jsonpickle_payload",
        "load",
        lambda c: _load_doc(
            c,
            "jsonpickle.json",
            {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": [_command(c)]}]},
        ),
        Raises(ModelFileError, None, ("missing 'schema_version'",), after=_no_sentinel),
    ),
    Case(
        "exec_nested_model_payload",
        "load",
        lambda c: _load_doc(
            c,
            "nested.json",
            {
                **_good_doc(c),
                "params": {
                    "__dict__": {
                        "penalizer": {
                            "__model__": {
                                "schema_version": 1,
                                "model_type": "os.system",
                                "params": {"__dict__": {"command": _command(c)}},
                            }
                        }
                    }
                },
            },
        ),
        Raises(ModelFileError, None, ("unknown model type 'os.system'",), after=_no_sentinel),
    ),
    Case(
        "exec_object_array_payload",
        "load",
        lambda c: _load_doc(
            c,
            "objarray.json",
            {
                **_good_doc(c),
                "params": {
                    "__dict__": {
                        "penalizer": {
                            "__ndarray__": [
                                {
                                    "__model__": {
                                        "schema_version": 1,
                                        "model_type": "posix.system",
                                        "params": {"__dict__": {"command": _command(c)}},
                                    }
                                }
                            ],
                            "dtype": "object",
                            "shape": [1],
                        }
                    }
                },
            },
        ),
        Raises(ModelFileError, None, ("unknown model type 'posix.system'",), after=_no_sentinel),
    ),
    Case(
        "exec_pickle_renamed_json",
        "load",
        lambda c: crmkit.load(_write(c, "model.json", pickle.dumps(_Payload(c.sentinel)))),
        Raises(ModelFileError, None, ("not a crmkit model file",), after=_no_sentinel),
    ),
    Case(
        "exec_text_pickle_renamed_json",
        "load",
        lambda c: crmkit.load(
            _write(c, "model0.json", pickle.dumps(_Payload(c.sentinel), protocol=0).decode("ascii"))
        ),
        Raises(ModelFileError, None, ("invalid or truncated JSON",), after=_no_sentinel),
    ),
    Case(
        "exec_numpy_pickle_renamed_json",
        "load",
        _numpy_pickle,
        Raises(ModelFileError, None, ("not a crmkit model file",), after=_no_sentinel),
    ),
]
