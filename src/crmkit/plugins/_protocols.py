"""The four plugin protocols: segmenters, churn detectors, care models, stagers.

A plugin is any object with the members its protocol lists; nothing has to be
inherited. Every plugin declares the customer-view columns it ``requires``
and the output columns it ``provides``, is fitted on a customer view (one row
per customer, indexed by ``customer_id``) and then applied to any view with
the required columns.

The conformance battery (:mod:`crmkit.testing`) additionally needs
``get_params``/``set_params`` (scikit-learn style) and
``to_dict``/``from_dict`` (JSON persistence); a third-party plugin gets all
four by inheriting :class:`crmkit.plugins.PluginBase`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import pandas as pd

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "CARE_PLAN_COLUMNS",
    "CHURN_SCORE_COLUMNS",
    "STAGES",
    "CareModel",
    "ChurnDetector",
    "Plugin",
    "Segmenter",
    "Stager",
]

#: The categories of a stager's output, in lifecycle order.
STAGES: tuple[str, ...] = ("acquisition", "onboarding", "development", "retention", "lapsed")

#: The columns every churn detector's ``score`` returns (plus ``signal_<name>``).
CHURN_SCORE_COLUMNS: tuple[str, ...] = ("churn_risk", "reasons")

#: The columns every care model's ``plan`` returns.
CARE_PLAN_COLUMNS: tuple[str, ...] = (
    "care_model",
    "intensity",
    "cadence_days",
    "channel",
    "owner_role",
    "activities",
    "budget_share",
    "care_reasons",
)


@runtime_checkable
class Plugin(Protocol):
    """What every plugin has: the columns it reads and the columns it writes.

    Attributes
    ----------
    requires : tuple of str
        Customer-view columns the plugin reads (may depend on parameters).
    provides : tuple of str
        Output columns (for a Series output: its name).

    Examples
    --------
    >>> class Minimal:
    ...     requires = ("revenue",)
    ...     provides = ("segment",)
    >>> isinstance(Minimal(), Plugin)
    True
    """

    @property
    def requires(self) -> tuple[str, ...]:
        """Customer-view columns the plugin reads.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> from crmkit.segmentation import DecileSegmenter
        >>> DecileSegmenter(column="margin").requires
        ('margin',)
        """
        ...

    @property
    def provides(self) -> tuple[str, ...]:
        """Output columns the plugin writes.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> from crmkit.segmentation import DecileSegmenter
        >>> DecileSegmenter().provides
        ('segment',)
        """
        ...


@runtime_checkable
class Segmenter(Plugin, Protocol):
    """Puts every customer into exactly one segment.

    ``assign`` returns a pandas categorical Series indexed like the view and
    named after the segmenter's output (``provides[0]``, ``"segment"`` by
    default). ``describe`` summarises the fitted segments.

    Examples
    --------
    >>> from crmkit.segmentation import RFMSegmenter
    >>> isinstance(RFMSegmenter(), Segmenter)
    True
    """

    def fit(self, view: pd.DataFrame) -> Self:
        """Learn cut points, centroids or thresholds from a customer view.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        self

        Examples
        --------
        >>> from crmkit.segmentation import DecileSegmenter
        >>> from crmkit.testing import make_customer_view
        >>> seg = DecileSegmenter().fit(make_customer_view(20))
        """
        ...

    def assign(self, view: pd.DataFrame) -> pd.Series:
        """Label each customer of ``view``.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.Series
            Categorical, index = ``view.index``, name = the output name.

        Examples
        --------
        >>> from crmkit.segmentation import DecileSegmenter
        >>> from crmkit.testing import make_customer_view
        >>> view = make_customer_view(20)
        >>> DecileSegmenter().fit(view).assign(view).dtype
        CategoricalDtype(categories=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], ordered=False, ...)
        """
        ...

    def describe(self) -> pd.DataFrame:
        """Summarise the fitted segments, one row per segment.

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> from crmkit.segmentation import DecileSegmenter
        >>> from crmkit.testing import make_customer_view
        >>> DecileSegmenter(n_groups=4).fit(make_customer_view(20)).describe().shape[0]
        4
        """
        ...


@runtime_checkable
class ChurnDetector(Plugin, Protocol):
    """Scores each customer's risk of leaving and says why.

    ``score`` returns a frame indexed like the view with ``churn_risk``
    (float in [0, 1]), ``reasons`` (the signals that fired with their
    contribution, e.g. ``"nps_detractor (0.31); falling_purchases (0.22)"``)
    and one float column ``signal_<name>`` per signal.

    Examples
    --------
    >>> class Quiet:
    ...     requires = ("days_since_last",)
    ...     provides = ("churn_risk", "reasons", "signal_quiet")
    ...     def fit(self, view, y=None):
    ...         return self
    ...     def score(self, view):
    ...         raise NotImplementedError
    >>> isinstance(Quiet(), ChurnDetector)
    True
    """

    def fit(self, view: pd.DataFrame, y: pd.Series | None = None) -> Self:
        """Learn weights or thresholds, optionally from churn labels ``y``.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.
        y : pandas.Series of bool, optional
            Whether each customer churned, indexed like ``view``.

        Returns
        -------
        self

        Examples
        --------
        >>> callable(getattr(ChurnDetector, 'fit'))  # see :class:`ChurnDetector`
        True
        """
        ...

    def score(self, view: pd.DataFrame) -> pd.DataFrame:
        """Score each customer of ``view``.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``view``; ``churn_risk``, ``reasons``, ``signal_*``.

        Examples
        --------
        >>> callable(getattr(ChurnDetector, 'score'))  # see :class:`ChurnDetector`
        True
        """
        ...


@runtime_checkable
class CareModel(Plugin, Protocol):
    """Plans how each customer is looked after.

    ``plan`` returns a frame indexed like the view with the columns of
    :data:`CARE_PLAN_COLUMNS`: ``care_model``, ``intensity``,
    ``cadence_days``, ``channel``, ``owner_role``, ``activities``
    (``"; "``-joined), ``budget_share`` and ``care_reasons``.

    Examples
    --------
    >>> class Flat:
    ...     requires = ()
    ...     provides = CARE_PLAN_COLUMNS
    ...     def fit(self, view):
    ...         return self
    ...     def plan(self, view):
    ...         raise NotImplementedError
    >>> isinstance(Flat(), CareModel)
    True
    """

    def fit(self, view: pd.DataFrame) -> Self:
        """Learn what the plan needs (budget totals, thresholds ...).

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        self

        Examples
        --------
        >>> callable(getattr(CareModel, 'fit'))  # see :class:`CareModel`
        True
        """
        ...

    def plan(self, view: pd.DataFrame) -> pd.DataFrame:
        """Plan the care of each customer of ``view``.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``view``, columns :data:`CARE_PLAN_COLUMNS`.

        Examples
        --------
        >>> callable(getattr(CareModel, 'plan'))  # see :class:`CareModel`
        True
        """
        ...


@runtime_checkable
class Stager(Plugin, Protocol):
    """Places each customer in a lifecycle stage.

    ``stage`` returns a categorical Series named ``"stage"`` with the
    categories :data:`STAGES` (acquisition, onboarding, development,
    retention, lapsed), indexed like the view.

    Examples
    --------
    >>> class Everyone:
    ...     requires = ()
    ...     provides = ("stage",)
    ...     def fit(self, view):
    ...         return self
    ...     def stage(self, view):
    ...         raise NotImplementedError
    >>> isinstance(Everyone(), Stager)
    True
    """

    def fit(self, view: pd.DataFrame) -> Self:
        """Learn the stage boundaries.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        self

        Examples
        --------
        >>> callable(getattr(Stager, 'fit'))  # see :class:`Stager`
        True
        """
        ...

    def stage(self, view: pd.DataFrame) -> pd.Series:
        """Stage each customer of ``view``.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.Series
            Categorical with categories :data:`STAGES`, named ``"stage"``.

        Examples
        --------
        >>> callable(getattr(Stager, 'stage'))  # see :class:`Stager`
        True
        """
        ...
