"""p_no_purchase: P(no purchase in (T, T + t] | x, t_x, T) of BG/NBD, MBG/NBD and Pareto/NBD.

Checked against the unconditional PMF at a new customer (x = t_x = T = 0),
the BG/NBD closed form, numerical integration of the Pareto/NBD lifetime,
and simulated purchase timelines.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from crmkit.data import summarize
from crmkit.datasets import make_crm
from crmkit.exceptions import DataWarning, NotFittedError, SchemaError
from crmkit.value import BetaGeo, ModifiedBetaGeo, ParetoNBD

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
MODELS = [
    BetaGeo.from_params(**BG),
    ModifiedBetaGeo.from_params(**BG),
    ParetoNBD.from_params(**PNBD),
    ParetoNBD.from_params(r=2.0, alpha=8.0, s=1.5, beta=4.0),  # alpha >= beta branch
]
IDS = ["bgnbd", "mbgnbd", "pnbd", "pnbd-alpha-above-beta"]

VIEW = pd.DataFrame(
    {
        "frequency": [0, 0, 1, 2, 6, 15, 40],
        "recency": [0.0, 0.0, 2.0, 30.0, 36.0, 20.0, 70.0],
        "T": [1.0, 39.0, 39.0, 38.0, 39.0, 78.0, 71.0],
    },
    index=pd.Index(list("abcdefg"), name="customer_id"),
)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_a_new_customer_has_the_unconditional_pmf_at_zero(model: Any) -> None:
    t = np.array([0.5, 13.0, 52.0, 300.0])
    new = pd.DataFrame({"frequency": [0] * 4, "recency": [0.0] * 4, "T": [0.0] * 4})
    got = model.p_no_purchase(new, t).to_numpy()
    np.testing.assert_allclose(got, model.purchase_pmf(0, t), rtol=1e-9)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_a_probability_falling_with_the_horizon(model: Any) -> None:
    p = np.column_stack([model.p_no_purchase(VIEW, t).to_numpy() for t in (0, 1, 13, 52, 1e4)])
    np.testing.assert_array_equal(p[:, 0], 1.0)
    assert np.all(np.diff(p, axis=1) < 0)
    assert np.all((p >= 0) & (p <= 1))
    # never below 1 - p_alive: a customer who has left buys nothing
    assert np.all(p[:, -1] >= 1.0 - model.p_alive(VIEW).to_numpy() - 1e-12)
    out = model.p_no_purchase(VIEW, 52.0)
    assert out.name == "p_no_purchase" and out.index.equals(VIEW.index)


@pytest.mark.parametrize("cls", [BetaGeo, ModifiedBetaGeo])
def test_bgnbd_closed_form(cls: Any) -> None:
    model = cls.from_params(**BG)
    pa = model.p_alive(VIEW).to_numpy()
    x, T = VIEW["frequency"].to_numpy(), VIEW["T"].to_numpy()
    expected = (1 - pa) + pa * ((BG["alpha"] + T) / (BG["alpha"] + T + 26.0)) ** (BG["r"] + x)
    np.testing.assert_allclose(model.p_no_purchase(VIEW, 26.0), expected, rtol=1e-12)


@pytest.mark.parametrize("params", [PNBD, {"r": 2.0, "alpha": 8.0, "s": 1.5, "beta": 4.0}])
def test_paretonbd_matches_numerical_integration(params: dict[str, float]) -> None:
    # P0 = 1 - p_alive + p_alive * [S(t) A(t) + int_0^t f(u) A(u) du]: the customer, active
    # at T, buys nothing before the horizon or the dropout; lambda ~ Gamma(r+x, alpha+T)
    # gives A(u) = ((alpha+T)/(alpha+T+u))^(r+x); the remaining lifetime is Lomax(s, beta+T).
    r, alpha, s, beta = params["r"], params["alpha"], params["s"], params["beta"]
    model = ParetoNBD.from_params(**params)
    pa = model.p_alive(VIEW).to_numpy()
    t = 30.0
    expected = []
    for (x, T), p in zip(VIEW[["frequency", "T"]].to_numpy(), pa, strict=True):
        def A(u: float, x: float = x, T: float = T) -> float:
            return float(((alpha + T) / (alpha + T + u)) ** (r + x))

        def S(u: float, T: float = T) -> float:
            return float(((beta + T) / (beta + T + u)) ** s)

        def f(u: float, T: float = T) -> float:
            return s / (beta + T) * ((beta + T) / (beta + T + u)) ** (s + 1)

        inner = S(t) * A(t) + integrate.quad(lambda u: f(u) * A(u), 0, t, epsabs=1e-13)[0]
        expected.append(1 - p + p * inner)
    np.testing.assert_allclose(model.p_no_purchase(VIEW, t), expected, rtol=1e-8)


def _simulate(kind: str, n: int, T: float, t: float, seed: int) -> pd.DataFrame:
    """Whole purchase timelines: calibration (x, t_x) in (0, T], holdout purchases in (T, T+t]."""
    rng = np.random.default_rng(seed)
    end = T + t
    if kind == "pnbd":
        lam = rng.gamma(PNBD["r"], 1 / PNBD["alpha"], n)
        mu = rng.gamma(PNBD["s"], 1 / PNBD["beta"], n)
        life = np.minimum(rng.standard_exponential(n) / mu, end)
        counts = rng.poisson(lam * life)
        owner = np.repeat(np.arange(n), counts)
        times = rng.uniform(0, 1, counts.sum()) * life[owner]
    else:  # BG/NBD: after each purchase (MBG/NBD: also at time 0) drop out with prob p
        lam = rng.gamma(BG["r"], 1 / BG["alpha"], n)
        p = rng.beta(BG["a"], BG["b"], n)
        alive = np.ones(n, dtype=bool) if kind == "bg" else rng.random(n) >= p
        now = np.zeros(n)
        owners, stamps = [], []
        while alive.any():
            idx = np.flatnonzero(alive)
            now[idx] += rng.standard_exponential(len(idx)) / lam[idx]
            inside = now[idx] <= end
            owners.append(idx[inside])
            stamps.append(now[idx[inside]])
            alive[idx[~inside]] = False
            alive[idx[inside]] = rng.random(int(inside.sum())) >= p[idx[inside]]
        owner, times = np.concatenate(owners), np.concatenate(stamps)
    cal = times <= T
    x = np.bincount(owner[cal], minlength=n)
    tx = np.zeros(n)
    np.maximum.at(tx, owner[cal], times[cal])
    hold = np.bincount(owner[~cal], minlength=n)
    return pd.DataFrame({"frequency": x, "recency": tx, "T": np.full(n, T), "holdout": hold})


@pytest.mark.parametrize(
    ("kind", "model"),
    [
        ("bg", BetaGeo.from_params(**BG)),
        ("mbg", ModifiedBetaGeo.from_params(**BG)),
        ("pnbd", ParetoNBD.from_params(**PNBD)),
    ],
)
def test_matches_simulated_timelines(kind: str, model: Any) -> None:
    sim = _simulate(kind, 40_000, 39.0, 26.0, seed=11)
    p0 = model.p_no_purchase(sim, 26.0).to_numpy()
    silent = (sim["holdout"] == 0).to_numpy()
    x = sim["frequency"].to_numpy()
    recent = (sim["T"] - sim["recency"]).to_numpy() < 10
    for group in (np.ones(len(x), bool), x == 0, (x >= 1) & recent, (x >= 1) & ~recent, x >= 5):
        expected, observed = p0[group].mean(), silent[group].mean()
        se = np.sqrt(expected * (1 - expected) / group.sum())
        assert abs(observed - expected) < 4 * se + 1e-3, (kind, group.sum(), expected, observed)


@pytest.mark.parametrize(
    "model", [*MODELS, ParetoNBD.from_params(r=1.525, alpha=3.978, s=0.442, beta=56.78)],
    ids=[*IDS, "pnbd-long-series"],
)  # fmt: skip
def test_a_customer_gets_the_same_value_in_any_batch(model: Any) -> None:
    # a CRM base: Pareto/NBD needs long hypergeometric series for some customers, and
    # how a batch splits series and quadrature must not change anyone's value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        view = summarize(make_crm(500, seed=0).data)[["frequency", "recency", "T"]]
    n = len(view)
    bulk = model.p_no_purchase(view, 52.0).to_numpy()
    alive = model.p_alive(view).to_numpy()
    for i in range(n):
        one = view.iloc[[i]]
        assert model.p_no_purchase(one, 52.0).iloc[0] == bulk[i], i
        assert model.p_alive(one).iloc[0] == alive[i], i


def test_per_customer_horizons_and_errors() -> None:
    model = ParetoNBD.from_params(**PNBD)
    t = np.arange(1.0, 8.0) * 5
    each = model.p_no_purchase(VIEW, t).to_numpy()
    one_by_one = [model.p_no_purchase(VIEW.iloc[[i]], t[i]).iloc[0] for i in range(len(VIEW))]
    np.testing.assert_allclose(each, one_by_one, rtol=1e-14)
    for m in (model, BetaGeo.from_params(**BG)):
        with pytest.raises(SchemaError, match="'t'"):
            m.p_no_purchase(VIEW, -1.0)
        with pytest.raises(SchemaError, match="'t'"):
            m.p_no_purchase(VIEW, [1.0, 2.0])
        with pytest.raises(SchemaError, match="recency"):
            m.p_no_purchase(VIEW.drop(columns=["recency"]), 5.0)
    with pytest.raises(NotFittedError):
        ParetoNBD().p_no_purchase(VIEW, 5.0)
    with pytest.raises(NotFittedError):
        BetaGeo().p_no_purchase(VIEW, 5.0)
