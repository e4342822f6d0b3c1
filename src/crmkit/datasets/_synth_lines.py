"""Building blocks of the synthetic CRM: latent classes and order lines."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

from crmkit.datasets._synth_records import stable_order

__all__ = ["copula_classes", "normal_scores", "order_lines", "sample_products"]

F = npt.NDArray[np.float64]
I = npt.NDArray[np.int64]  # noqa: E741


def copula_classes(rng: np.random.Generator, score: F, weight: float, shares: F) -> I:
    """Classes with the given shares, ordered by ``weight * score + noise``."""
    latent = weight * score + np.sqrt(1.0 - weight**2) * rng.standard_normal(len(score))
    cuts = np.quantile(latent, np.cumsum(shares)[:-1]) if len(score) else np.zeros(0)
    return np.asarray(np.searchsorted(cuts, latent), dtype=np.int64)


def normal_scores(x: F) -> F:
    """Normal scores of ``x``: the standard-normal quantile of each value's rank."""
    ranks = np.argsort(np.argsort(x))
    return np.asarray(ndtri((ranks + 0.5) / max(len(x), 1)), dtype=np.float64)


def sample_products(rng: np.random.Generator, weights: F, owner: I) -> I:
    """One product per line from its owner's weights: a search in the stacked CDFs.

    Fast when ``owner`` comes in runs sorted by customer (searches stay local).
    """
    n, k = weights.shape
    cum = np.cumsum(weights, axis=1)
    cum[:, -1] = 1.0
    flat = (cum + np.arange(n)[:, None]).ravel()
    value = rng.random(len(owner))
    value += owner  # in place: few fresh arrays of lines (page faults dominate at 10^7 lines)
    found = np.searchsorted(flat, value, side="right")
    del value
    found -= owner * k
    return np.asarray(np.clip(found, 0, k - 1, out=found), dtype=np.int64)


def order_lines(
    rng: np.random.Generator, owner: I, day: I, nu: F, extra_lines: F, weights: F, p: float
) -> tuple[I, I, F]:
    """Order lines of purchase occasions, sorted by (day, customer).

    ``owner`` must come in a few runs sorted by customer (that keeps the
    product search fast); the lines are generated in that order and then
    put in date order by moving whole occasions, without sorting the lines.

    Returns the occasion index, product and amount of every line.
    """
    value = rng.gamma(p, 1.0 / nu)
    n_lines = 1 + rng.poisson(extra_lines)
    occ = np.repeat(np.arange(len(owner)), n_lines)
    product = sample_products(rng, weights, owner[occ])
    amount = rng.gamma(2.0, 1.0, len(occ))  # the line's share of the occasion, then amount
    amount /= np.bincount(occ, weights=amount, minlength=len(owner))[occ]
    amount *= value[occ]  # in place: one array of lines, not four
    np.round(amount, 2, out=amount)
    np.maximum(amount, 1.0, out=amount)
    order = stable_order(day * max(len(weights), 1) + owner)
    first_line = np.cumsum(n_lines) - n_lines
    k = n_lines[order]
    moved = np.repeat(first_line[order] - (np.cumsum(k) - k), k)
    moved += np.arange(len(occ))
    return occ[moved], product[moved], amount[moved]
