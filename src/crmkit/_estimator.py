"""The scikit-learn style base shared by crmkit's estimators and plugins.

Hyperparameters are stored unchanged in ``__init__``; ``fit`` validates them
against ``_parameter_constraints``; learned state ends in ``_``. Estimators
persist to JSON through :mod:`crmkit._persist` (never pickle);
:func:`clone` makes a new, unfitted copy of any of them.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from crmkit._params import Constraint, validate_params
from crmkit.exceptions import InvalidParameterError, NotFittedError

__all__ = ["BaseEstimator", "check_is_fitted", "clone"]

_E = TypeVar("_E", bound="BaseEstimator")
_T = TypeVar("_T")


class BaseEstimator:
    """Base class: parameters, validation, ``repr`` and the fitted check.

    Subclasses list their hyperparameters as keyword arguments of
    ``__init__`` and store each unchanged under the same name.

    Examples
    --------
    >>> class Toy(BaseEstimator):
    ...     def __init__(self, penalizer: float = 0.0) -> None:
    ...         self.penalizer = penalizer
    >>> Toy(penalizer=0.1).get_params()
    {'penalizer': 0.1}
    """

    _parameter_constraints: ClassVar[Mapping[str, list[Constraint]]] = {}

    @classmethod
    def _param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        sig = inspect.signature(init)
        names = []
        for p in sig.parameters.values():
            if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the hyperparameters, as given to ``__init__``.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of nested estimators as ``name__param``.

        Returns
        -------
        dict

        Examples
        --------
        >>> class Toy(BaseEstimator):
        ...     def __init__(self, k: int = 3) -> None:
        ...         self.k = k
        >>> Toy().get_params()
        {'k': 3}
        """
        out: dict[str, Any] = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and isinstance(value, BaseEstimator):
                out.update({f"{name}__{k}": v for k, v in value.get_params().items()})
            out[name] = value
        return out

    def set_params(self: _E, **params: Any) -> _E:
        """Set hyperparameters (``name__param`` reaches nested estimators).

        Parameters
        ----------
        **params
            New values.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For a name that is not a parameter.

        Examples
        --------
        >>> class Toy(BaseEstimator):
        ...     def __init__(self, k: int = 3) -> None:
        ...         self.k = k
        >>> Toy().set_params(k=5).k
        5
        """
        valid = set(self._param_names())
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise InvalidParameterError(
                    f"{type(self).__name__} has no parameter {name!r}; "
                    f"valid parameters: {sorted(valid)}"
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def _validate_params(self) -> None:
        validate_params(
            type(self).__name__, self.get_params(deep=False), self._parameter_constraints
        )

    def _validated(self, name: str) -> Any:
        """One parameter, checked against its constraints (for use before ``fit``).

        Parameters
        ----------
        name : str
            The parameter.

        Returns
        -------
        object
            Its value.

        Raises
        ------
        InvalidParameterError
            When the value breaks the constraints.

        Examples
        --------
        >>> from crmkit._params import Interval
        >>> class Toy(BaseEstimator):
        ...     _parameter_constraints = {"k": [Interval("int", 1, None)]}
        ...     def __init__(self, k: int = 3) -> None:
        ...         self.k = k
        >>> Toy(k=0)._validated("k")
        Traceback (most recent call last):
        ...
        crmkit.exceptions.InvalidParameterError: The 'k' parameter of Toy must be an int >= 1. Got 0 instead.
        """  # noqa: E501
        value = getattr(self, name)
        validate_params(
            type(self).__name__, {name: value}, {name: self._parameter_constraints.get(name, ())}
        )
        return value

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.default is not p.empty
        }
        shown = []
        for name, value in self.get_params(deep=False).items():
            default = defaults.get(name, inspect.Parameter.empty)
            try:
                same = bool(value == default)
            except Exception:
                same = False
            if not same:
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


def check_is_fitted(obj: object, attributes: str | tuple[str, ...]) -> None:
    """Raise :class:`NotFittedError` unless ``obj`` has the fitted attributes.

    Parameters
    ----------
    obj : object
        The estimator or plugin.
    attributes : str or tuple of str
        Attribute names that exist only after ``fit``.

    Raises
    ------
    NotFittedError

    Examples
    --------
    >>> class Toy:
    ...     pass
    >>> check_is_fitted(Toy(), "params_")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.NotFittedError: This Toy is not fitted yet: call 'fit' before using it.
    """
    names = (attributes,) if isinstance(attributes, str) else attributes
    if not all(hasattr(obj, a) for a in names):
        raise NotFittedError(
            f"This {type(obj).__name__} is not fitted yet: call 'fit' before using it."
        )


def clone(estimator: _T, *, safe: bool = True) -> _T:
    """A new, unfitted copy of an estimator or plugin with the same parameters.

    The copy is built through the constructor from ``get_params(deep=False)``,
    each value deep-copied, so it holds none of the original's learned
    (``_``-suffixed) state and shares no mutable parameter with it; a nested
    estimator passed as a parameter is copied as it is (fitted or not), as
    a plugin that wraps an already fitted model expects. This is the one
    ``clone`` of crmkit: the playbook, the conformance battery and the
    wrapping plugins all use it.

    Parameters
    ----------
    estimator : object
        An object with scikit-learn's ``get_params``.
    safe : bool, default=True
        What to do with an object without ``get_params``: raise (True), or
        return a deep copy of it (False).

    Returns
    -------
    object
        Of the same type as ``estimator``.

    Raises
    ------
    InvalidParameterError
        When ``safe`` and ``estimator`` has no ``get_params`` (also a
        ``TypeError``).

    See Also
    --------
    sklearn.base.clone : the same idea; it also clones nested estimators.

    Examples
    --------
    >>> class Toy(BaseEstimator):
    ...     def __init__(self, k: int = 3) -> None:
    ...         self.k = k
    ...     def fit(self) -> "Toy":
    ...         self.size_ = self.k * 2
    ...         return self
    >>> fitted = Toy(k=5).fit()
    >>> twin = clone(fitted)
    >>> twin, hasattr(twin, "size_")
    (Toy(k=5), False)
    >>> clone({"not": "an estimator"}, safe=False)
    {'not': 'an estimator'}
    """
    get_params = getattr(estimator, "get_params", None)
    if not callable(get_params):
        if safe:
            raise InvalidParameterError(
                f"Cannot clone {estimator!r} (type {type(estimator).__name__}): it has no "
                "'get_params' method; pass safe=False to deep-copy it instead."
            )
        return copy.deepcopy(estimator)
    params = get_params(deep=False)
    new: _T = type(estimator)(**{k: copy.deepcopy(v) for k, v in params.items()})
    return new
