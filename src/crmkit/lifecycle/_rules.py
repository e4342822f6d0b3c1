"""``RuleStager``: lifecycle stages from transparent thresholds on observed behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit._params import Constraint, Interval
from crmkit._text import coded, fixed
from crmkit._vocab import UNIT_NAMES
from crmkit.lifecycle._common import (
    ACQUISITION,
    DEVELOPMENT,
    LAPSE_CONSTRAINTS,
    ONBOARDING,
    ONBOARDING_CONSTRAINTS,
    RETENTION,
    StagerBase,
    Staging,
    as_float_or_none,
    judge_lapse,
    onboarding_mask,
    typical_gap,
)
from crmkit.lifecycle._reasons import Pieces, number_piece

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["RuleStager"]

_BASE_COLUMNS = ("n_transactions", "frequency", "recency", "T", "tenure", "purchase_trend")


class RuleStager(StagerBase):
    """Lifecycle stage of each customer from simple, documented rules.

    The stages follow Mäntyneva's lifecycle model: acquisition, onboarding,
    development, retention; the first rule that applies wins:

    1. **acquisition** — no purchase yet (``n_transactions == 0``: a
       prospect; its other columns may be missing).
    2. **onboarding** — within ``onboarding_window`` after the first purchase
       (``T <= onboarding_window``) or fewer than ``onboarding_purchases``
       purchase periods (``frequency + 1``).
    3. **development** — purchases or product breadth still growing
       (``purchase_trend > growth_threshold``, or more than
       ``breadth_growth`` new products per repeat purchase, ``(n_products -
       1) / frequency``), or ``tenure < retention_tenure``.
    4. **retention** — mature: ``tenure >= retention_tenure`` and neither
       purchases nor breadth growing.

    Separately, each customer's **status** is ``"lapsed"`` (most likely
    stopped buying; the stage is kept) or ``"active"``. Let ``idle = T -
    recency`` (time since the last purchase) and the usual gap ``recency /
    frequency`` (the customer's own mean time between purchases; for
    one-time buyers, the fitted ``typical_interpurchase_`` of the base). A
    customer is lapsed when

    - its own rhythm says so: ``idle > max(lapse_factor * gap,
      lapse_grace)``, AND
    - the purchase model agrees, where the view has a ``p_alive`` column
      (the :class:`~crmkit.compose.Playbook` computes it before staging):
      ``p_alive < p_alive_threshold``. A P(alive) of exactly 1 for a
      customer without repeat purchase (the assumption of BG/NBD, not
      evidence) leaves the rhythm alone to decide;

    or, when ``lapse_after`` is given, idle longer than that whatever its
    rhythm. On the CDNOW sample (calibration to 1997-09-30, holdout to
    1998-06-30, Pareto/NBD P(alive)) the defaults lapse 1,752 of 2,357
    customers: mean P(alive) 0.32 and 18 % bought again in the holdout,
    against 0.80 and 62 % for the active (development) customers.

    ``stage_frame`` returns the stage, the status and ``stage_reasons``
    with each customer's own numbers, e.g. ``"development: 4 purchases
    over 38 weeks, last 3.0 weeks ago, purchases growing (trend +0.40);
    lapsed: ..."``.

    Time thresholds are in the customer view's time unit. **The defaults
    assume weeks** (the default ``time_unit="W"`` of
    :func:`crmkit.data.summarize`); for a view in days multiply them by 7,
    in months divide them by about 4.35. ``lapse_factor``, the growth and
    breadth thresholds, ``p_alive_threshold`` and ``onboarding_purchases``
    have no unit; ``time_unit`` names the unit in the reasons.

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
        A customer idle longer than this many of its usual gaps is lapsed
        (if the model agrees); None drops the rhythm condition (then only
        ``p_alive`` decides, and without it nobody lapses).
    lapse_grace : float, default=13.0
        The rhythm never lapses a customer idle for less than this
        (protects frequent buyers from lapsing after a short pause).
    lapse_after : float or None, default=None
        When given, a customer idle longer than this is lapsed whatever its
        rhythm and the model say.
    p_alive_threshold : float or None, default=0.5
        The model agrees a customer has lapsed when its ``p_alive`` column
        is below this; read when the view has the column; None ignores it.
    time_unit : {"D", "W", "M"}, default="W"
        The view's time unit, named in the reasons.

    Attributes
    ----------
    typical_interpurchase_ : float or None
        Median ``recency / frequency`` of the repeat customers in the
        fitting view; None when it had none (single-purchase customers then
        lapse by ``lapse_grace`` and ``lapse_after`` only).

    Notes
    -----
    Status choices: crmkit knows ``"active"`` and ``"lapsed"`` only. In
    records without contracts a defection is never observed, and customers
    judged lapsed do come back (about one in six on CDNOW), so no rule
    could call them "lost".

    See Also
    --------
    ModelStager : stages from a fitted purchase model.
    stage_history : stages at several dates.

    References
    ----------
    Mäntyneva, M. (2001). Asiakkuudenhallinta. Helsinki: WSOY (the four
    lifecycle stages).

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
    >>> out = RuleStager().fit(view).stage_frame(view)
    >>> out[["stage", "status"]]
                       stage  status
    customer_id
    p1           acquisition  active
    new           onboarding  active
    young        development  active
    mature         retention  active
    growing      development  active
    gone           retention  lapsed
    >>> print(out.loc["gone", "stage_reasons"])
    retention: 9 purchases over 90 weeks, last 70 weeks ago, mature: tenure 90 weeks, \
purchases steady (trend -0.60); lapsed: no purchase for 70 weeks, 28.0x its usual gap of 2.5 weeks
    """

    _parameter_constraints: ClassVar[Mapping[str, list[Constraint]]] = {
        **ONBOARDING_CONSTRAINTS,
        **LAPSE_CONSTRAINTS,
        "growth_threshold": [Interval("float", -1, 1)],
        "breadth_growth": [Interval("float", 0, None), None],
        "retention_tenure": [Interval("float", 0, None)],
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
        lapse_after: float | None = None,
        p_alive_threshold: float | None = 0.5,
        time_unit: str = "W",
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
        self.time_unit = time_unit

    @property
    def requires(self) -> tuple[str, ...]:
        """The view columns read (``p_alive`` and ``n_products`` are read when present).

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> RuleStager().requires
        ('n_transactions', 'frequency', 'recency', 'T', 'tenure', 'purchase_trend')
        """
        return _BASE_COLUMNS

    def _optional(self) -> tuple[str, ...]:
        out: tuple[str, ...] = ()
        if self.breadth_growth is not None:
            out += ("n_products",)
        if self.p_alive_threshold is not None:
            out += ("p_alive",)
        return out

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
        self.typical_interpurchase_ = typical_gap(cols, prospect)
        return self

    def _check_fitted(self) -> None:
        check_is_fitted(self, "typical_interpurchase_")

    def _threshold(self) -> float | None:
        return None if self.p_alive_threshold is None else float(self.p_alive_threshold)

    def _staging(
        self,
        frame: pd.DataFrame,
        cols: dict[str, npt.NDArray[np.float64]],
        prospect: npt.NDArray[np.bool_],
    ) -> Staging:
        freq, T, tenure = cols["frequency"], cols["T"], cols["tenure"]
        trend = cols["purchase_trend"]
        window, k = float(self.onboarding_window), int(self.onboarding_purchases)
        onboarding = onboarding_mask(T, freq, window, k)
        trend_up = trend > float(self.growth_threshold)
        breadth = np.full(len(freq), np.nan)
        if self.breadth_growth is not None and "n_products" in cols:
            with np.errstate(invalid="ignore", divide="ignore"):
                breadth = np.where(freq > 0, (cols["n_products"] - 1.0) / freq, np.nan)
            broad = breadth > float(self.breadth_growth)
        else:
            broad = np.zeros(len(freq), dtype=bool)
        mature = (tenure >= float(self.retention_tenure)) & ~(trend_up | broad)
        codes = np.where(mature, RETENTION, DEVELOPMENT)
        codes = np.where(onboarding, ONBOARDING, codes)
        codes = np.where(prospect, ACQUISITION, codes).astype(np.intp)
        lapse = judge_lapse(
            cols,
            prospect,
            self.typical_interpurchase_,
            factor=None if self.lapse_factor is None else float(self.lapse_factor),
            grace=float(self.lapse_grace),
            after=None if self.lapse_after is None else float(self.lapse_after),
            p_alive=cols.get("p_alive"),
            threshold=self._threshold(),
        )
        unit = UNIT_NAMES[str(self.time_unit)]
        # what decided the stage: 0 none (acquisition), 1 few purchases, 2 onboarding window,
        # 3 purchases growing, 4 breadth growing, 5 short tenure, 6 mature
        why = np.select(
            [
                codes == ONBOARDING,
                (codes == DEVELOPMENT) & trend_up,
                (codes == DEVELOPMENT) & broad,
                codes == DEVELOPMENT,
                codes == RETENTION,
            ],
            [np.where(freq + 1 < k, 1, 2), 3, 4, 5, 6],
            0,
        )
        few = "no repeat purchase yet" if k == 2 else f"fewer than {k} purchases"
        need = float(self.retention_tenure)
        details = Pieces(
            [
                coded(why, ["", few, f"within the first {window:g} {unit}",
                            "purchases growing (trend ", "", "tenure ", "mature: tenure "]),
                number_piece(tenure, where=why >= 5),
                coded(why, ["", "", "", "", "",
                            f" {unit}, under the {need:g} {unit} of a mature customer",
                            f" {unit}, purchases steady (trend "]),
                fixed(trend, 2, sign="+", where=(why == 3) | (why == 6)),
                fixed(breadth, 1, where=why == 4),
                coded(why, ["", "", "", ")", " new products per repeat purchase", "", ")"]),
            ],
            why != 0,
        )  # fmt: skip
        return Staging(codes=codes, lapse=lapse, details=details)

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "typical_interpurchase_"):
            return None
        return {"typical_interpurchase": self.typical_interpurchase_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.typical_interpurchase_ = as_float_or_none(state["typical_interpurchase"])
