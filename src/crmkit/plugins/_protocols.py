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

from crmkit._vocab import STAGER_COLUMNS, STAGES, STATUSES

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "CARE_PLAN_COLUMNS",
    "CHURN_SCORE_COLUMNS",
    "STAGER_COLUMNS",
    "STAGES",
    "STATUSES",
    "CareModel",
    "ChurnDetector",
    "Plugin",
    "REASONS_SUFFIX",
    "Segmenter",
    "Stager",
]

# STAGES (the four lifecycle stages, the categories of a stager's ``stage``),
# STATUSES (active / lapsed, the categories of its ``status``) and
# STAGER_COLUMNS (stage, status, stage_reasons) are the kernel's
# (crmkit._vocab), re-exported here.

#: Suffix of a decision's reasons column: segment column ``portfolio`` ->
#: ``portfolio_reasons`` (see :class:`Segmenter`).
REASONS_SUFFIX: str = "_reasons"

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

    **Reasons (optional).** A segmenter may also say why each customer got
    its label, in the style of ``churn_reasons``: short, with the
    customer's own numbers and the fitted thresholds, e.g.
    ``"A: revenue 1,240 (top 20 %, >= 410) and clv 880 (top 20 %, >= 300)"``.
    Either or both of these methods, neither required by ``isinstance``:

    - ``reasons(view) -> pandas.Series``: dtype ``"str"``, index
      ``view.index``, named ``provides[0] + REASONS_SUFFIX``
      (``"segment_reasons"``), never missing;
    - ``explain(view) -> pandas.DataFrame``: the labels (as ``assign``
      returns them) and those reasons in one pass, columns ``provides[0]``
      and ``provides[0] + REASONS_SUFFIX`` (faster when labels and reasons
      share work).

    Reasons, like labels, may use only what ``fit`` learned, so one
    customer's reason is the same in any view. The playbook writes them to
    ``<segment column>_reasons`` (:func:`crmkit.segmentation.explain_segments`);
    a segmenter without either method gets ``"<label>: assigned by
    <ClassName>"``. :func:`crmkit.testing.check_plugin` checks them when
    present. All of crmkit's segmenters have both.

    Examples
    --------
    >>> from crmkit.segmentation import RFMSegmenter
    >>> isinstance(RFMSegmenter(), Segmenter)
    True
    >>> callable(getattr(RFMSegmenter(), "reasons", None))
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
        >>> from crmkit.churn import SignalRules
        >>> from crmkit.testing import make_customer_view
        >>> view = make_customer_view(50)
        >>> detector = SignalRules(signals=("falling_purchases", "overdue")).fit(view)
        >>> isinstance(detector, ChurnDetector)
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
        >>> from crmkit.churn import SignalRules
        >>> from crmkit.testing import make_customer_view
        >>> view = make_customer_view(50)
        >>> risk = SignalRules(signals=("falling_purchases", "overdue")).fit(view).score(view)
        >>> list(risk.columns)
        ['churn_risk', 'reasons', 'signal_falling_purchases', 'signal_overdue']
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
        >>> import pandas as pd
        >>> from crmkit.care import PortfolioCare
        >>> view = pd.DataFrame({"portfolio": ["A", "D"], "clv": [5000.0, 20.0],
        ...                      "churn_risk": [0.1, 0.1]}, index=["a", "b"])
        >>> isinstance(PortfolioCare().fit(view), CareModel)
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
        >>> import pandas as pd
        >>> from crmkit.care import PortfolioCare
        >>> view = pd.DataFrame({"portfolio": ["A", "D"], "clv": [5000.0, 20.0],
        ...                      "churn_risk": [0.1, 0.1]}, index=["a", "b"])
        >>> PortfolioCare().fit(view).plan(view)[["care_model", "intensity"]].values.tolist()
        [['A', 'maximum'], ['D', 'low']]
        """
        ...


@runtime_checkable
class Stager(Plugin, Protocol):
    """Places each customer in a lifecycle stage and says whether it is active.

    ``stage`` returns a categorical Series named ``"stage"`` with the
    categories :data:`STAGES` (acquisition, onboarding, development,
    retention), indexed like the view. A stager that also judges the status
    and explains itself (crmkit's own do) has a method ``stage_frame(view)``
    returning a frame indexed like the view with the columns
    :data:`STAGER_COLUMNS`:

    - ``stage``: as above;
    - ``status``: categorical with the categories :data:`STATUSES`
      (``"active"``, ``"lapsed"``: most likely stopped buying); a lapsed
      customer keeps its stage;
    - ``stage_reasons``: str, why, with the customer's own numbers, e.g.
      ``"development: 4 purchases over 38 weeks, last 3 weeks ago"``, and
      for a lapsed customer the status reason after ``"; "``, e.g.
      ``"lapsed: no purchase for 30 weeks, 3.2x its usual gap of 9.4 weeks;
      P(alive) 0.21"``.

    Its ``provides`` is then :data:`STAGER_COLUMNS`. A stager without
    ``stage_frame`` still works in a :class:`~crmkit.compose.Playbook`:
    every customer is ``"active"`` and the reason names the stage and the
    stager.

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
        >>> from crmkit.lifecycle import RuleStager
        >>> from crmkit.testing import make_customer_view
        >>> isinstance(RuleStager().fit(make_customer_view(50)), Stager)
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
        >>> from crmkit.lifecycle import RuleStager
        >>> from crmkit.testing import make_customer_view
        >>> view = make_customer_view(50)
        >>> stage = RuleStager().fit(view).stage(view)
        >>> stage.name, list(stage.cat.categories)
        ('stage', ['acquisition', 'onboarding', 'development', 'retention'])
        """
        ...
