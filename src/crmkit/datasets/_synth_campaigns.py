"""Campaigns of the synthetic CRM: who is touched, who responds (see ``make_crm``).

Campaign ``K1`` (a cross-sell offer) makes a treated customer who is alive
buy once more in its window with probability ``campaign_uplift``; campaign
``K2`` (a newsletter) has no effect. The falling-purchases signal lowers the
purchase rate (:func:`rate_multiplier`), which also sets each touched
customer's chance to buy in the campaign window anyway.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.datasets._synth_records import World, to_dates

__all__ = ["CAMPAIGNS", "campaign_records", "rate_multiplier"]

F = npt.NDArray[np.float64]
I = npt.NDArray[np.int64]  # noqa: E741

CAMPAIGNS = (  # id, name, days before the as-of day, length in days, action, cost per touch
    ("K1", "Cross-sell offer", 140, 21, "offer", 12.0),
    ("K2", "Newsletter", 70, 14, "newsletter", 0.3),
)


def rate_multiplier(w: World, decay_from: F, owner: I, t: F) -> F:
    """Multiplier of the purchase rate from the ``falling_purchases`` signal.

    Parameters
    ----------
    w : World
        The latent world (deaths, the as-of and holdout ends).
    decay_from : ndarray of float, shape (n_customers,)
        When each customer's purchases start to fall (NaN: never).
    owner : ndarray of int64, shape (n_events,)
        Customer index of each purchase time.
    t : ndarray of float, shape (n_events,)
        Purchase times (days since ``start``).

    Returns
    -------
    ndarray of float, shape (n_events,)
        1 where purchases do not fall; a ramp down to 0.15 towards a death
        before the holdout end; 0.3 for a survivor's dip.

    Examples
    --------
    One customer who dies on day 200 (before the holdout end), falling from day 100:

    >>> one = np.array([0.0])
    >>> w = World(rng=np.random.default_rng(0), n=1, ids=np.array([1]), t0=one,
    ...           death=np.array([200.0]), lam_day=np.array([0.1]), size=np.array([0]),
    ...           key=np.array([False]), satisfaction=one, cal_end=300.0, end=400.0,
    ...           win_start=np.array([50.0]), win_end=np.array([200.0]), signals={},
    ...           start=np.datetime64("2024-01-01", "ns"))
    >>> rate_multiplier(w, np.array([100.0]), np.zeros(3, dtype=np.int64),
    ...                 np.array([50.0, 150.0, 190.0])).round(3).tolist()
    [1.0, 0.575, 0.235]
    """
    out = np.ones(len(t))
    sub = np.flatnonzero(~np.isnan(decay_from[owner]))
    o, ts = owner[sub], t[sub]
    d, death = decay_from[o], w.death[o]
    ramp = 0.15 + 0.85 * np.clip((death - ts) / np.maximum(death - d, 1.0), 0.0, 1.0)
    dip = np.where(ts < w.cal_end + 60.0, 0.3, 1.0)
    out[sub] = np.where(ts >= d, np.where(death <= w.end, ramp, dip), 1.0)
    return out


def campaign_records(
    w: World, decay_from: F, uplift: float, rng: np.random.Generator | None = None
) -> tuple[I, F, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The campaigns of :data:`CAMPAIGNS`: touches, responses and their truth.

    Parameters
    ----------
    w : World
        The latent world; the campaigns draw from their own child stream.
    decay_from : ndarray of float, shape (n_customers,)
        When each customer's purchases start to fall (NaN: never).
    uplift : float
        Probability that campaign K1 makes an alive treated customer buy.
    rng : Generator, optional
        The campaigns' stream; default ``w.child()``.

    Returns
    -------
    owners : ndarray of int64
        Customer index of each purchase the campaign caused.
    times : ndarray of float
        Their times (days since ``start``).
    campaigns, touches, truth : DataFrame
        The campaigns frame, the touches frame and the truth per campaign.

    Examples
    --------
    >>> from crmkit.datasets import make_crm
    >>> crm = make_crm(300, seed=2)
    >>> sorted(crm.frames["campaigns"]["campaign_id"]) == [c[0] for c in CAMPAIGNS]
    True
    """
    rng = w.child() if rng is None else rng
    owners, times, touches, rows, truth = [], [], [], [], []
    for cid, name, before, length, action, cost in CAMPAIGNS:
        effect = uplift if cid == "K1" else 0.0
        sd = float(np.floor(w.cal_end) - before)
        touched = np.flatnonzero((w.t0 < sd - 28.0) & (rng.random(w.n) < 0.6))
        treat = rng.random(len(touched)) < 0.5
        grid = sd + 0.5 + np.arange(length)
        tt = np.broadcast_to(grid, (len(touched), length))
        own = np.repeat(touched, length)
        alive = tt < w.death[touched, None]
        mult = rate_multiplier(w, decay_from, own, tt.ravel()).reshape(tt.shape)
        p0 = 1.0 - np.exp(-(w.lam_day[touched, None] * mult * alive).sum(axis=1))
        a = np.clip((w.death[touched] - sd) / length, 0.0, 1.0)
        p1 = 1.0 - (1.0 - p0) * (1.0 - effect * a)
        tc = sd + rng.random(len(touched)) * length
        buys = treat & (rng.random(len(touched)) < effect) & (tc < w.death[touched])
        owners.append(touched[buys])
        times.append(tc[buys])
        day = np.where(treat, sd + rng.integers(0, 3, len(touched)), sd)
        touches.append(pd.DataFrame({
            "campaign_id": cid, "customer_id": w.ids[touched],
            "date": to_dates(w.start, day.astype(np.float64)),
            "group": np.where(treat, "treatment", "control"), "action": action,
            "cost": np.where(treat, cost, 0.0)}))  # fmt: skip
        n_t = int(treat.sum())
        first_last = to_dates(w.start, np.array([sd, sd + length - 1]))
        rows.append({"campaign_id": cid, "name": name, "start": first_last[0],
                     "end": first_last[1], "goal_conversions": float(np.ceil(0.3 * n_t)),
                     "goal_revenue": 300.0 * n_t, "cost": cost * n_t})  # fmt: skip
        truth.append({"campaign_id": cid, "name": name, "uplift_parameter": effect,
                      "true_uplift": float(np.mean(p1 - p0)) if len(touched) else 0.0,
                      "expected_conversion_control": float(np.mean(p0)) if len(touched) else 0.0,
                      "expected_conversion_treatment": float(np.mean(p1)) if len(touched) else 0.0,
                      "n_treatment": n_t, "n_control": len(touched) - n_t,
                      "has_effect": effect > 0})  # fmt: skip
    tdf = pd.concat(touches, ignore_index=True)
    tdf["group"] = pd.Categorical(tdf["group"], categories=["treatment", "control"])
    tdf["action"] = pd.Categorical(tdf["action"], categories=[c[4] for c in CAMPAIGNS])
    tdf["campaign_id"] = tdf["campaign_id"].astype("str")
    cdf = pd.DataFrame(rows).astype({"campaign_id": "str", "name": "str"})
    cdf["start"] = cdf["start"].astype("datetime64[ns]")
    cdf["end"] = cdf["end"].astype("datetime64[ns]")
    return (np.concatenate(owners), np.concatenate(times), cdf, tdf,
            pd.DataFrame(truth).set_index("campaign_id"))  # fmt: skip
