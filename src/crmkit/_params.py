"""Declarative validation of hyperparameters (checked at fit time)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from crmkit.exceptions import InvalidParameterError

__all__ = ["Interval", "Options", "Constraint", "validate_params", "describe_value"]


@attrs.frozen
class Interval:
    """A numeric interval constraint.

    Parameters
    ----------
    kind : {"int", "float", "real"}
        ``"int"`` accepts integers only; ``"float"`` and ``"real"`` accept any
        real number (bools are always refused).
    low, high : float or None
        Bounds; ``None`` means unbounded.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds are included.

    Examples
    --------
    >>> Interval("float", 0, None).accepts(0.5), Interval("float", 0, None).accepts(-1)
    (True, False)
    >>> Interval("int", 1, None).describe()
    'an int >= 1'
    """

    kind: str
    low: float | None
    high: float | None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` satisfies the constraint.

        Parameters
        ----------
        value : object
            The candidate.

        Returns
        -------
        bool

        Examples
        --------
        >>> Interval("int", 0, 10).accepts(3.0)
        False
        """
        if isinstance(value, bool):
            return False
        if self.kind == "int":
            if not isinstance(value, numbers.Integral):
                return False
        elif not isinstance(value, numbers.Real):
            return False
        v = float(value)
        if math.isnan(v):
            return False
        if self.low is not None:
            if v < self.low or (v == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if v > self.high or (v == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def describe(self) -> str:
        """Say the constraint in words.

        Returns
        -------
        str

        Examples
        --------
        >>> Interval("float", 0, 1, closed="neither").describe()
        'a float > 0 and < 1'
        """
        article = "an int" if self.kind == "int" else "a float"
        parts = []
        if self.low is not None:
            op = ">=" if self.closed in ("both", "left") else ">"
            parts.append(f"{op} {self.low:g}")
        if self.high is not None:
            op = "<=" if self.closed in ("both", "right") else "<"
            parts.append(f"{op} {self.high:g}")
        return article + (" " + " and ".join(parts) if parts else "")


@attrs.frozen
class Options:
    """One of a fixed set of values.

    Parameters
    ----------
    values : frozenset
        The allowed values.

    Examples
    --------
    >>> Options(frozenset({"D", "W"})).describe()
    "one of {'D', 'W'}"
    """

    values: frozenset[Any]

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is one of the options.

        Parameters
        ----------
        value : object
            The candidate.

        Returns
        -------
        bool

        Examples
        --------
        >>> Options(frozenset({"a"})).accepts("a")
        True
        """
        try:
            return value in self.values
        except TypeError:
            return False

    def describe(self) -> str:
        """Say the constraint in words.

        Returns
        -------
        str

        Examples
        --------
        >>> Options(frozenset({1})).describe()
        'one of {1}'
        """
        return "one of {" + ", ".join(sorted(repr(v) for v in self.values)) + "}"


@attrs.frozen
class Predicate:
    """An arbitrary check with a description.

    Parameters
    ----------
    check : callable
        ``check(value) -> bool``.
    text : str
        What an accepted value is, e.g. ``"a callable"``.

    Examples
    --------
    >>> Predicate(callable, "a callable").accepts(len)
    True
    """

    check: Callable[[Any], bool]
    text: str

    def accepts(self, value: Any) -> bool:
        """Whether ``check(value)`` holds.

        Parameters
        ----------
        value : object
            The candidate.

        Returns
        -------
        bool

        Examples
        --------
        >>> Predicate(lambda v: v == 1, "one").accepts(2)
        False
        """
        try:
            return bool(self.check(value))
        except Exception:  # a predicate that fails is a refusal
            return False

    def describe(self) -> str:
        """Return the description.

        Returns
        -------
        str

        Examples
        --------
        >>> Predicate(callable, "a callable").describe()
        'a callable'
        """
        return self.text


Constraint = Interval | Options | Predicate | type | None


def _accepts(constraint: Constraint, value: Any) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, type):
        if constraint is bool:
            return isinstance(value, bool)
        return isinstance(value, constraint) and not isinstance(value, bool)
    return constraint.accepts(value)


def _describe(constraint: Constraint) -> str:
    if constraint is None:
        return "None"
    if isinstance(constraint, type):
        name = {"bool": "a bool", "str": "a str", "int": "an int", "float": "a float"}
        return name.get(constraint.__name__, f"an instance of {constraint.__name__}")
    return constraint.describe()


def describe_value(value: Any) -> str:
    """Render a value for an error message, briefly.

    Parameters
    ----------
    value : object
        Anything.

    Returns
    -------
    str
        ``repr(value)``, cut to 60 characters.

    Examples
    --------
    >>> describe_value("x" * 100)[-3:]
    '...'
    """
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate_params(
    owner: str, params: Mapping[str, Any], constraints: Mapping[str, Iterable[Constraint]]
) -> None:
    """Check every parameter against its constraints.

    Parameters
    ----------
    owner : str
        Class name used in the message.
    params : mapping
        Parameter values by name.
    constraints : mapping
        For each parameter, the constraints of which at least one must hold.
        Parameters without an entry are not checked.

    Raises
    ------
    InvalidParameterError
        ``"The 'penalizer' parameter of BetaGeo must be a float >= 0. Got -1 instead."``

    Examples
    --------
    >>> rules = {"penalizer": [Interval("float", 0, None)]}
    >>> validate_params("BetaGeo", {"penalizer": -1}, rules)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: The 'penalizer' parameter of BetaGeo must be a ...
    """
    for name, value in params.items():
        options = list(constraints.get(name, ()))
        if not options:
            continue
        if any(_accepts(c, value) for c in options):
            continue
        texts = [_describe(c) for c in options]
        wanted = texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {wanted}. "
            f"Got {describe_value(value)} instead."
        )
