"""``ModelStager``: lifecycle stages from a fitted purchase model."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._estimator import check_is_fitted, clone
from crmkit._params import Constraint, Interval, Predicate
from crmkit._vocab import UNIT_NAMES
from crmkit.exceptions import CrmkitError
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

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["ModelStager"]

_BASE_COLUMNS = ("n_transactions", "frequency", "recency", "T")
_MODEL_COLUMNS = ("frequency", "recency", "T")
_MODEL_METHODS = ("fit", "p_alive", "conditional_expected_purchases")


def _is_purchase_model(value: Any) -> bool:
    return all(callable(getattr(value, m, None)) for m in _MODEL_METHODS)


def _is_fitted(model: Any) -> bool:
    names = getattr(model, "__dict__", {})
    return any(n.endswith("_") and not n.startswith("_") for n in names)


class ModelStager(StagerBase):
    """Lifecycle stage of each customer from a probabilistic purchase model.

    Where :class:`RuleStager` applies thresholds to what each customer did,
    this stager lets a fitted purchase model (BG/NBD, Pareto/NBD ... from
    :mod:`crmkit.value`) judge it. The model pools all customers, so a
    customer's few purchases are read against the whole base:

    1. **acquisition** — no purchase yet (``n_transactions == 0``).
    2. **onboarding** — ``T <= onboarding_window`` or fewer than
       ``onboarding_purchases`` purchase periods (as in :class:`RuleStager`).
    3. **development** — the model expects the customer to buy faster than
       it has so far: expected purchases in the next ``horizon`` divided by
       ``horizon`` exceed ``(1 + growth_margin)`` times the past repeat rate
       ``frequency / T``. Its value is expected to grow.
    4. **retention** — otherwise: the model expects no more than the past
       rate, a mature customership whose value is to be held on to.

    The **status** is ``"lapsed"`` when the model says the customer is most
    likely gone, ``P(alive) < alive_threshold``, AND its own rhythm agrees:
    idle (``T - recency``) longer than ``max(lapse_factor * gap,
    lapse_grace)``, with the gap its own ``recency / frequency`` (for
    one-time buyers the fitted ``typical_interpurchase_``); or, when
    ``lapse_after`` is given, idle longer than that. Under BG/NBD a customer
    without repeat purchase always has ``P(alive) = 1`` (an assumption of
    the model, not evidence): such customers are judged on the rhythm
    alone. A lapsed customer keeps its stage.

    P(alive) and the expected purchases come from ``model`` (fitted in
    :meth:`fit` on the customers with purchases) or, without a model, from
    the view's ``p_alive`` and ``expected_purchases`` columns (e.g. added by
    a value model upstream; ``expected_purchases`` must then cover
    ``horizon``).

    Time parameters are in the customer view's time unit; **the defaults
    assume weeks** (multiply by 7 for a view in days). ``stage_frame``
    adds the status and ``stage_reasons`` with each customer's numbers.

    Parameters
    ----------
    model : purchase model or None, default=None
        An object with ``fit(view)``, ``p_alive(view)`` and
        ``conditional_expected_purchases(view, t)``, e.g.
        ``crmkit.value.BetaGeo()``; it is never modified. None reads the
        ``p_alive`` and ``expected_purchases`` columns instead.
    refit : bool, default=True
        Fit a fresh copy of ``model`` on the view given to :meth:`fit`.
        False uses an already fitted ``model`` as it is (a copy), e.g. one
        fitted on a longer calibration period; an unfitted model is fitted.
    alive_threshold : float, default=0.5
        Customers with ``P(alive)`` below it are lapsed (if their rhythm
        agrees).
    horizon : float, default=52.0
        The period of the expected purchases (52 weeks: a year).
    growth_margin : float, default=0.1
        How much faster than in the past (relative) a customer must be
        expected to buy to count as developing.
    onboarding_window : float, default=13.0
        Time after the first purchase during which a customer is onboarding.
    onboarding_purchases : int, default=2
        Customers with fewer purchase periods are onboarding.
    lapse_factor : float or None, default=3.0
        The rhythm agrees a customer lapsed when it is idle longer than this
        many of its usual gaps; None lets ``P(alive)`` decide alone.
    lapse_grace : float, default=13.0
        The rhythm never lapses a customer idle for less than this.
    lapse_after : float or None, default=None
        When given, customers idle longer than this are lapsed whatever the
        model says.
    time_unit : {"D", "W", "M"}, default="W"
        The view's time unit, named in the reasons.

    Attributes
    ----------
    model_ : purchase model or None
        The fitted model used for staging (None when reading columns).
    typical_interpurchase_ : float or None
        Median ``recency / frequency`` of the repeat customers in the
        fitting view (the usual gap of one-time buyers); None without any.

    See Also
    --------
    RuleStager : stages from thresholds on observed behaviour.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your
    customers" the easy way: an alternative to the Pareto/NBD model.
    Marketing Science, 24(2), 275-284.

    Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your
    customers: who are they and what will they do next? Management Science,
    33(1), 1-24.

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame(
    ...     {"n_transactions": [0, 2, 5, 30, 8],
    ...      "frequency": [0, 1, 4, 29, 7],
    ...      "recency": [None, 2.0, 50.0, 100.0, 30.0],
    ...      "T": [None, 6.0, 52.0, 104.0, 100.0],
    ...      "p_alive": [None, 0.95, 0.9, 0.97, 0.2],
    ...      "expected_purchases": [None, 3.0, 8.0, 12.0, 0.5]},
    ...     index=pd.Index(["p1", "new", "rising", "steady", "gone"], name="customer_id"))
    >>> out = ModelStager().fit(view).stage_frame(view)
    >>> out["stage"].tolist(), out["status"].tolist()
    (['acquisition', 'onboarding', 'development', 'retention', 'retention'], \
['active', 'active', 'active', 'active', 'lapsed'])
    >>> print(out.loc["gone", "stage_reasons"])
    retention: 8 purchases over 100 weeks, last 70 weeks ago, expected 0.5 purchases in the \
next 52 weeks, no faster than its past 3.6; lapsed: no purchase for 70 weeks, 16.3x its usual \
gap of 4.3 weeks, P(alive) 0.20
    """

    _parameter_constraints: ClassVar[Mapping[str, list[Constraint]]] = {
        **ONBOARDING_CONSTRAINTS,
        "model": [
            None,
            Predicate(
                _is_purchase_model,
                "a purchase model with fit, p_alive and conditional_expected_purchases "
                "(e.g. crmkit.value.BetaGeo())",
            ),
        ],
        "refit": [bool],
        "alive_threshold": [Interval("float", 0, 1)],
        "horizon": [Interval("float", 0, None, closed="neither")],
        "growth_margin": [Interval("float", 0, None)],
        **LAPSE_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        model: Any = None,
        refit: bool = True,
        alive_threshold: float = 0.5,
        horizon: float = 52.0,
        growth_margin: float = 0.1,
        onboarding_window: float = 13.0,
        onboarding_purchases: int = 2,
        lapse_factor: float | None = 3.0,
        lapse_grace: float = 13.0,
        lapse_after: float | None = None,
        time_unit: str = "W",
    ) -> None:
        self.model = model
        self.refit = refit
        self.alive_threshold = alive_threshold
        self.horizon = horizon
        self.growth_margin = growth_margin
        self.onboarding_window = onboarding_window
        self.onboarding_purchases = onboarding_purchases
        self.lapse_factor = lapse_factor
        self.lapse_grace = lapse_grace
        self.lapse_after = lapse_after
        self.time_unit = time_unit

    @property
    def requires(self) -> tuple[str, ...]:
        """The view columns read (``p_alive``, ``expected_purchases`` without a model).

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> ModelStager().requires
        ('n_transactions', 'frequency', 'recency', 'T', 'p_alive', 'expected_purchases')
        """
        if self.model is None:
            return (*_BASE_COLUMNS, "p_alive", "expected_purchases")
        return _BASE_COLUMNS

    def fit(self, view: pd.DataFrame) -> Self:
        """Fit the purchase model (if any) on the customers with purchases.

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
            When a required column is missing or holds invalid values, or
            the model refuses the data (e.g. nobody repeats).
        ConvergenceError
            When the model cannot be fitted.

        Examples
        --------
        >>> from crmkit.testing import make_customer_view
        >>> view = make_customer_view(30, requires=("p_alive", "expected_purchases"))
        >>> ModelStager().fit(view).model_ is None
        True
        """
        self._validate_params()
        frame, cols, prospect = self._read(view)
        self.typical_interpurchase_ = typical_gap(cols, prospect)
        if self.model is None:
            self.model_: Any = None
        elif self.refit or not _is_fitted(self.model):
            fresh = clone(self.model, safe=False)
            fresh.fit(frame.loc[~prospect, list(_MODEL_COLUMNS)])
            self.model_ = fresh
        else:
            self.model_ = copy.deepcopy(self.model)
        return self

    def _check_fitted(self) -> None:
        check_is_fitted(self, "model_")

    def _predict(
        self,
        frame: pd.DataFrame,
        cols: dict[str, npt.NDArray[np.float64]],
        prospect: npt.NDArray[np.bool_],
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        if self.model_ is None:
            return cols["p_alive"], cols["expected_purchases"]
        n = len(frame)
        alive = np.ones(n, dtype=np.float64)
        expected = np.zeros(n, dtype=np.float64)
        buyers = ~prospect
        if buyers.any():
            sub = frame.loc[buyers, list(_MODEL_COLUMNS)]
            p = self.model_.p_alive(sub)
            e = self.model_.conditional_expected_purchases(sub, float(self.horizon))
            alive[buyers] = np.asarray(p, dtype=np.float64)
            expected[buyers] = np.asarray(e, dtype=np.float64)
        bad = buyers & ~(np.isfinite(alive) & np.isfinite(expected))
        if bad.any():
            rows = frame.index[bad][:5].tolist()
            raise CrmkitError(
                f"{type(self.model_).__name__} gave non-finite P(alive) or expected "
                f"purchases for {int(bad.sum())} customers (first {rows})"
            )
        return alive, expected

    def _threshold(self) -> float | None:
        return float(self.alive_threshold)

    def _staging(
        self,
        frame: pd.DataFrame,
        cols: dict[str, npt.NDArray[np.float64]],
        prospect: npt.NDArray[np.bool_],
    ) -> Staging:
        alive, expected = self._predict(frame, cols, prospect)
        freq, T = cols["frequency"], cols["T"]
        horizon = float(self.horizon)
        with np.errstate(invalid="ignore", divide="ignore"):
            past_rate = np.where(T > 0, freq / np.where(T > 0, T, 1.0), 0.0)
        future_rate = expected / horizon
        growing = future_rate > (1.0 + float(self.growth_margin)) * past_rate
        onboarding = onboarding_mask(
            T, freq, float(self.onboarding_window), int(self.onboarding_purchases)
        )
        codes = np.where(growing, DEVELOPMENT, RETENTION)
        codes = np.where(onboarding, ONBOARDING, codes)
        codes = np.where(prospect, ACQUISITION, codes).astype(np.intp)
        lapse = judge_lapse(
            cols,
            prospect,
            getattr(self, "typical_interpurchase_", None),
            factor=None if self.lapse_factor is None else float(self.lapse_factor),
            grace=float(self.lapse_grace),
            after=None if self.lapse_after is None else float(self.lapse_after),
            p_alive=np.where(prospect, np.nan, alive),
            threshold=float(self.alive_threshold),
        )
        unit = UNIT_NAMES[str(self.time_unit)]
        details: list[str] = []
        for code, e, past in zip(
            codes.tolist(), expected.tolist(), (past_rate * horizon).tolist(), strict=True
        ):
            if code == ONBOARDING:
                details.append(
                    f"within the first {float(self.onboarding_window):g} {unit} "
                    f"or fewer than {int(self.onboarding_purchases)} purchases"
                )
            elif code in (DEVELOPMENT, RETENTION):
                pace = (
                    f"faster than its past {past:.1f}"
                    if code == DEVELOPMENT
                    else (f"no faster than its past {past:.1f}")
                )
                details.append(f"expected {e:.1f} purchases in the next {horizon:g} {unit}, {pace}")
            else:
                details.append("")
        return Staging(codes=codes, lapse=lapse, details=details)

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "model_"):
            return None
        return {"model": self.model_, "typical_interpurchase": self.typical_interpurchase_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.model_ = state["model"]
        # files written before the status rules hold no typical gap
        self.typical_interpurchase_ = as_float_or_none(state.get("typical_interpurchase"))
