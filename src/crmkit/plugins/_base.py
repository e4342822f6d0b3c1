"""A convenient base class for plugins: parameters plus JSON persistence."""

from __future__ import annotations

from crmkit._estimator import BaseEstimator
from crmkit._persist import Persistable

__all__ = ["PluginBase"]


class PluginBase(BaseEstimator, Persistable):
    """Base for plugins: ``get_params``/``set_params`` and ``to_dict``/``save``.

    Inheriting is optional for the protocols, but the conformance battery
    (:func:`crmkit.testing.check_plugin`) needs scikit-learn style parameters
    and JSON persistence; this class supplies both. A subclass

    - takes its hyperparameters as keyword arguments of ``__init__`` and
      stores each unchanged under the same name (no other work there);
    - lists their constraints in ``_parameter_constraints`` and calls
      ``self._validate_params()`` first thing in ``fit``;
    - names learned attributes with a trailing ``_``;
    - overrides ``_get_state`` (``None`` while unfitted, else a dict of plain
      values and numpy arrays, never customer rows) and ``_set_state``;
    - overrides :attr:`requires` and :attr:`provides`.

    Subclasses are registered for loading under ``model_type`` (by default
    ``"<public module>.<ClassName>"``).

    Examples
    --------
    >>> class Everyone(PluginBase):
    ...     model_type = "doc.Everyone"
    ...     def __init__(self, *, label: str = "all") -> None:
    ...         self.label = label
    >>> p = Everyone(label="x")
    >>> p.get_params(), p.requires, p.provides
    ({'label': 'x'}, (), ())
    >>> Everyone.from_dict(p.to_dict()).label
    'x'
    """

    @property
    def requires(self) -> tuple[str, ...]:
        """Customer-view columns the plugin reads (none unless overridden).

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> class Nothing(PluginBase):
        ...     model_type = "doc.Nothing"
        >>> Nothing().requires
        ()
        """
        return ()

    @property
    def provides(self) -> tuple[str, ...]:
        """Output columns the plugin writes (none unless overridden).

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> class Nothing2(PluginBase):
        ...     model_type = "doc.Nothing2"
        >>> Nothing2().provides
        ()
        """
        return ()
