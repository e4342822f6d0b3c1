"""The value steps of a playbook's ``"auto"`` defaults: purchase model, spend model, loyalty.

- ``purchase_model="auto"``: a Pareto/NBD (:data:`DEFAULT_PURCHASE_MODEL`)
  with a weak penalty, fitted when the records hold at least
  :data:`MIN_REPEAT_BUYERS` repeat buyers;
- ``spend_model="auto"``: a Gamma-Gamma fitted on the repeat buyers whose
  mean spend is positive (zero-priced purchases and net refunds are left out
  and counted), or observed spend when too few such buyers exist;
- ``loyalty=True``: the loyalty index over the components the records feed.

Each writes what it chose and left out into a
:class:`~crmkit.compose._defaults.Resolution`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmkit._estimator import clone
from crmkit.compose._defaults import AUTO, Resolution
from crmkit.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DataWarning,
    InvalidParameterError,
    NotFittedError,
    SchemaError,
)

__all__ = [
    "DEFAULT_PENALIZER",
    "DEFAULT_PURCHASE_MODEL",
    "MIN_REPEAT_BUYERS",
    "default_loyalty",
    "default_purchase_model",
    "fit_purchase_model",
    "fit_spend_model",
    "fit_value_models",
    "spend_view",
]

#: The purchase model ``purchase_model="auto"`` uses (a name of
#: :data:`crmkit.compose.PURCHASE_MODELS`): the Pareto/NBD, whose
#: probability of no purchase ranks the churners of real data (CDNOW,
#: apparel) at least as well as the days since the last purchase, where the
#: BG/NBD's P(alive) = 1 for one-time buyers ranks them worse than chance.
DEFAULT_PURCHASE_MODEL = "paretonbd"

#: L2 penalty of the default purchase model: negligible on a real base
#: (CDNOW churn AUC 0.7701 against 0.7700 without), but it keeps the model
#: identified on a small base where nobody has visibly dropped out yet.
DEFAULT_PENALIZER = 0.001

#: Fewest repeat buyers with positive spend a Gamma-Gamma is fitted on.
_MIN_SPENDERS = 10


def default_purchase_model() -> Any:
    """The purchase model of ``purchase_model="auto"`` (unfitted).

    Returns
    -------
    object
        :data:`DEFAULT_PURCHASE_MODEL` with ``penalizer=DEFAULT_PENALIZER``.

    Examples
    --------
    >>> default_purchase_model()
    ParetoNBD(penalizer=0.001)
    """
    from crmkit.compose._steps import value_model

    return value_model("purchase_model", DEFAULT_PURCHASE_MODEL).set_params(
        penalizer=DEFAULT_PENALIZER
    )


#: Fewest repeat buyers the default purchase model is fitted on.
MIN_REPEAT_BUYERS = 10


def fit_purchase_model(spec: Any, view: pd.DataFrame, resolution: Resolution) -> Any:
    """Create and fit the purchase model a ``purchase_model`` parameter stands for.

    ``"auto"`` is :func:`default_purchase_model`, fitted when the view has
    at least :data:`MIN_REPEAT_BUYERS` repeat buyers and the fit succeeds;
    otherwise the playbook goes without (None, with a note). A fit whose
    likelihood is flat in some parameters (a
    :class:`~crmkit.exceptions.ConvergenceWarning`, e.g. nobody has visibly
    dropped out yet) is kept, its predictions being usable, and the warning
    becomes a note. A model the user chose is fitted as it is (its errors
    and warnings propagate).

    Parameters
    ----------
    spec : str, object or None
        The ``purchase_model`` parameter.
    view : pandas.DataFrame
        The fitting view.
    resolution : Resolution
        Receives what was chosen or left out.

    Returns
    -------
    object or None
        The fitted model.

    Raises
    ------
    InvalidParameterError
        For an unknown name.
    SchemaError, ConvergenceError
        When a model the user chose cannot be fitted.

    Examples
    --------
    >>> view = pd.DataFrame({"frequency": [0, 1], "recency": [0.0, 3.0], "T": [5.0, 5.0]})
    >>> r = Resolution()
    >>> fit_purchase_model("auto", view, r) is None, r.notes[0][:45]
    (True, 'value: the purchase model could not be fitted')
    """
    from crmkit.compose._steps import value_model

    if spec != AUTO:
        model = value_model("purchase_model", spec)
        if model is None:
            resolution.note("value: no purchase model (purchase_model=None), so no clv")
            return None
        model.fit(view)
        resolution.say("purchase_model", type(model).__name__)
        return model
    model = default_purchase_model()
    name = type(model).__name__
    if "frequency" in view.columns:
        repeat = int((view["frequency"].to_numpy(dtype=np.float64) > 0).sum())
        if repeat < MIN_REPEAT_BUYERS:
            resolution.note(
                f"value: the purchase model could not be fitted: {repeat} repeat buyers, "
                f"fewer than the {MIN_REPEAT_BUYERS} a {name} needs; no clv, p_alive or "
                "expected_purchases"
            )
            return None
    try:
        flat = _fit_noting_flatness(model, view)
    except (SchemaError, ConvergenceError) as exc:
        resolution.note(
            f"value: the purchase model could not be fitted ({str(exc).splitlines()[0]}); "
            "no clv, p_alive or expected_purchases"
        )
        return None
    if flat:  # predictions stay usable: the note says which parameters the data left open
        resolution.note(f"value: {flat}")
    resolution.say("purchase_model", f"{name} (auto, penalizer {DEFAULT_PENALIZER:g})")
    return model


def _fit_noting_flatness(model: Any, view: pd.DataFrame) -> str:
    """Fit ``model``; a ConvergenceWarning becomes the returned text (others re-warn)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(view)
    flat = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    for w in caught:
        if w not in flat:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return str(flat[0].message).split(". ")[0] if flat else ""


def spend_view(view: pd.DataFrame) -> pd.DataFrame:
    """The view the spend model reads: a negative mean spend (net refunds) counts as 0.

    Parameters
    ----------
    view : pandas.DataFrame
        A customer view with ``monetary_value``.

    Returns
    -------
    pandas.DataFrame
        A copy with ``monetary_value`` clipped at 0 (the view itself when
        nothing is negative).

    Examples
    --------
    >>> v = pd.DataFrame({"frequency": [2, 1], "monetary_value": [-4.0, 10.0]})
    >>> spend_view(v)["monetary_value"].tolist()
    [0.0, 10.0]
    """
    if "monetary_value" not in view.columns:
        return view
    m = view["monetary_value"].to_numpy(dtype=np.float64)
    if not np.any(m < 0):
        return view
    out: pd.DataFrame = view.assign(monetary_value=np.maximum(m, 0.0))
    return out


def fit_spend_model(model: Any, view: pd.DataFrame, resolution: Resolution, *, chosen: bool) -> Any:
    """Fit a spend model on the repeat buyers with a positive mean spend.

    Repeat buyers whose mean spend is zero or negative (free orders, net
    refunds) cannot inform a Gamma-Gamma; they are left out of the fit and
    counted in a note. Their expected spend is still predicted (from a
    spend of 0, see :func:`spend_view`).

    Parameters
    ----------
    model : object
        An unfitted spend model with ``fit(view)``.
    view : pandas.DataFrame
        The fitting view (``frequency``, ``monetary_value``).
    resolution : Resolution
        Receives the notes.
    chosen : bool
        Whether the user chose this model (then leaving buyers out also
        warns); with the default (``"auto"``) a model that cannot be fitted,
        or whose fit is not identified (a
        :class:`~crmkit.exceptions.ConvergenceWarning`: the spread of spend
        between customers runs to zero, where each customer's own mean is
        the answer), gives way to observed spend (None) with a note.

    Returns
    -------
    object or None
        The fitted model, or None (observed spend) when the default could
        not be fitted.

    Raises
    ------
    SchemaError, ConvergenceError
        When a model the user chose cannot be fitted.

    Warns
    -----
    DataWarning
        When buyers are left out of a model the user chose.

    Examples
    --------
    >>> from crmkit.value import GammaGamma
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(1, 6, 200)
    >>> m = rng.gamma(6.0, 5.0, 200)
    >>> m[:3] = 0.0
    >>> r = Resolution()
    >>> fitted = fit_spend_model(GammaGamma(), pd.DataFrame({"frequency": x,
    ...                          "monetary_value": m}), r, chosen=False)
    >>> r.notes[0][:61]
    'spend model: 3 repeat buyers with zero or negative mean spend'
    """
    name = type(model).__name__
    if {"frequency", "monetary_value"} <= set(view.columns):
        x = view["frequency"].to_numpy(dtype=np.float64)
        m = view["monetary_value"].to_numpy(dtype=np.float64)
        bad = (x > 0) & ~(m > 0)
        spenders = int(((x > 0) & (m > 0)).sum())
    else:  # the model's own fit names the missing columns
        bad = np.zeros(len(view), dtype=bool)
        spenders = len(view)
    if bad.any():
        text = (
            f"spend model: {int(bad.sum())} repeat buyers with zero or negative mean spend "
            f"(free orders or net refunds) were left out of the {name} fit; their expected "
            "spend is predicted from a spend of 0"
        )
        resolution.note(text)
        if chosen:
            warnings.warn(f"Playbook: {text}", DataWarning, stacklevel=3)
    fit_on = view.loc[~bad] if bad.any() else view
    if not chosen and spenders < _MIN_SPENDERS:
        resolution.note(
            f"spend model: only {spenders} repeat buyers with positive spend (fewer than "
            f"{_MIN_SPENDERS}); purchases are valued at each customer's observed spend"
        )
        return None
    fitted = f"{name} fitted on {spenders} repeat buyers with positive spend"
    if chosen:
        model.fit(fit_on)
        resolution.say("spend_model", fitted)
        return model
    try:
        flat = _fit_noting_flatness(model, fit_on)
    except (SchemaError, ConvergenceError) as exc:
        resolution.note(
            f"spend model: {name} could not be fitted ({str(exc).splitlines()[0]}); purchases "
            "are valued at each customer's observed spend"
        )
        return None
    if flat:  # the data cannot identify the spread of spend between customers
        resolution.note(
            f"spend model: not identified ({flat}); purchases are valued at each customer's "
            "observed spend, the limit such a fit runs to"
        )
        return None
    resolution.say("spend_model", fitted)
    return model


def fit_value_models(
    purchase: Any, spend: Any, view: pd.DataFrame, resolution: Resolution
) -> tuple[Any, Any]:
    """Fit a playbook's purchase and spend models (``"auto"`` or chosen).

    Parameters
    ----------
    purchase : str, object or None
        The ``purchase_model`` parameter (see :func:`fit_purchase_model`).
    spend : str, object or None
        The ``spend_model`` parameter: ``"auto"`` is a Gamma-Gamma (see
        :func:`fit_spend_model`).
    view : pandas.DataFrame
        The fitting view.
    resolution : Resolution
        Receives what was chosen and left out.

    Returns
    -------
    purchase_model, spend_model : object or None
        Fitted; no spend model without a purchase model, and None for the
        spend model means observed spend.

    Raises
    ------
    InvalidParameterError
        For an unknown name.
    SchemaError, ConvergenceError
        When a model the user chose cannot be fitted.

    Examples
    --------
    >>> from crmkit.datasets import make_crm
    >>> from crmkit.data import summarize
    >>> r = Resolution()
    >>> pm, sm = fit_value_models("bgnbd", None, summarize(make_crm(80, seed=2).data), r)
    >>> r.resolved
    {'purchase_model': 'BetaGeo', 'spend_model': 'observed spend per purchase (ObservedSpend)'}
    """
    from crmkit.compose._steps import value_model

    spend_model = value_model("spend_model", "gammagamma" if spend == AUTO else spend)
    model = fit_purchase_model(purchase, view, resolution)
    if model is None:
        return None, None
    if spend_model is not None:
        spend_model = fit_spend_model(spend_model, view, resolution, chosen=spend != AUTO)
    if spend_model is None:
        resolution.say("spend_model", "observed spend per purchase (ObservedSpend)")
    return model, spend_model


#: View column of each optional loyalty component.
_LOYALTY_COLUMNS: Mapping[str, str] = {
    "breadth": "n_products",
    "nps": "last_nps",
    "csat": "mean_csat",
    "ces": "mean_ces",
}


def default_loyalty(view: pd.DataFrame, resolution: Resolution) -> Any:
    """The loyalty index of ``loyalty=True``: default weights over the components the view feeds.

    Components whose column is absent or empty get weight 0 (and a note),
    so that the index is fitted on what the records hold without a warning.

    Parameters
    ----------
    view : pandas.DataFrame
        The fitting view.
    resolution : Resolution
        Receives what was left out.

    Returns
    -------
    LoyaltyIndex
        Unfitted.

    Examples
    --------
    >>> view = pd.DataFrame({"frequency": [1, 3], "recency": [4.0, 9.0], "T": [10.0, 10.0]})
    >>> r = Resolution()
    >>> default_loyalty(view, r).weights
    {'breadth': 0.0, 'nps': 0.0, 'csat': 0.0}
    >>> r.notes[0]
    'loyalty: left out breadth (no n_products), nps (no last_nps), csat (no mean_csat)'
    """
    from crmkit.loyalty import DEFAULT_WEIGHTS, LoyaltyIndex

    off = {
        name: col
        for name, col in _LOYALTY_COLUMNS.items()
        if DEFAULT_WEIGHTS[name] > 0 and (col not in view.columns or bool(view[col].isna().all()))
    }
    if not off:
        resolution.say("loyalty", "LoyaltyIndex (default weights)")
        return LoyaltyIndex()
    resolution.note(
        "loyalty: left out " + ", ".join(f"{name} (no {col})" for name, col in off.items())
    )
    resolution.say("loyalty", "LoyaltyIndex without " + ", ".join(off))
    return LoyaltyIndex(weights={name: 0.0 for name in off})


def new_loyalty(loyalty: Any, view: pd.DataFrame, resolution: Resolution) -> Any:
    """The Playbook's unfitted loyalty index: none, the default, or a clone of the given one.

    Parameters
    ----------
    loyalty : bool or LoyaltyIndex
        The Playbook's ``loyalty`` parameter.
    view : DataFrame
        The customer view (the default index depends on its columns).
    resolution : Resolution
        Collects what "auto" resolved to.

    Returns
    -------
    LoyaltyIndex or None

    Examples
    --------
    >>> new_loyalty(False, None, Resolution()) is None
    True
    """
    if loyalty is False:
        return None
    if loyalty is True:
        return default_loyalty(view, resolution)
    return clone(loyalty, safe=False)


def given_value_models(models: Any, resolution: Resolution) -> tuple[Any, Any]:
    """Check value models fitted elsewhere (``Playbook.fit(value_models=...)``) and say so.

    Parameters
    ----------
    models : (purchase_model, spend_model)
        A fitted purchase model (or None: no value columns) and a fitted
        spend model (or None: observed spend).
    resolution : Resolution
        Receives what was used.

    Returns
    -------
    purchase_model, spend_model : object or None
        The models as given (no spend model without a purchase model).

    Raises
    ------
    InvalidParameterError
        When ``models`` is not a pair of models (or None).
    NotFittedError
        When a model is not fitted.

    Examples
    --------
    >>> from crmkit.value import BetaGeo
    >>> r = Resolution()
    >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> given_value_models((m, None), r)[0] is m, r.resolved["purchase_model"]
    (True, 'BetaGeo (fitted before, given to fit)')
    """
    if not isinstance(models, tuple) or len(models) != 2:
        raise InvalidParameterError(
            "Playbook.fit: 'value_models' must be a pair (purchase_model, spend_model) of "
            f"fitted models or None; got {type(models).__name__}"
        )
    purchase, spend = models
    needs = {
        "purchase model": ("p_alive", "conditional_expected_purchases"),
        "spend model": ("expected_spend",),
    }
    for what, model in (("purchase model", purchase), ("spend model", spend)):
        if model is None:
            continue
        if not all(callable(getattr(model, n, None)) for n in needs[what]):
            raise InvalidParameterError(
                f"Playbook.fit: the {what} of 'value_models' lacks "
                f"{', '.join(needs[what])}; got {type(model).__name__}"
            )
        if getattr(model, "params_", None) is None:
            raise NotFittedError(
                f"Playbook.fit: the {what} of 'value_models' ({type(model).__name__}) is not "
                "fitted; fit it first (e.g. on crmkit.engines.sufficient_stats)"
            )
    if purchase is None:
        resolution.note("value: no purchase model (value_models=(None, ...)), so no clv")
        return None, None
    resolution.say("purchase_model", f"{type(purchase).__name__} (fitted before, given to fit)")
    if spend is None:
        resolution.say("spend_model", "observed spend per purchase (ObservedSpend)")
    else:
        resolution.say("spend_model", f"{type(spend).__name__} (fitted before, given to fit)")
    return purchase, spend
