"""Lifecycle stages of a customership, customer status and the rules between them.

The four stages follow Mäntyneva's lifecycle model: *acquisition* (hankinta: a
prospect, no customership yet), *onboarding* (haltuunotto: first purchases,
the new customer is being taken over), *development* (kehittäminen: loyalty
and purchases are being grown) and *retention* (säilyttäminen: a mature
customership to be held on to). A lost customer is not a fifth stage: its
:class:`CustomerStatus` becomes ``lapsed`` and it keeps its stage, so that
a one-time buyer that never came back (*onboarding, lapsed*) is told apart
from a lost regular (*retention, lapsed*). The stage and status names are
defined once, in :mod:`crmkit._vocab`.

Allowed moves between stages (staying where one is is always allowed):

============  ==============================================================
from          to
============  ==============================================================
acquisition   onboarding (the first purchase converts the prospect)
onboarding    development; retention (see below)
development   retention
retention     development (purchases grow again)
============  ==============================================================

* ``retention -> development`` is allowed: a mature customer whose purchases
  start growing again (new needs, a new product line) is worth developing.
* ``onboarding -> retention`` skips development. It is allowed because a
  customer can be taken over at its full potential at once (a contract
  customer that moves all of its business in one go has nothing left to
  develop), and because stages assigned from data snapshots can pass through
  development between two snapshots.
* Nothing moves back to onboarding, and the only way back to acquisition is
  lapsing first and being won back (:meth:`LifecycleState.win_back`).
* Only customers lapse (:meth:`LifecycleState.lapse`): a prospect
  (acquisition) that is lost simply stays a prospect. A lapsed customer
  that buys again is active in its stage again
  (:meth:`LifecycleState.reactivate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import attrs

from crmkit import _vocab
from crmkit.domain._fields import parse_enum
from crmkit.exceptions import InvalidParameterError, InvalidTransitionError

__all__ = [
    "LifecycleStage",
    "CustomerStatus",
    "LifecycleState",
    "LAPSED",
    "STAGE_ORDER",
    "ALLOWED_TRANSITIONS",
    "can_transition",
    "check_transition",
]

#: The status of lapsed customers (:data:`crmkit._vocab.LAPSED`).
LAPSED = _vocab.LAPSED

#: Stage labels in lifecycle order, for ordered categoricals
#: (:data:`crmkit._vocab.STAGES`; the same tuple as :data:`crmkit.plugins.STAGES`).
STAGE_ORDER: tuple[str, ...] = _vocab.STAGES

_A, _ON, _D, _R = STAGE_ORDER

#: For every stage, the stages it may move to (itself included).
ALLOWED_TRANSITIONS: Mapping[str, frozenset[str]] = {
    _A: frozenset({_A, _ON}),
    _ON: frozenset({_ON, _D, _R}),
    _D: frozenset({_D, _R}),
    _R: frozenset({_R, _D}),
}


class LifecycleStage(str, Enum):
    """The four lifecycle stages of a customership.

    Examples
    --------
    >>> LifecycleStage("onboarding").can_transition(LifecycleStage.DEVELOPMENT)
    True
    >>> LifecycleStage.DEVELOPMENT.transition("onboarding")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidTransitionError: cannot move from 'development' to 'onboarding': ...
    """

    ACQUISITION = _A
    ONBOARDING = _ON
    DEVELOPMENT = _D
    RETENTION = _R

    @property
    def rank(self) -> int:
        """Position in lifecycle order, 0 for acquisition.

        Returns
        -------
        int

        Examples
        --------
        >>> LifecycleStage.RETENTION.rank
        3
        """
        return STAGE_ORDER.index(self.value)

    @property
    def is_customer(self) -> bool:
        """Whether the stage is one of an actual customer (not a prospect).

        Returns
        -------
        bool

        Examples
        --------
        >>> LifecycleStage.ACQUISITION.is_customer, LifecycleStage.ONBOARDING.is_customer
        (False, True)
        """
        return self is not LifecycleStage.ACQUISITION

    def can_transition(self, to: LifecycleStage | str) -> bool:
        """Whether a customer in this stage may move to stage ``to``.

        Parameters
        ----------
        to : LifecycleStage or str
            The target stage.

        Returns
        -------
        bool

        Raises
        ------
        InvalidParameterError
            If ``to`` is not a stage.

        Examples
        --------
        >>> LifecycleStage.RETENTION.can_transition("development")
        True
        """
        return can_transition(self, _stage(to))

    def transition(self, to: LifecycleStage | str) -> LifecycleStage:
        """Move to stage ``to``, checking the lifecycle rules.

        Parameters
        ----------
        to : LifecycleStage or str
            The target stage.

        Returns
        -------
        LifecycleStage
            ``to`` as a stage.

        Raises
        ------
        InvalidTransitionError
            If the move is not allowed; the message lists the allowed moves.
        InvalidParameterError
            If ``to`` is not a stage.

        Examples
        --------
        >>> LifecycleStage.ACQUISITION.transition("onboarding")
        <LifecycleStage.ONBOARDING: 'onboarding'>
        """
        target = _stage(to)
        check_transition(self, target)
        return target


class CustomerStatus(str, Enum):
    """Whether a customership is going on (``active``) or has most likely stopped (``lapsed``).

    The statuses are :data:`crmkit._vocab.STATUSES`. There is no "lost":
    in records without contracts a defection is never observed, and
    lapsed customers do come back.

    Examples
    --------
    >>> CustomerStatus("lapsed") is CustomerStatus.LAPSED
    True
    """

    ACTIVE = _vocab.ACTIVE
    LAPSED = _vocab.LAPSED


def _is_lapsed(value: object) -> bool:
    return value is CustomerStatus.LAPSED or (isinstance(value, str) and value == LAPSED)


def _stage(value: Any) -> LifecycleStage:
    if isinstance(value, LifecycleStage):
        return value
    try:
        return LifecycleStage(value)
    except ValueError:
        allowed = ", ".join(repr(s.value) for s in LifecycleStage)
        hint = (
            "; 'lapsed' is a status, not a stage (LifecycleState.lapse())"
            if _is_lapsed(value)
            else ""
        )
        raise InvalidParameterError(
            f"{value!r} is not a lifecycle stage; stages: {allowed}{hint}"
        ) from None


def _label(value: Any) -> str:
    if isinstance(value, LifecycleStage):
        return value.value
    if isinstance(value, str) and not isinstance(value, Enum) and value in ALLOWED_TRANSITIONS:
        return value
    hint = (
        "; 'lapsed' is a status, not a stage: lapse a LifecycleState instead"
        if _is_lapsed(value)
        else ""
    )
    raise InvalidParameterError(
        f"{value!r} is not a stage label; labels: {', '.join(map(repr, STAGE_ORDER))}{hint}"
    )


def can_transition(a: LifecycleStage | str, b: LifecycleStage | str) -> bool:
    """Whether a customer may move from stage ``a`` to stage ``b``.

    Parameters
    ----------
    a, b : LifecycleStage or str
        From and to (one of :data:`STAGE_ORDER`).

    Returns
    -------
    bool

    Raises
    ------
    InvalidParameterError
        If either is not a stage (``"lapsed"`` is a status, not a stage).

    Examples
    --------
    >>> can_transition("onboarding", "retention"), can_transition("retention", "acquisition")
    (True, False)
    """
    return _label(b) in ALLOWED_TRANSITIONS[_label(a)]


def check_transition(a: LifecycleStage | str, b: LifecycleStage | str) -> None:
    """Raise unless a customer may move from stage ``a`` to stage ``b``.

    Parameters
    ----------
    a, b : LifecycleStage or str
        From and to (one of :data:`STAGE_ORDER`).

    Raises
    ------
    InvalidTransitionError
        Naming both stages, the allowed targets and, for moves back to
        acquisition, the win-back rule.
    InvalidParameterError
        If either is not a stage.

    Examples
    --------
    >>> check_transition("acquisition", "retention")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidTransitionError: cannot move from 'acquisition' to 'retention': \
from 'acquisition' a customer may move to 'acquisition', 'onboarding'
    """
    src, dst = _label(a), _label(b)
    if dst in ALLOWED_TRANSITIONS[src]:
        return
    allowed = ", ".join(repr(s) for s in STAGE_ORDER if s in ALLOWED_TRANSITIONS[src])
    msg = f"cannot move from {src!r} to {dst!r}: from {src!r} a customer may move to {allowed}"
    if dst == _A:
        msg += "; a customer returns to acquisition only after lapsing (win-back)"
    raise InvalidTransitionError(msg)


def _stage_conv(value: LifecycleStage | str) -> LifecycleStage:
    return parse_enum(LifecycleStage, value, "LifecycleState", "stage")


def _status_conv(value: CustomerStatus | str) -> CustomerStatus:
    return parse_enum(CustomerStatus, value, "LifecycleState", "status")


@attrs.frozen(kw_only=True)
class LifecycleState:
    """Where a customer is: its stage and whether the customership is active.

    A lapsed customer keeps its stage, so that analyses can tell lost
    onboarding customers from lost mature ones.

    Parameters
    ----------
    stage : LifecycleStage or str
        The stage.
    status : CustomerStatus or str, default=CustomerStatus.ACTIVE
        Active or lapsed.

    Raises
    ------
    InvalidTransitionError
        For a lapsed prospect (status lapsed with stage acquisition).

    Examples
    --------
    >>> s = LifecycleState(stage="retention").lapse()
    >>> s.label, s.stage.value, s.status.value
    ('retention (lapsed)', 'retention', 'lapsed')
    >>> s.win_back().move_to("onboarding").label
    'onboarding'
    """

    stage: LifecycleStage = attrs.field(converter=_stage_conv)
    status: CustomerStatus = attrs.field(default=CustomerStatus.ACTIVE, converter=_status_conv)

    def __attrs_post_init__(self) -> None:
        if self.status is CustomerStatus.LAPSED and not self.stage.is_customer:
            raise InvalidTransitionError(
                "a prospect (stage 'acquisition') cannot be lapsed; only customers lapse"
            )

    @property
    def label(self) -> str:
        """A display label: the stage, with ``" (lapsed)"`` for a lapsed customer.

        Returns
        -------
        str

        Examples
        --------
        >>> LifecycleState(stage="development").label
        'development'
        >>> LifecycleState(stage="onboarding", status="lapsed").label
        'onboarding (lapsed)'
        """
        if self.status is CustomerStatus.LAPSED:
            return f"{self.stage.value} ({LAPSED})"
        return self.stage.value

    def move_to(self, stage: LifecycleStage | str) -> LifecycleState:
        """Move an active customer to another stage.

        Parameters
        ----------
        stage : LifecycleStage or str
            The target stage.

        Returns
        -------
        LifecycleState
            A new state.

        Raises
        ------
        InvalidTransitionError
            If the move breaks the rules, or the customer is lapsed (win it
            back or reactivate it first).

        Examples
        --------
        >>> LifecycleState(stage="onboarding").move_to("development").stage
        <LifecycleStage.DEVELOPMENT: 'development'>
        """
        target = _stage(stage)
        if self.status is CustomerStatus.LAPSED and target is not self.stage:
            raise InvalidTransitionError(
                f"cannot move a lapsed customer from {self.stage.value!r} to "
                f"{target.value!r}: it is won back through acquisition first (win_back) "
                "or reactivated in its stage (reactivate)"
            )
        check_transition(self.stage, target)
        return attrs.evolve(self, stage=target)

    def lapse(self) -> LifecycleState:
        """Mark the customership as lapsed (most likely lost), keeping its stage.

        Returns
        -------
        LifecycleState
            Status lapsed, stage kept.

        Raises
        ------
        InvalidTransitionError
            For a prospect.

        Examples
        --------
        >>> LifecycleState(stage="onboarding").lapse().status
        <CustomerStatus.LAPSED: 'lapsed'>
        """
        if not self.stage.is_customer:
            raise InvalidTransitionError(
                "cannot lapse a prospect (stage 'acquisition'): only customers lapse, "
                "a lost prospect stays in acquisition"
            )
        return attrs.evolve(self, status=CustomerStatus.LAPSED)

    def reactivate(self) -> LifecycleState:
        """A lapsed customer bought again: active again in its stage.

        Returns
        -------
        LifecycleState
            Status active, stage kept.

        Raises
        ------
        InvalidTransitionError
            If the customer is not lapsed.

        Examples
        --------
        >>> LifecycleState(stage="development", status="lapsed").reactivate().label
        'development'
        """
        if self.status is not CustomerStatus.LAPSED:
            raise InvalidTransitionError(
                f"cannot reactivate an active customer (stage {self.stage.value!r}); "
                "only lapsed customers are reactivated"
            )
        return attrs.evolve(self, status=CustomerStatus.ACTIVE)

    def win_back(self) -> LifecycleState:
        """Re-enter a lapsed customer through acquisition.

        Returns
        -------
        LifecycleState
            Stage acquisition, status active.

        Raises
        ------
        InvalidTransitionError
            If the customer is not lapsed (only lapsed customers are won
            back; a prospect stays in acquisition).

        Examples
        --------
        >>> LifecycleState(stage="retention", status="lapsed").win_back().label
        'acquisition'
        """
        if self.status is not CustomerStatus.LAPSED:
            raise InvalidTransitionError(
                f"cannot win back an active customer (stage {self.stage.value!r}): "
                "a customer returns to acquisition only after lapsing"
            )
        return LifecycleState(stage=LifecycleStage.ACQUISITION)
