"""Shared machinery of the stagers: reading the view, onboarding and lapse rules, output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._checks import failure_at
from crmkit._params import Constraint, Interval, Options
from crmkit._vocab import LAPSED, STAGER_COLUMNS, STAGES, STATUSES, UNIT_NAMES
from crmkit.domain import LifecycleStage
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.lifecycle._reasons import Pieces, history_clauses, join_clauses, lapse_clauses
from crmkit.plugins import PluginBase, validate_view

__all__ = [
    "ACQUISITION",
    "DEVELOPMENT",
    "LAPSE_CONSTRAINTS",
    "ONBOARDING",
    "ONBOARDING_CONSTRAINTS",
    "RETENTION",
    "STAGE_DTYPE",
    "STATUS_DTYPE",
    "Lapse",
    "Staging",
    "StagerBase",
    "as_float_or_none",
    "judge_lapse",
    "onboarding_mask",
    "stage_series",
    "typical_gap",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Category codes of the stages in :data:`crmkit.plugins.STAGES`.
ACQUISITION = STAGES.index(LifecycleStage.ACQUISITION.value)
ONBOARDING = STAGES.index(LifecycleStage.ONBOARDING.value)
DEVELOPMENT = STAGES.index(LifecycleStage.DEVELOPMENT.value)
RETENTION = STAGES.index(LifecycleStage.RETENTION.value)

#: The dtype of every stage column: unordered categorical with :data:`STAGES`.
STAGE_DTYPE = pd.CategoricalDtype(categories=list(STAGES), ordered=False)

#: The dtype of every status column: unordered categorical with :data:`STATUSES`.
STATUS_DTYPE = pd.CategoricalDtype(categories=list(STATUSES), ordered=False)

#: Constraints of the onboarding parameters both stagers share.
ONBOARDING_CONSTRAINTS: Mapping[str, list[Constraint]] = {
    "onboarding_window": [Interval("float", 0, None)],
    "onboarding_purchases": [Interval("int", 1, None)],
}

#: Constraints of the lapse (rhythm) parameters and the reasons' unit.
LAPSE_CONSTRAINTS: Mapping[str, list[Constraint]] = {
    "lapse_factor": [Interval("float", 0, None, closed="neither"), None],
    "lapse_grace": [Interval("float", 0, None)],
    "lapse_after": [Interval("float", 0, None, closed="neither"), None],
    "time_unit": [Options(frozenset(UNIT_NAMES))],
}

#: P(alive) at least this for a customer without repeat purchase is the BG/NBD
#: family's assumption (nobody leaves before a repeat purchase), not evidence.
_UNINFORMATIVE = 1.0 - 1e-9


def stage_series(codes: npt.NDArray[np.intp], index: pd.Index) -> pd.Series:
    """A stage column from category codes into :data:`crmkit.plugins.STAGES`.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_customers,)
        0 = acquisition ... 3 = retention.
    index : pandas.Index
        The customer ids.

    Returns
    -------
    pandas.Series
        Categorical (:data:`STAGE_DTYPE`), named ``"stage"``.

    Examples
    --------
    >>> stage_series(np.array([0, 3]), pd.Index(["a", "b"], name="customer_id")).tolist()
    ['acquisition', 'retention']
    """
    labels = pd.Categorical.from_codes(np.asarray(codes, dtype=np.intp), dtype=STAGE_DTYPE)
    result: pd.Series = pd.Series(labels, index=index, name="stage")
    return result


def onboarding_mask(
    T: FloatArray, frequency: FloatArray, window: float, min_purchases: int
) -> BoolArray:
    """Customers still being taken over: young, or with few purchases.

    Parameters
    ----------
    T : numpy.ndarray of float, shape (n_customers,)
        Time since the first purchase (view time units).
    frequency : numpy.ndarray of float, shape (n_customers,)
        Repeat purchase periods (purchases = ``frequency + 1``).
    window : float
        Onboarding window after the first purchase (view time units).
    min_purchases : int
        Customers with fewer purchase periods are still onboarding.

    Returns
    -------
    numpy.ndarray of bool, shape (n_customers,)

    Examples
    --------
    >>> onboarding_mask(np.array([4.0, 40.0, 40.0]), np.array([5.0, 0.0, 5.0]), 13.0, 2)
    array([ True,  True, False])
    """
    result: BoolArray = (window >= T) | (frequency + 1 < min_purchases)
    return result


def typical_gap(cols: Mapping[str, FloatArray], prospect: BoolArray) -> float | None:
    """The base's usual time between purchases: median ``recency / frequency`` of repeaters.

    Parameters
    ----------
    cols : mapping of str to numpy.ndarray
        ``frequency`` and ``recency``.
    prospect : numpy.ndarray of bool
        Rows without a purchase (left out).

    Returns
    -------
    float or None
        None when nobody bought twice.

    Examples
    --------
    >>> typical_gap({"frequency": np.array([0.0, 2.0, 4.0]),
    ...              "recency": np.array([0.0, 10.0, 12.0])}, np.zeros(3, dtype=bool))
    4.0
    """
    freq = cols["frequency"]
    repeat = ~prospect & (freq > 0)
    if not repeat.any():
        return None
    return as_float_or_none(np.median(cols["recency"][repeat] / freq[repeat]))


@attrs.frozen
class Lapse:
    """The evidence behind each customer's status (arrays of shape ``(n_customers,)``).

    Attributes
    ----------
    lapsed : numpy.ndarray of bool
        The status: lapsed or not.
    rhythm : numpy.ndarray of bool
        Idle beyond ``lapse_factor`` times the usual gap (and the grace).
    beyond_limit : numpy.ndarray of bool
        Idle beyond the absolute ``lapse_after``.
    idle : numpy.ndarray of float
        Time since the last purchase.
    gap : numpy.ndarray of float
        The usual gap the customer is measured against (NaN when unknown).
    own_gap : numpy.ndarray of bool
        Whether ``gap`` is the customer's own (else the base's).
    p_alive : numpy.ndarray of float or None
        P(alive) where it is evidence (NaN elsewhere); None without one.

    Examples
    --------
    >>> lapse = judge_lapse({"frequency": np.array([3.0]), "recency": np.array([9.0]),
    ...                      "T": np.array([40.0])}, np.zeros(1, dtype=bool), None,
    ...                     factor=3.0, grace=13.0, after=None, p_alive=None, threshold=None)
    >>> lapse.lapsed.tolist(), lapse.gap.tolist()
    ([True], [3.0])
    """

    lapsed: BoolArray
    rhythm: BoolArray
    beyond_limit: BoolArray
    idle: FloatArray
    gap: FloatArray
    own_gap: BoolArray
    p_alive: FloatArray | None


def judge_lapse(
    cols: Mapping[str, FloatArray],
    prospect: BoolArray,
    typical: float | None,
    *,
    factor: float | None,
    grace: float,
    after: float | None,
    p_alive: FloatArray | None,
    threshold: float | None,
) -> Lapse:
    """Whether each customer has lapsed: its own rhythm, confirmed by the purchase model.

    With ``idle = T - recency`` and the usual gap ``recency / frequency``
    (for one-time buyers the base's ``typical``), a customer is lapsed when

    - **rhythm**: ``idle > max(factor * gap, grace)`` (without a gap:
      ``idle > grace``), AND
    - **model agrees**: ``p_alive < threshold``, where ``p_alive`` is
      given and informative. A P(alive) of 1 for a customer without repeat
      purchase is the assumption of the BG/NBD family (nobody leaves before
      buying again), not evidence: such customers are judged on rhythm
      alone.

    ``factor=None`` drops the rhythm condition (the model alone decides;
    without a model nobody lapses). Independently, ``idle > after`` lapses
    a customer whatever its rhythm and model say. Prospects never lapse.

    Parameters
    ----------
    cols : mapping of str to numpy.ndarray
        ``frequency``, ``recency`` and ``T``, shape (n_customers,).
    prospect : numpy.ndarray of bool, shape (n_customers,)
        Rows without a purchase.
    typical : float or None
        The base's usual gap (for one-time buyers).
    factor : float or None
        Multiple of the usual gap beyond which the rhythm says lapsed.
    grace : float
        The rhythm never lapses a customer idle for less than this.
    after : float or None
        Absolute idle limit.
    p_alive : numpy.ndarray of float or None, shape (n_customers,)
        The purchase model's P(alive) (NaN for unknown).
    threshold : float or None
        P(alive) below which the model agrees; None ignores ``p_alive``.

    Returns
    -------
    Lapse

    Examples
    --------
    >>> cols = {"frequency": np.array([0.0, 0.0, 4.0]), "recency": np.array([0.0, 0.0, 8.0]),
    ...         "T": np.array([30.0, 30.0, 40.0])}
    >>> lapse = judge_lapse(cols, np.zeros(3, dtype=bool), 5.0, factor=3.0, grace=13.0,
    ...                     after=None, p_alive=np.array([1.0, 0.8, 0.3]), threshold=0.5)
    >>> lapse.lapsed.tolist()  # BG/NBD's P(alive) = 1 of a one-time buyer says nothing
    [True, False, True]
    """
    freq, rec, T = cols["frequency"], cols["recency"], cols["T"]
    n = len(freq)
    idle = T - rec
    own_gap = ~prospect & (freq > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = rec / np.where(own_gap, freq, 1.0)
    base = np.nan if typical is None else float(typical)
    gap = np.where(own_gap, own, np.where(prospect, np.nan, base))
    customers = ~prospect
    if factor is None:
        rhythm = np.zeros(n, dtype=bool)
    else:
        limit = np.where(np.isnan(gap), grace, np.maximum(float(factor) * gap, grace))
        rhythm = customers & (idle > limit)
    shown: FloatArray | None = None
    if p_alive is not None and threshold is not None:
        informative = customers & ~np.isnan(p_alive) & ~((freq == 0) & (p_alive >= _UNINFORMATIVE))
        shown = np.where(informative, p_alive, np.nan)
        low = informative & (p_alive < float(threshold))
        agrees = ~informative | low
        lapsed = rhythm & agrees if factor is not None else low
    else:
        lapsed = rhythm.copy()
    beyond = np.zeros(n, dtype=bool) if after is None else customers & (idle > float(after))
    lapsed = (lapsed | beyond) & customers
    return Lapse(
        lapsed=np.asarray(lapsed, dtype=bool),
        rhythm=np.asarray(rhythm, dtype=bool),
        beyond_limit=np.asarray(beyond, dtype=bool),
        idle=np.asarray(idle, dtype=np.float64),
        gap=np.asarray(gap, dtype=np.float64),
        own_gap=np.asarray(own_gap, dtype=bool),
        p_alive=shown,
    )


@attrs.frozen
class Staging:
    """A stager's verdict on a view: stage codes, the lapse evidence, what decided the stage.

    Attributes
    ----------
    codes : numpy.ndarray of int, shape (n_customers,)
        Stage codes into :data:`crmkit.plugins.STAGES`.
    lapse : Lapse
        The status and its evidence.
    details : list of str or Pieces
        Per customer, what decided its stage (appended to the stage reason).

    Examples
    --------
    >>> Staging.__name__
    'Staging'
    """

    codes: npt.NDArray[np.intp]
    lapse: Lapse
    details: list[str] | Pieces


def _failure(
    column: str, check: str, mask: BoolArray, index: pd.Index, values: FloatArray | None = None
) -> SchemaFailure:
    return failure_at(
        frame="view", column=column, check=check, mask=mask, labels=index, values=values
    )


class StagerBase(PluginBase):
    """Base of crmkit's stagers: reading and checking the view, the output.

    Subclasses define ``requires``, ``fit``, ``_check_fitted`` and
    ``_staging``; the output of :meth:`stage` is a categorical Series named
    ``"stage"`` with the categories :data:`crmkit.plugins.STAGES`, and
    :meth:`stage_frame` adds the ``status`` and ``stage_reasons``.

    Examples
    --------
    >>> from crmkit.lifecycle import RuleStager
    >>> issubclass(RuleStager, StagerBase), RuleStager().provides
    (True, ('stage', 'status', 'stage_reasons'))
    """

    #: Columns that must lie in [0, 1].
    _unit_columns: tuple[str, ...] = ("p_alive",)
    #: Columns that must be >= 0.
    _nonnegative: tuple[str, ...] = ("expected_purchases", "n_products")
    time_unit: str

    @property
    def provides(self) -> tuple[str, ...]:
        """The output columns: ``("stage", "status", "stage_reasons")``.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> from crmkit.lifecycle import ModelStager
        >>> ModelStager().provides
        ('stage', 'status', 'stage_reasons')
        """
        return STAGER_COLUMNS

    def _optional(self) -> tuple[str, ...]:
        """Numeric columns read when the view has them (none unless overridden)."""
        return ()

    def _read(self, view: object) -> tuple[pd.DataFrame, dict[str, FloatArray], BoolArray]:
        """Check the view and return its numeric columns and the prospect mask.

        Rows with ``n_transactions == 0`` are prospects (no purchase yet):
        their other columns may be missing. Every other row must hold every
        required column; ``frequency`` must be a whole number >= 0,
        ``recency`` within ``[0, T]``, ``tenure`` >= 0, unit columns in
        ``[0, 1]``. Optional columns (:meth:`_optional`) are read when present.
        """
        owner = type(self).__name__
        required = tuple(self.requires)
        present = [
            c for c in self._optional() if isinstance(view, pd.DataFrame) and c in view.columns
        ]
        numeric = (*required, *present)
        frame = validate_view(
            view,
            owner,
            required=required,
            numeric=numeric,
            nullable=[c for c in numeric if c != "n_transactions"],
        )
        index = frame.index
        cols = {
            c: frame[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in dict.fromkeys(numeric)
        }
        failures: list[SchemaFailure] = []
        n_tx = cols["n_transactions"]
        bad = n_tx < 0
        if bad.any():
            failures.append(_failure("n_transactions", "is negative", bad, index, n_tx))
        prospect = n_tx == 0
        for c in required:
            if c == "n_transactions":
                continue
            missing = np.isnan(cols[c]) & ~prospect
            if missing.any():
                failures.append(
                    _failure(
                        c, "contains missing values for customers with purchases", missing, index
                    )
                )
        freq = cols["frequency"]
        bad = ~prospect & ~np.isnan(freq) & ((freq < 0) | (freq != np.floor(freq)))
        if bad.any():
            failures.append(_failure("frequency", "is not a whole number >= 0", bad, index, freq))
        for c in ("recency", "T", "tenure"):
            if c in cols:
                bad = ~prospect & (cols[c] < 0)
                if bad.any():
                    failures.append(_failure(c, "is negative", bad, index, cols[c]))
        if "recency" in cols and "T" in cols:
            bad = ~prospect & (cols["recency"] > cols["T"] * (1 + 1e-9) + 1e-9)
            if bad.any():
                failures.append(_failure("recency", "exceeds T", bad, index, cols["recency"]))
        for c in self._nonnegative:
            if c in cols:
                bad = ~prospect & (cols[c] < 0)
                if bad.any():
                    failures.append(_failure(c, "is negative", bad, index, cols[c]))
        for c in self._unit_columns:
            if c in cols:
                bad = ~prospect & ((cols[c] < 0) | (cols[c] > 1))
                if bad.any():
                    failures.append(_failure(c, "is not within [0, 1]", bad, index, cols[c]))
        if failures:
            raise SchemaError(failures)
        return frame, cols, prospect

    def _staging(
        self, frame: pd.DataFrame, cols: dict[str, FloatArray], prospect: BoolArray
    ) -> Staging:
        raise NotImplementedError  # pragma: no cover

    def _check_fitted(self) -> None:
        raise NotImplementedError  # pragma: no cover

    def stage(self, view: pd.DataFrame) -> pd.Series:
        """Stage every customer of ``view``.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view (indexed by customer id) with the ``requires``
            columns. Rows with ``n_transactions == 0`` are prospects and
            are staged ``acquisition``.

        Returns
        -------
        pandas.Series
            Categorical with the categories :data:`crmkit.plugins.STAGES`
            (acquisition, onboarding, development, retention), index
            ``view.index``, named ``"stage"``; never missing.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            When a required column is missing or holds invalid values.

        Examples
        --------
        >>> from crmkit.lifecycle import RuleStager
        >>> from crmkit.testing import make_customer_view
        >>> view = make_customer_view(8, seed=1)
        >>> stages = RuleStager().fit(view).stage(view)
        >>> stages.name, stages.cat.categories.tolist()
        ('stage', ['acquisition', 'onboarding', 'development', 'retention'])
        """
        self._check_fitted()
        frame, cols, prospect = self._read(view)
        return stage_series(self._staging(frame, cols, prospect).codes, frame.index)

    def stage_frame(self, view: pd.DataFrame) -> pd.DataFrame:
        """Stage, status and the reasons of every customer of ``view``.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view (indexed by customer id) with the ``requires``
            columns.

        Returns
        -------
        pandas.DataFrame
            Index ``view.index``; ``stage`` (as :meth:`stage`), ``status``
            (categorical :data:`crmkit.plugins.STATUSES`: ``"active"`` or
            ``"lapsed"``) and ``stage_reasons`` (str: the stage clause with
            the customer's own numbers, then ``"; "`` and the status clause
            when the customer is lapsed or its rhythm alone says so).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            When a required column is missing or holds invalid values.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmkit.lifecycle import RuleStager
        >>> view = pd.DataFrame(
        ...     {"n_transactions": [5, 1], "frequency": [4, 0], "recency": [36.0, 0.0],
        ...      "T": [38.0, 30.0], "tenure": [38.0, 30.0], "purchase_trend": [0.4, 0.0]},
        ...     index=pd.Index(["a", "b"], name="customer_id"))
        >>> out = RuleStager().fit(view).stage_frame(view)
        >>> out["status"].tolist()
        ['active', 'lapsed']
        >>> print(out.loc["b", "stage_reasons"])
        onboarding: 1 purchase, 30 weeks ago, no repeat purchase yet; lapsed: no purchase for \
30 weeks, 3.3x the base's usual gap of 9.0 weeks
        """
        self._check_fitted()
        frame, cols, prospect = self._read(view)
        staging = self._staging(frame, cols, prospect)
        lapse = staging.lapse
        unit = UNIT_NAMES[str(self.time_unit)]
        stage_text = history_clauses(
            staging.codes,
            cols["frequency"] + 1.0,
            cols["T"],
            lapse.idle,
            staging.details,
            unit,
        )
        status_text = lapse_clauses(
            lapse.lapsed,
            lapse.rhythm,
            lapse.beyond_limit,
            lapse.idle,
            lapse.gap,
            lapse.own_gap,
            lapse.p_alive,
            self._threshold(),
            self._limit(),
            unit,
        )
        status = pd.Categorical.from_codes(
            np.where(lapse.lapsed, STATUSES.index(LAPSED), 0), dtype=STATUS_DTYPE
        )
        out: pd.DataFrame = pd.DataFrame(
            {
                "stage": stage_series(staging.codes, frame.index),
                "status": status,
                "stage_reasons": join_clauses(stage_text, status_text),
            },
            index=frame.index,
        )
        return out

    def _threshold(self) -> float | None:
        """The P(alive) below which the model agrees a customer lapsed."""
        return None

    def _limit(self) -> float | None:
        value = getattr(self, "lapse_after", None)
        return None if value is None else float(value)


def as_float_or_none(value: Any) -> float | None:
    """``float(value)``, or None for None or NaN (for fitted state).

    Parameters
    ----------
    value : float or None
        The value.

    Returns
    -------
    float or None

    Examples
    --------
    >>> as_float_or_none(float("nan")) is None, as_float_or_none(2)
    (True, 2.0)
    """
    if value is None:
        return None
    v = float(value)
    return None if np.isnan(v) else v
