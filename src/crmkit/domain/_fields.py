"""Field validators and converters shared by the domain classes.

Every problem is raised as a :class:`~crmkit.exceptions.SchemaError` whose one
failure names the class (as the frame), the field (as the column), what is
wrong and the offending value, e.g.
``Transaction['quantity']: must be >= 0 (values [-3.0])``.

The validators accept numpy scalars and pandas timestamps through the standard
``numbers`` and ``datetime`` hierarchies, but this module imports neither
numpy nor pandas.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, TypeVar, cast

import attrs

from crmkit.domain._values import (
    day_of,
    is_bool,
    is_integer,
    is_missing,
    is_number,
    jsonable,
    read_row,
)
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = [
    "Validator",
    "fail",
    "id_field",
    "date_field",
    "real_field",
    "int_field",
    "text_field",
    "bool_field",
    "str_tuple",
    "check_str_tuple",
    "parse_enum",
    "to_tuple",
    # re-exported from _values for the domain modules
    "day_of",
    "is_bool",
    "is_integer",
    "is_missing",
    "is_number",
    "jsonable",
    "read_row",
]

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]
_E = TypeVar("_E", bound=Enum)


def fail(
    owner: str, field: str, check: str, value: Any = None, *, show: bool = True
) -> SchemaError:
    """Build the error for one bad field value.

    Parameters
    ----------
    owner : str
        The class name, shown as the frame.
    field : str
        The field name, shown as the column.
    check : str
        What is wrong, in words.
    value : object, optional
        The offending value.
    show : bool, default=True
        Whether to show ``value`` in the message.

    Returns
    -------
    SchemaError
        To be raised by the caller.

    Examples
    --------
    >>> print(fail("Transaction", "quantity", "must be >= 0", -3.0))
    1 problem in the input:
      - Transaction['quantity']: must be >= 0 (values [-3.0])
    """
    values = (value,) if show else ()
    return SchemaError(
        [SchemaFailure(frame=owner, column=field, check=check, n_failing=0, rows=(), values=values)]
    )


def _owner(instance: Any) -> str:
    return type(instance).__name__


def id_field(*, optional: bool = False) -> Validator:
    """Validator for an identifier: a non-empty str or an int (not a bool).

    Parameters
    ----------
    optional : bool, default=False
        Whether None is allowed.

    Returns
    -------
    callable
        An attrs validator.

    Examples
    --------
    >>> import attrs
    >>> @attrs.frozen
    ... class A:
    ...     x: str = attrs.field(validator=id_field())
    >>> A("")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - A['x']: must be a non-empty str or an int (values [''])
    """

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        ok = (isinstance(value, str) and value.strip() != "") or is_integer(value)
        if not ok:
            raise fail(_owner(instance), attribute.name, "must be a non-empty str or an int", value)

    return check


def date_field(*, optional: bool = False) -> Validator:
    """Validator for a ``datetime.date`` or ``datetime.datetime`` value.

    Parameters
    ----------
    optional : bool, default=False
        Whether None is allowed.

    Returns
    -------
    callable
        An attrs validator.

    Examples
    --------
    >>> import attrs
    >>> @attrs.frozen
    ... class A:
    ...     when: dt.date = attrs.field(validator=date_field())
    >>> A("2024-01-01")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - A['when']: must be a datetime.date or datetime.datetime, got str (values ['2024-01-01'])
    """

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, dt.date) or is_missing(value):
            what = "a missing value" if is_missing(value) else type(value).__name__
            raise fail(
                _owner(instance),
                attribute.name,
                f"must be a datetime.date or datetime.datetime, got {what}",
                value,
            )

    return check


def real_field(
    *,
    optional: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> Validator:
    """Validator for a finite real number, optionally within ``[low, high]``.

    Parameters
    ----------
    optional : bool, default=False
        Whether None is allowed.
    low, high : float, optional
        Inclusive bounds.

    Returns
    -------
    callable
        An attrs validator.

    Examples
    --------
    >>> import attrs
    >>> @attrs.frozen
    ... class A:
    ...     share: float = attrs.field(validator=real_field(low=0, high=1))
    >>> A(1.5)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - A['share']: must be within [0, 1] (values [1.5])
    """

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        owner, name = _owner(instance), attribute.name
        if not is_number(value):
            raise fail(owner, name, f"must be a real number, got {type(value).__name__}", value)
        if not math.isfinite(float(value)):
            raise fail(owner, name, "must be finite", value)
        if low is not None and high is not None and not low <= value <= high:
            raise fail(owner, name, f"must be within [{low:g}, {high:g}]", value)
        if low is not None and value < low:
            raise fail(owner, name, f"must be >= {low:g}", value)
        if high is not None and value > high:
            raise fail(owner, name, f"must be <= {high:g}", value)

    return check


def int_field(*, low: int | None = None) -> Validator:
    """Validator for an integer (not a bool), optionally ``>= low``.

    Parameters
    ----------
    low : int, optional
        Inclusive lower bound.

    Returns
    -------
    callable
        An attrs validator.

    Examples
    --------
    >>> import attrs
    >>> @attrs.frozen
    ... class A:
    ...     days: int = attrs.field(validator=int_field(low=1))
    >>> A(0)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - A['days']: must be >= 1 (values [0])
    """

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        owner, name = _owner(instance), attribute.name
        if not is_integer(value):
            raise fail(owner, name, f"must be an int, got {type(value).__name__}", value)
        if low is not None and value < low:
            raise fail(owner, name, f"must be >= {low}", value)

    return check


def text_field(*, optional: bool = True, nonempty: bool = False) -> Validator:
    """Validator for a str.

    Parameters
    ----------
    optional : bool, default=True
        Whether None is allowed.
    nonempty : bool, default=False
        Whether blank strings are refused.

    Returns
    -------
    callable
        An attrs validator.

    Examples
    --------
    >>> import attrs
    >>> @attrs.frozen
    ... class A:
    ...     name: str | None = attrs.field(default=None, validator=text_field())
    >>> A(3)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - A['name']: must be a str, got int (values [3])
    """

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        owner, name = _owner(instance), attribute.name
        if not isinstance(value, str):
            raise fail(owner, name, f"must be a str, got {type(value).__name__}", value)
        if nonempty and not value.strip():
            raise fail(owner, name, "must not be empty", value)

    return check


def bool_field(*, optional: bool = False) -> Validator:
    """Validator for a bool (numpy bools included, 0/1 refused).

    Parameters
    ----------
    optional : bool, default=False
        Whether None (unknown) is allowed.

    Returns
    -------
    callable
        An attrs validator.

    Examples
    --------
    >>> import attrs
    >>> @attrs.frozen
    ... class A:
    ...     flag: bool = attrs.field(validator=bool_field())
    >>> A(1)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - A['flag']: must be a bool, got int (values [1])
    """

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not is_bool(value):
            raise fail(
                _owner(instance),
                attribute.name,
                f"must be a bool, got {type(value).__name__}",
                value,
            )

    return check


def check_str_tuple(owner: str, name: str, value: Any) -> None:
    """Raise unless ``value`` is a tuple of non-empty strings.

    Parameters
    ----------
    owner, name : str
        Class and field, for the message.
    value : object
        The candidate.

    Raises
    ------
    SchemaError
        Naming the field and the first bad item.

    Examples
    --------
    >>> check_str_tuple("CarePlan", "activities", ("visit", ""))
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - CarePlan['activities']: items must be non-empty str (values [''])
    """
    if not isinstance(value, tuple):
        raise fail(
            owner, name, f"must be a list or tuple of str, got {type(value).__name__}", value
        )
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise fail(owner, name, "items must be non-empty str", item)


def str_tuple() -> Validator:
    """Validator for a tuple of non-empty strings (see :func:`check_str_tuple`).

    Returns
    -------
    callable
        An attrs validator.

    Examples
    --------
    >>> import attrs
    >>> @attrs.frozen
    ... class A:
    ...     tags: tuple[str, ...] = attrs.field(converter=to_tuple, validator=str_tuple())
    >>> A(["a", "b"]).tags
    ('a', 'b')
    """

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_str_tuple(_owner(instance), attribute.name, value)

    return check


def to_tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    """Freeze a list, tuple or other iterable into a tuple.

    A str (or a non-iterable) is passed on unchanged so that the field's
    validator rejects it with the field's name, instead of splitting a word
    into letters.

    Parameters
    ----------
    values : iterable
        The items.

    Returns
    -------
    tuple

    Examples
    --------
    >>> to_tuple(["a", "b"]), to_tuple("ab")
    (('a', 'b'), 'ab')
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        return cast(tuple[Any, ...], values)
    return tuple(values)


def parse_enum(enum_cls: type[_E], value: Any, owner: str, name: str) -> _E:
    """Read an enum member from itself or its value.

    Parameters
    ----------
    enum_cls : type
        The enum.
    value : object
        A member or a member's value (case-insensitive for str).
    owner, name : str
        Class and field, for the message.

    Returns
    -------
    Enum member

    Raises
    ------
    SchemaError
        Listing the allowed values.

    Examples
    --------
    >>> from crmkit.domain import InteractionKind
    >>> parse_enum(InteractionKind, "Visit", "Interaction", "kind")
    <InteractionKind.VISIT: 'visit'>
    """
    if isinstance(value, enum_cls):
        return value
    key = value.strip().lower() if isinstance(value, str) else value
    try:
        return enum_cls(key)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in enum_cls)
        raise fail(owner, name, f"must be one of {allowed}", value) from None
