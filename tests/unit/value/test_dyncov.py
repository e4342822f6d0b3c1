"""Pareto/NBD with time-varying covariates: likelihood, fit, predictions, input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

import crmkit
from crmkit.exceptions import NotFittedError, SchemaError
from crmkit.value import ParetoNBD, ParetoNBDDynamic

START = pd.Timestamp("2023-01-01")  # a Sunday: weeks start on Sundays


def simulate(
    n: int,
    weeks: int,
    gp: dict[str, float],
    gd: dict[str, float],
    seed: int,
    params: tuple[float, float, float, float] = (0.8, 8.0, 0.6, 12.0),
    calibration: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Transactions and a weekly covariate table from the dynamic Pareto/NBD.

    Covariates: ``season`` (common to all, every 4th week), ``promo`` (random
    weeks per customer) and ``gender`` (constant per customer). Births in
    the first 8 weeks (on whole days); purchases on the day they happen.
    """
    rng = np.random.default_rng(seed)
    r, alpha, s, beta = params
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    birth = rng.integers(0, 56, n)  # days after START
    week = np.arange(weeks)
    season = (week % 4 == 0).astype(float)
    promo = (rng.random((n, weeks)) < 0.3).astype(float)
    gender = (rng.random(n) < 0.5).astype(float)
    cov = pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(n), weeks),
            "period": np.tile(START + pd.to_timedelta(7 * week, unit="D"), n),
            "season": np.tile(season, n),
            "promo": promo.reshape(-1),
            "gender": np.repeat(gender, weeks),
        }
    )
    rows = []
    end = 7.0 * (weeks if calibration is None else calibration)  # days
    for i in range(n):
        rows.append((i, int(birth[i])))
        t = float(birth[i])  # in days
        # hazard and rate per day in each week
        z = {"season": season, "promo": promo[i], "gender": np.full(weeks, gender[i])}
        a = np.exp(sum(gp[k] * z[k] for k in gp)) if gp else np.ones(weeks)
        b = np.exp(sum(gd[k] * z[k] for k in gd)) if gd else np.ones(weeks)
        death_clock = rng.exponential(1.0)  # cumulative hazard at death
        while t < end:
            k = int(t // 7)
            stop = min(7.0 * (k + 1), end)
            h = mu[i] * b[k] / 7.0
            if h * (stop - t) >= death_clock:
                stop_alive = t + death_clock / h
                death_clock = np.inf
            else:
                stop_alive = stop
                death_clock -= h * (stop - t)
            m = rng.poisson(lam[i] * a[k] / 7.0 * (stop_alive - t))
            for u in rng.uniform(t, stop_alive, m):
                rows.append((i, int(np.floor(u))))
            if stop_alive < stop:
                break
            t = stop
    tx = pd.DataFrame(rows, columns=["customer_id", "day"])
    tx["date"] = START + pd.to_timedelta(tx["day"], unit="D")
    tx["amount"] = 10.0
    return tx.drop(columns="day"), cov


def view_of(tx: pd.DataFrame, weeks: int) -> pd.DataFrame:
    as_of = START + pd.Timedelta(days=7 * weeks - 1)
    return crmkit.summarize(tx[tx["date"] <= as_of], as_of=as_of, time_unit="W")


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    tx, cov = simulate(150, 36, {"promo": 0.5}, {"season": 0.4}, seed=3, calibration=30)
    return tx, cov, view_of(tx, 30)


def brute_loglik(
    p: np.ndarray, gp: dict[str, float], gd: dict[str, float], view: pd.DataFrame,
    tx: pd.DataFrame, cov: pd.DataFrame,
) -> np.ndarray:
    """The likelihood by adaptive quadrature of the death time, customer by customer."""
    from scipy.special import gammaln

    r, alpha, s, beta = p
    out = []
    for cid, row in view.iterrows():
        c = cov[cov["customer_id"] == cid].sort_values("period")
        birth = pd.Timestamp(row["first_purchase"]).normalize()
        start = ((c["period"] - birth).dt.days / 7.0).to_numpy()
        a = np.exp(sum(gp[k] * c[k].to_numpy() for k in gp)) if gp else np.ones(len(c))
        b = np.exp(sum(gd[k] * c[k].to_numpy() for k in gd)) if gd else np.ones(len(c))

        def at(t: float, eff: np.ndarray, start: np.ndarray = start) -> float:
            return float(eff[np.searchsorted(start, t, side="right") - 1])

        def cum(t: float, eff: np.ndarray, start: np.ndarray = start) -> float:
            lo = np.clip(start, 0.0, t)
            hi = np.clip(np.append(start[1:], start[-1] + 1.0), 0.0, t)
            return float(np.sum(eff * (hi - lo)))

        x, t_x, T = float(row["frequency"]), float(row["recency"]), float(row["T"])
        days = tx.loc[tx["customer_id"] == cid, "date"].dt.normalize().drop_duplicates()
        times = ((days - birth).dt.days / 7.0).to_numpy()
        times = times[(times > 0) & (times <= T + 1e-9)]
        log_prod = float(sum(np.log(at(t, a)) for t in times))

        def integrand(
            u: float, a: np.ndarray = a, b: np.ndarray = b, x: float = x
        ) -> float:
            return (s * at(u, b) * (alpha + cum(u, a)) ** -(r + x)
                    * (beta + cum(u, b)) ** -(s + 1.0))

        breaks = [v for v in start if t_x < v < T]
        dead = integrate.quad(integrand, t_x, T, points=breaks or None, limit=500,
                              epsabs=0, epsrel=1e-12)[0] if t_x < T else 0.0
        alive = (alpha + cum(T, a)) ** -(r + x) * (beta + cum(T, b)) ** -s
        out.append(gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
                   + log_prod + np.log(alive + dead))
    return np.array(out)


# ------------------------------------------------------------------ likelihood
def test_loglik_matches_quadrature(small):
    tx, cov, view = small
    gp, gd = {"promo": 0.6, "season": -0.3}, {"season": 0.8, "promo": -0.4}
    m = ParetoNBDDynamic.from_params(
        0.8, 8.0, 0.6, 12.0, purchase_covariates=["promo", "season"],
        dropout_covariates=["season", "promo"],
        coef={"purchase.promo": 0.6, "purchase.season": -0.3, "dropout.season": 0.8,
              "dropout.promo": -0.4},
    )
    sub = view.iloc[:40]
    got = m.log_likelihood(sub, cov, tx).to_numpy()
    want = brute_loglik(np.array([0.8, 8.0, 0.6, 12.0]), gp, gd, sub, tx, cov)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)


def test_zero_coefficients_equal_plain_paretonbd(small):
    tx, cov, view = small
    plain = ParetoNBD.from_params(r=0.8, alpha=8.0, s=0.6, beta=12.0)
    dyn = ParetoNBDDynamic.from_params(
        0.8, 8.0, 0.6, 12.0, purchase_covariates=["promo"], dropout_covariates=["season"]
    )
    np.testing.assert_allclose(
        dyn.log_likelihood(view, cov, tx).to_numpy(),
        plain.log_likelihood(view).to_numpy(), rtol=0, atol=1e-10,
    )
    np.testing.assert_allclose(
        dyn.p_alive(view, cov).to_numpy(), plain.p_alive(view).to_numpy(), atol=1e-12
    )
    np.testing.assert_allclose(
        dyn.conditional_expected_purchases(view, cov, 0.0).to_numpy(), 0.0, atol=0
    )


def test_constant_covariates_equal_static_model():
    tx, cov = simulate(200, 26, {"gender": 0.5}, {"gender": -0.5}, seed=5)
    cov["age"] = np.repeat(np.random.default_rng(0).integers(20, 23, 200).astype(float), 26)
    view = view_of(tx, 26)
    static_cols = cov.groupby("customer_id")[["gender", "age"]].first()
    view = view.join(static_cols)
    static = ParetoNBD(purchase_covariates=["gender", "age"], dropout_covariates=["gender"])
    static.fit(view)
    coef = dict(zip(static.coefficient_names_, static.coef_.tolist(), strict=True))
    p = static.params_
    dyn = ParetoNBDDynamic.from_params(
        p.r, p.alpha, p.s, p.beta, purchase_covariates=["gender", "age"],
        dropout_covariates=["gender"], coef=coef,
    )
    np.testing.assert_allclose(
        dyn.log_likelihood(view, cov, tx).to_numpy(),
        static.log_likelihood(view).to_numpy(), rtol=0, atol=1e-8,
    )
    np.testing.assert_allclose(
        dyn.p_alive(view, cov).to_numpy(), static.p_alive(view).to_numpy(), atol=1e-10
    )
    # forecast: the covariate table must cover T + 10 weeks
    last = cov[cov["period"] == cov["period"].max()]
    extra = [last.assign(period=last["period"] + pd.Timedelta(days=7 * k)) for k in range(1, 12)]
    longer = pd.concat([cov, *extra])
    np.testing.assert_allclose(
        dyn.conditional_expected_purchases(view, longer, 10.0).to_numpy(),
        static.conditional_expected_purchases(view, 10.0).to_numpy(), rtol=1e-9,
    )
    # and the fit reaches the static fit's log-likelihood
    fitted = ParetoNBDDynamic(purchase_covariates=["gender", "age"],
                              dropout_covariates=["gender"]).fit(view, cov, tx)
    assert fitted.log_likelihood_ == pytest.approx(static.log_likelihood_, abs=1e-5)
    np.testing.assert_allclose(fitted.coef_, static.coef_, atol=1e-3)


def test_conditional_expectation_matches_quadrature(small):
    _tx, cov, view = small
    m = ParetoNBDDynamic.from_params(
        0.8, 8.0, 0.6, 12.0, purchase_covariates=["promo"], dropout_covariates=["season"],
        coef={"purchase.promo": 0.7, "dropout.season": 1.2},
    )
    sub = view.iloc[:25]
    got = m.conditional_expected_purchases(sub, cov, 2.5).to_numpy()
    pa = m.p_alive(sub, cov).to_numpy()
    r, alpha, s, beta = 0.8, 8.0, 0.6, 12.0
    want = []
    for j, (cid, row) in enumerate(sub.iterrows()):
        c = cov[cov["customer_id"] == cid].sort_values("period")
        birth = pd.Timestamp(row["first_purchase"]).normalize()
        start = ((c["period"] - birth).dt.days / 7.0).to_numpy()
        a = np.exp(0.7 * c["promo"].to_numpy())
        b = np.exp(1.2 * c["season"].to_numpy())

        def cum(t: float, eff: np.ndarray, start: np.ndarray = start) -> float:
            lo = np.clip(start, 0.0, t)
            hi = np.clip(np.append(start[1:], start[-1] + 1.0), 0.0, t)
            return float(np.sum(eff * (hi - lo)))

        def at(t: float, eff: np.ndarray, start: np.ndarray = start) -> float:
            return float(eff[np.searchsorted(start, t, side="right") - 1])

        x, T = float(row["frequency"]), float(row["T"])
        q = beta + cum(T, b)
        rate = (r + x) / (alpha + cum(T, a))
        val = integrate.quad(
            lambda u, a=a, b=b, q=q, cum=cum, at=at: at(u, a) * (q / (beta + cum(u, b))) ** s,
            T, T + 2.5, points=[v for v in start if T < v < T + 2.5] or None, epsrel=1e-12,
        )[0]
        want.append(pa[j] * rate * val)
    np.testing.assert_allclose(got, want, rtol=1e-9)


# ------------------------------------------------------------------ fit
def test_recovers_known_coefficients():
    truth = {"purchase.promo": 0.7, "purchase.season": -0.5, "dropout.season": 1.0}
    tx, cov = simulate(
        900, 40, {"promo": 0.7, "season": -0.5}, {"season": 1.0}, seed=11,
        params=(1.2, 6.0, 0.8, 10.0),
    )
    view = view_of(tx, 40)
    m = ParetoNBDDynamic(purchase_covariates=["promo", "season"],
                         dropout_covariates=["season"]).fit(view, cov, tx)
    assert m.converged_
    table = m.summary()
    for name, value in truth.items():
        est, se = table.loc[name, "estimate"], table.loc[name, "se"]
        assert np.isfinite(se) and se > 0
        assert abs(est - value) < 3 * se, (name, est, se)
    for name, value in zip(["r", "alpha", "s", "beta"], [1.2, 6.0, 0.8, 10.0], strict=True):
        est, se = table.loc[name, "estimate"], table.loc[name, "se"]
        assert abs(est - value) < 3 * se, (name, est, se)
    # the covariates help: better than the plain model by far more than 3 parameters' worth
    plain = ParetoNBD().fit(view)
    assert m.log_likelihood_ > plain.log_likelihood_ + 10


def test_fit_row_order_and_no_mutation(small):
    tx, cov, view = small
    before = (tx.copy(), cov.copy(), view.copy())
    a = ParetoNBDDynamic(purchase_covariates=["promo"]).fit(view, cov, tx)
    rng = np.random.default_rng(1)
    b = ParetoNBDDynamic(purchase_covariates=["promo"]).fit(
        view.iloc[rng.permutation(len(view))], cov.iloc[rng.permutation(len(cov))],
        tx.iloc[rng.permutation(len(tx))],
    )
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, abs=1e-8)
    pd.testing.assert_frame_equal(tx, before[0])
    pd.testing.assert_frame_equal(cov, before[1])
    pd.testing.assert_frame_equal(view, before[2])


def test_persistence_round_trip(small, tmp_path):
    _tx, cov, view = small
    m = ParetoNBDDynamic.from_params(
        0.8, 8.0, 0.6, 12.0, purchase_covariates=["promo"], dropout_covariates=["season"],
        coef={"purchase.promo": 0.3, "dropout.season": 0.5},
    )
    path = m.save(tmp_path / "dyn.json")
    back = ParetoNBDDynamic.load(path)
    pd.testing.assert_series_equal(back.p_alive(view, cov), m.p_alive(view, cov))
    assert back.summary().index.tolist() == m.summary().index.tolist()


def test_categorical_covariate_is_one_hot(small):
    tx, cov, view = small
    cov = cov.assign(level=np.where(cov["promo"] > 0, "high", "low"))
    m = ParetoNBDDynamic(dropout_covariates=["level"]).fit(view, cov, tx)
    assert m.coefficient_names_ == ("dropout.level[low]",)


# ------------------------------------------------------------------ errors
def test_unfitted_raises(small):
    _tx, cov, view = small
    with pytest.raises(NotFittedError):
        ParetoNBDDynamic().p_alive(view, cov)


def test_missing_covariate_column(small):
    tx, cov, view = small
    with pytest.raises(SchemaError, match="nope"):
        ParetoNBDDynamic(purchase_covariates=["nope"]).fit(view, cov, tx)


def test_periods_must_cover_calibration(small):
    tx, cov, view = small
    cid = view.index[3]
    short = cov[~((cov["customer_id"] == cid) & (cov["period"] > START + pd.Timedelta(days=70)))]
    with pytest.raises(SchemaError, match="do not cover") as info:
        ParetoNBDDynamic(dropout_covariates=["season"]).fit(view, short, tx)
    assert info.value.failures[0].rows == (cid,)


def test_forecast_needs_future_covariates(small):
    _tx, cov, view = small
    m = ParetoNBDDynamic.from_params(0.8, 8.0, 0.6, 12.0, dropout_covariates=["season"])
    with pytest.raises(SchemaError, match="do not cover"):
        m.conditional_expected_purchases(view, cov, 10.0)
    with pytest.raises(SchemaError, match="'t'"):
        m.conditional_expected_purchases(view, cov, -1.0)


def test_transactions_must_match_view(small):
    tx, cov, view = small
    with pytest.raises(TypeError, match="transactions"):
        ParetoNBDDynamic(purchase_covariates=["promo"]).fit(view, cov)
    repeaters = view.index[view["frequency"] > 0]
    dropped = tx[tx["customer_id"] != repeaters[0]]
    with pytest.raises(SchemaError, match="frequency"):
        ParetoNBDDynamic(purchase_covariates=["promo"]).fit(view, cov, dropped)


def test_constant_covariate_is_refused(small):
    tx, cov, view = small
    with pytest.raises(SchemaError, match="constant"):
        ParetoNBDDynamic(dropout_covariates=["one"]).fit(view, cov.assign(one=1.0), tx)


def test_missing_covariate_values(small):
    tx, cov, view = small
    bad = cov.copy()
    bad.loc[bad.index[5], "promo"] = np.nan
    with pytest.raises(SchemaError, match="promo"):
        ParetoNBDDynamic(purchase_covariates=["promo"]).fit(view, bad, tx)


def test_analytic_gradient_matches_differences(small):
    from crmkit.value._dyncov_data import purchase_sums, read_covariates, read_view
    from crmkit.value._dyncov_ll import dyn_loglik_grad

    tx, cov, view = small
    m = ParetoNBDDynamic.from_params(
        0.8, 8.0, 0.6, 12.0, purchase_covariates=["promo", "season"],
        dropout_covariates=["season"],
    )
    d = m.covariates_
    rows = read_view(view, "W", "t")
    cv = read_covariates(cov, rows, "customer_id", "period", "W", "t")
    path = cv.path(rows, d.purchase, d.dropout, np.zeros(len(rows.T)), rows.T, "t")
    sp = purchase_sums(tx, rows, cv, d.purchase, "customer_id", "date", "W", "t")
    for theta in ([0.8, 8.0, 0.6, 12.0, 0.5, -0.3, 0.9], [3.0, 0.5, 0.2, 40.0, -1.0, 0.4, -0.7]):
        th = np.array(theta)

        def f(t: np.ndarray) -> float:
            return dyn_loglik_grad(t[:4], t[4:6], t[6:], rows.x, rows.tx, sp, path)[0]

        _, g = dyn_loglik_grad(th[:4], th[4:6], th[6:], rows.x, rows.tx, sp, path)
        h = 1e-5 * np.maximum(1.0, np.abs(th))
        num = [(f(th + e) - f(th - e)) / (2 * e[j]) for j, e in enumerate(np.diag(h))]
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-4)


def test_unidentified_coefficient_warns(small):
    from crmkit.exceptions import ConvergenceWarning

    tx, cov, view = small
    # 1 in odd weeks without a purchase: no purchase ever happens while it holds,
    # so the purchase coefficient runs to minus infinity
    week = (tx["date"] - START).dt.days // 7
    bought = set(zip(tx["customer_id"], week, strict=True))
    cweek = (cov["period"] - START).dt.days // 7
    quiet = [
        float(w % 2 == 1 and (c, w) not in bought)
        for c, w in zip(cov["customer_id"], cweek, strict=True)
    ]
    with pytest.warns(ConvergenceWarning, match="towards infinity"):
        ParetoNBDDynamic(purchase_covariates=["quiet"]).fit(view, cov.assign(quiet=quiet), tx)


def test_new_customer_and_per_customer_horizon():
    tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
                       "date": pd.to_datetime(["2023-01-02", "2023-01-20", "2023-02-12"]),
                       "amount": 1.0})
    view = crmkit.summarize(tx, as_of="2023-02-12", time_unit="W")
    assert view.loc["b", "T"] == 0.0  # first purchase on the as-of day
    weeks = pd.date_range(START, periods=12, freq="7D")
    cov = pd.DataFrame({"customer_id": np.repeat(["a", "b"], 12),
                        "period": np.tile(weeks, 2), "promo": np.tile(np.arange(12) % 2, 2)})
    m = ParetoNBDDynamic.from_params(
        0.8, 8.0, 0.6, 12.0, purchase_covariates=["promo"], dropout_covariates=["promo"],
        coef={"purchase.promo": 0.5, "dropout.promo": 0.3},
    )
    assert m.p_alive(view, cov)["b"] == 1.0
    both = m.conditional_expected_purchases(view, cov, [2.0, 3.0])
    assert both["a"] == m.conditional_expected_purchases(view, cov, 2.0)["a"]
    assert both["b"] == m.conditional_expected_purchases(view, cov, 3.0)["b"]
    # a new customer's forecast: mean rate r/alpha times the promo-weighted weeks,
    # less dropout: below the no-dropout bound
    bound = 0.8 / 8.0 * sum(np.exp(0.5 * (k % 2)) for k in (6, 7, 8))
    assert 0 < both["b"] < bound
    ll = m.log_likelihood(view, cov, tx)
    assert ll["b"] == 0.0 and np.isfinite(ll["a"])
