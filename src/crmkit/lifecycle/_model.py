"""``ModelStager``: lifecycle stages from a fitted purchase model."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit._params import Constraint, Interval, Predicate
from crmkit.exceptions import CrmkitError
from crmkit.lifecycle._common import (
    ACQUISITION,
    DEVELOPMENT,
    LAPSED_CODE,
    ONBOARDING,
    ONBOARDING_CONSTRAINTS,
    RETENTION,
    StagerBase,
    onboarding_mask,
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


def _fresh(model: Any) -> Any:
    if callable(getattr(model, "get_params", None)):
        params = model.get_params(deep=False)
        return type(model)(**{k: copy.deepcopy(v) for k, v in params.items()})
    return copy.deepcopy(model)


class ModelStager(StagerBase):
    """Lifecycle stage of each customer from a probabilistic purchase model.

    Where :class:`RuleStager` applies thresholds to what each customer did,
    this stager lets a fitted purchase model (BG/NBD, Pareto/NBD ... from
    :mod:`crmkit.value`) judge it. The model pools all customers, so a
    customer's few purchases are read against the whole base:

    1. **acquisition** — no purchase yet (``n_transactions == 0``).
    2. **lapsed** — ``P(alive) < alive_threshold`` (most likely gone), or
       idle (``T - recency``) longer than ``lapse_after`` when given.
    3. **onboarding** — ``T <= onboarding_window`` or fewer than
       ``onboarding_purchases`` purchase periods (as in :class:`RuleStager`).
    4. **development** — the model expects the customer to buy faster than
       it has so far: expected purchases in the next ``horizon`` divided by
       ``horizon`` exceed ``(1 + growth_margin)`` times the past repeat rate
       ``frequency / T``. Its value is expected to grow.
    5. **retention** — otherwise: the model expects no more than the past
       rate, a mature customership whose value is to be held on to.

    P(alive) and the expected purchases come from ``model`` (fitted in
    :meth:`fit` on the customers with purchases) or, without a model, from
    the view's ``p_alive`` and ``expected_purchases`` columns (e.g. added by
    a value model upstream; ``expected_purchases`` must then cover
    ``horizon``).

    Time parameters are in the customer view's time unit; **the defaults
    assume weeks** (multiply by 7 for a view in days). Note that under
    BG/NBD a customer without repeat purchases always has ``P(alive) = 1``;
    such customers stay in onboarding unless ``lapse_after`` is set (or use
    a Pareto/NBD model).

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
        Customers with ``P(alive)`` below it are lapsed.
    horizon : float, default=52.0
        The period of the expected purchases (52 weeks: a year).
    growth_margin : float, default=0.1
        How much faster than in the past (relative) a customer must be
        expected to buy to count as developing.
    onboarding_window : float, default=13.0
        Time after the first purchase during which a customer is onboarding.
    onboarding_purchases : int, default=2
        Customers with fewer purchase periods are onboarding.
    lapse_after : float or None, default=None
        When given, customers idle longer than this are lapsed whatever the
        model says.

    Attributes
    ----------
    model_ : purchase model or None
        The fitted model used for staging (None when reading columns).

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
    >>> ModelStager().fit(view).stage(view).tolist()
    ['acquisition', 'onboarding', 'development', 'retention', 'lapsed']
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
        "lapse_after": [Interval("float", 0, None, closed="neither"), None],
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
        lapse_after: float | None = None,
    ) -> None:
        self.model = model
        self.refit = refit
        self.alive_threshold = alive_threshold
        self.horizon = horizon
        self.growth_margin = growth_margin
        self.onboarding_window = onboarding_window
        self.onboarding_purchases = onboarding_purchases
        self.lapse_after = lapse_after

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
        frame, _, prospect = self._read(view)
        if self.model is None:
            self.model_: Any = None
        elif self.refit or not _is_fitted(self.model):
            fresh = _fresh(self.model)
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

    def _codes(
        self,
        frame: pd.DataFrame,
        cols: dict[str, npt.NDArray[np.float64]],
        prospect: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.intp]:
        alive, expected = self._predict(frame, cols, prospect)
        freq, T = cols["frequency"], cols["T"]
        with np.errstate(invalid="ignore", divide="ignore"):
            past_rate = np.where(T > 0, freq / np.where(T > 0, T, 1.0), 0.0)
        future_rate = expected / float(self.horizon)
        growing = future_rate > (1.0 + float(self.growth_margin)) * past_rate
        lapsed = alive < float(self.alive_threshold)
        if self.lapse_after is not None:
            lapsed |= (T - cols["recency"]) > float(self.lapse_after)
        onboarding = onboarding_mask(
            T, freq, float(self.onboarding_window), int(self.onboarding_purchases)
        )
        codes = np.where(growing, DEVELOPMENT, RETENTION)
        codes = np.where(onboarding, ONBOARDING, codes)
        codes = np.where(lapsed, LAPSED_CODE, codes)
        codes = np.where(prospect, ACQUISITION, codes)
        return codes.astype(np.intp)

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "model_"):
            return None
        return {"model": self.model_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.model_ = state["model"]
