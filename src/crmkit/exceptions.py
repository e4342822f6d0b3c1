"""Every error and warning crmkit raises.

Each error is a :class:`CrmkitError` and also the matching built-in, so that
``except ValueError`` in existing code keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "CrmkitError",
    "CustomerNotFoundError",
    "DataWarning",
    "InvalidParameterError",
    "InvalidTransitionError",
    "ModelFileError",
    "NotFittedError",
    "PluginNotFoundError",
    "SchemaError",
    "SchemaFailure",
]


class CrmkitError(Exception):
    """Base class of every error raised by crmkit.

    Examples
    --------
    >>> issubclass(SchemaError, CrmkitError)
    True
    """


@attrs.frozen
class SchemaFailure:
    """One failed check of one column, as collected by lazy validation.

    Parameters
    ----------
    frame : str
        The record kind (``"transactions"``, ``"view"`` ...).
    column : str
        The user's column name (or ``"<frame>"`` for frame-level checks).
    check : str
        What was wrong, in words (``"contains null values"``).
    n_failing : int, default=0
        How many rows fail the check.
    rows : tuple, default=()
        The first failing row labels (at most 5).
    values : tuple, default=()
        The first failing values (at most 5).

    Examples
    --------
    >>> f = SchemaFailure(frame="transactions", column="amount", check="is not finite",
    ...                   n_failing=1, rows=(7,), values=(float("inf"),))
    >>> print(f.describe())
    transactions['amount']: is not finite (1 row; rows [7]; values [inf])
    """

    frame: str
    column: str
    check: str
    n_failing: int = 0
    rows: tuple[Any, ...] = ()
    values: tuple[Any, ...] = ()

    def describe(self) -> str:
        """Render the failure as one line.

        Returns
        -------
        str
            ``frame['column']: check (n rows; rows [...]; values [...])``.

        Examples
        --------
        >>> SchemaFailure(frame="view", column="T", check="is missing").describe()
        "view['T']: is missing"
        """
        text = f"{self.frame}[{self.column!r}]: {self.check}"
        details = []
        if self.n_failing:
            noun = "row" if self.n_failing == 1 else "rows"
            details.append(f"{self.n_failing} {noun}")
        if self.rows:
            details.append("rows [" + ", ".join(repr(r) for r in self.rows) + "]")
        if self.values:
            details.append("values [" + ", ".join(repr(v) for v in self.values) + "]")
        if details:
            text += " (" + "; ".join(details) + ")"
        return text


class SchemaError(CrmkitError, ValueError):
    """The input records or customer view do not meet crmkit's contract.

    Every problem found is listed, not only the first one (lazy validation).

    Parameters
    ----------
    failures : sequence of SchemaFailure or str
        The problems; a plain string is a single frame-level problem.

    Attributes
    ----------
    failures : tuple of SchemaFailure
        The problems, in the order they were found.

    Examples
    --------
    >>> err = SchemaError([SchemaFailure(frame="transactions", column="date", check="is missing")])
    >>> print(err)
    1 problem in the input:
      - transactions['date']: is missing
    >>> err.failures[0].column
    'date'
    """

    def __init__(self, failures: Sequence[SchemaFailure] | str) -> None:
        if isinstance(failures, str):
            failures = [SchemaFailure(frame="<input>", column="<frame>", check=failures)]
        self.failures: tuple[SchemaFailure, ...] = tuple(failures)
        n = len(self.failures)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        lines = [head] + [f"  - {f.describe()}" for f in self.failures]
        super().__init__("\n".join(lines))


class InvalidParameterError(CrmkitError, ValueError, TypeError):
    """A hyperparameter or an argument has an invalid value or type.

    Raised for estimator and plugin hyperparameters and for arguments of the
    wrong kind (a list where a frame is needed, ``None`` for a model ...);
    it is both a ``ValueError`` and a ``TypeError``.

    Examples
    --------
    >>> isinstance(InvalidParameterError("x"), TypeError)
    True
    """


class NotFittedError(CrmkitError, ValueError, AttributeError):
    """An estimator or plugin was used before ``fit``.

    Examples
    --------
    >>> isinstance(NotFittedError("fit first"), AttributeError)
    True
    """


class ConvergenceError(CrmkitError, RuntimeError):
    """An optimiser did not converge; the message carries its diagnostics.

    Parameters
    ----------
    message : str
        What happened and what to try.
    diagnostics : dict, optional
        The optimiser's state (iterations, gradient norm, last parameters ...).

    Attributes
    ----------
    diagnostics : dict
        As given.

    Examples
    --------
    >>> e = ConvergenceError("no luck", {"nit": 3})
    >>> e.diagnostics["nit"]
    3
    """

    def __init__(self, message: str, diagnostics: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.diagnostics: dict[str, Any] = dict(diagnostics or {})


class PluginNotFoundError(CrmkitError, LookupError):
    """No plugin of that kind is registered under that name.

    Examples
    --------
    >>> isinstance(PluginNotFoundError("no 'x'; available: rfm"), LookupError)
    True
    """


class CustomerNotFoundError(CrmkitError, KeyError):
    """A customer id that the records or the view do not hold.

    Also a :class:`KeyError` (and so a :class:`LookupError`); unlike a plain
    ``KeyError`` its message prints without quotes.

    Examples
    --------
    >>> err = CustomerNotFoundError("customer 7 has no transactions in this data")
    >>> isinstance(err, KeyError), str(err)
    (True, 'customer 7 has no transactions in this data')
    """

    def __str__(self) -> str:
        if len(self.args) == 1 and isinstance(self.args[0], str):
            return self.args[0]
        return super().__str__()


class InvalidTransitionError(CrmkitError, ValueError):
    """A lifecycle stage change that the lifecycle rules do not allow.

    Examples
    --------
    >>> isinstance(InvalidTransitionError("x"), ValueError)
    True
    """


class ModelFileError(CrmkitError, ValueError):
    """A saved model file is corrupt, of another model type or of an unknown schema.

    Examples
    --------
    >>> isinstance(ModelFileError("bad file"), ValueError)
    True
    """


class ConvergenceWarning(RuntimeWarning):
    """An optimiser stopped early but its result is still usable.

    Examples
    --------
    >>> issubclass(ConvergenceWarning, RuntimeWarning)
    True
    """


class DataWarning(UserWarning):
    """Rows were dropped or data was handled in a documented, non-default way.

    Examples
    --------
    >>> issubclass(DataWarning, UserWarning)
    True
    """
