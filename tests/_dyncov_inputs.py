"""Inputs of :class:`crmkit.value.ParetoNBDDynamic` for the shared test harnesses.

A weekly covariate table (a common ``season`` and a per-customer ``promo``,
both 0/1) covering every customer of a view from its first purchase week to
``weeks_ahead`` weeks after its ``T``, the fit on it, and the outputs the
harnesses compare.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmkit.value import ParetoNBDDynamic


def weekly_covariates(view: pd.DataFrame, weeks_ahead: int = 60, seed: int = 0) -> pd.DataFrame:
    """One row per customer and week (weeks start on the week of the first purchase)."""
    rng = np.random.default_rng(seed)
    first = pd.to_datetime(view["first_purchase"]).dt.normalize()
    origin = first.min()
    start_week = ((first - origin).dt.days // 7).to_numpy()
    n_weeks = (np.ceil(np.asarray(view["T"], dtype=float)) + weeks_ahead + 2).astype(int)
    ids = np.repeat(np.asarray(view.index), n_weeks)
    week = np.concatenate([s + np.arange(k) for s, k in zip(start_week, n_weeks, strict=True)])
    return pd.DataFrame(
        {
            "customer_id": ids,
            "period": origin + pd.to_timedelta(7 * week, unit="D"),
            "season": (week % 5 == 0).astype(float),
            "promo": (rng.random(len(week)) < 0.3).astype(float),
        }
    )


def fit_dynamic(view: pd.DataFrame, transactions: pd.DataFrame) -> ParetoNBDDynamic:
    """``ParetoNBDDynamic`` with both covariates on both processes, fitted."""
    model = ParetoNBDDynamic(
        purchase_covariates=["season", "promo"], dropout_covariates=["season"]
    )
    return model.fit(view, weekly_covariates(view), transactions)


def dynamic_outputs(
    model: ParetoNBDDynamic, view: pd.DataFrame, transactions: Any
) -> dict[str, Any]:
    """What the model predicts on ``view``."""
    cov = weekly_covariates(view)
    return {
        "p_alive": model.p_alive(view, cov),
        "expected_purchases": model.conditional_expected_purchases(view, cov, 52.0),
        "log_likelihood": model.log_likelihood(view, cov, transactions),
        "summary": model.summary(),
    }
