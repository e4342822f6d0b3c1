"""Lifecycle stages, status and the transition rules, checked exhaustively."""

from __future__ import annotations

import itertools

import attrs
import pytest

from crmkit.domain import (
    ALLOWED_TRANSITIONS,
    LAPSED,
    STAGE_ORDER,
    CustomerStatus,
    LifecycleStage,
    LifecycleState,
    can_transition,
    check_transition,
)
from crmkit.exceptions import InvalidParameterError, InvalidTransitionError

A, ON, D, R, L = "acquisition", "onboarding", "development", "retention", "lapsed"

# The full table, written out independently of ALLOWED_TRANSITIONS.
EXPECTED = {
    (A, A): True, (A, ON): True, (A, D): False, (A, R): False,
    (ON, A): False, (ON, ON): True, (ON, D): True, (ON, R): True,
    (D, A): False, (D, ON): False, (D, D): True, (D, R): True,
    (R, A): False, (R, ON): False, (R, D): True, (R, R): True,
}  # fmt: skip


def test_stage_order_lists_every_stage_once_in_lifecycle_order() -> None:
    from crmkit import _vocab
    from crmkit.plugins import STAGES, STATUSES

    assert STAGE_ORDER == (A, ON, D, R)
    # one vocabulary: the kernel's tuples, re-exported
    assert STAGE_ORDER is _vocab.STAGES is STAGES
    assert STATUSES is _vocab.STATUSES == ("active", L)
    assert [s.value for s in LifecycleStage] == list(STAGE_ORDER)
    assert [s.value for s in CustomerStatus] == list(STATUSES)
    assert LAPSED == L == CustomerStatus.LAPSED.value
    assert set(ALLOWED_TRANSITIONS) == set(STAGE_ORDER)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(STAGE_ORDER, repeat=2)))
def test_transition_table_is_exhaustive(a: str, b: str) -> None:
    assert can_transition(a, b) is EXPECTED[(a, b)]
    if EXPECTED[(a, b)]:
        check_transition(a, b)
    else:
        with pytest.raises(InvalidTransitionError, match=f"from '{a}' to '{b}'"):
            check_transition(a, b)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(LifecycleStage, repeat=2)))
def test_stage_methods_agree_with_the_table(a: LifecycleStage, b: LifecycleStage) -> None:
    assert a.can_transition(b) is EXPECTED[(a.value, b.value)]
    assert a.can_transition(b.value) is EXPECTED[(a.value, b.value)]
    if EXPECTED[(a.value, b.value)]:
        assert a.transition(b) is b
        assert a.transition(b.value) is b
    else:
        with pytest.raises(InvalidTransitionError):
            a.transition(b)


def test_enums_accepted_as_labels() -> None:
    assert can_transition(LifecycleStage.ONBOARDING, LifecycleStage.RETENTION)
    assert not can_transition(LifecycleStage.RETENTION, LifecycleStage.ACQUISITION)


def test_error_messages_explain_the_rule() -> None:
    with pytest.raises(InvalidTransitionError, match="only after lapsing"):
        check_transition(R, A)
    with pytest.raises(InvalidTransitionError, match="'onboarding', 'development'"):
        check_transition(ON, A)


@pytest.mark.parametrize("bad", ["churned", "", 3, None, CustomerStatus.ACTIVE])
def test_unknown_labels_raise_parameter_error(bad: object) -> None:
    with pytest.raises(InvalidParameterError, match="not a stage label"):
        can_transition(bad, A)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="not a stage label"):
        can_transition(A, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("lapsed", [L, CustomerStatus.LAPSED])
def test_lapsed_is_a_status_not_a_stage(lapsed: object) -> None:
    with pytest.raises(InvalidParameterError, match="'lapsed' is a status, not a stage"):
        can_transition(lapsed, A)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'lapsed' is a status, not a stage"):
        check_transition(R, lapsed)  # type: ignore[arg-type]


def test_stage_transition_rejects_lapsed_as_a_stage() -> None:
    with pytest.raises(InvalidParameterError, match="not a lifecycle stage"):
        LifecycleStage.RETENTION.transition("lapsed")


def test_rank_and_is_customer() -> None:
    assert [s.rank for s in LifecycleStage] == [0, 1, 2, 3]
    assert [s.is_customer for s in LifecycleStage] == [False, True, True, True]


def test_lifecycle_state_full_journey() -> None:
    s = LifecycleState(stage="acquisition")
    assert s.label == A and s.status is CustomerStatus.ACTIVE
    s = s.move_to("onboarding").move_to(LifecycleStage.DEVELOPMENT).move_to("retention")
    s = s.move_to("development")
    lapsed = s.lapse()
    assert lapsed.label == "development (lapsed)"
    assert lapsed.stage is LifecycleStage.DEVELOPMENT  # keeps its stage
    with pytest.raises(InvalidTransitionError, match="won back"):
        lapsed.move_to("retention")
    assert lapsed.move_to("development") == lapsed  # staying is allowed
    assert lapsed.reactivate() == LifecycleState(stage=D)
    back = lapsed.win_back()
    assert back == LifecycleState(stage=A)
    assert back.move_to("onboarding").label == ON


def test_lifecycle_state_refuses_invalid_moves() -> None:
    with pytest.raises(InvalidTransitionError, match="only customers lapse"):
        LifecycleState(stage="acquisition").lapse()
    with pytest.raises(InvalidTransitionError):
        LifecycleState(stage="acquisition", status="lapsed")
    with pytest.raises(InvalidTransitionError, match="only after lapsing"):
        LifecycleState(stage="retention").win_back()
    with pytest.raises(InvalidTransitionError, match="only lapsed customers"):
        LifecycleState(stage="retention").reactivate()
    with pytest.raises(InvalidTransitionError):
        LifecycleState(stage="development").move_to("onboarding")


def test_lifecycle_state_is_immutable_and_validated() -> None:
    from crmkit.exceptions import SchemaError

    s = LifecycleState(stage="retention")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        s.stage = LifecycleStage.ONBOARDING  # type: ignore[misc]
    with pytest.raises(SchemaError, match="LifecycleState\\['stage'\\]"):
        LifecycleState(stage="mature")
    assert hash(s) == hash(LifecycleState(stage="RETENTION"))
