"""Time-invariant covariates of ParetoNBD and BetaGeo (issue #19)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.exceptions import InvalidParameterError, SchemaError
from crmkit.value import BetaGeo, ParetoNBD

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def _simulate_pnbd(n: int, seed: int) -> pd.DataFrame:
    """Pareto/NBD histories with gamma_purchase = 0.5 (web) and gamma_dropout = -0.7 (web)."""
    rng = np.random.default_rng(seed)
    web = (np.arange(n) % 2).astype(float)
    r, alpha0, s, beta0 = 0.8, 8.0, 0.7, 12.0
    alpha = alpha0 * np.exp(-0.5 * web)
    beta = beta0 * np.exp(0.7 * web)
    lam = rng.gamma(r, 1.0 / alpha)
    mu = rng.gamma(s, 1.0 / beta)
    T = 52.0
    tau = rng.exponential(1.0 / mu)
    end = np.minimum(tau, T)
    x = rng.poisson(lam * end)
    # the last of x uniform purchase times in (0, end)
    tx = np.where(x > 0, end * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T, "web": web})


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return _simulate_pnbd(6000, 7)


def test_coefficients_at_zero_give_the_plain_model(sim: pd.DataFrame) -> None:
    for cls in (ParetoNBD, BetaGeo):
        plain = cls().fit(sim)
        m = cls(purchase_covariates=["web"], dropout_covariates=["web"]).fit(sim)
        m.params_ = plain.params_
        m.coef_ = np.zeros(2)
        for method in ("p_alive", "log_likelihood"):
            a = getattr(m, method)(sim)
            b = getattr(plain, method)(sim)
            np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
        for method in ("conditional_expected_purchases", "p_no_purchase"):
            np.testing.assert_array_equal(
                getattr(m, method)(sim, 20.0).to_numpy(),
                getattr(plain, method)(sim, 20.0).to_numpy(),
            )


def test_no_covariates_is_the_plain_fit_bit_for_bit(sim: pd.DataFrame) -> None:
    for cls in (ParetoNBD, BetaGeo):
        a = cls().fit(sim)
        b = cls(purchase_covariates=[], dropout_covariates=None).fit(sim)
        assert a.params_ == b.params_ and a.log_likelihood_ == b.log_likelihood_
        assert list(b.summary().index) == list(a.summary().index)


def test_known_coefficients_recovered_within_3_se(sim: pd.DataFrame) -> None:
    m = ParetoNBD(purchase_covariates=["web"], dropout_covariates=["web"]).fit(sim)
    table = m.summary()
    truth = {"r": 0.8, "alpha": 8.0, "s": 0.7, "beta": 12.0,
             "purchase.web": 0.5, "dropout.web": -0.7}
    for name, value in truth.items():
        est, se = table.loc[name, "estimate"], table.loc[name, "se"]
        assert np.isfinite(se) and se > 0
        assert abs(est - value) < 3 * se, (name, est, se)
    plain = ParetoNBD().fit(sim)
    aic_cov = 2 * 6 - 2 * m.log_likelihood_
    aic_plain = 2 * 4 - 2 * plain.log_likelihood_
    assert aic_cov < aic_plain


def test_row_order_independent(sim: pd.DataFrame) -> None:
    a = ParetoNBD(purchase_covariates=["web"]).fit(sim)
    b = ParetoNBD(purchase_covariates=["web"]).fit(sim.sample(frac=1.0, random_state=3))
    assert a.params_ == b.params_
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.log_likelihood_ == b.log_likelihood_


def test_categorical_one_hot_with_reference_level(sim: pd.DataFrame) -> None:
    view = sim.assign(channel=np.where(sim["web"] > 0, "online", "shop"))
    m = ParetoNBD(purchase_covariates=["channel"]).fit(view)
    assert m.coefficient_names_ == ("purchase.channel[shop]",)  # reference: "online"
    numeric = ParetoNBD(purchase_covariates=["web"]).fit(sim)
    # the same model with the sign of the dummy flipped
    np.testing.assert_allclose(m.coef_, -numeric.coef_, rtol=1e-4)
    with pytest.raises(SchemaError, match="channel"):
        m.p_alive(view.assign(channel="phone"))


def test_errors_name_the_column(sim: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="web2"):
        ParetoNBD(purchase_covariates=["web2"]).fit(sim)
    with pytest.raises(SchemaError, match="constant"):
        ParetoNBD(purchase_covariates=["T"]).fit(sim)
    with pytest.raises(InvalidParameterError, match="purchase_covariates"):
        ParetoNBD(purchase_covariates="web").fit(sim)  # type: ignore[arg-type]


def test_save_load_round_trip(sim: pd.DataFrame, tmp_path: Path) -> None:
    m = BetaGeo(purchase_covariates=["web"]).fit(sim)
    path = tmp_path / "m.json"
    m.save(path)
    back = crmkit.load(path)
    np.testing.assert_array_equal(back.coef_, m.coef_)
    pd.testing.assert_series_equal(back.p_alive(sim), m.p_alive(sim))
    pd.testing.assert_frame_equal(back.summary(), m.summary())
    # refitting without covariates drops the covariate state
    back.set_params(purchase_covariates=None).fit(sim)
    assert not hasattr(back, "coef_")


def _apparel() -> pd.DataFrame:
    trans = DATA / "apparel_transactions.csv"
    static = DATA / "apparel_static_covariates.csv"
    if not (trans.exists() and static.exists()):
        pytest.skip("apparel data not available")
    tr = pd.read_csv(trans, parse_dates=["Date"])
    cov = pd.read_csv(static).set_index("Id")
    end = pd.Timestamp("2006-12-31")
    days = tr[["Id", "Date"]].drop_duplicates()
    first = days.groupby("Id")["Date"].min()
    g = days[days["Date"] <= end].groupby("Id")["Date"]
    week = pd.Timedelta(weeks=1)
    view = pd.DataFrame(
        {
            "frequency": g.nunique() - 1,
            "recency": (g.max() - first) / week,
            "T": (end - first) / week,
        }
    )
    return view.join(cov)


@pytest.mark.parametrize("cls", [ParetoNBD, BetaGeo])
def test_apparel_gender_and_channel_on_both_processes(cls: type) -> None:
    view = _apparel()
    plain = cls().fit(view)
    # the BG/NBD's likelihood has no interior maximum on these data (a, b -> infinity for
    # the reference group, see tests/integration/test_clvtools_reference.py): a tiny
    # penalizer picks a finite point of the ridge; ConvergenceWarning is an error here
    penalizer = 1e-6 if cls is BetaGeo else 0.0
    m = cls(
        purchase_covariates=["Gender", "Channel"],
        dropout_covariates=["Gender", "Channel"],
        penalizer=penalizer,
    ).fit(view)
    assert m.log_likelihood_ >= plain.log_likelihood_
    assert np.all(np.isfinite(m.coef_))
    assert m.converged_
    assert np.all(np.isfinite(m.summary()["se"]))
    p = m.p_alive(view)
    assert p.between(0, 1).all() and p.index.equals(view.index)


# ------------------------------------------------------------------ Gamma-Gamma
def _simulate_spend(n: int, seed: int) -> pd.DataFrame:
    """Gamma-Gamma spends with gamma_i = 15 * exp(0.4 * vip)."""
    rng = np.random.default_rng(seed)
    vip = (np.arange(n) % 3 == 0).astype(float)
    p, q = 6.0, 4.0
    gamma = 15.0 * np.exp(0.4 * vip)
    x = rng.integers(0, 6, n).astype(float)
    nu = rng.gamma(q, 1.0 / gamma)
    m = np.where(x > 0, rng.gamma(p * np.maximum(x, 1), 1.0 / (nu * np.maximum(x, 1))), 0.0)
    return pd.DataFrame({"frequency": x.astype(int), "monetary_value": m, "vip": vip})


def test_gammagamma_spend_covariates_recovered_and_persisted(tmp_path: Path) -> None:
    from crmkit.value import GammaGamma

    view = _simulate_spend(6000, 11)
    plain = GammaGamma().fit(view)
    m = GammaGamma(spend_covariates=["vip"]).fit(view)
    table = m.summary()
    assert list(table.index) == ["p", "q", "gamma", "spend.vip"]
    for name, value in {"p": 6.0, "q": 4.0, "gamma": 15.0, "spend.vip": 0.4}.items():
        est, se = table.loc[name, "estimate"], table.loc[name, "se"]
        assert abs(est - value) < 3 * se, (name, est, se)
    assert m.log_likelihood_ >= plain.log_likelihood_
    assert m.log_likelihood(view).sum() == pytest.approx(m.log_likelihood_, rel=1e-10)
    # a VIP's spend scale is exp(coef) times another customer's with the same history
    pair = pd.DataFrame({"frequency": [0, 0], "monetary_value": [0.0, 0.0], "vip": [1.0, 0.0]})
    spend = m.expected_spend(pair).to_numpy()
    assert spend[0] / spend[1] == pytest.approx(np.exp(m.coef_[0]), rel=1e-12)
    # coefficients at zero: the plain model exactly
    m0 = GammaGamma(spend_covariates=["vip"]).fit(view)
    m0.params_, m0.coef_ = plain.params_, np.zeros(1)
    np.testing.assert_array_equal(m0.expected_spend(view), plain.expected_spend(view))
    m.save(tmp_path / "gg.json")
    back = crmkit.load(tmp_path / "gg.json")
    pd.testing.assert_series_equal(back.expected_spend(view), m.expected_spend(view))
    assert GammaGamma(spend_covariates=[]).fit(view).params_ == plain.params_


def test_gammagamma_apparel_gender_and_channel() -> None:
    from crmkit.value import GammaGamma

    trans = DATA / "apparel_transactions.csv"
    static = DATA / "apparel_static_covariates.csv"
    if not (trans.exists() and static.exists()):
        pytest.skip("apparel data not available")
    tr = pd.read_csv(trans, parse_dates=["Date"])
    cov = pd.read_csv(static).set_index("Id")
    cal = tr[tr["Date"] <= pd.Timestamp("2006-12-31")]
    daily = cal.groupby(["Id", "Date"])["Price"].sum().reset_index()
    first = daily.groupby("Id")["Date"].transform("min")
    rep = daily[daily["Date"] > first].groupby("Id")["Price"]
    view = pd.DataFrame({"frequency": rep.size(), "monetary_value": rep.mean()})
    view = view.reindex(cov.index).fillna({"frequency": 0, "monetary_value": 0.0})
    view["frequency"] = view["frequency"].astype(int)
    view = view[(view["frequency"] == 0) | (view["monetary_value"] > 0)].join(cov)
    plain = GammaGamma().fit(view)
    m = GammaGamma(spend_covariates=["Gender", "Channel"]).fit(view)
    assert m.converged_ and np.all(np.isfinite(m.summary()["se"]))
    assert m.log_likelihood_ >= plain.log_likelihood_


# ------------------------------------------------------------------ compare_models
def test_compare_models_table_and_holdout(sim: pd.DataFrame) -> None:
    from crmkit.value import compare_models

    plain = ParetoNBD().fit(sim)
    cov = ParetoNBD(purchase_covariates=["web"], dropout_covariates=["web"]).fit(sim)
    table = compare_models({"plain": plain, "web": cov, "bg": BetaGeo().fit(sim)}, sim)
    assert table.loc["plain", "log_likelihood"] == pytest.approx(plain.log_likelihood_, rel=1e-9)
    assert table.loc["web", "log_likelihood"] == pytest.approx(cov.log_likelihood_, rel=1e-9)
    assert table.loc["web", "n_params"] == 6 and table.loc["plain", "n_params"] == 4
    assert table.loc["web", "aic"] < table.loc["plain", "aic"]  # the simulation has the effect
    n = len(sim)
    assert table.loc["web", "bic"] == pytest.approx(
        6 * np.log(n) - 2 * cov.log_likelihood_, rel=1e-12
    )
    hold = sim.assign(frequency_holdout=sim["frequency"] // 2, duration_holdout=26.0)
    with_hold = compare_models([plain, cov], hold, holdout=hold)
    assert list(with_hold.index) == ["ParetoNBD", "ParetoNBD_2"]
    assert {"mae", "aggregate_error", "total_predicted"} <= set(with_hold.columns)
    assert np.all(np.isfinite(with_hold["mae"]))
    with pytest.raises(InvalidParameterError, match="models"):
        compare_models([], sim)
    with pytest.raises(InvalidParameterError, match="value model"):
        compare_models({"x": object()}, sim)


# ------------------------------------------------------------------ spend-frequency check
def test_gammagamma_warns_when_spend_and_frequency_are_correlated() -> None:
    from crmkit.exceptions import DataWarning
    from crmkit.value import GammaGamma

    rng = np.random.default_rng(2)
    x = rng.integers(1, 10, 2000)
    spend = rng.gamma(6.0, (2.0 + 3.0 * x) / 6.0)  # mean spend grows with frequency
    view = pd.DataFrame({"frequency": x, "monetary_value": spend})
    with pytest.warns(DataWarning, match="correlation between frequency and monetary_value"):
        GammaGamma().fit(view)


def test_gammagamma_does_not_warn_on_cdnow_or_the_synthetic_crm() -> None:
    from crmkit.datasets import load_cdnow, make_crm
    from crmkit.value import GammaGamma

    tx = load_cdnow()
    cdnow = crmkit.summarize(tx[tx["date"] <= "1997-09-30"], as_of="1997-09-30")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GammaGamma().fit(cdnow)
        GammaGamma().fit(crmkit.summarize(make_crm().data))


def test_customer_equity_draws_the_coefficients_too(sim: pd.DataFrame) -> None:
    from crmkit.value import GammaGamma, customer_equity

    part = sim.iloc[:1500]
    view = part.assign(
        monetary_value=np.where(part["frequency"] > 0, 20.0 + part["recency"], 0.0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spend = GammaGamma().fit(view)
    cov = ParetoNBD(purchase_covariates=["web"], dropout_covariates=["web"]).fit(view)
    kwargs = {"horizon": 52, "discount_rate": 0.1, "parameter_uncertainty": True}
    for interval in ("delta", "bootstrap"):
        eq = customer_equity(cov, spend, view, interval=interval, seed=0, n_boot=40, **kwargs)
        assert np.isfinite(eq.lower) and eq.lower < eq.total < eq.upper
    # the coefficients' uncertainty widens the interval
    narrow = cov.__class__.__new__(cov.__class__)
    narrow.__dict__.update(cov.__dict__)
    narrow.full_covariance_ = cov.full_covariance_.copy()
    narrow.full_covariance_[4:, :] = 0.0
    narrow.full_covariance_[:, 4:] = 0.0
    wide = customer_equity(cov, spend, view, interval="delta", **kwargs)
    less = customer_equity(narrow, spend, view, interval="delta", **kwargs)
    assert wide.std_error > less.std_error


# ------------------------------------------------------------------ per-customer margin
def test_clv_and_equity_take_a_per_customer_margin() -> None:
    from crmkit.value import GammaGamma, clv, customer_equity

    pm = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    sm = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
    view = pd.DataFrame(
        {"frequency": [0, 2, 5], "recency": [0.0, 20.0, 35.0], "T": [39.0] * 3,
         "monetary_value": [0.0, 30.0, 50.0], "share": [0.2, 0.5, -0.1]},
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    kw = {"horizon": 52, "discount_rate": 0.1}
    revenue = clv(pm, sm, view, **kw)
    by_column = clv(pm, sm, view, margin="share", **kw)
    np.testing.assert_allclose(by_column, revenue * view["share"], rtol=1e-15)
    by_series = clv(pm, sm, view, margin=pd.Series({"c": -0.1, "a": 0.2, "b": 0.5}), **kw)
    pd.testing.assert_series_equal(by_series, by_column)
    assert clv(pm, sm, view, margin=0.3, **kw).equals(revenue * 0.3)
    eq = customer_equity(pm, sm, view, margin="share", interval="delta", **kw)
    assert eq.total == pytest.approx(float(by_column.sum()), rel=1e-12)
    with pytest.raises(SchemaError, match="nope"):
        clv(pm, sm, view, margin="nope", **kw)
    with pytest.raises(SchemaError, match="share"):
        clv(pm, sm, view.assign(share=[0.2, 1.5, np.nan]), margin="share", **kw)
    with pytest.raises(SchemaError, match="no value"):
        clv(pm, sm, view, margin=pd.Series({"a": 0.2}), **kw)
    with pytest.raises(InvalidParameterError, match="margin"):
        clv(pm, sm, view, margin=[0.1, 0.2, 0.3], **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------ per-customer intervals
def test_clv_interval_covers_the_true_value_about_90_percent() -> None:
    from crmkit.value import GammaGamma, clv

    truth_p = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    truth_s = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
    profiles = pd.DataFrame(
        {
            "frequency": [0, 1, 2, 4, 8, 1, 3, 6],
            "recency": [0.0, 5.0, 30.0, 35.0, 38.0, 30.0, 10.0, 20.0],
            "T": 39.0,
            "monetary_value": [0.0, 20.0, 30.0, 40.0, 25.0, 50.0, 35.0, 30.0],
        }
    )
    kw = {"horizon": 52, "discount_rate": 0.1}
    true = clv(truth_p, truth_s, profiles, **kw).to_numpy()
    hits = []
    for rep in range(60):
        view = truth_p.sample(3000, 39.0, seed=100 + rep)
        spend = truth_s.sample(3000, view["frequency"].to_numpy(), seed=200 + rep)
        view["monetary_value"] = spend["monetary_value"].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = clv(ParetoNBD().fit(view), GammaGamma().fit(view), profiles, interval=0.9, **kw)
        assert list(out.columns) == ["clv", "clv_low", "clv_high"]
        hits.append((out["clv_low"] <= true) & (true <= out["clv_high"]))
    coverage = float(np.mean(hits))
    assert 0.85 <= coverage <= 0.95, coverage


def test_clv_interval_with_covariate_models(sim: pd.DataFrame) -> None:
    from crmkit.exceptions import InvalidParameterError as Invalid
    from crmkit.value import GammaGamma, clv

    view = sim.iloc[:2000].assign(
        monetary_value=np.where(sim["frequency"].iloc[:2000] > 0, 30.0, 0.0)
        * np.exp(0.1 * np.sin(np.arange(2000)))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spend = GammaGamma().fit(view)
    pm = ParetoNBD(purchase_covariates=["web"], dropout_covariates=["web"]).fit(view)
    out = clv(pm, spend, view.head(20), horizon=52, discount_rate=0.1, interval=0.9)
    assert (out["clv_low"] <= out["clv"]).all() and (out["clv"] <= out["clv_high"]).all()
    assert (out["clv_high"] > out["clv_low"]).all()
    plain = clv(pm, spend, view.head(20), horizon=52, discount_rate=0.1)
    pd.testing.assert_series_equal(out["clv"], plain, check_names=False)
    with pytest.raises(Invalid, match="covariance"):
        clv(
            ParetoNBD.from_params(r=1.0, alpha=1.0, s=1.0, beta=1.0), spend, view,
            horizon=52, discount_rate=0.1, interval=0.9,
        )


def test_shared_covariates_act_equally_on_both_processes(sim: pd.DataFrame, tmp_path: Path) -> None:
    for cls in (ParetoNBD, BetaGeo):
        shared = cls(shared_covariates=["web"]).fit(sim)
        free = cls(purchase_covariates=["web"], dropout_covariates=["web"]).fit(sim)
        plain = cls().fit(sim)
        assert shared.coefficient_names_ == ("shared.web",)
        assert plain.log_likelihood_ <= shared.log_likelihood_ <= free.log_likelihood_ + 1e-6
        assert np.isfinite(shared.coef_standard_errors_).all()
        # the same as purchase and dropout coefficients forced equal
        forced = cls(purchase_covariates=["web"], dropout_covariates=["web"]).fit(sim)
        forced.params_ = shared.params_
        forced.coef_ = np.repeat(shared.coef_, 2)
        np.testing.assert_allclose(
            forced.log_likelihood(sim).sum(), shared.log_likelihood_, rtol=1e-10
        )
        shared.save(tmp_path / "s.json")
        back = crmkit.load(tmp_path / "s.json")
        pd.testing.assert_series_equal(back.p_alive(sim), shared.p_alive(sim))
