"""Side-by-side comparison of fitted value models: likelihood, AIC, BIC, holdout accuracy."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmkit.exceptions import InvalidParameterError
from crmkit.value._base import ValueModel
from crmkit.value._evaluation import evaluate_holdout
from crmkit.value._gammagamma import GammaGamma

__all__ = ["compare_models"]


def _named(models: Mapping[str, Any] | Sequence[Any]) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    if isinstance(models, Mapping):
        items = [(str(k), v) for k, v in models.items()]
    elif isinstance(models, Sequence) and not isinstance(models, str):
        seen: dict[str, int] = {}
        for model in models:
            base = type(model).__name__
            seen[base] = seen.get(base, 0) + 1
            items.append((base if seen[base] == 1 else f"{base}_{seen[base]}", model))
    else:
        raise InvalidParameterError(
            "compare_models: 'models' must be a mapping of name to fitted model or a list of "
            f"fitted models. Got {type(models).__name__} instead."
        )
    if not items:
        raise InvalidParameterError("compare_models: 'models' is empty; pass at least one model")
    for name, model in items:
        if not isinstance(model, ValueModel):
            raise InvalidParameterError(
                f"compare_models: model {name!r} must be a crmkit value model "
                f"(BetaGeo, ParetoNBD, GammaGamma ...). Got {type(model).__name__} instead."
            )
    return items


def compare_models(
    models: Mapping[str, Any] | Sequence[Any],
    view: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Compare fitted value models on the same customers.

    Each model's log-likelihood is evaluated on ``view`` (so models fitted
    elsewhere are compared on equal terms), with ``n_params`` its base
    parameters plus any covariate coefficients,
    ``aic = 2 n_params - 2 LL`` and ``bic = n_params log(n) - 2 LL`` where
    ``n`` is the number of customers modelled (all rows of ``view`` for a
    purchase model; the repeat buyers, ``frequency > 0``, for Gamma-Gamma).
    Lower AIC/BIC is better; compare only models of the same data (purchase
    models with purchase models).

    Parameters
    ----------
    models : mapping of str to model, or list of models
        Fitted models; a list is named by class (``BetaGeo``, ``BetaGeo_2``
        ...).
    view : DataFrame
        The customer view the models were fitted on (with any covariate
        columns they use).
    holdout : DataFrame, optional
        A calibration/holdout frame as made by ``calibration_holdout``
        (calibration columns plus ``frequency_holdout`` and
        ``duration_holdout``, and covariate columns): adds, for purchase
        models, the per-customer mean absolute error ``mae`` of the
        expected holdout purchases, ``total_actual``, ``total_predicted``
        and ``aggregate_error`` (percent) from
        :func:`~crmkit.value.evaluate_holdout`.

    Returns
    -------
    DataFrame
        One row per model (index ``model``); columns ``log_likelihood``,
        ``n_params``, ``n_customers``, ``aic``, ``bic`` and, with a
        holdout, ``mae``, ``total_actual``, ``total_predicted``,
        ``aggregate_error`` (NaN for spend models).

    Raises
    ------
    InvalidParameterError
        For an empty or invalid ``models``.
    NotFittedError
        For an unfitted model.
    SchemaError
        For missing or invalid columns.

    Examples
    --------
    >>> from crmkit.value import BetaGeo, ParetoNBD
    >>> truth = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> view = truth.sample(2000, 39.0, seed=5)
    >>> table = compare_models([BetaGeo().fit(view), ParetoNBD().fit(view)], view)
    >>> table.columns.tolist()
    ['log_likelihood', 'n_params', 'n_customers', 'aic', 'bic']
    >>> table.index.tolist(), table["n_params"].tolist()
    (['BetaGeo', 'ParetoNBD'], [4, 4])
    """
    rows = []
    for name, model in _named(models):
        ll_rows = model.log_likelihood(view)
        ll = float(np.sum(ll_rows.to_numpy()))
        k = len(model._param_fields()) + len(np.atleast_1d(getattr(model, "coef_", [])))
        if isinstance(model, GammaGamma):
            n = int(np.sum(np.asarray(view["frequency"]) > 0))
        else:
            n = len(ll_rows)
        row: dict[str, Any] = {
            "model": name,
            "log_likelihood": ll,
            "n_params": k,
            "n_customers": n,
            "aic": 2.0 * k - 2.0 * ll,
            "bic": k * math.log(max(n, 1)) - 2.0 * ll,
        }
        if holdout is not None:
            if isinstance(model, GammaGamma) or not hasattr(model, "p_alive"):
                row.update(
                    mae=math.nan,
                    total_actual=math.nan,
                    total_predicted=math.nan,
                    aggregate_error=math.nan,
                )
            else:
                ev = evaluate_holdout(model, holdout)
                row.update(
                    mae=ev.mae,
                    total_actual=ev.total_actual,
                    total_predicted=ev.total_predicted,
                    aggregate_error=math.nan if ev.aggregate_error is None else ev.aggregate_error,
                )
        rows.append(row)
    table: pd.DataFrame = pd.DataFrame(rows).set_index("model")
    table["n_params"] = table["n_params"].astype(np.int64)
    table["n_customers"] = table["n_customers"].astype(np.int64)
    return table
