"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007)."""

from __future__ import annotations

from typing import ClassVar

from crmkit.value._bgnbd import BetaGeoFamily

__all__ = ["ModifiedBetaGeo"]


class ModifiedBetaGeo(BetaGeoFamily):
    """MBG/NBD: BG/NBD where a customer may also drop out at time 0.

    While active, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``;
    right after the first purchase and after every repeat purchase the
    customer drops out with probability ``p ~ Beta(a, b)``. Unlike BG/NBD, a
    customer without repeat purchases is not certainly active, so
    ``p_alive`` is below 1 for ``frequency == 0``. Reads ``frequency``,
    ``recency`` and ``T``; same methods as :class:`crmkit.value.BetaGeo`.

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty on the parameters (``penalizer * sum(params**2)``).

    Attributes
    ----------
    params_ : BetaGeoParams
        Fitted ``r, alpha, a, b``.
    standard_errors_ : BetaGeoParams
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
    Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical
    validation and comparison of models for customer base analysis.
    International Journal of Research in Marketing, 24(3), 201-209.

    Examples
    --------
    >>> m = ModifiedBetaGeo.from_params(r=0.5, alpha=5.0, a=0.8, b=3.0)
    >>> view = {"frequency": [0, 2], "recency": [0.0, 30.0], "T": [38.0, 38.0]}
    >>> m.p_alive(view).round(3).tolist()
    [0.561, 0.789]
    >>> ModifiedBetaGeo().fit(m.sample(4000, 39.0, seed=2)).converged_
    True
    """

    _shift: ClassVar[int] = 1
