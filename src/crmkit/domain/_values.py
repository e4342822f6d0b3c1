"""Plain-value helpers of the domain: type tests, missing values, row reading, JSON.

They accept numpy scalars and pandas timestamps through the standard
``numbers`` and ``datetime`` hierarchies (and by duck typing), but this
module imports neither numpy nor pandas.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping
from enum import Enum
from typing import Any

from crmkit.exceptions import InvalidParameterError

__all__ = [
    "is_bool",
    "is_number",
    "is_integer",
    "is_missing",
    "day_of",
    "read_row",
    "jsonable",
]


def is_bool(value: object) -> bool:
    """Whether ``value`` is a bool (a Python or numpy bool).

    Parameters
    ----------
    value : object
        Any value.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_bool(False), is_bool(0)
    (True, False)
    """
    if isinstance(value, bool):
        return True
    cls = type(value)
    return cls.__module__ == "numpy" and cls.__name__ in ("bool", "bool_")


def is_number(value: object) -> bool:
    """Whether ``value`` is a real number and not a bool (numpy numbers included).

    Parameters
    ----------
    value : object
        Any value.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_number(2.5), is_number(True), is_number("2")
    (True, False, False)
    """
    if is_bool(value):
        return False
    return isinstance(value, numbers.Real)


def is_integer(value: object) -> bool:
    """Whether ``value`` is an integer and not a bool (numpy integers included).

    Parameters
    ----------
    value : object
        Any value.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_integer(3), is_integer(3.0), is_integer(False)
    (True, False, False)
    """
    if is_bool(value):
        return False
    return isinstance(value, numbers.Integral)


def is_missing(value: Any) -> bool:
    """Whether ``value`` is a missing marker: None, NaN, NaT or ``pandas.NA``.

    Parameters
    ----------
    value : object
        Any value.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(0.0), is_missing("")
    (True, True, False, False)
    """
    if value is None:
        return True
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    if is_number(value):
        return math.isnan(float(value))
    return False


def day_of(value: dt.date) -> dt.date:
    """The calendar day of a date or datetime (so that the two can be compared).

    Parameters
    ----------
    value : date or datetime
        The moment.

    Returns
    -------
    date

    Examples
    --------
    >>> day_of(dt.datetime(2024, 5, 1, 13, 30))
    datetime.date(2024, 5, 1)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _coerce(value: Any, kind: str) -> Any:
    """Turn a cell of a data-frame row into the plain Python value a field wants."""
    if is_missing(value):
        return None
    tname = type(value).__name__
    if tname == "datetime64":
        value = value.astype("datetime64[us]").item()
    elif hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    elif hasattr(value, "item") and hasattr(value, "dtype"):
        value = value.item()
    if kind == "date" and isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return dt.datetime.fromisoformat(text)
        except ValueError:
            return value
    if kind == "real" and is_number(value):
        return float(value)
    if isinstance(value, dt.datetime) and type(value) is not dt.datetime:
        return dt.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            value.tzinfo,
        )
    return value


def read_row(row: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """Read named cells of a row, missing or NaN cells as None.

    Parameters
    ----------
    row : mapping or pandas Series
        One record with canonical column names; other keys are ignored.
    fields : mapping of str to str
        ``{column: kind}`` with kind one of ``"id"``, ``"date"``, ``"real"``,
        ``"text"``, ``"bool"``, ``"enum"``.

    Returns
    -------
    dict
        ``{column: value}`` with numpy scalars and timestamps turned into
        plain Python values and ISO date strings into dates.

    Examples
    --------
    >>> read_row({"date": "2024-03-01", "amount": float("nan"), "x": 1},
    ...          {"date": "date", "amount": "real", "product": "text"})
    {'date': datetime.date(2024, 3, 1), 'amount': None, 'product': None}
    """
    out: dict[str, Any] = {}
    for column, kind in fields.items():
        value = row[column] if column in row else None  # noqa: SIM401 (pandas Series rows)
        out[column] = _coerce(value, kind)
    return out


def jsonable(value: Any) -> Any:
    """Turn a domain value into plain JSON types.

    Enums become their values, dates ISO strings, tuples lists, mappings
    dicts, numbers plain ``int``/``float``.

    Parameters
    ----------
    value : object
        None, bool, number, str, date, Enum, sequence, mapping or an object
        with a ``to_dict`` method.

    Returns
    -------
    object
        JSON-serialisable.

    Raises
    ------
    InvalidParameterError
        For values that have no JSON form (also a :class:`TypeError`).

    Examples
    --------
    >>> jsonable({"since": dt.date(2024, 1, 2), "tags": ("a",), "n": 3})
    {'since': '2024-01-02', 'tags': ['a'], 'n': 3}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if is_bool(value):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    raise InvalidParameterError(f"{type(value).__name__} value {value!r} has no JSON form")
