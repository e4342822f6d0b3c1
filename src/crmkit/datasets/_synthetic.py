"""A synthetic but realistic B2B CRM with known ground truth: :func:`make_crm`.

The latent process
------------------
Customer ``i`` makes its first purchase at ``t0_i`` (spread from ``start`` to
two weeks before ``as_of``; 30 % in the first quarter). While alive it buys
as a Poisson process with rate ``lambda_i ~ Gamma(r, alpha)`` per time unit,
and it dies after an exponential lifetime with rate ``mu_i ~ Gamma(s, beta)``
(the Pareto/NBD of Schmittlein, Morrison & Colombo 1987). Defaults: ``r =
1.2``, ``alpha = 3.0`` per week (mean 0.4 purchases a week), ``s = 1.5``,
``beta = 250`` per week (mean dropout rate 0.006 a week); ``alpha`` and
``beta`` are rescaled for other time units. The value of a purchase occasion
is ``Gamma(p, nu_i)`` with ``nu_i = nu0_i / (size multiplier x industry
multiplier)``, ``nu0_i ~ Gamma(q, gamma)`` (the Gamma-Gamma spend model of
Fader & Hardie 2013; defaults ``p = 4``, ``q = 3``, ``gamma = 200``), split
over 1 + Poisson order lines by a Dirichlet(2, ..., 2) (lines of at least 1.00).

Firmographics hang on the latent rates through Gaussian copulas, so the
marginals stay exactly Gamma: larger firms have higher ``lambda``; customers
with a lower ``mu`` buy from more product groups and are more satisfied.

Early-warning signals (seed 000) are planted in the 120 days before
``min(death, as_of)`` (at least 7 days after ``t0``): every customer who dies
before ``holdout_end`` gets each signal with the first probability of
``SIGNALS``, everybody else with the second (noise). ``falling_purchases``
thins the purchases of a dying customer linearly down to 15 % of its rate at
death (from ``min(death - 150, as_of - 60)`` days); for a survivor it is a dip
to 30 % from the window start to 60 days after ``as_of``.

Campaign ``K1`` (a cross-sell offer) makes a treated customer who is alive
buy once more in its window with probability ``campaign_uplift``; campaign
``K2`` (a newsletter) has no effect. Touched customers are drawn among the
customers acquired 4 weeks before a campaign and split 50/50 at random.

References
----------
Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your
customers: who are they and what will they do next? Management Science 33(1).
Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary
value.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.data import TIME_UNITS
from crmkit.datasets._synth_args import checked_args, in_background
from crmkit.datasets._synth_campaigns import campaign_records, rate_multiplier
from crmkit.datasets._synth_lines import (
    channels,
    chunks,
    copula_classes,
    day_stamps,
    normal_scores,
    order_lines,
)
from crmkit.datasets._synth_records import (
    SIGNALS,
    World,
    address_text,
    categorical,
    make_prospects,
    make_records,
    poisson_events,
    to_dates,
)

if TYPE_CHECKING:
    from crmkit.data import CustomerData

__all__ = ["make_crm", "SyntheticCRM"]

F = npt.NDArray[np.float64]
I = npt.NDArray[np.int64]  # noqa: E741

INDUSTRIES = ("manufacturing", "retail", "construction", "ict", "healthcare", "logistics",
              "hospitality", "public_sector")  # fmt: skip
INDUSTRY_SHARE = np.array([0.22, 0.16, 0.14, 0.12, 0.10, 0.10, 0.08, 0.08])
INDUSTRY_SPEND = np.array([1.3, 0.9, 1.1, 1.2, 1.0, 1.0, 0.7, 0.8])
SIZES = ("micro", "small", "medium", "large")
SIZE_SHARE = np.array([0.40, 0.30, 0.20, 0.10])
SIZE_SPEND = np.array([1.0, 2.0, 4.5, 10.0])
SIZE_LINES = np.array([0.3, 0.5, 0.8, 1.2])
REGIONS = ("Uusimaa", "Pirkanmaa", "Varsinais-Suomi", "Pohjois-Pohjanmaa", "Keski-Suomi",
           "Satakunta")  # fmt: skip
REGION_SHARE = np.array([0.36, 0.16, 0.14, 0.12, 0.12, 0.10])
CITIES = np.array(["Helsinki", "Tampere", "Turku", "Oulu", "Jyväskylä", "Pori"], dtype=object)
GROUPS = ("equipment", "consumables", "software", "services", "furniture")
PRODUCTS = ("printer", "laptop", "monitor", "scanner", "paper", "toner", "ink", "labels",
            "office_suite", "security_suite", "erp_license", "backup_service", "installation",
            "maintenance", "training", "support_contract", "desk", "chair", "storage",
            "lighting")  # fmt: skip
PRICES = np.array([450, 900, 250, 300, 25, 80, 40, 15, 150, 120, 600, 90, 200, 350, 400, 500,
                   320, 180, 220, 90], dtype=np.float64)  # fmt: skip
LINKED = np.array([3, 0, 3, 2, 1])  # the group each group is co-bought with
COST_RATIO = np.array([0.75, 0.6, 0.3, 0.45, 0.65])
CHANNELS = ("field_sales", "web_shop", "phone", "edi")
CHANNEL_PREF = np.array([[0.1, 0.6, 0.3, 0.0], [0.2, 0.5, 0.25, 0.05], [0.4, 0.3, 0.1, 0.2],
                         [0.5, 0.1, 0.05, 0.35]])  # fmt: skip
#: Industry preference over the product groups (fixed: the same market for every seed).
GROUP_PREF = np.random.default_rng(20240601).dirichlet(np.full(len(GROUPS), 0.9), len(INDUSTRIES))


@attrs.frozen(kw_only=True, eq=False)
class SyntheticCRM:
    """A generated CRM: record frames, dates and the ground truth behind them.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Records of the full period, holdout included, by record kind, with
        the canonical column names (read-only mapping).
    as_of, holdout_end : Timestamp
        End of the calibration and of the holdout period (both inclusive).
    time_unit : {"D", "W", "M"}
        Unit of ``lambda`` and ``mu`` in ``truth``.
    truth : DataFrame
        Per customer (index ``customer_id``): ``lambda``, ``mu``,
        ``lifetime`` (time units), ``death_date`` (NaT after
        ``holdout_end``), ``alive_at_as_of``, ``churned`` (alive at as_of,
        dead by holdout_end), ``nu``, ``mean_spend``, ``satisfaction``,
        ``n_groups``, ``holdout_purchases`` (purchase days), ``holdout_revenue``,
        ``signal_<name>`` for each of ``SIGNALS``, ``n_signals``,
        ``first_address``.
    campaign_truth : DataFrame
        Per campaign (index ``campaign_id``): ``uplift_parameter``,
        ``true_uplift`` (expected conversion probability of the touched
        customers if treated minus if not; conversion = a purchase within the
        campaign dates), ``expected_conversion_control``,
        ``expected_conversion_treatment``, ``n_treatment``, ``n_control``,
        ``has_effect``.
    prospect_truth : DataFrame
        Per prospect: ``good_fit``, ``fit_score`` and the date each pipeline
        stage was reached (``reached_<stage>``, NaT if never).
    params : mapping
        The parameters used (``alpha`` and ``beta`` in ``time_unit``).

    Notes
    -----
    Compares by identity (it holds data frames).

    Attributes
    ----------
    data : CustomerData
        The frames cut at ``as_of`` as a validated container.

    Examples
    --------
    >>> crm = make_crm(60, seed=1)
    >>> sorted(crm.frames)[:3], crm.truth.index.name
    (['campaigns', 'contacts', 'customers'], 'customer_id')
    """

    frames: Mapping[str, pd.DataFrame]
    as_of: pd.Timestamp
    holdout_end: pd.Timestamp
    time_unit: str
    truth: pd.DataFrame
    campaign_truth: pd.DataFrame
    prospect_truth: pd.DataFrame
    params: Mapping[str, Any]
    _cache: dict[str, Any] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    def calibration_frames(self) -> dict[str, pd.DataFrame]:
        """The frames as they looked on ``as_of``: nothing dated after it.

        Rows dated later are dropped; contacts' leaving dates and
        resolutions after ``as_of`` become NaT; addresses and prospects'
        pipeline stages are those of ``as_of``.

        Returns
        -------
        dict of str to DataFrame
            New frames; ``frames`` is not changed.

        Examples
        --------
        >>> crm = make_crm(60, seed=1)
        >>> cut = crm.calibration_frames()
        >>> bool(cut["transactions"]["date"].max() <= crm.as_of)
        True
        """
        return _cut(self, self.as_of)

    @property
    def data(self) -> CustomerData:
        """The :class:`crmkit.data.CustomerData` of the frames cut at ``as_of`` (cached).

        Returns
        -------
        CustomerData

        Examples
        --------
        >>> crm = make_crm(60, seed=1)
        >>> crm.data.as_of == crm.as_of
        True
        """
        if "data" not in self._cache:
            from crmkit.data import CustomerData

            cut = self.calibration_frames()
            self._cache["data"] = CustomerData.from_frames(
                cut["transactions"],
                customers=cut["customers"],
                contacts=cut["contacts"],
                interactions=cut["interactions"],
                feedback=cut["feedback"],
                events=cut["events"],
                campaigns=cut["campaigns"],
                touches=cut["touches"],
                prospects=cut["prospects"],
                as_of=self.as_of,
                time_unit=self.time_unit,
            )
        data: CustomerData = self._cache["data"]
        return data


def _cut(crm: SyntheticCRM, when: pd.Timestamp) -> dict[str, pd.DataFrame]:
    f = crm.frames
    date_col = {"transactions": "date", "interactions": "date", "feedback": "date",
                "events": "date", "touches": "date", "campaigns": "start",
                "contacts": "active_from", "customers": "customer_since",
                "prospects": "created"}  # fmt: skip
    out = {kind: _rows(df, (df[date_col[kind]] <= when).to_numpy()) for kind, df in f.items()}
    out["contacts"]["left_date"] = out["contacts"]["left_date"].where(
        out["contacts"]["left_date"] <= when
    )
    fb = out["feedback"]
    fb["resolved_date"] = fb["resolved_date"].where(fb["resolved_date"] <= when)
    moves = out["events"].loc[out["events"]["kind"] == "address_change"]
    latest = moves.groupby("customer_id")["detail"].last()
    cust = out["customers"]
    first = crm.truth["first_address"].reindex(cust["customer_id"]).to_numpy()
    moved = latest.reindex(cust["customer_id"]).to_numpy()
    cust["address"] = pd.array(np.where(pd.isna(moved), first, moved), dtype="str")
    reached = crm.prospect_truth.reindex(out["prospects"]["prospect_id"])
    stage = pd.Series("identified", index=reached.index, dtype=object)
    for name in ("marketing", "offer", "negotiation", "order"):
        stage = stage.where(~(reached[f"reached_{name}"] <= when), name)
    out["prospects"]["stage"] = pd.Categorical(
        stage.to_numpy(), categories=out["prospects"]["stage"].cat.categories
    )
    return {kind: df.reset_index(drop=True) for kind, df in out.items()}


def _rows(df: pd.DataFrame, keep: npt.NDArray[np.bool_]) -> pd.DataFrame:
    """The rows of ``keep``: a view when they are the first rows (records in date order)."""
    k = int(np.count_nonzero(keep))
    out: pd.DataFrame = df.iloc[:k] if bool(keep[:k].all()) else df.loc[keep]
    return out


def _product_weights(rng: np.random.Generator, industry: I, breadth: I) -> F:
    n = len(industry)
    keys = np.log(GROUP_PREF[industry]) + rng.gumbel(size=(n, len(GROUPS)))
    order = np.argsort(-keys, axis=1)
    chosen = np.zeros((n, len(GROUPS)))
    for k in range(3):
        take = breadth > k
        chosen[np.flatnonzero(take), order[take, k]] = 1.0
    linked = np.zeros_like(chosen)
    for g in range(len(GROUPS)):
        linked[:, LINKED[g]] = np.maximum(linked[:, LINKED[g]], chosen[:, g])
    group_w = chosen + 0.15 * linked * (1.0 - chosen)
    w = np.repeat(group_w, 4, axis=1) * rng.gamma(0.7, 1.0, (n, len(PRODUCTS)))
    w += 1e-12
    return np.asarray(w / w.sum(axis=1, keepdims=True), dtype=np.float64)


def make_crm(
    n_customers: int = 2000,
    *,
    seed: int = 0,
    start: Any = "2023-01-01",
    as_of: Any = "2025-06-30",
    holdout_end: Any = "2025-12-31",
    n_prospects: int | None = None,
    time_unit: str = "W",
    r: float = 1.2,
    alpha: float | None = None,
    s: float = 1.5,
    beta: float | None = None,
    p: float = 4.0,
    q: float = 3.0,
    gamma: float = 200.0,
    campaign_uplift: float = 0.25,
) -> SyntheticCRM:
    """Generate a synthetic B2B CRM with known ground truth.

    See the module notes for the latent process. The same arguments always
    give identical frames.

    Parameters
    ----------
    n_customers : int, default=2000
        Customers (all acquired before ``as_of``).
    seed : int, default=0
        Random seed.
    start, as_of, holdout_end : date-like
        First day of the data, end of calibration, end of the holdout
        (``as_of`` at least 180 days after ``start``).
    n_prospects : int, optional
        Prospects; default ``n_customers // 2``.
    time_unit : {"D", "W", "M"}, default="W"
        Unit of the rates ``lambda`` and ``mu``.
    r, s : float, default=1.2, 1.5
        Gamma shapes of the purchase and dropout rates.
    alpha, beta : float, optional
        Gamma rates of the purchase and dropout rates, per ``time_unit``;
        default 3.0 and 250.0 per week, rescaled.
    p, q, gamma : float, default=4.0, 3.0, 200.0
        Gamma-Gamma spend parameters (``gamma`` in money units).
    campaign_uplift : float, default=0.25
        Probability that campaign K1 makes an alive treated customer buy.

    Returns
    -------
    SyntheticCRM

    Raises
    ------
    InvalidParameterError
        For a bad parameter or date order.

    Examples
    --------
    >>> crm = make_crm(200, seed=3)
    >>> len(crm.frames["customers"]), crm.truth["churned"].dtype
    (200, dtype('bool'))
    """
    t_start, t_as_of, t_end, alpha, beta = checked_args(
        n_customers, seed, start, as_of, holdout_end, n_prospects, time_unit, r, alpha, s, beta,
        p, q, gamma, campaign_uplift,
    )  # fmt: skip
    n, unit = n_customers, TIME_UNITS[time_unit]
    ss = np.random.SeedSequence(seed)
    g_latent, g_firm, g_signal, g_buy, g_world = (np.random.default_rng(x) for x in ss.spawn(5))
    cal_end = float((t_as_of - t_start).days + 1)
    end = float((t_end - t_start).days + 1)
    lat = _latent(g_latent, g_firm, n, (r, alpha, s, beta, p, q, gamma), cal_end, unit)
    w, decay_from = _world(g_signal, g_world, lat, cal_end, end, unit, t_start)
    g_camp, *g_records, g_pros = (w.child() for _ in range(6))  # each component's own stream
    n_pros = n // 2 if n_prospects is None else n_prospects
    firm, camp, side = in_background(  # g_firm draws these first, then the customers'
        lambda: _firm_draws(g_firm, lat),
        lambda: campaign_records(w, decay_from, campaign_uplift, g_camp),
        lambda: _side_frames(w, lat, (*g_records, g_pros, g_firm), n_pros, end),
    )
    transactions, occasions, hold_revenue, campaign_frames = _purchases(
        w, lat, g_buy, (firm, camp), decay_from, p
    )
    records, (prospects, prospect_truth), (customers, first_address) = side()
    campaigns, touches, campaign_truth = campaign_frames
    truth = _truth(w, lat, occasions, hold_revenue, first_address)
    frames = {"transactions": transactions, "customers": customers, **records,
              "campaigns": campaigns, "touches": touches, "prospects": prospects}  # fmt: skip
    params = {"r": r, "alpha": alpha, "s": s, "beta": beta, "p": p, "q": q, "gamma": gamma,
              "campaign_uplift": campaign_uplift, "time_unit": time_unit, "seed": seed,
              "signals": dict(SIGNALS)}  # fmt: skip
    return SyntheticCRM(frames=types.MappingProxyType(frames), as_of=t_as_of, holdout_end=t_end,
                        time_unit=time_unit, truth=truth, campaign_truth=campaign_truth,
                        prospect_truth=prospect_truth,
                        params=types.MappingProxyType(params))  # fmt: skip


@attrs.frozen(kw_only=True, eq=False)
class _Latent:
    """The latent rates and firmographics of every customer (days since ``start``)."""

    lam: F
    mu: F
    nu: F
    day0: F
    t0: F
    lifetime: F
    death: F
    size: I
    breadth: I
    satisfaction: F
    industry: I
    region: I
    mean_spend: F
    value_rate: F
    key: npt.NDArray[np.bool_]


def _latent(
    g_latent: np.random.Generator, g_firm: np.random.Generator, n: int,
    shape: tuple[float, ...], cal_end: float, unit: float,
) -> _Latent:  # fmt: skip
    """Purchase, dropout and spend rates, first purchases, lifetimes and firmographics."""
    r, alpha, s, beta, p, q, gamma = shape
    lam = g_latent.gamma(r, 1.0 / alpha, n)
    mu = g_latent.gamma(s, 1.0 / beta, n)
    nu = g_latent.gamma(q, 1.0 / gamma, n)
    early = g_latent.random(n) < 0.3
    day0 = np.floor(g_latent.random(n) * np.where(early, 90.0, cal_end - 14.0))
    t0 = day0 + g_latent.random(n)
    lifetime = g_latent.exponential(1.0, n) / mu
    z_lam, z_mu = normal_scores(lam), normal_scores(mu)
    size = copula_classes(g_firm, z_lam, 0.6, SIZE_SHARE)
    breadth = 1 + copula_classes(g_firm, -z_mu, 0.6, np.array([0.45, 0.35, 0.20]))
    satisfaction = -0.5 * z_mu + np.sqrt(0.75) * g_firm.standard_normal(n)
    industry = g_firm.choice(len(INDUSTRIES), n, p=INDUSTRY_SHARE)
    region = g_firm.choice(len(REGIONS), n, p=REGION_SHARE)
    nu = nu / (SIZE_SPEND[size] * INDUSTRY_SPEND[industry])
    mean_spend = p / nu
    value_rate = lam * mean_spend
    key = value_rate >= np.quantile(value_rate, 0.95) if n else np.zeros(0, dtype=bool)
    return _Latent(lam=lam, mu=mu, nu=nu, day0=day0, t0=t0, lifetime=lifetime,
                   death=t0 + lifetime * unit, size=size, breadth=breadth,
                   satisfaction=satisfaction, industry=industry, region=region,
                   mean_spend=mean_spend, value_rate=value_rate, key=key)  # fmt: skip


def _world(
    g_signal: np.random.Generator, g_world: np.random.Generator, lat: _Latent, cal_end: float,
    end: float, unit: float, t_start: pd.Timestamp,
) -> tuple[World, F]:  # fmt: skip
    """The world (planted signals and their windows) and when purchases start to fall."""
    n, t0, death = len(lat.lam), lat.t0, lat.death
    dying = death <= end
    win_end = np.minimum(death, cal_end)
    win_start = np.maximum(t0 + 7.0, win_end - 120.0)
    valid = win_end - win_start >= 7.0
    signals = {name: valid & (g_signal.random(n) < np.where(dying, pd_, p_base))
               for name, (pd_, p_base) in SIGNALS.items()}  # fmt: skip
    fall = signals["falling_purchases"]
    decay_from = np.where(dying, np.maximum(t0, np.minimum(death - 150.0, cal_end - 60.0)),
                          win_start)  # fmt: skip
    decay_from = np.where(fall, decay_from, np.nan)
    ids = np.arange(1, n + 1, dtype=np.int64)
    w = World(rng=g_world, n=n, ids=ids, t0=t0, death=death, lam_day=lat.lam / unit,
              size=lat.size, key=lat.key, satisfaction=lat.satisfaction, cal_end=cal_end,
              end=end, win_start=win_start, win_end=win_end, signals=signals,
              start=np.datetime64(t_start.date(), "ns"))  # fmt: skip
    return w, decay_from


def _firm_draws(g_firm: np.random.Generator, lat: _Latent) -> list[Any]:
    """Each customer's product weights and preferred channel (drawn from ``g_firm``)."""
    weights = _product_weights(g_firm, lat.industry, lat.breadth)
    pref_channel = (g_firm.random(len(lat.size))[:, None] > np.cumsum(
        CHANNEL_PREF[lat.size], axis=1)).sum(1)  # fmt: skip
    return [weights, pref_channel]


def _side_frames(
    w: World, lat: _Latent, rngs: tuple[np.random.Generator, ...], n_pros: int, end: float
) -> tuple[
    dict[str, pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame], tuple[pd.DataFrame, Any]
]:  # fmt: skip
    """The records, the prospects and the customers, each from its own stream (a thread's work:
    the transactions draw from other generators)."""  # fmt: skip
    *g_records, g_pros, g_firm = rngs
    records = make_records(w, CITIES[lat.region], g_records)
    prospects = make_prospects(g_pros, n_pros, lat.industry, lat.size, lat.value_rate,
                               INDUSTRIES, SIZES, REGIONS, end, w.start)  # fmt: skip
    return records, prospects, _customers(w, lat, g_firm, records)


def _purchases(
    w: World,
    lat: _Latent,
    g_buy: np.random.Generator,
    soon: tuple[Callable[[], Any], Callable[[], Any]],
    decay_from: F,
    p: float,
) -> tuple[pd.DataFrame, tuple[I, I], F, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """Purchase occasions (the first, Poisson repeats thinned by falling purchases,
    campaign responses) and their order lines.

    Returns the transactions, the occasions' (owner, day), each customer's
    holdout revenue and the campaign frames (campaigns, touches, truth).
    """  # fmt: skip
    n = w.n
    owner, t = poisson_events(g_buy, w.lam_day, lat.t0, w.alive_until())
    keep = g_buy.random(len(t)) < rate_multiplier(w, decay_from, owner, t)
    c_owner, c_t, campaigns, touches, campaign_truth = soon[1]()  # from a second thread
    owner = np.concatenate([np.arange(n, dtype=np.int64), owner[keep], c_owner])
    times = np.concatenate([lat.t0, t[keep], c_t])
    day = np.floor(times, out=times).astype(np.int64)
    del t, keep, times
    firm = soon[0]()  # (weights, preferred channel), drawn on a second thread
    weights, pref_channel = firm
    firm.clear()  # no reference left elsewhere: ``weights`` is freed after the order lines
    order, k, product, amount = order_lines(
        g_buy, owner, day, (1.0 / lat.nu)[owner], SIZE_LINES[lat.size][owner], weights, p
    )
    del weights
    channel = channels(g_buy, owner, lat.size, pref_channel, CHANNEL_PREF)[order]
    owner_s, day_s = owner[order], day[order]  # occasions in date order
    del order
    quantity = PRICES[product]  # each line-sized array made once and reused in place
    np.divide(amount, quantity, out=quantity)
    np.maximum(1.0, np.round(quantity, out=quantity), out=quantity)
    cost = COST_RATIO[np.arange(len(PRODUCTS)) // 4][product]
    np.multiply(amount, cost, out=cost)
    for a, b in chunks(len(cost)):  # the same draws as one call, without a line-sized temporary
        cost[a:b] *= g_buy.uniform(0.9, 1.1, b - a)
    # the holdout revenue of the truth: the holdout lines, in date order (zeros add nothing)
    hold = day_s >= w.cal_end
    hold_owner, hold_amount = np.repeat(owner_s[hold], k[hold]), amount[np.repeat(hold, k)]
    hold_revenue: F = np.round(np.bincount(hold_owner, weights=hold_amount, minlength=n), 2)
    del hold, hold_owner, hold_amount
    transactions: pd.DataFrame = pd.DataFrame({
        "customer_id": np.repeat(w.ids[owner_s], k),
        "date": np.repeat(day_stamps(w.start, day_s), k),
        "amount": amount,
        "product": categorical(product, PRODUCTS),
        "quantity": quantity,
        "channel": categorical(np.repeat(channel, k), CHANNELS),
        "cost": np.round(cost, 2, out=cost),
    }, copy=False)  # fresh arrays: no copy into blocks  # fmt: skip
    return transactions, (owner, day), hold_revenue, (campaigns, touches, campaign_truth)


def _customers(
    w: World, lat: _Latent, g_firm: np.random.Generator, records: Mapping[str, pd.DataFrame]
) -> tuple[pd.DataFrame, npt.NDArray[Any]]:
    """The customers frame (address after the last move) and each first address."""
    n, ids, size, industry = w.n, w.ids, lat.size, lat.industry
    first_address = address_text(g_firm, CITIES[lat.region])
    moves = records["events"].loc[records["events"]["kind"] == "address_change"]
    latest = moves.groupby("customer_id")["detail"].last().reindex(ids)
    names = (np.array(["Nordic", "Aurora", "Kivi", "Lakeside", "Polar", "Saimaa", "Boreal",
                       "Koivu", "Arctic", "Meri"], dtype=object)[g_firm.integers(0, 10, n)]
             + " " + np.array([i.split("_")[0].capitalize() for i in INDUSTRIES],
                              dtype=object)[industry]
             + np.where(size == 3, " Oyj", " Oy").astype(object))  # fmt: skip
    customers = pd.DataFrame({
        "customer_id": ids, "name": pd.array(names, dtype="str"),
        "industry": categorical(industry, INDUSTRIES),
        "size_class": categorical(size, SIZES, ordered=True),
        "region": categorical(lat.region, REGIONS),
        "address": pd.array(latest.fillna(pd.Series(first_address, index=ids)).to_numpy(),
                            dtype="str"),
        "key_account": lat.key, "customer_since": to_dates(w.start, lat.day0),
    })  # fmt: skip
    return customers, first_address


def _truth(
    w: World, lat: _Latent, occasions: tuple[I, I], hold_revenue: F,
    first_address: npt.NDArray[Any],
) -> pd.DataFrame:  # fmt: skip
    """The ground truth per customer (see :class:`SyntheticCRM`)."""
    owner, occ_day = occasions
    n, death, cal_end, signals = w.n, lat.death, w.cal_end, w.signals
    dying = death <= w.end
    hold = occ_day >= cal_end
    hold_days = pd.DataFrame({"o": owner[hold], "d": occ_day[hold]}).drop_duplicates()
    truth: pd.DataFrame = pd.DataFrame({
        "lambda": lat.lam, "mu": lat.mu, "lifetime": lat.lifetime,
        "death_date": to_dates(w.start, np.where(dying, death, np.nan)),
        "alive_at_as_of": death > cal_end, "churned": (death > cal_end) & dying,
        "nu": lat.nu, "mean_spend": lat.mean_spend, "satisfaction": lat.satisfaction,
        "n_groups": lat.breadth,
        "holdout_purchases": np.bincount(hold_days["o"].to_numpy(), minlength=n),
        "holdout_revenue": hold_revenue,
        **{f"signal_{k}": v for k, v in signals.items()},
        "n_signals": np.sum(list(signals.values()), axis=0).astype(np.int64) if n else 0,
        "first_address": pd.array(first_address, dtype="str"),
    }, index=pd.Index(w.ids, name="customer_id"))  # fmt: skip
    return truth
