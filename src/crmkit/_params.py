"""Declarative validation of parameters: one constraint engine for all of crmkit.

Estimators declare ``_parameter_constraints`` (checked at fit time by
:meth:`~crmkit._estimator.BaseEstimator._validate_params`); public functions
declare theirs with the :func:`validate_args` decorator. Both go through
:func:`validate_params`, so every parameter error reads the same:
"The 'penalizer' parameter of BetaGeo must be a float >= 0. Got -1 instead."

The vocabulary: :class:`Interval` (numbers), :class:`Options` (one of a
set), :class:`Predicate` (any check with its description), a type (an
instance of it), ``None`` (the value None) and the shared predicates
:data:`COLUMN_NAME`, :func:`column_names` and :func:`instance_of`.
A check that depends on the data (or on several parameters together) stays
hand-written and raises :func:`parameter_error`, which words it the same way.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

import attrs

from crmkit.exceptions import InvalidParameterError

__all__ = [
    "COLUMN_NAME",
    "Constraint",
    "Interval",
    "NON_EMPTY_STR",
    "Options",
    "Predicate",
    "column_names",
    "describe_value",
    "field_validator",
    "instance_of",
    "parameter_error",
    "validate_args",
    "validate_params",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")


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
    finite : bool, default=False
        Whether infinite values are refused (an unbounded side otherwise
        accepts them).

    Examples
    --------
    >>> Interval("float", 0, None).accepts(0.5), Interval("float", 0, None).accepts(-1)
    (True, False)
    >>> Interval("int", 1, None).describe()
    'an int >= 1'
    >>> Interval("real", 0, None, finite=True).describe()
    'a finite float >= 0'
    """

    kind: str
    low: float | None
    high: float | None
    closed: str = "both"
    finite: bool = False

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
        if math.isnan(v) or (self.finite and math.isinf(v)):
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
        if self.finite and self.kind != "int":
            article = "a finite float"
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
        ``repr(value)``, cut to 60 characters; for a value whose ``repr``
        spans lines (a data frame, a dict of frames) its type, and its
        shape when it has one.

    Examples
    --------
    >>> describe_value("x" * 100)[-3:]
    '...'
    >>> import pandas as pd
    >>> describe_value(pd.DataFrame({"a": [1, 2]}))
    'a DataFrame of shape (2, 1)'
    """
    text = repr(value)
    if "\n" in text:
        shape = getattr(value, "shape", None)
        kind = f"a {type(value).__name__}"
        return kind + (f" of shape {tuple(shape)}" if isinstance(shape, tuple) else "")
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


def parameter_error(owner: str, name: str, wanted: str, value: Any) -> InvalidParameterError:
    """The error for a parameter that a hand-written check refused.

    For the checks no declarative constraint can say (they depend on the
    data or on several parameters together); the message has the words of
    :func:`validate_params`.

    Parameters
    ----------
    owner : str
        The class or function the parameter belongs to.
    name : str
        The parameter.
    wanted : str
        What an accepted value is, e.g. ``"at most the 3 customers"``.
    value : object
        The value given.

    Returns
    -------
    InvalidParameterError
        To be raised by the caller.

    Examples
    --------
    >>> raise parameter_error("evaluate_churn", "k", "at most the 3 customers", 5)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: The 'k' parameter of evaluate_churn must be at most the 3 customers. Got 5 instead.
    """  # noqa: E501
    return InvalidParameterError(
        f"The {name!r} parameter of {owner} must be {wanted}. Got {describe_value(value)} instead."
    )


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


#: A column name: a non-empty str.
COLUMN_NAME = Predicate(_is_name, "a column name (a non-empty str)")

#: A name or label that is not a column (a segment label, an output name).
NON_EMPTY_STR = Predicate(_is_name, "a non-empty str")


def column_names(*, allow_empty: bool = False) -> Predicate:
    """A sequence (tuple or list) of distinct column names.

    Parameters
    ----------
    allow_empty : bool, default=False
        Whether an empty sequence is accepted.

    Returns
    -------
    Predicate

    Examples
    --------
    >>> column_names().accepts(("frequency", "T")), column_names().accepts(("T", "T"))
    (True, False)
    >>> column_names(allow_empty=True).describe()
    'a tuple of distinct column names'
    """

    def check(value: Any) -> bool:
        if not isinstance(value, (tuple, list)):
            return False
        names = list(value)
        ok = all(_is_name(v) for v in names) and len(set(names)) == len(names)
        return ok and (allow_empty or bool(names))

    text = "a tuple of distinct column names"
    return Predicate(check, text if allow_empty else "a non-empty " + text[2:])


def instance_of(kinds: type | tuple[type, ...], text: str) -> Predicate:
    """An instance of a type (or of one of several types), said in words.

    A bare type in a constraint list is described by its class name; this
    says what the object is (``"a pandas DataFrame (a customer view)"``).

    Parameters
    ----------
    kinds : type or tuple of type
        Accepted types.
    text : str
        The description.

    Returns
    -------
    Predicate

    Examples
    --------
    >>> from collections.abc import Mapping
    >>> instance_of(Mapping, "a mapping").accepts({"a": 1})
    True
    """

    def check(value: Any) -> bool:
        return isinstance(value, kinds)

    return Predicate(check, text)


def validate_args(
    constraints: Mapping[str, Iterable[Constraint]], *, owner: str | None = None
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Declare the constraints of a public function's arguments.

    The decorated function checks its arguments (defaults included) with
    :func:`validate_params` before it runs: the same engine and the same
    messages as an estimator's ``_parameter_constraints``.

    Parameters
    ----------
    constraints : mapping
        For each argument, the constraints of which at least one must hold.
    owner : str, optional
        The name used in messages; the function's name by default.

    Returns
    -------
    callable
        The decorator.

    Raises
    ------
    InvalidParameterError
        At decoration, for a constraint on an argument the function lacks
        (also a ``TypeError``).

    Examples
    --------
    >>> @validate_args({"top_n": [Interval("int", 1, None)]})
    ... def top(top_n: int = 5) -> int:
    ...     return top_n
    >>> top(3)
    3
    >>> top(0)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: The 'top_n' parameter of top must be an int >= 1. Got 0 instead.
    """  # noqa: E501
    rules = {name: tuple(options) for name, options in constraints.items()}

    def decorate(func: Callable[_P, _R]) -> Callable[_P, _R]:
        sig = inspect.signature(func)
        unknown = sorted(set(rules) - set(sig.parameters))
        if unknown:
            raise InvalidParameterError(
                f"validate_args: {func.__qualname__} has no arguments {unknown}"
            )
        name = owner or func.__name__

        @functools.wraps(func)
        def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError:  # a wrong call: let Python say so
                return func(*args, **kwargs)
            bound.apply_defaults()
            validate_params(name, {k: bound.arguments[k] for k in rules}, rules)
            return func(*args, **kwargs)

        return checked

    return decorate


def field_validator(*constraints: Constraint) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that checks a field with the constraint engine.

    For the value objects built with :mod:`attrs`: the field is checked like
    a parameter, with the class name in the message.

    Parameters
    ----------
    *constraints : Constraint
        The constraints of which at least one must hold.

    Returns
    -------
    callable
        ``validator(instance, attribute, value)``.

    Examples
    --------
    >>> @attrs.frozen
    ... class Stream:
    ...     cadence_days: int = attrs.field(validator=field_validator(Interval("int", 1, None)))
    >>> Stream(0)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: The 'cadence_days' parameter of Stream must be an int >= 1. Got 0 instead.
    """  # noqa: E501

    def check(instance: Any, attribute: Any, value: Any) -> None:
        name = attribute.name
        validate_params(type(instance).__name__, {name: value}, {name: constraints})

    return check
