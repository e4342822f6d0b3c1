"""Records around the purchases of the synthetic CRM (see ``_synthetic.make_crm``).

Contacts, sellers' interactions, feedback, profile-change events and
prospects, all generated from the latent customer world (:class:`World`)
with vectorised numpy: events of one kind are a Poisson process per
customer, drawn as counts, repeated owners and uniform times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.datasets._synth_lines import date_sorted

__all__ = [
    "World",
    "SIGNALS",
    "make_records",
    "make_prospects",
    "poisson_events",
    "to_dates",
    "address_text",
    "categorical",
]

F = npt.NDArray[np.float64]
I = npt.NDArray[np.int64]  # noqa: E741
B = npt.NDArray[np.bool_]
YEAR = 365.25

#: Early-warning signals planted before death (seed 000), with the probability
#: that a customer who dies before the holdout end gets it and the base rate
#: for everybody else (noise).
SIGNALS: Mapping[str, tuple[float, float]] = {
    "negative_feedback": (0.55, 0.05),
    "complaint": (0.40, 0.04),
    "falling_purchases": (0.50, 0.04),
    "address_change": (0.25, 0.02),
    "contact_left": (0.35, 0.04),
}

ROLES = np.array(["purchaser", "ceo", "cfo", "technical", "user", "procurement"], dtype=object)
COMPLAINTS = np.array(
    [
        "Delivery was late",
        "Invoice was wrong",
        "Product was faulty",
        "Slow customer service",
        "Wrong items delivered",
    ],
    dtype=object,
)
SUGGESTIONS = np.array(
    [
        "Offer an online ordering portal",
        "Bundle service with equipment",
        "Send invoices monthly",
        "Add a volume discount",
    ],
    dtype=object,
)
FEEDBACK_KINDS = ("nps", "csat", "ces", "complaint", "suggestion")
STREETS = np.array(
    ["Rantatie", "Koulukatu", "Teollisuustie", "Kauppakatu", "Puistotie", "Asemakatu"],
    dtype=object,
)


@attrs.define(kw_only=True)
class World:
    """The latent state of every customer, in days since ``start`` (day 0).

    Attributes
    ----------
    rng : Generator
        Parent generator; components spawn their own streams from it.
    n : int
        Number of customers.
    ids : ndarray of int64, shape (n,)
        Customer ids.
    t0 : ndarray of float, shape (n,)
        Time of the first purchase.
    death : ndarray of float, shape (n,)
        Time of death (may lie far beyond the data).
    lam_day : ndarray of float, shape (n,)
        Purchase rate per day.
    size : ndarray of int64, shape (n,)
        Size class index (0 micro .. 3 large).
    key : ndarray of bool, shape (n,)
        Key-account flag.
    satisfaction : ndarray of float, shape (n,)
        Latent satisfaction, standard normal, lower for higher dropout rates.
    cal_end, end : float
        End of the as-of day and of the holdout end day.
    win_start, win_end : ndarray of float, shape (n,)
        Signal window (empty when ``win_end <= win_start``).
    signals : dict of str to ndarray of bool
        Planted signals.
    start : numpy.datetime64
        Day 0.
    """

    rng: np.random.Generator
    n: int
    ids: I
    t0: F
    death: F
    lam_day: F
    size: I
    key: B
    satisfaction: F
    cal_end: float
    end: float
    win_start: F
    win_end: F
    signals: dict[str, B]
    start: np.datetime64

    def child(self) -> np.random.Generator:
        """A new generator seeded from the parent stream, one per component.

        Returns
        -------
        Generator

        Examples
        --------
        >>> w = _tiny_world()
        >>> isinstance(w.child(), np.random.Generator)
        True
        """
        return np.random.default_rng(self.rng.integers(0, 2**63))

    def alive_until(self) -> F:
        """When each customer stops being observable: death or the holdout end.

        Returns
        -------
        ndarray of float, shape (n,)

        Examples
        --------
        >>> _tiny_world().alive_until().tolist()
        [50.0, 100.0]
        """
        return np.minimum(self.death, self.end)


def _tiny_world() -> World:
    """A two-customer world for the examples."""
    f = np.array
    return World(
        rng=np.random.default_rng(0),
        n=2,
        ids=f([1, 2], dtype=np.int64),
        t0=f([0.5, 3.5]),
        death=f([50.0, 1e9]),
        lam_day=f([0.1, 0.05]),
        size=f([0, 3], dtype=np.int64),
        key=f([False, True]),
        satisfaction=f([-1.0, 0.5]),
        cal_end=80.0,
        end=100.0,
        win_start=f([10.0, 60.0]),
        win_end=f([50.0, 80.0]),
        signals={name: f([True, False]) for name in SIGNALS},
        start=np.datetime64("2024-01-01", "ns"),
    )


def categorical(
    codes: npt.NDArray[np.integer[Any]], names: Sequence[str], ordered: bool = False
) -> pd.Categorical[str]:
    """A categorical from integer codes and category names.

    Parameters
    ----------
    codes : ndarray of int
        Category index of every value.
    names : sequence of str
        The categories.
    ordered : bool, default=False
        Whether the categories are ordered.

    Returns
    -------
    Categorical

    Examples
    --------
    >>> list(categorical(np.array([1, 0]), ["a", "b"]))
    ['b', 'a']
    """
    cats: pd.Index[str] = pd.Index(list(names))
    out: pd.Categorical[str] = pd.Categorical.from_codes(codes, categories=cats, ordered=ordered)
    return out


def to_dates(start: np.datetime64, days: F) -> npt.NDArray[np.datetime64]:
    """Calendar dates (``datetime64[ns]``, midnight) of times in days since ``start``.

    Parameters
    ----------
    start : numpy.datetime64
        Day 0.
    days : ndarray of float
        Times; NaN gives NaT.

    Returns
    -------
    ndarray of datetime64[ns]

    Examples
    --------
    >>> days = to_dates(np.datetime64("2024-01-01", "ns"), np.array([0.9, 31.2, np.nan]))
    >>> [str(d) for d in days.astype("datetime64[D]")]
    ['2024-01-01', '2024-02-01', 'NaT']
    """
    nat = np.isnan(days)
    ns = np.floor(np.where(nat, 0.0, days)).astype(np.int64)
    ns *= 86_400_000_000_000  # one integer pass instead of two timedelta casts
    ns += start.astype("datetime64[ns]").astype(np.int64)
    ns[nat] = np.iinfo(np.int64).min  # NaT
    out: npt.NDArray[np.datetime64] = ns.view("datetime64[ns]")
    return out


def poisson_events(rng: np.random.Generator, rate: F, lo: F, hi: F) -> tuple[I, F]:
    """Event times of independent Poisson processes, one per owner.

    Parameters
    ----------
    rng : Generator
        Random source.
    rate : ndarray of float, shape (n,)
        Events per day.
    lo, hi : ndarray of float, shape (n,)
        Observation interval of each owner (empty when ``hi <= lo``).

    Returns
    -------
    owner : ndarray of int64
        Owner index of each event (grouped by owner).
    times : ndarray of float
        Event times.

    Examples
    --------
    >>> owner, t = poisson_events(np.random.default_rng(0), np.array([1.0, 0.0]),
    ...                           np.array([0.0, 0.0]), np.array([100.0, 100.0]))
    >>> bool((owner == 0).all()), bool(((t >= 0) & (t < 100)).all()), 60 < len(t) < 140
    (True, True, True)
    """
    span = np.maximum(hi - lo, 0.0)
    counts = rng.poisson(rate * span)
    owner = np.repeat(np.arange(len(rate), dtype=np.int64), counts)
    times = rng.random(len(owner))  # lo + u * span, in place (the same values)
    times *= span[owner]
    times += lo[owner]
    return owner, times


def _in_window(rng: np.random.Generator, w: World, mask: B) -> F:
    """One uniform time in each customer's signal window (NaN outside ``mask``)."""
    t = w.win_start + rng.random(w.n) * np.maximum(w.win_end - w.win_start, 0.0)
    return np.where(mask, t, np.nan)


def _contacts(w: World, rng: np.random.Generator) -> pd.DataFrame:
    mean_extra = np.array([0.5, 1.2, 2.2, 3.2])[w.size]
    n_contacts = np.clip(1 + rng.poisson(mean_extra), 1, 6)
    owner = np.repeat(np.arange(w.n, dtype=np.int64), n_contacts)
    first = np.r_[True, owner[1:] != owner[:-1]]
    m = len(owner)
    role_first = np.where(w.size[owner] == 0, 1, 0)
    role = np.where(first, role_first, rng.integers(0, len(ROLES), m))
    dm_prob = np.where(np.isin(role, [1, 2, 5]), 0.5, 0.15)
    decision = first | (rng.random(m) < dm_prob)
    influence = np.where(decision, rng.beta(6.0, 2.0, m), rng.beta(2.0, 4.0, m))
    t0 = w.t0[owner]
    late = rng.random(m) < 0.5
    joined = t0 + rng.random(m) * (w.alive_until()[owner] - t0)
    active = np.where(first, t0 - rng.random(m) * 60.0, np.where(late, joined, t0 - 1.0))
    leave = active + rng.exponential(YEAR / 0.08, m)
    leave = np.where(leave < w.end, leave, np.nan)
    planted = _in_window(rng, w, w.signals["contact_left"])[owner]
    leave = np.where(first & ~np.isnan(planted), planted, leave)
    leave = np.where(leave < active, active, leave)
    out: pd.DataFrame = pd.DataFrame(
        {
            "customer_id": w.ids[owner],
            "contact_id": np.arange(1, m + 1, dtype=np.int64),
            "role": categorical(role, list(ROLES)),
            "decision_maker": decision,
            "influence": np.round(influence, 3),
            "active_from": to_dates(w.start, active),
            "left_date": to_dates(w.start, leave),
        }
    )
    return out


def _interactions(w: World, rng: np.random.Generator) -> pd.DataFrame:
    n_sellers = max(2, int(np.ceil(w.n / 80)))
    sellers = [f"S{i + 1:03d}" for i in range(n_sellers)]
    primary = rng.integers(0, n_sellers, w.n)
    per_year = np.array([2.0, 4.0, 8.0, 12.0])[w.size] * np.where(w.key, 2.0, 1.0)
    owner, t = poisson_events(rng, per_year / YEAR, w.t0 - 30.0, np.full(w.n, w.end))
    keep = (t < w.death[owner]) | (rng.random(len(t)) < 0.3)
    owner, t = owner[keep], t[keep]
    m = len(owner)
    seller = np.where(rng.random(m) < 0.85, primary[owner], rng.integers(0, n_sellers, m))
    kinds = ["visit", "call", "email", "meeting"]
    kind = rng.choice(4, size=m, p=[0.3, 0.35, 0.25, 0.1])
    out: pd.DataFrame = pd.DataFrame(
        {
            "customer_id": w.ids[owner],
            "date": to_dates(w.start, t),
            "seller": categorical(seller, sellers),
            "kind": categorical(kind, kinds),
        }
    )
    return date_sorted(out)


def _scores(
    rng: np.random.Generator, sat: F, centre: float, slope: float, sd: float, low: int, high: int
) -> F:
    raw = centre + slope * sat + rng.normal(0.0, sd, len(sat))
    return np.clip(np.round(raw), low, high)


def _feedback(w: World, rng: np.random.Generator) -> pd.DataFrame:
    hi = w.alive_until()
    parts: list[pd.DataFrame] = []

    def add(owner: I, t: F, kind: str, score: F, text: Any, resolved: F) -> None:
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": w.ids[owner],
                    "date": to_dates(w.start, t),
                    "kind": np.full(len(owner), FEEDBACK_KINDS.index(kind), dtype=np.int8),
                    "score": score,
                    "text": text,
                    "resolved_date": to_dates(w.start, resolved),
                }
            )
        )

    surveys = {"nps": (1.0, 7.2, 1.6, 1.2, 0, 10), "csat": (2.0, 3.9, 0.7, 0.6, 1, 5),
               "ces": (1.0, 5.2, 0.9, 0.9, 1, 7)}  # fmt: skip
    for kind, (per_year, centre, slope, sd, low, high) in surveys.items():
        owner, t = poisson_events(rng, np.full(w.n, per_year / YEAR), w.t0, hi)
        score = _scores(rng, w.satisfaction[owner], centre, slope, sd, low, high)
        add(owner, t, kind, score, None, np.full(len(t), np.nan))
    for kind, per_year, texts, p_resolve, days in (
        ("complaint", 0.25, COMPLAINTS, 0.93, 10.0),
        ("suggestion", 0.2, SUGGESTIONS, 0.7, 25.0),
    ):
        rate = per_year / YEAR * np.exp(-0.5 * w.satisfaction)
        owner, t = poisson_events(rng, rate, w.t0, hi)
        m = len(t)
        resolved = t + 1.0 + rng.exponential(days, m)
        resolved = np.where((rng.random(m) < p_resolve) & (resolved < w.end), resolved, np.nan)
        add(owner, t, kind, np.full(m, np.nan), texts[rng.integers(0, len(texts), m)], resolved)
    # Planted negative feedback: an NPS detractor (0..5) or a CSAT of 1..2.
    neg = _in_window(rng, w, w.signals["negative_feedback"])
    owner = np.flatnonzero(~np.isnan(neg))
    nps = rng.random(len(owner)) < 0.6
    score = np.where(nps, rng.integers(0, 6, len(owner)), rng.integers(1, 3, len(owner)))
    for flag, kind in ((nps, "nps"), (~nps, "csat")):
        add(owner[flag], neg[owner[flag]], kind, score[flag].astype(np.float64), None,
            np.full(int(flag.sum()), np.nan))  # fmt: skip
    # Planted complaint, more often left unresolved before death.
    comp = _in_window(rng, w, w.signals["complaint"])
    owner = np.flatnonzero(~np.isnan(comp))
    t = comp[owner]
    p_open = np.where(w.death[owner] <= w.end, 0.6, 0.25)
    resolved = t + 2.0 + rng.exponential(10.0, len(t))
    resolved = np.where((rng.random(len(t)) >= p_open) & (resolved < w.end), resolved, np.nan)
    add(owner, t, "complaint", np.full(len(t), np.nan),
        COMPLAINTS[rng.integers(0, len(COMPLAINTS), len(t))], resolved)  # fmt: skip
    out = pd.concat(parts, ignore_index=True)
    out["kind"] = categorical(out["kind"].to_numpy(), FEEDBACK_KINDS)
    out["text"] = out["text"].astype("str").where(out["text"].notna(), None)
    return date_sorted(out)


def address_text(rng: np.random.Generator, city: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Random street addresses in the given cities.

    Parameters
    ----------
    rng : Generator
        Random source.
    city : ndarray of str
        City of each address.

    Returns
    -------
    ndarray of str (object)

    Examples
    --------
    >>> address_text(np.random.default_rng(1), np.array(["Tampere"], dtype=object))[0]
    '... ..., ... Tampere'
    """
    m = len(city)
    street = STREETS[rng.integers(0, len(STREETS), m)]
    number = rng.integers(1, 120, m).astype(str).astype(object)
    code = np.array([f"{c:05d}" for c in rng.integers(100, 99_000, m)], dtype=object)
    out: npt.NDArray[Any] = street + " " + number + ", " + code + " " + city
    return out


def _events(w: World, city: npt.NDArray[Any], rng: np.random.Generator) -> pd.DataFrame:
    hi = w.alive_until()
    owner_a, t_a = poisson_events(rng, np.full(w.n, 0.04 / YEAR), w.t0, hi)
    planted = _in_window(rng, w, w.signals["address_change"])
    extra = np.flatnonzero(~np.isnan(planted))
    owner_a = np.r_[owner_a, extra]
    t_a = np.r_[t_a, planted[extra]]
    owner_n, t_n = poisson_events(rng, np.full(w.n, 0.01 / YEAR), w.t0, hi)
    detail_n = np.full(len(owner_n), "trade name changed", dtype=object)
    out = pd.DataFrame(
        {
            "customer_id": w.ids[np.r_[owner_a, owner_n]],
            "date": to_dates(w.start, np.r_[t_a, t_n]),
            "kind": pd.Categorical(
                ["address_change"] * len(owner_a) + ["name_change"] * len(owner_n),
                categories=["address_change", "name_change"],
            ),
            "detail": np.r_[address_text(rng, city[owner_a]), detail_n],
        }
    )
    out["detail"] = out["detail"].astype("str")
    return date_sorted(out)


def make_records(
    w: World, city: npt.NDArray[Any], rngs: Sequence[np.random.Generator] | None = None
) -> dict[str, pd.DataFrame]:
    """Contacts, interactions, feedback and events of the world.

    Parameters
    ----------
    w : World
        The latent customers.
    city : ndarray of str, shape (n,)
        Each customer's city (for new addresses).
    rngs : sequence of 4 Generator, optional
        The streams of contacts, interactions, feedback and events; default
        four ``w.child()`` drawn in that order.

    Returns
    -------
    dict of str to DataFrame
        Keys ``contacts``, ``interactions``, ``feedback``, ``events`` with the
        canonical columns.

    Examples
    --------
    >>> frames = make_records(_tiny_world(), np.array(["Oulu", "Turku"], dtype=object))
    >>> sorted(frames)
    ['contacts', 'events', 'feedback', 'interactions']
    """
    g = [w.child() for _ in range(4)] if rngs is None else list(rngs)
    return {
        "contacts": _contacts(w, g[0]),
        "interactions": _interactions(w, g[1]),
        "feedback": _feedback(w, g[2]),
        "events": _events(w, city, g[3]),
    }


PIPELINE = ("identified", "marketing", "offer", "negotiation", "order")
MARKET_INDUSTRY = np.array([0.14, 0.20, 0.16, 0.08, 0.12, 0.08, 0.12, 0.10])
MARKET_SIZE = np.array([0.55, 0.27, 0.13, 0.05])
MARKET_REGION = np.array([0.30, 0.17, 0.15, 0.14, 0.13, 0.11])


def make_prospects(
    rng: np.random.Generator,
    m: int,
    industry: I,
    size: I,
    value_rate: F,
    industries: tuple[str, ...],
    sizes: tuple[str, ...],
    regions: tuple[str, ...],
    end: float,
    start: np.datetime64,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prospects from the market, with a ground-truth fit to the best customers.

    The best customers are the top 20 % by ``value_rate``. The fit score of
    an industry x size cell is the log lift of its (smoothed) share of best
    customers; a prospect's ``fit_score`` is its cell's score plus noise and
    the top quarter are ``good_fit``. Good fits advance further in the
    pipeline; each step takes an exponential time with a 30-day mean.

    Parameters
    ----------
    rng : Generator
        Random source.
    m : int
        Number of prospects.
    industry, size : ndarray of int64
        Customers' industry and size class indexes.
    value_rate : ndarray of float
        Customers' expected spend per time unit.
    industries, sizes, regions : tuple of str
        Category names.
    end : float
        Day after the last day of the data.
    start : numpy.datetime64
        Day 0.

    Returns
    -------
    prospects : DataFrame
        Canonical ``prospects`` columns (without ``converted_customer_id``).
    truth : DataFrame
        ``good_fit``, ``fit_score`` and ``reached_<stage>`` dates, by
        ``prospect_id``.

    Examples
    --------
    >>> frame, truth = make_prospects(np.random.default_rng(0), 5, np.array([0, 1]),
    ...                               np.array([0, 1]), np.array([1.0, 2.0]), ("a", "b"),
    ...                               ("s", "l"), ("r",), 100.0, np.datetime64("2024-01-01"))
    >>> list(frame.columns), truth.index.name
    (['prospect_id', 'industry', 'size_class', 'region', 'stage', 'created'], 'prospect_id')
    """
    n_ind, n_size = len(industries), len(sizes)
    best = value_rate >= np.quantile(value_rate, 0.8) if len(value_rate) else value_rate > 0
    cell = industry * n_size + size
    n_cell = np.bincount(cell, minlength=n_ind * n_size)
    best_cell = np.bincount(cell, weights=best.astype(np.float64), minlength=n_ind * n_size)
    prior = 10.0
    rate = (best_cell + 0.2 * prior) / (n_cell + prior)
    ind_p = _fit_shares(MARKET_INDUSTRY, n_ind)
    p_ind = rng.choice(n_ind, m, p=ind_p)
    p_size = rng.choice(n_size, m, p=_fit_shares(MARKET_SIZE, n_size))
    p_region = rng.choice(len(regions), m, p=_fit_shares(MARKET_REGION, len(regions)))
    score = np.log(rate[p_ind * n_size + p_size] / 0.2) + rng.normal(0.0, 0.3, m)
    good = score >= np.quantile(score, 0.75) if m else np.zeros(0, dtype=bool)
    created = np.floor(rng.random(m) * (end - 1.0))
    advance = np.where(good[:, None], [0.85, 0.7, 0.6, 0.55], [0.6, 0.35, 0.25, 0.2])
    steps = (rng.random((m, 4)) < advance).cumprod(axis=1).astype(bool)
    when = created[:, None] + np.cumsum(np.ceil(rng.exponential(30.0, (m, 4))), axis=1)
    reached = steps & (when < end)
    stage = reached.sum(axis=1)
    ids = np.arange(1, m + 1, dtype=np.int64)
    frame = pd.DataFrame(
        {
            "prospect_id": ids,
            "industry": categorical(p_ind, industries),
            "size_class": categorical(p_size, sizes, ordered=True),
            "region": categorical(p_region, regions),
            "stage": categorical(stage, PIPELINE),
            "created": to_dates(start, created),
        }
    )
    truth = pd.DataFrame(
        {"good_fit": good, "fit_score": score, "reached_identified": frame["created"].to_numpy()}
        | {
            f"reached_{name}": to_dates(start, np.where(reached[:, k], when[:, k], np.nan))
            for k, name in enumerate(PIPELINE[1:])
        },
        index=pd.Index(ids, name="prospect_id"),
    )
    return frame, truth


def _fit_shares(shares: F, k: int) -> F:
    """``shares`` cut or padded to ``k`` categories, renormalised."""
    out = np.ones(k) if k > len(shares) else shares[:k].copy()
    return np.asarray(out / out.sum(), dtype=np.float64)
