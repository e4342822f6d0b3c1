"""The BG/BB model for discrete purchase opportunities (Fader, Hardie & Shang 2010)."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from crmkit.value._purchase import (
    PurchaseModel,
    check_argument,
    check_count,
    near_one,
    per_customer,
)

__all__ = ["BetaGeoBetaBinom", "BetaGeoBetaBinomParams"]

FloatArray = npt.NDArray[np.float64]


@attrs.frozen
class BetaGeoBetaBinomParams:
    """Parameters of BG/BB.

    Parameters
    ----------
    alpha, beta : float
        Shapes of the beta distribution of the purchase probability ``p``.
    gamma, delta : float
        Shapes of the beta distribution of the dropout probability ``theta``.

    Examples
    --------
    >>> BetaGeoBetaBinomParams(1.204, 0.750, 0.657, 2.783).gamma
    0.657
    """

    alpha: float
    beta: float
    gamma: float
    delta: float


def _terms(
    p: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.bool_], FloatArray, FloatArray]:
    """Log-likelihood components: column 0 = alive through n, column 1 + i = died after t_x + i.

    Returns the log terms (rows x columns), the valid mask and the shifted
    arguments ``q = beta + t_x - x + i`` and ``u = delta + t_x + i``.
    """
    al, be, ga, de = (float(v) for v in p)
    m = int(np.max(n - tx)) if len(n) else 0
    i = np.arange(m, dtype=np.float64)
    q = np.concatenate([(be + n - x)[:, None], be + (tx - x)[:, None] + i], axis=1)
    u = np.concatenate([(de + n)[:, None], de + tx[:, None] + i], axis=1)
    g = np.concatenate([np.full((len(n), 1), ga), np.full((len(n), m), ga + 1.0)], axis=1)
    valid = np.concatenate(
        [np.ones((len(n), 1), dtype=bool), i[None, :] < (n - tx)[:, None]], axis=1
    )
    with np.errstate(invalid="ignore"):
        logt = (
            special.betaln(al + x[:, None], q)
            - special.betaln(al, be)
            + special.betaln(g, u)
            - special.betaln(ga, de)
        )
    return np.where(valid, logt, -np.inf), valid, q, u


def _bgbb_loglik(p: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray) -> FloatArray:
    """Per-customer log-likelihood of BG/BB."""
    logt, _, _, _ = _terms(p, x, tx, n)
    return np.asarray(special.logsumexp(logt, axis=1), dtype=np.float64)


class _BGBBObjective:
    """Negative log-likelihood and gradient (wrt log-parameters) for collapsed BG/BB data."""

    def __init__(self, x: FloatArray, tx: FloatArray, n: FloatArray, w: FloatArray) -> None:
        self.x, self.tx, self.n, self.w = x, tx, n, w

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        p = np.exp(theta)
        al, be, ga, de = p
        logt, valid, q, u = _terms(p, self.x, self.tx, self.n)
        ll = special.logsumexp(logt, axis=1)
        pi = np.where(valid, np.exp(logt - ll[:, None]), 0.0)
        g = np.concatenate(
            [np.full((len(self.n), 1), ga), np.full((len(self.n), q.shape[1] - 1), ga + 1.0)],
            axis=1,
        )
        ax = (al + self.x)[:, None]
        with np.errstate(invalid="ignore"):
            psi_aq = special.digamma(ax + q)
            psi_gu = special.digamma(g + u)
            d_al = special.digamma(ax) - psi_aq
            d_be = special.digamma(q) - psi_aq
            d_ga = special.digamma(g) - psi_gu
            d_de = special.digamma(u) - psi_gu
        grad_rows = np.stack(
            [
                np.sum(np.where(valid, pi * d_al, 0.0), axis=1)
                - (special.digamma(al) - special.digamma(al + be)),
                np.sum(np.where(valid, pi * d_be, 0.0), axis=1)
                - (special.digamma(be) - special.digamma(al + be)),
                np.sum(np.where(valid, pi * d_ga, 0.0), axis=1)
                - (special.digamma(ga) - special.digamma(ga + de)),
                np.sum(np.where(valid, pi * d_de, 0.0), axis=1)
                - (special.digamma(de) - special.digamma(ga + de)),
            ],
            axis=1,
        )
        grad = np.einsum("i,ij->j", self.w, grad_rows) * p
        return -float(np.einsum("i,i->", self.w, ll)), -grad


def _survival_sum(ga: float, de: float, n: FloatArray, m: FloatArray) -> FloatArray:
    """``sum_{k=1}^{m} B(gamma, delta + n + k) / B(gamma, delta)`` (0 when m == 0)."""

    def closed(g: float) -> FloatArray:
        g0 = special.gammaln(1.0 + de + n) - special.gammaln(g + de + n)
        gm = special.gammaln(1.0 + de + n + m) - special.gammaln(g + de + n + m)
        ratio = -np.expm1(gm - g0) / (g - 1.0)
        with np.errstate(divide="ignore"):
            logs = (
                np.log(de)
                + special.gammaln(g + de)
                - special.gammaln(1.0 + de)
                + g0
                + np.log(np.maximum(ratio, 0.0))
            )
        return np.asarray(np.exp(logs), dtype=np.float64)

    if abs(ga - 1.0) >= 1e-3:
        return closed(ga)
    top = int(np.max(m)) if m.size else 0
    if top > 10_000:
        return near_one(closed, ga, width=1e-4)
    total = np.zeros(np.broadcast(n, m).shape)
    for k in range(1, top + 1):
        term = np.exp(special.betaln(ga, de + n + k) - special.betaln(ga, de))
        total += np.where(k <= m, term, 0.0)
    return total


class BetaGeoBetaBinom(PurchaseModel):
    """BG/BB: beta-geometric/beta-Bernoulli model for discrete opportunities.

    At each purchase opportunity (e.g. a year's donation drive) an active
    customer buys with probability ``p ~ Beta(alpha, beta)``; before each
    opportunity the customer drops out for good with probability
    ``theta ~ Beta(gamma, delta)``. Reads ``frequency`` (repeat purchases
    ``x``), ``recency`` (the opportunity of the last purchase, ``t_x``) and
    ``periods`` (opportunities observed, ``n``), all whole numbers with
    ``x <= t_x <= n`` (as in ``donations.csv``).

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty on the parameters (``penalizer * sum(params**2)``).

    Attributes
    ----------
    params_ : BetaGeoBetaBinomParams
        Fitted ``alpha, beta, gamma, delta``.
    standard_errors_ : BetaGeoBetaBinomParams
        Their standard errors (observed information).
    log_likelihood_ : float
        Log-likelihood at the estimates (without penalty).
    n_customers_ : float
        Total weight of customers fitted on.
    converged_ : bool
        Whether the optimiser converged.
    n_iter_ : int
        Optimiser iterations.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base
    analysis in a discrete-time noncontractual setting. Marketing Science,
    29(6), 1086-1108.

    Examples
    --------
    >>> m = BetaGeoBetaBinom.from_params(alpha=1.204, beta=0.75, gamma=0.657, delta=2.783)
    >>> view = {"frequency": [0, 6, 3], "recency": [0, 6, 3], "periods": [6, 6, 6]}
    >>> m.p_alive(view).round(3).tolist()
    [0.108, 0.93, 0.095]
    >>> m.conditional_expected_purchases(view, 5).round(3).tolist()
    [0.073, 3.752, 0.224]
    >>> BetaGeoBetaBinom().fit(m.sample(2000, 6, seed=3)).converged_
    True
    """

    _params_class: ClassVar[type[Any]] = BetaGeoBetaBinomParams
    _columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "periods")
    _integer_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "periods")

    def _check_rows(self, data: tuple[FloatArray, ...]) -> list[tuple[str, str, Any]]:
        x, tx, n = data
        return [
            ("recency", "is less than frequency", tx < x),
            ("recency", "is greater than periods", tx > n),
            ("recency", "is > 0 although frequency is 0", (x == 0) & (tx > 0)),
        ]

    def _objective(self, data: tuple[FloatArray, ...], weights: FloatArray) -> _BGBBObjective:
        return _BGBBObjective(data[0], data[1], data[2], weights)

    def _start(self, data: tuple[FloatArray, ...], weights: FloatArray) -> list[list[float]]:
        return [[1.0, 1.0, 1.0, 1.0], [0.5, 2.0, 0.5, 3.0], [2.0, 0.5, 2.0, 0.5]]

    def _loglik(self, params: FloatArray, data: tuple[FloatArray, ...]) -> FloatArray:
        return _bgbb_loglik(params, *data)

    def p_alive(self, view: pd.DataFrame | Any) -> pd.Series:
        """Probability that each customer is still active at the next opportunity.

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            Columns ``frequency``, ``recency``, ``periods``.

        Returns
        -------
        Series of shape (n_customers,)
            Named ``p_alive``, in [0, 1], indexed like ``view``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns.

        Examples
        --------
        >>> m = BetaGeoBetaBinom.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8)
        >>> m.p_alive({"frequency": [2], "recency": [6], "periods": [6]}).round(3).tolist()
        [0.93]
        """
        p = self._param_array()
        (x, tx, n), _, index = self._read(view, "p_alive")
        al, be, ga, de = p
        ll = _bgbb_loglik(p, x, tx, n)
        alive = (
            special.betaln(al + x, be + n - x)
            - special.betaln(al, be)
            + special.betaln(ga, de + n + 1.0)
            - special.betaln(ga, de)
        )
        return self._series(np.clip(np.exp(alive - ll), 0.0, 1.0), index, "p_alive")

    def conditional_expected_purchases(self, view: pd.DataFrame | Any, t: Any) -> pd.Series:
        """Expected purchases of each customer in the next ``t`` opportunities.

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            Columns ``frequency``, ``recency``, ``periods``.
        t : int or array-like of int, shape (n_customers,)
            Number of future opportunities (``>= 0``).

        Returns
        -------
        Series of shape (n_customers,)
            Named ``expected_purchases``, indexed like ``view``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns or an invalid ``t``.

        Examples
        --------
        >>> m = BetaGeoBetaBinom.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8)
        >>> v = {"frequency": [2], "recency": [6], "periods": [6]}
        >>> m.conditional_expected_purchases(v, [5]).round(3).tolist()
        [1.667]
        """
        p = self._param_array()
        who = f"{type(self).__name__}.conditional_expected_purchases"
        m = check_argument(t, "t", integer=True, who=who)
        (x, tx, n), _, index = self._read(view, "conditional_expected_purchases")
        per_customer(m, len(x), "t", who)
        al, be, ga, de = p
        ll = _bgbb_loglik(p, x, tx, n)
        m = np.broadcast_to(m, x.shape)
        s = _survival_sum(ga, de, n, m)
        with np.errstate(divide="ignore"):
            lead = special.betaln(al + x + 1.0, be + n - x) - special.betaln(al, be) - ll
        return self._series(np.exp(lead) * s, index, "expected_purchases")

    def expected_purchases(self, t: Any) -> FloatArray:
        """Expected purchases of a new customer in the first ``t`` opportunities.

        Parameters
        ----------
        t : int or array-like of int
            Number of opportunities (``>= 0``).

        Returns
        -------
        ndarray
            Same shape as ``t``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For an invalid ``t``.

        Examples
        --------
        >>> m = BetaGeoBetaBinom.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8)
        >>> m.expected_purchases([1, 6]).round(3).tolist()
        [0.498, 2.217]
        """
        p = self._param_array()
        m = check_argument(t, "t", integer=True, who=f"{type(self).__name__}.expected_purchases")
        al, be, ga, de = p
        flat = np.atleast_1d(m).reshape(-1)
        out = al / (al + be) * _survival_sum(ga, de, np.zeros_like(flat), flat)
        return np.asarray(out.reshape(np.shape(m)), dtype=np.float64)

    def purchase_pmf(self, n: Any, t: Any) -> FloatArray:
        """Probability that a new customer makes ``n`` purchases in ``t`` opportunities.

        Parameters
        ----------
        n : int or array-like of int
            Numbers of purchases (``>= 0``).
        t : int or array-like of int
            Numbers of opportunities, broadcast against ``n``.

        Returns
        -------
        ndarray
            ``P(X(t) = n)`` (0 where ``n > t``).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For an invalid ``n`` or ``t``.

        Examples
        --------
        >>> m = BetaGeoBetaBinom.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8)
        >>> m.purchase_pmf([0, 1, 6], 6).round(3).tolist()
        [0.312, 0.17, 0.112]
        """
        p = self._param_array()
        who = f"{type(self).__name__}.purchase_pmf"
        xv = check_argument(n, "n", integer=True, who=who)
        tv = check_argument(t, "t", integer=True, who=who)
        al, be, ga, de = p
        x, m = np.broadcast_arrays(xv, tv)
        shape = x.shape
        x, m = x.reshape(-1), m.reshape(-1)
        ok = x <= m
        xs, ms = np.where(ok, x, 0.0), np.where(ok, m, 0.0)

        def lchoose(a: FloatArray, k: FloatArray) -> FloatArray:
            return np.asarray(
                special.gammaln(a + 1) - special.gammaln(k + 1) - special.gammaln(a - k + 1),
                dtype=np.float64,
            )

        base = -special.betaln(al, be) - special.betaln(ga, de)
        parts = [
            lchoose(ms, xs) + special.betaln(al + xs, be + ms - xs) + special.betaln(ga, de + ms)
        ]
        top = int(np.max(ms)) if ms.size else 0
        for i in range(top):
            valid = (i >= xs) & (i < ms)
            iv = np.float64(i)
            with np.errstate(invalid="ignore"):
                term = (
                    lchoose(np.full_like(xs, iv), xs)
                    + special.betaln(al + xs, be + iv - xs)
                    + special.betaln(ga + 1.0, de + iv)
                )
            parts.append(np.where(valid, term, -np.inf))
        logp = special.logsumexp(np.stack(parts, axis=1), axis=1) + base
        out = np.where(ok, np.exp(logp), 0.0)
        return np.asarray(out.reshape(shape), dtype=np.float64)

    def sample(self, n_customers: int, periods: Any, *, seed: Any = None) -> pd.DataFrame:
        """Simulate customer histories over ``periods`` opportunities.

        Parameters
        ----------
        n_customers : int
            How many customers.
        periods : int or array-like of int, shape (n_customers,)
            Opportunities observed per customer.
        seed : int or numpy Generator, optional
            Random seed.

        Returns
        -------
        DataFrame
            Integer columns ``frequency``, ``recency``, ``periods``; index
            ``customer_id`` 0..n-1.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For invalid arguments.

        Examples
        --------
        >>> m = BetaGeoBetaBinom.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8)
        >>> m.sample(2, 6, seed=0).columns.tolist()
        ['frequency', 'recency', 'periods']
        """
        p = self._param_array()
        who = f"{type(self).__name__}.sample"
        check_count(n_customers, "n_customers", who)
        size = int(n_customers)
        nv = np.broadcast_to(check_argument(periods, "periods", integer=True, who=who), (size,))
        al, be, ga, de = p
        rng = np.random.default_rng(seed)
        buy_p = rng.beta(al, be, size)
        drop = rng.beta(ga, de, size)
        # first opportunity at which the customer is gone (geometric, >= 1)
        gone = rng.geometric(np.clip(drop, 1e-300, 1.0))
        x = np.zeros(size, dtype=np.int64)
        tx = np.zeros(size, dtype=np.int64)
        for k in range(1, int(nv.max(initial=0)) + 1):
            buy = (k < gone) & (k <= nv) & (rng.random(size) < buy_p)
            x += buy
            tx = np.where(buy, k, tx)
        frame: pd.DataFrame = pd.DataFrame(
            {"frequency": x, "recency": tx, "periods": nv.astype(np.int64)},
            index=pd.RangeIndex(size, name="customer_id"),
        )
        return frame
