"""The reliability battery's machinery: cases, expected outcomes, pipeline stages.

A :class:`Case` is one bad or edge-case input (a builder) run through one
stage of summarize -> fit -> predict -> Playbook -> load, with the exact
outcome it must have: :class:`Raises` (the crmkit error, the column, the
problem in words and the first rows) or :class:`Handled` (the documented
result, with the warning that counts what was dropped).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import crmkit
from crmkit.exceptions import CrmkitError, SchemaError
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._gammagamma import GammaGamma

AS_OF = "2024-01-01"
FIRST_ROW = 1000  # row labels start here, so "rows [1003]" is a label, not a position


@dataclass(frozen=True)
class Raises:
    """The input is refused with a crmkit error.

    Parameters
    ----------
    error : type
        The crmkit error class (the raised error must be an instance).
    column : str or None
        For a SchemaError: the column one of its failures names (the
        message must name it too).
    says : tuple of str
        Fragments the message must contain (the problem in words).
    rows : tuple or None
        The first failing row labels that failure must list (and the
        message must show).
    after : callable or None
        ``after(ctx)`` runs once the error was raised (e.g. checks that no
        sentinel file appeared).
    """

    error: type[BaseException]
    column: str | None = None
    says: tuple[str, ...] = ()
    rows: tuple[Any, ...] | None = None
    after: Callable[[Context], None] | None = None


@dataclass(frozen=True)
class Handled:
    """The input is accepted with a documented handling.

    Parameters
    ----------
    check : callable
        ``check(result, ctx)`` asserts the exact result.
    warns : str or None
        A regular expression a :class:`~crmkit.exceptions.DataWarning` must
        match (it counts what was dropped or kept); None: no DataWarning
        may be emitted.
    """

    check: Callable[[Any, Context], None]
    warns: str | None = None


@dataclass(frozen=True)
class Case:
    """One bad or edge-case input and what must happen to it.

    Parameters
    ----------
    id : str
        A readable name (the pytest id).
    stage : {"summarize", "fit", "predict", "playbook", "load", "export"}
        The pipeline stage the input reaches ("export": files written, the
        command line).
    run : callable
        ``run(ctx) -> result``.
    expect : Raises or Handled
    """

    id: str
    stage: str
    run: Callable[[Context], Any]
    expect: Raises | Handled


@dataclass
class Context:
    """What cases share: fitted models, a fitted Playbook and a scratch directory."""

    tmp: Path
    bg: BetaGeo
    gg: GammaGamma
    view: pd.DataFrame
    playbook_factory: Callable[[], Any]
    _playbook: Any = field(default=None, repr=False)

    @property
    def playbook(self) -> Any:
        if self._playbook is None:
            self._playbook = self.playbook_factory()
        return self._playbook

    @property
    def sentinel(self) -> Path:
        return self.tmp / "SENTINEL_code_was_executed"


def base_tx(n_customers: int = 40, seed: int = 1) -> pd.DataFrame:
    """A clean transactions frame: 2023 purchases, most customers repeat.

    Row labels start at :data:`FIRST_ROW`; customer ids are ints 0..n-1.
    """
    rng = np.random.default_rng(seed)
    ids: list[int] = []
    days: list[int] = []
    for c in range(n_customers):
        k = int(rng.integers(1, 9))
        ids += [c] * k
        days += sorted(rng.choice(365, k, replace=False).tolist())
    n = len(ids)
    return pd.DataFrame(
        {
            "customer_id": ids,
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D"),
            "amount": np.round(rng.gamma(3.0, 30.0, n), 2) + 1.0,
        },
        index=pd.RangeIndex(FIRST_ROW, FIRST_ROW + n),
    )


def put(tx: pd.DataFrame, column: str, rows: dict[int, Any]) -> pd.DataFrame:
    """A copy of ``tx`` with ``column`` set at the given row labels (as object if needed)."""
    values = tx[column].astype(object).copy()
    for label, value in rows.items():
        values.loc[label] = value
    out = tx.copy()
    out[column] = values
    return out


def summarize(tx: Any, **kw: Any) -> pd.DataFrame:
    kw.setdefault("as_of", AS_OF)
    view: pd.DataFrame = crmkit.summarize(tx, **kw)
    return view


def fit_models(tx: pd.DataFrame, **kw: Any) -> tuple[BetaGeo, GammaGamma]:
    view = summarize(tx, **kw)
    return BetaGeo().fit(view), GammaGamma().fit(view)


def assess(ctx: Context, tx: pd.DataFrame, **kw: Any) -> pd.DataFrame:
    kw.setdefault("as_of", AS_OF)
    data = crmkit.CustomerData.from_frames(transactions=tx, **kw)
    out: pd.DataFrame = ctx.playbook.assess(data)
    return out


def view_of(**columns: Sequence[Any]) -> pd.DataFrame:
    """A small customer view with the given columns, ids ``c0, c1 ...``."""
    n = len(next(iter(columns.values())))
    return pd.DataFrame(
        dict(columns), index=pd.Index([f"c{i}" for i in range(n)], name="customer_id")
    )


def check_outcome(case: Case, ctx: Context) -> None:
    """Run ``case`` and assert its exact expected outcome."""
    expect = case.expect
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if isinstance(expect, Raises):
            try:
                case.run(ctx)
            except BaseException as exc:  # inspected below
                _check_error(exc, expect)
            else:
                raise AssertionError(f"{case.id}: expected {expect.error.__name__}, got a result")
            if expect.after is not None:
                expect.after(ctx)
            return
        result = case.run(ctx)
    data_warnings = [
        str(w.message) for w in caught if issubclass(w.category, crmkit.exceptions.DataWarning)
    ]
    if expect.warns is None:
        assert not data_warnings, f"{case.id}: unexpected DataWarning {data_warnings}"
    else:
        assert any(re.search(expect.warns, m) for m in data_warnings), (
            f"{case.id}: no DataWarning matching {expect.warns!r} in {data_warnings}"
        )
    expect.check(result, ctx)


def _check_error(exc: BaseException, expect: Raises) -> None:
    if not isinstance(exc, expect.error):
        raise AssertionError(
            f"expected {expect.error.__name__}, got {type(exc).__name__}: {exc}"
        ) from exc
    assert isinstance(exc, CrmkitError), f"{type(exc).__name__} is not a CrmkitError"
    text = str(exc)
    assert text, "the error has no message"
    for fragment in expect.says:
        assert fragment in text, f"{fragment!r} not in the message:\n{text}"
    if expect.column is None:
        return
    assert isinstance(exc, SchemaError), f"{type(exc).__name__} carries no failures"
    named = [f for f in exc.failures if f.column == expect.column]
    assert named, f"no failure names column {expect.column!r}:\n{text}"
    assert f"[{expect.column!r}]" in text, f"the message does not name {expect.column!r}"
    if expect.rows is not None:
        failure = named[0]
        assert failure.rows[: len(expect.rows)] == tuple(expect.rows), (
            f"rows {failure.rows} do not start with {expect.rows}"
        )
        shown = "rows [" + ", ".join(repr(r) for r in failure.rows) + "]"
        assert shown in text, f"the message does not list the rows {shown}:\n{text}"
        assert failure.n_failing >= len(expect.rows)
