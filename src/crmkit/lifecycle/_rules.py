"""``RuleStager``: lifecycle stages from transparent thresholds on observed behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit._params import Constraint, Interval
from crmkit.lifecycle._common import (
    ACQUISITION,
    DEVELOPMENT,
    LAPSED_CODE,
    ONBOARDING,
    ONBOARDING_CONSTRAINTS,
    RETENTION,
    StagerBase,
    as_float_or_none,
    onboarding_mask,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["RuleStager"]

_BASE_COLUMNS = ("n_transactions", "frequency", "recency", "T", "tenure", "purchase_trend")


class RuleStager(StagerBase):
    """Lifecycle stage of each customer from simple, documented rules.

    The stages follow seed 000 (Mäntyneva): acquisition, onboarding,
    development, retention, and the status *lapsed* for customers who are
    most likely gone. The first rule that applies wins:

    1. **acquisition** — no purchase yet (``n_transactions == 0``: a
       prospect; its other columns may be missing).
    2. **lapsed** — any enabled lapse signal fires. Let ``idle = T -
       recency`` (time since the last purchase) and the customer's rhythm
       ``recency / frequency`` (mean time between purchases; for customers
       without repeat purchases, the fitted ``typical_interpurchase_``):

       - rhythm: ``idle > max(lapse_factor * rhythm, lapse_grace)``;
       - absolute limit: ``idle > lapse_after``;
       - churn model: ``p_alive < p_alive_threshold`` (reads a ``p_alive``
         column, e.g. from a :mod:`crmkit.value` purchase model).
    3. **onboarding** — within ``onboarding_window`` after the first purchase
       (``T <= onboarding_window``) or fewer than ``onboarding_purchases``
       purchase periods (``frequency + 1``).
    4. **development** — purchases or product breadth still growing
       (``purchase_trend > growth_threshold``, or more than
       ``breadth_growth`` new products per repeat purchase, ``(n_products -
       1) / frequency``), or ``tenure < retention_tenure``.
    5. **retention** — mature: ``tenure >= retention_tenure`` and neither
       purchases nor breadth growing.

    Time thresholds are in the customer view's time unit. **The defaults
    assume weeks** (the default ``time_unit="W"`` of
    :func:`crmkit.data.summarize`); for a view in days multiply them by 7,
    in months divide them by about 4.35. ``lapse_factor``, the growth and
    breadth thresholds and ``onboarding_purchases`` have no unit.

    ``fit`` learns only ``typical_interpurchase_``: the median time between
    purchases of the repeat customers in the fitting view, the rhythm used
    for customers who have bought only once.

    Compared with :class:`ModelStager`, these rules read only what each
    customer did (its own rhythm, trend, breadth and tenure); they are easy
    to explain and need no model, but they do not pool information across
    customers: a light buyer with few purchases is judged on a noisy rhythm.

    Parameters
    ----------
    onboarding_window : float, default=13.0
        Time after the first purchase during which a customer is onboarding
        (13 weeks: a quarter).
    onboarding_purchases : int, default=2
        Customers with fewer purchase periods are onboarding (2: everyone
        who has not bought again yet).
    growth_threshold : float, default=0.2
        ``purchase_trend`` (in [-1, 1]: late minus early purchases over their
        sum) above which purchases count as growing.
    breadth_growth : float or None, default=0.5
        New products per repeat purchase above which product breadth counts
        as growing. Used when the view has an ``n_products`` column (views
        built without a product column are staged on ``purchase_trend``
        alone); None disables the breadth rule.
    retention_tenure : float, default=52.0
        Tenure from which a customer that no longer grows is mature
        (52 weeks: a year).
    lapse_factor : float or None, default=3.0
        A customer idle longer than this many of its own inter-purchase
        times is lapsed; None disables the rhythm rule.
    lapse_grace : float, default=13.0
        The rhythm rule never lapses a customer idle for less than this
        (protects frequent buyers from lapsing after a short pause).
    lapse_after : float or None, default=52.0
        A customer idle longer than this is lapsed whatever its rhythm;
        None disables the absolute limit.
    p_alive_threshold : float or None, default=None
        When given, customers whose ``p_alive`` column is below it are
        lapsed (the column then becomes required).

    Attributes
    ----------
    typical_interpurchase_ : float or None
        Median ``recency / frequency`` of the repeat customers in the
        fitting view; None when it had none (single-purchase customers then
        lapse by ``lapse_grace`` and ``lapse_after`` only).

    See Also
    --------
    ModelStager : stages from a fitted purchase model.
    stage_history : stages at several dates.

    References
    ----------
    Mäntyneva, M. (2001). Asiakkuudenhallinta. Helsinki: WSOY (the four
    lifecycle stages; seed 000 of crmkit's specification).

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame(
    ...     {"n_transactions": [0, 1, 6, 12, 20, 9],
    ...      "frequency": [0, 0, 5, 10, 19, 8],
    ...      "recency": [None, 0.0, 30.0, 80.0, 95.0, 20.0],
    ...      "T": [None, 4.0, 32.0, 82.0, 96.0, 90.0],
    ...      "tenure": [None, 4.0, 32.0, 82.0, 96.0, 90.0],
    ...      "purchase_trend": [None, 0.0, 0.0, 0.0, 0.4, -0.6]},
    ...     index=pd.Index(["p1", "new", "young", "mature", "growing", "gone"],
    ...                    name="customer_id"))
    >>> RuleStager().fit(view).stage(view).tolist()
    ['acquisition', 'onboarding', 'development', 'retention', 'development', 'lapsed']
    """

    _parameter_constraints: ClassVar[Mapping[str, list[Constraint]]] = {
        **ONBOARDING_CONSTRAINTS,
        "growth_threshold": [Interval("float", -1, 1)],
        "breadth_growth": [Interval("float", 0, None), None],
        "retention_tenure": [Interval("float", 0, None)],
        "lapse_factor": [Interval("float", 0, None, closed="neither"), None],
        "lapse_grace": [Interval("float", 0, None)],
        "lapse_after": [Interval("float", 0, None, closed="neither"), None],
        "p_alive_threshold": [Interval("float", 0, 1), None],
    }

    def __init__(
        self,
        *,
        onboarding_window: float = 13.0,
        onboarding_purchases: int = 2,
        growth_threshold: float = 0.2,
        breadth_growth: float | None = 0.5,
        retention_tenure: float = 52.0,
        lapse_factor: float | None = 3.0,
        lapse_grace: float = 13.0,
        lapse_after: float | None = 52.0,
        p_alive_threshold: float | None = None,
    ) -> None:
        self.onboarding_window = onboarding_window
        self.onboarding_purchases = onboarding_purchases
        self.growth_threshold = growth_threshold
        self.breadth_growth = breadth_growth
        self.retention_tenure = retention_tenure
        self.lapse_factor = lapse_factor
        self.lapse_grace = lapse_grace
        self.lapse_after = lapse_after
        self.p_alive_threshold = p_alive_threshold

    @property
    def requires(self) -> tuple[str, ...]:
        """The view columns read (``p_alive`` only with ``p_alive_threshold``).

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> RuleStager(p_alive_threshold=0.3).requires[-1]
        'p_alive'
        """
        if self.p_alive_threshold is None:
            return _BASE_COLUMNS
        return (*_BASE_COLUMNS, "p_alive")

    def _optional(self) -> tuple[str, ...]:
        return ("n_products",) if self.breadth_growth is not None else ()

    def fit(self, view: pd.DataFrame) -> Self:
        """Learn the typical time between purchases from a customer view.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For an invalid parameter.
        SchemaError
            When a required column is missing or holds invalid values.

        Examples
        --------
        >>> from crmkit.testing import make_customer_view
        >>> stager = RuleStager().fit(make_customer_view(50, seed=4))
        >>> stager.typical_interpurchase_ > 0
        True
        """
        self._validate_params()
        _, cols, prospect = self._read(view)
        freq = cols["frequency"]
        repeat = ~prospect & (freq > 0)
        if repeat.any():
            gaps = cols["recency"][repeat] / freq[repeat]
            self.typical_interpurchase_ = as_float_or_none(np.median(gaps))
        else:
            self.typical_interpurchase_ = None
        return self

    def _check_fitted(self) -> None:
        check_is_fitted(self, "typical_interpurchase_")

    def _lapsed(self, cols: dict[str, npt.NDArray[np.float64]]) -> npt.NDArray[np.bool_]:
        freq, rec, T = cols["frequency"], cols["recency"], cols["T"]
        idle = T - rec
        lapsed = np.zeros(len(idle), dtype=bool)
        if self.lapse_factor is not None:
            typical = self.typical_interpurchase_
            with np.errstate(invalid="ignore", divide="ignore"):
                own = np.where(freq > 0, rec / np.maximum(freq, 1), np.nan)
            rhythm = np.where(np.isnan(own), np.nan if typical is None else typical, own)
            limit = np.where(
                np.isnan(rhythm),
                float(self.lapse_grace),
                np.maximum(float(self.lapse_factor) * rhythm, float(self.lapse_grace)),
            )
            lapsed |= idle > limit
        if self.lapse_after is not None:
            lapsed |= idle > float(self.lapse_after)
        if self.p_alive_threshold is not None:
            lapsed |= cols["p_alive"] < float(self.p_alive_threshold)
        return lapsed

    def _growing(self, cols: dict[str, npt.NDArray[np.float64]]) -> npt.NDArray[np.bool_]:
        growing = cols["purchase_trend"] > float(self.growth_threshold)
        if self.breadth_growth is not None and "n_products" in cols:
            freq = cols["frequency"]
            with np.errstate(invalid="ignore", divide="ignore"):
                per_repeat = (cols["n_products"] - 1.0) / freq
            growing |= (freq > 0) & (per_repeat > float(self.breadth_growth))
        result: npt.NDArray[np.bool_] = np.asarray(growing, dtype=bool)
        return result

    def _codes(
        self,
        frame: pd.DataFrame,
        cols: dict[str, npt.NDArray[np.float64]],
        prospect: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.intp]:
        onboarding = onboarding_mask(
            cols["T"],
            cols["frequency"],
            float(self.onboarding_window),
            int(self.onboarding_purchases),
        )
        mature = (cols["tenure"] >= float(self.retention_tenure)) & ~self._growing(cols)
        codes = np.where(mature, RETENTION, DEVELOPMENT)
        codes = np.where(onboarding, ONBOARDING, codes)
        codes = np.where(self._lapsed(cols), LAPSED_CODE, codes)
        codes = np.where(prospect, ACQUISITION, codes)
        return codes.astype(np.intp)

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "typical_interpurchase_"):
            return None
        return {"typical_interpurchase": self.typical_interpurchase_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.typical_interpurchase_ = as_float_or_none(state["typical_interpurchase"])
