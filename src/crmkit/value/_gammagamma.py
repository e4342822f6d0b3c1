"""The Gamma-Gamma model of the monetary value of repeat purchases."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import digamma, gammaln

from crmkit._params import Interval
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure
from crmkit.value._canonical import canonical_rows
from crmkit.value._covariate_model import COVARIATES, CoefficientMixin
from crmkit.value._gammagamma_cov import (
    fit_spend_covariates,
    spend_gamma,
    spend_loglik,
    warn_if_correlated,
)
from crmkit.value._inputs import read_columns
from crmkit.value._mle import fit_mle

__all__ = ["GammaGamma", "GammaGammaParams"]

FloatArray = npt.NDArray[np.float64]
SeedLike = int | np.random.Generator | None


@attrs.frozen
class GammaGammaParams:
    """Parameters of the Gamma-Gamma spend model.

    Parameters
    ----------
    p : float
        Shape of the gamma distribution of one transaction's spend.
    q : float
        Shape of the gamma distribution of the customers' rate ``nu``.
    gamma : float
        Scale of the gamma distribution of ``nu``.

    Examples
    --------
    >>> GammaGammaParams(6.25, 3.74, 15.44).q
    3.74
    """

    p: float
    q: float
    gamma: float


class GammaGamma(CoefficientMixin):
    """Gamma-Gamma model of the mean spend per repeat purchase.

    A customer's spend per transaction is gamma distributed with shape ``p``
    and rate ``nu``; ``nu`` varies across customers as a gamma distribution
    with shape ``q`` and rate ``gamma``. The mean spend per transaction of a
    customer is then ``p / nu`` and the population mean is
    ``p * gamma / (q - 1)``. Spend is assumed independent of the purchase
    process (check it: the correlation between ``frequency`` and
    ``monetary_value`` among repeat buyers should be small).

    The model is fitted on the repeat buyers only (``frequency > 0``) from
    the columns ``frequency`` (repeat purchase periods) and
    ``monetary_value`` (their mean spend, the first purchase left out).
    Customers without repeats carry no information on repeat spend: they are
    ignored and counted in ``n_ignored_``. The model needs positive spend:
    a repeat buyer with ``monetary_value <= 0`` (net refunds, free orders)
    is refused with a :class:`~crmkit.exceptions.SchemaError` naming the
    rows; drop or correct such customers before fitting (there is no
    sensible gamma-distributed version of a zero or negative spend).

    With ``spend_covariates`` the spend scale depends on time-invariant
    covariates ``z``: ``gamma_i = gamma * exp(delta' z)``, so a customer's
    population mean spend ``p * gamma_i / (q - 1)`` is multiplied by
    ``exp(delta_j)`` per unit of ``z_j`` (categorical columns one-hot
    encoded against a reference level, as for the purchase models);
    ``expected_spend`` and ``log_likelihood`` then use each customer's own
    ``gamma_i`` (the view must hold the columns), ``population_mean_spend``
    and ``sample`` describe a customer with all covariates 0.

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty on the parameters, ``penalizer * (p**2 + q**2 + gamma**2)``
        (with covariates also ``penalizer * sum(coef**2)``).
    spend_covariates : list of str, optional
        View columns acting on the spend scale.

    Attributes
    ----------
    params_ : GammaGammaParams
        Fitted ``p``, ``q`` and ``gamma`` (with covariates: ``gamma`` of a
        customer whose covariates are all 0).
    coef_ : ndarray of shape (n_coefficients,)
        With covariates only: the coefficients ``delta``, named by
        ``coefficient_names_`` (``spend.<column>``).
    coef_standard_errors_ : ndarray of shape (n_coefficients,)
        With covariates only: their standard errors (observed information).
    full_covariance_ : ndarray of shape (3 + n_coefficients, 3 + n_coefficients)
        With covariates only: covariance of ``p, q, gamma`` and ``delta``.
    covariates_ : CovariateDesign
        With covariates only: the columns and their encodings.
    standard_errors_ : GammaGammaParams
        Their standard errors (inverse observed information).
    covariance_ : ndarray of shape (3, 3)
        Their asymptotic covariance.
    log_likelihood_ : float
        Log-likelihood of the repeat buyers' mean spends.
    n_customers_ : float
        Total weight of the repeat buyers fitted on.
    n_ignored_ : float
        Total weight of the customers without repeat purchases (ignored).
    converged_ : bool
        Whether the optimiser converged.
    n_iter_ : int
        Optimiser iterations.

    References
    ----------
    .. [1] Fader, P. S. and Hardie, B. G. S. (2013). "The Gamma-Gamma Model
       of Monetary Value". http://brucehardie.com/notes/025/
    .. [2] Colombo, R. and Jiang, W. (1999). "A stochastic RFM model".
       Journal of Interactive Marketing 13(3), 2-12.

    Examples
    --------
    >>> import pandas as pd
    >>> truth = GammaGamma.from_params(p=6.0, q=4.0, gamma=15.0)
    >>> view = truth.sample(3000, frequency=[1, 2, 5], seed=1)
    >>> model = GammaGamma().fit(view)
    >>> model.summary().round(2)
               estimate    se  lower_95  upper_95
    parameter
    p              7.73  1.00      5.77      9.68
    q              3.73  0.15      3.44      4.02
    gamma         10.72  1.77      7.24     14.20
    >>> round(model.population_mean_spend(), 2), truth.population_mean_spend()
    (30.3, 30.0)
    >>> new = pd.DataFrame({"frequency": [0, 4], "monetary_value": [0.0, 50.0]},
    ...                    index=pd.Index(["a", "b"], name="customer_id"))
    >>> model.expected_spend(new).round(2)
    customer_id
    a    30.3
    b    48.4
    Name: expected_spend, dtype: float64
    """

    _params_class: ClassVar[type[Any]] = GammaGammaParams
    _parameter_constraints: ClassVar[Mapping[str, list[Any]]] = {
        "penalizer": [Interval("real", 0, None)],
        "spend_covariates": COVARIATES,
    }

    def __init__(
        self, penalizer: float = 0.0, spend_covariates: list[str] | tuple[str, ...] | None = None
    ) -> None:
        self.penalizer = penalizer
        self.spend_covariates = spend_covariates

    # ------------------------------------------------------------------ fit
    def fit(self, view: pd.DataFrame | Mapping[str, Any], weights: Any = None) -> GammaGamma:
        """Fit the model to the repeat buyers of a customer view.

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            Columns ``frequency`` (whole numbers >= 0) and ``monetary_value``
            (mean spend per repeat purchase; > 0 for repeat buyers).
        weights : array-like of shape (n_customers,), optional
            Case weights (e.g. how many customers share a row).

        Returns
        -------
        GammaGamma
            ``self``, fitted.

        Raises
        ------
        SchemaError
            Missing, non-numeric, NaN, infinite or negative values, a
            non-integer ``frequency``, repeat buyers with
            ``monetary_value <= 0``, or fewer than two repeat buyers.
        ConvergenceError
            When the likelihood has no finite maximum (e.g. every repeat
            buyer spends exactly the same).

        Warns
        -----
        DataWarning
            When frequency and monetary_value of the repeat buyers are
            clearly correlated (the 95% interval of their Pearson
            correlation lies beyond +-0.3): the model assumes independence.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.integers(0, 6, 300)  # 50 of them never repeat
        >>> spend = np.where(x > 0, rng.gamma(6.0, 1.0 / rng.gamma(4.0, 1 / 15.0, 300)), 0.0)
        >>> m = GammaGamma().fit({"frequency": x, "monetary_value": spend})
        >>> m.n_customers_, m.n_ignored_
        (250.0, 50.0)
        """
        self._validate_params()
        cols, w, index = read_columns(
            view,
            ["frequency", "monetary_value"],
            who="GammaGamma.fit",
            integer=["frequency"],
            weights=weights,
        )
        x, m = cols["frequency"], cols["monetary_value"]
        repeat = x > 0
        bad = repeat & (m <= 0)
        if bad.any():
            labels = np.asarray(index, dtype=object)[bad]
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column="monetary_value",
                        check="must be > 0 for repeat buyers (frequency > 0): the Gamma-Gamma "
                        "model needs positive spend; drop or correct customers with zero or "
                        "net-negative spend",
                        n_failing=int(bad.sum()),
                        rows=tuple(labels[:5].tolist()),
                        values=tuple(m[bad][:5].tolist()),
                    )
                ]
            )
        if int(repeat.sum()) < 2:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column="frequency",
                        check=f"has {int(repeat.sum())} repeat buyer(s): the Gamma-Gamma model is "
                        "fitted on customers with frequency > 0 and needs at least two of them",
                    )
                ]
            )
        warn_if_correlated(x[repeat], m[repeat], w[repeat])
        self._drop_covariate_state()
        if self.spend_covariates:
            fit_spend_covariates(self, view, x, m, w, repeat)
            self.n_ignored_ = float(np.sort(w[~repeat]).sum())
            return self
        # the canonical form: the fit depends on the multiset of customers only
        (xu, mu), wu = canonical_rows([x[repeat], m[repeat]], w[repeat])
        mbar = float(np.average(mu, weights=wu))
        rows = _spend_rows(xu, mu)

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            ll, grad = _loglik_and_grad(np.exp(theta), xu, mu, rows=rows)
            return -float(np.dot(wu, ll)), -(grad @ wu) * np.exp(theta)

        result = fit_mle(
            objective,
            [1.0, 3.0, 2.0 * mbar],
            names=["p", "q", "gamma"],
            penalizer=float(self.penalizer),
            model="GammaGamma",
            starts=[[1.0, 1.0, mbar], [10.0, 10.0, 9.0 * mbar]],
        )
        self._store_result(result, float(wu.sum()))
        self.n_ignored_ = float(np.sort(w[~repeat]).sum())  # sorted: order-free
        return self

    @classmethod
    def from_params(cls, p: float, q: float, gamma: float) -> GammaGamma:
        """Build a fitted-state model with the given parameters.

        ``standard_errors_`` and ``covariance_`` are NaN, ``log_likelihood_``
        is NaN, ``n_customers_`` and ``n_ignored_`` are 0. Use it to simulate
        or to score with known parameters.

        Parameters
        ----------
        p, q, gamma : float
            Positive, finite parameters.

        Returns
        -------
        GammaGamma

        Raises
        ------
        InvalidParameterError
            For a parameter that is not a positive finite number.

        Examples
        --------
        >>> GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44).population_mean_spend()
        35.2...
        """
        values = {"p": p, "q": q, "gamma": gamma}
        for name, value in values.items():
            if not Interval("real", 0, None, closed="neither").accepts(value) or not (
                math.isfinite(float(value))
            ):
                raise InvalidParameterError(
                    f"GammaGamma.from_params: {name!r} must be a finite float > 0; got {value!r}"
                )
        model = cls()
        model.params_ = GammaGammaParams(float(p), float(q), float(gamma))
        model.standard_errors_ = GammaGammaParams(np.nan, np.nan, np.nan)
        model.covariance_ = np.full((3, 3), np.nan)
        model.log_likelihood_ = float("nan")
        model.n_customers_ = 0.0
        model.n_ignored_ = 0.0
        model.converged_ = True
        model.n_iter_ = 0
        return model

    # ---------------------------------------------------------- predictions
    def population_mean_spend(self) -> float:
        """Mean spend per transaction in the population, ``p * gamma / (q - 1)``.

        Returns
        -------
        float

        Raises
        ------
        NotFittedError
            Before ``fit``.
        InvalidParameterError
            When ``q <= 1``: the mean is then infinite.

        Examples
        --------
        >>> round(GammaGamma.from_params(p=2.0, q=3.0, gamma=10.0).population_mean_spend(), 6)
        10.0
        """
        p, q, gamma = self._param_array()
        if q <= 1:
            raise InvalidParameterError(
                f"GammaGamma has q = {q:.4g} <= 1: the population mean spend p*gamma/(q-1) "
                "is infinite; the fitted spend distribution is too heavy-tailed to predict "
                "spend (check for extreme monetary values)"
            )
        return float(p * gamma / (q - 1.0))

    def expected_spend(self, view: pd.DataFrame | Mapping[str, Any]) -> pd.Series:
        """Expected mean spend per future transaction, given each customer's history.

        ``E[M | x, m] = p * (gamma + m * x) / (p * x + q - 1)``, a weighted
        average of the population mean and the customer's own mean; for a
        customer without repeats it is the population mean
        ``p * gamma / (q - 1)``. ``monetary_value`` is ignored where
        ``frequency == 0``; a repeat buyer with ``monetary_value == 0`` gets
        the posterior mean given that history (finite).

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            Columns ``frequency`` and ``monetary_value``.

        Returns
        -------
        Series of shape (n_customers,)
            Named ``expected_spend``, indexed like ``view``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For invalid columns.
        InvalidParameterError
            When the posterior mean is infinite (``p * x + q <= 1``; for
            customers without repeats ``q <= 1``).

        Examples
        --------
        >>> m = GammaGamma.from_params(p=2.0, q=3.0, gamma=10.0)
        >>> m.expected_spend({"frequency": [0, 2], "monetary_value": [0.0, 20.0]}).tolist()
        [10.0, 16.666666666666668]
        """
        p, q, gamma = self._param_array()
        cols, _, index = read_columns(
            view,
            ["frequency", "monetary_value"],
            who="GammaGamma.expected_spend",
            integer=["frequency"],
        )
        x = cols["frequency"]
        m = np.where(x > 0, cols["monetary_value"], 0.0)
        denom = p * x + q - 1.0
        if np.any(denom <= 0):
            if np.any((x == 0) & (denom <= 0)):
                self.population_mean_spend()  # raises the q <= 1 message
            bad = denom <= 0
            raise InvalidParameterError(
                f"GammaGamma (p = {p:.4g}, q = {q:.4g}): the expected spend is infinite for "
                f"customers with p*frequency + q <= 1 (rows {_first(index, bad)})"
            )
        if self._uses_covariates():
            gamma = spend_gamma(self, view, "expected_spend")
        out = p * (gamma + m * x) / denom
        return _series(out, view, index, "expected_spend")

    def log_likelihood(self, view: pd.DataFrame | Mapping[str, Any]) -> pd.Series:
        """Log-density of each repeat buyer's mean spend under the fitted model.

        Customers without repeats are not modelled and contribute 0.

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            Columns ``frequency`` and ``monetary_value`` (> 0 for repeat buyers).

        Returns
        -------
        Series of shape (n_customers,)
            Named ``log_likelihood``, indexed like ``view``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For invalid columns or non-positive spend of repeat buyers.

        Examples
        --------
        >>> m = GammaGamma.from_params(p=2.0, q=3.0, gamma=10.0)
        >>> m.log_likelihood({"frequency": [0, 1], "monetary_value": [0.0, 10.0]}).round(4).tolist()
        [0.0, -3.2834]
        """
        params = self._param_array()
        cols, _, index = read_columns(
            view,
            ["frequency", "monetary_value"],
            who="GammaGamma.log_likelihood",
            integer=["frequency"],
        )
        x, m = cols["frequency"], cols["monetary_value"]
        repeat = x > 0
        bad = repeat & (m <= 0)
        if bad.any():
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column="monetary_value",
                        check="must be > 0 for repeat buyers (frequency > 0)",
                        n_failing=int(bad.sum()),
                        rows=_first(index, bad),
                        values=tuple(m[bad][:5].tolist()),
                    )
                ]
            )
        out = np.zeros(len(x))
        if self._uses_covariates():
            gamma = spend_gamma(self, view, "log_likelihood")[repeat]
            p, q = float(params[0]), float(params[1])
            out[repeat] = spend_loglik(p, q, gamma, x[repeat], m[repeat])[0]
        elif repeat.any():
            out[repeat] = _loglik_and_grad(params, x[repeat], m[repeat], grad=False)[0]
        return _series(out, view, index, "log_likelihood")

    def sample(self, n_customers: int, frequency: Any, *, seed: SeedLike = None) -> pd.DataFrame:
        """Simulate customers' mean repeat spend from the fitted parameters.

        Each customer draws ``nu ~ Gamma(q, rate=gamma)``; the mean of
        ``frequency`` spends ``~ Gamma(p, rate=nu)`` is drawn exactly as
        ``Gamma(p * frequency, rate=nu * frequency)``.

        Parameters
        ----------
        n_customers : int
            How many customers (>= 1).
        frequency : int or array-like of int
            Repeat purchases per customer (>= 0); an array is cycled over the
            customers. ``monetary_value`` is 0 where it is 0.
        seed : int, Generator or None, default=None
            Random seed.

        Returns
        -------
        DataFrame
            Columns ``frequency`` and ``monetary_value``, index ``customer_id``
            ``0 .. n_customers - 1``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        InvalidParameterError
            For a bad ``n_customers`` or ``frequency``.

        Examples
        --------
        >>> GammaGamma.from_params(p=2.0, q=3.0, gamma=10.0).sample(3, 2, seed=0).shape
        (3, 2)
        """
        p, q, gamma = self._param_array()
        if not Interval("int", 1, None).accepts(n_customers):
            raise InvalidParameterError(
                f"GammaGamma.sample: 'n_customers' must be an int >= 1; got {n_customers!r}"
            )
        freq = np.atleast_1d(np.asarray(frequency))
        if freq.ndim != 1 or len(freq) == 0 or freq.dtype.kind not in "iu" or np.any(freq < 0):
            raise InvalidParameterError(
                "GammaGamma.sample: 'frequency' must be an int >= 0 or a non-empty 1-d array "
                f"of them; got {frequency!r:.60}"
            )
        x = np.resize(freq.astype(np.float64), int(n_customers))
        rng = np.random.default_rng(seed)
        nu = rng.gamma(q, 1.0 / gamma, size=len(x))
        repeat = x > 0
        m = np.zeros(len(x))
        m[repeat] = rng.gamma(p * x[repeat], 1.0 / (nu[repeat] * x[repeat]))
        out: pd.DataFrame = pd.DataFrame(
            {"frequency": x.astype(np.int64), "monetary_value": m},
            index=pd.RangeIndex(len(x), name="customer_id"),
        )
        return out

    # ------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any] | None:
        state = super()._get_state()
        if state is not None:
            state["n_ignored"] = float(self.n_ignored_)
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.n_ignored_ = float(state.get("n_ignored", 0.0))


SpendRows = tuple[FloatArray, npt.NDArray[np.intp], FloatArray, FloatArray, FloatArray]


def _spend_rows(x: FloatArray, m: FloatArray) -> SpendRows:
    """What :func:`_loglik_and_grad` reuses on the same rows: the distinct ``x``,
    each row's index into them, and ``log(m)``, ``log(x)``, ``m * x`` per row."""
    ux, inv = np.unique(x, return_inverse=True)
    return ux, np.asarray(inv, dtype=np.intp).reshape(-1), np.log(m), np.log(x), m * x


def _loglik_and_grad(
    params: FloatArray,
    x: FloatArray,
    m: FloatArray,
    *,
    grad: bool = True,
    rows: SpendRows | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-density of mean spend ``m`` over ``x`` purchases, and its gradient.

    Returns ``(ll of shape (n,), grad of shape (3, n))`` with the gradient
    with respect to ``(p, q, gamma)`` on the natural scale. ``rows`` is
    :func:`_spend_rows` of ``x, m`` (computed when not given).
    """
    p, q, gamma = (float(v) for v in params)
    ux, inv, log_m, log_x, mx = _spend_rows(x, m) if rows is None else rows
    a = p * x
    ua = p * ux  # the gamma functions once per distinct x: the same values as per row
    den = gamma + mx
    log_den = np.log(den)
    ll = (
        gammaln(ua + q)[inv]
        - gammaln(ua)[inv]
        - gammaln(q)
        + q * math.log(gamma)
        + (a - 1.0) * log_m
        + a * log_x
        - (a + q) * log_den
    )
    if not grad:
        return ll, np.empty((3, 0))
    psi_aq = digamma(ua + q)[inv]
    out = np.empty((3, len(ll)))  # d/dp, d/dq, d/dgamma written in place
    np.multiply(x, psi_aq - digamma(ua)[inv] + log_m + log_x - log_den, out=out[0])
    np.subtract(psi_aq - digamma(q) + math.log(gamma), log_den, out=out[1])
    np.subtract(q / gamma, (a + q) / den, out=out[2])
    return ll, out


def _first(index: tuple[Any, ...], mask: npt.NDArray[np.bool_]) -> tuple[Any, ...]:
    return tuple(np.asarray(index, dtype=object)[mask][:5].tolist())


def _series(values: FloatArray, view: Any, index: tuple[Any, ...], name: str) -> pd.Series:
    idx = view.index if isinstance(view, pd.DataFrame) else pd.RangeIndex(len(index))
    out: pd.Series = pd.Series(values, index=idx, name=name, dtype=np.float64)
    return out
