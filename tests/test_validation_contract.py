"""The validation contract: one constraint engine, keyword schema failures, helpers once.

Parameters are checked by the kernel's constraint engine
(:mod:`crmkit._params`): an estimator's ``_parameter_constraints``, a public
function's ``@validate_args``, or a call of ``validate_params`` where the
owner is only known at run time. What no constraint can say - a check that
depends on the data, on the fitted state, on several parameters together, or
on what a user's plugin returned - is written by hand and raises
``InvalidParameterError`` (or the kernel's ``parameter_error``, which words
it like the engine).

This test parses the modules converted to the engine and fails when

- a hand-written ``raise InvalidParameterError`` / ``raise parameter_error``
  appears that :data:`HAND_WRITTEN` does not list with its reason (a new
  parameter check belongs in a constraint), or one listed disappears (then
  take it off the list);
- a ``SchemaFailure(...)`` call passes its fields by position;
- a shared check is written again (the "non-empty str" predicate, a
  ``check_int``/``check_fraction``/``first_labels``/``failure_at`` of its own).
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from tests._schema_failure_kwargs import positional_calls

SRC = Path(__file__).resolve().parents[1] / "src" / "crmkit"

#: The parts of crmkit that use the constraint engine throughout.
CONVERTED: tuple[str, ...] = (
    "_estimator.py",
    "_checks.py",
    "_params.py",
    "exceptions.py",
    "segmentation",
    "churn",
    "care",
    "lifecycle",
    "measure",
    "plotting",
    "report",
    "loyalty",
    "domain",
    "plugins",
    "_cli",
    "engines",
)

_DATA = "depends on the data"
_CROSS = "depends on several parameters together"

#: The hand-written parameter errors left, by (module, function): how many
#: and why no declarative constraint can say them. The function ``"*"``
#: stands for any function of the module.
HAND_WRITTEN: dict[tuple[str, str], tuple[int, str]] = {
    ("_params.py", "validate_params"): (1, "the constraint engine itself"),
    ("_params.py", "validate_args.decorate"): (1, "a constraint on a missing argument, at import"),
    ("_estimator.py", "BaseEstimator.set_params"): (1, "an unknown parameter name, not a value"),
    ("_estimator.py", "clone"): (1, "an object without get_params; `safe` decides"),
    ("segmentation/_rfm.py", "_range"): (1, _CROSS + ": a rule's range must fit 'bins'"),
    ("segmentation/_rfm.py", "compile_rules"): (1, _CROSS + ": the rules must cover 'bins'^3"),
    ("segmentation/_explain.py", "_check"): (1, "what a user's segmenter returned"),
    ("segmentation/_explain.py", "explain_segments"): (1, "what a user's segmenter returned"),
    ("segmentation/_portfolio.py", "PortfolioSegmenter.fit"): (1, _CROSS + ": cuts vs thresholds"),
    ("segmentation/_kmeans.py", "KMeansSegmenter.fit"): (1, _CROSS + ": log_columns in columns"),
    ("segmentation/_firmographic.py", "FirmographicSegmenter.fit"): (
        2,
        _CROSS + " (labels per band) and " + _DATA + " (other_label vs the segments found)",
    ),
    ("loyalty/_index.py", "LoyaltyIndex._named_weights"): (1, _CROSS + ": share_of_wallet"),
    ("loyalty/_index.py", "LoyaltyIndex.fit"): (1, _DATA + ": which component columns exist"),
    ("churn/_sklearn.py", "SklearnChurn.fit"): (1, _DATA + ": the labels hold no churner"),
    ("churn/_evaluate.py", "evaluate_churn"): (1, _DATA + ": k against the number of customers"),
    ("care/_common.py", "CareModelBase._validate_params"): (
        1,
        "the class contract of a care model (its hooks), not a parameter value",
    ),
    ("care/_tracking.py", "_plans"): (1, "names the offending items of an iterable argument"),
    ("plotting/_value.py", "_matrix_extent"): (2, _CROSS + ": max_frequency and T, or a view"),
    ("measure/_kpis.py", "kpi_series"): (1, _CROSS + ": purchase_model and spend_model"),
    ("domain/_lifecycle.py", "*"): (2, "parse a stage label: a value of the data as often"),
    ("domain/_values.py", "jsonable"): (1, "a value without a JSON form, found while writing"),
    ("lifecycle/_history.py", "stage_history"): (1, "'at' is empty once normalised to dates"),
    ("plugins/_registry.py", "PluginRegistry.register"): (1, "the registry's state: name in use"),
    ("plugins/_registry.py", "PluginRegistry.get"): (1, "the plugin's own constructor refused"),
    ("engines/_driver.py", "EngineRecords.__init__"): (
        1,
        _CROSS + ": every customer-keyed record kind on the transactions' engine",
    ),
    ("engines/_driver.py", "EngineRecords.last_day"): (
        1,
        _DATA + ": the date column holds no dates and no as_of was given",
    ),
}

_RAISERS = {"InvalidParameterError", "parameter_error"}


def _modules() -> list[Path]:
    out: list[Path] = []
    for part in CONVERTED:
        path = SRC / part
        out.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return out


def _name(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _hand_written(path: Path) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, [*scope, child.name])
                continue
            if isinstance(child, ast.Raise) and isinstance(child.exc, ast.Call):
                func = child.exc.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in _RAISERS:
                    found[(_name(path), ".".join(scope) or "<module>")] += 1
            visit(child, scope)

    visit(ast.parse(path.read_text(encoding="utf-8")), [])
    return found


def _all_hand_written() -> Counter[tuple[str, str]]:
    total: Counter[tuple[str, str]] = Counter()
    for path in _modules():
        for (module, function), n in _hand_written(path).items():
            listed = (module, function) in HAND_WRITTEN or (module, "*") not in HAND_WRITTEN
            total[(module, function if listed else "*")] += n
    return total


def test_no_parameter_check_is_written_by_hand_outside_the_list() -> None:
    found = _all_hand_written()
    new = {key: n for key, n in found.items() if HAND_WRITTEN.get(key, (0, ""))[0] < n}
    assert not new, (
        "hand-written parameter errors not in HAND_WRITTEN; say them as constraints "
        f"(_parameter_constraints, @validate_args, validate_params): {new}"
    )


def test_the_list_of_hand_written_checks_is_current() -> None:
    found = _all_hand_written()
    gone = {key: n for key, (n, _) in HAND_WRITTEN.items() if found.get(key, 0) < n}
    assert not gone, f"listed in HAND_WRITTEN but no longer written by hand: {gone}"


def test_every_listed_check_gives_its_reason() -> None:
    assert all(reason.strip() for _, reason in HAND_WRITTEN.values())


def test_the_count_of_hand_written_checks() -> None:
    # 78 hand-written `raise InvalidParameterError` in these parts before the
    # constraint engine took the parameter checks over (issue 21).
    assert sum(_all_hand_written().values()) == sum(n for n, _ in HAND_WRITTEN.values()) == 29


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_schema_failures_name_their_fields(path: Path) -> None:
    lines = positional_calls(path.read_text(encoding="utf-8"))
    assert not lines, f"SchemaFailure(...) with positional fields at lines {lines}"


_SHARED = {"check_int", "check_fraction", "first_labels", "failure_at", "describe_value"}


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_shared_checks_are_not_written_again(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.name not in {"_checks.py", "_params.py"}:
        tree = ast.parse(text)
        defined = {
            n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        assert not defined & _SHARED, f"defines again {sorted(defined & _SHARED)}"
    assert "isinstance(v, str) and bool(v)" not in text, (
        "use crmkit._params.COLUMN_NAME or NON_EMPTY_STR, not a predicate of its own"
    )
