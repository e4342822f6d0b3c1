"""Reliability battery: bad and edge-case inputs through summarize -> fit -> predict -> Playbook.

One row of the table is one input builder with its exact expected outcome
(see :mod:`tests.reliability._harness`): the crmkit error that names the
column, the problem and the first rows, or the documented handling with the
warning that counts what was dropped. ``CASES`` is the whole table.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path

import pytest

import crmkit
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._gammagamma import GammaGamma
from tests.reliability import (
    _cases_data,
    _cases_files,
    _cases_hostile,
    _cases_models,
    _cases_shapes,
    _fitted,
)
from tests.reliability._harness import Case, Context, base_tx, check_outcome, summarize

#: The battery's base data has 40 customers, too few for the value models to
#: pin down every parameter: their flat-likelihood warning is not under test here
#: (``fit_flat_likelihood_warns`` tests it).
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*likelihood is flat:crmkit.exceptions.ConvergenceWarning"
)

CASES: list[Case] = [
    *_cases_data.CASES,
    *_cases_shapes.CASES,
    *_cases_models.CASES,
    *_cases_files.CASES,
    *_cases_hostile.CASES,
]
STAGES = ("summarize", "fit", "predict", "playbook", "load", "export")


def _fitted_playbook() -> crmkit.compose.Playbook:
    playbook: crmkit.compose.Playbook = _fitted.shared_fitted("crmkit.compose.Playbook")
    return playbook


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    view = summarize(base_tx())
    yield Context(
        tmp=tmp_path_factory.mktemp("battery"),
        bg=BetaGeo().fit(view),
        gg=GammaGamma().fit(view),
        view=view,
        playbook_factory=_fitted_playbook,
    )


@pytest.fixture
def fresh_ctx(ctx: Context, tmp_path: Path) -> Context:
    """The shared context with a scratch directory (and sentinel) of the test's own."""
    return Context(
        tmp=tmp_path,
        bg=ctx.bg,
        gg=ctx.gg,
        view=ctx.view,
        playbook_factory=lambda: ctx.playbook,
    )


def test_the_table_is_large_and_covers_every_stage() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 50
    per_stage = collections.Counter(c.stage for c in CASES)
    assert set(per_stage) == set(STAGES), per_stage
    assert all(per_stage[s] >= 5 for s in STAGES), per_stage


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, fresh_ctx: Context) -> None:
    check_outcome(case, fresh_ctx)
