"""``engines.fit``: a Playbook fitted on engine records (statistics of all, a sample for the rest).

The value models need only the distinct model inputs and how many customers
share each (:func:`crmkit.engines.sufficient_stats`): computed by the engine
over every customer, they give the exact full-data likelihood. The other
steps (loyalty index, stager, segmenters, churn detectors, care model) learn
thresholds and weights from customer views; they are fitted on a sample of
customers drawn inside the engine by a hash of the customer id (every
record of a sampled customer is kept, the same customers for the same
``seed`` whatever the row order or partitioning), collected as pandas.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmkit._params import Interval, Options, validate_args
from crmkit.compose import (
    AUTO,
    DEFAULT_PENALIZER,
    DEFAULT_PURCHASE_MODEL,
    LARGE,
    MIN_REPEAT_BUYERS,
    step_bar,
    value_model,
)
from crmkit.data import TIME_UNITS, ColumnMap, CustomerData, summarize
from crmkit.engines._driver import PLAYBOOK, EngineRecords
from crmkit.exceptions import ConvergenceError, ConvergenceWarning, SchemaError
from crmkit.value import SPEND_COLUMNS, sufficient_stats

__all__ = ["fit", "fit_value_stats"]

_CONSTRAINTS: dict[str, list[Any]] = {
    "sample": [Interval("int", 1, None)],
    "seed": [Interval("int", 0, None)],
    "time_unit": [Options(frozenset(TIME_UNITS))],
    "playbook": [PLAYBOOK],
}
#: Fewest repeat buyers with positive spend the default spend model is fitted on.
_MIN_SPENDERS = 10


def fit_value_stats(
    purchase: Any, spend: Any, stats: pd.DataFrame, spend_stats: pd.DataFrame
) -> tuple[Any, Any, list[str]]:
    """Fit a playbook's value models on weighted sufficient statistics.

    Parameters
    ----------
    purchase, spend : str, model or None
        The playbook's ``purchase_model`` and ``spend_model`` parameters.
    stats : DataFrame
        ``frequency``, ``recency``, ``T``, ``weights`` (customers per row).
    spend_stats : DataFrame
        ``frequency``, ``monetary_value``, ``weights``.

    Returns
    -------
    purchase_model, spend_model : object or None
        Fitted (None: left out, or observed spend).
    notes : list of str
        What was left out and why.

    Raises
    ------
    InvalidParameterError
        For an unknown model name.
    SchemaError, ConvergenceError
        When a model the user chose cannot be fitted.

    Examples
    --------
    >>> from crmkit.datasets import make_crm
    >>> view = summarize(make_crm(300, seed=2).data)
    >>> spend = sufficient_stats(view, SPEND_COLUMNS)
    >>> pm, sm, notes = fit_value_stats("bgnbd", "auto", sufficient_stats(view), spend.head(3))
    >>> type(pm).__name__, sm, notes[0][:17]
    ('BetaGeo', None, 'spend model: only')
    """
    notes: list[str] = []
    if purchase is None:
        return None, None, ["value: no purchase model (purchase_model=None), so no clv"]
    weights = stats["weights"].to_numpy(dtype=np.float64)
    if purchase == AUTO:
        model = value_model("purchase_model", DEFAULT_PURCHASE_MODEL).set_params(
            penalizer=DEFAULT_PENALIZER
        )
        repeat = int(weights[stats["frequency"].to_numpy(dtype=np.float64) > 0].sum())
        if repeat < MIN_REPEAT_BUYERS:
            notes.append(
                f"value: the purchase model could not be fitted: {repeat} repeat buyers, "
                f"fewer than the {MIN_REPEAT_BUYERS} a {type(model).__name__} needs"
            )
            return None, None, notes
    else:
        model = value_model("purchase_model", purchase)
    model.fit(stats, weights=stats["weights"])
    if spend is None:
        return model, None, notes
    spend_model = value_model("spend_model", "gammagamma" if spend == AUTO else spend)
    x = spend_stats["frequency"].to_numpy(dtype=np.float64)
    m = spend_stats["monetary_value"].to_numpy(dtype=np.float64)
    keep = (x > 0) & (m > 0)
    fit_on = spend_stats.loc[keep]
    spenders = int(fit_on["weights"].sum())
    if spend == AUTO and spenders < _MIN_SPENDERS:
        notes.append(
            f"spend model: only {spenders} repeat buyers with positive spend (fewer than "
            f"{_MIN_SPENDERS}); purchases are valued at each customer's observed spend"
        )
        return model, None, notes
    if spend != AUTO:
        spend_model.fit(fit_on, weights=fit_on["weights"])
        return model, spend_model, notes
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            spend_model.fit(fit_on, weights=fit_on["weights"])
    except (SchemaError, ConvergenceError, ConvergenceWarning) as exc:
        notes.append(
            f"spend model: {type(spend_model).__name__} could not be fitted or is not "
            f"identified ({str(exc).splitlines()[0]}); purchases are valued at each "
            "customer's observed spend"
        )
        return model, None, notes
    return model, spend_model, notes


def _view_stats(
    records: EngineRecords, day: pd.Timestamp, time_unit: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both sufficient statistics of the customer view, summarised once in the engine.

    The view is materialised in the engine (Spark ``cache``, Dask ``persist``)
    and read by the two ``sufficient_stats`` jobs, rather than summarised
    (shuffle, pandas pass, Dask graph optimisation) once for each.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*narwhals-dask.*")
        lazy = summarize(
            records.frames["transactions"], columns=records.cmap, as_of=day, time_unit=time_unit
        )
        spark = records.engine == "pyspark"
        # Dask: no blockwise fusion, which takes seconds on the summarize graph
        view = lazy.cache() if spark else lazy.persist(fuse=False)
        try:
            return sufficient_stats(view), sufficient_stats(view, SPEND_COLUMNS)
        finally:
            if spark:
                view.unpersist()


def _sample(records: EngineRecords, seed: int, fraction: float) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for kind, frame in records.frames.items():
        column = records.id_columns[kind]
        if records.engine == "pyspark":
            from crmkit.engines._assess_spark import spark_sample_mask

            out[kind] = frame.filter(spark_sample_mask(frame, column, seed, fraction)).toPandas()
        else:
            from crmkit.engines._assess_dask import dask_sample_mask

            part = frame.map_partitions(
                lambda p, c=column: p.loc[dask_sample_mask(p, c, seed, fraction)],
                meta=frame._meta,
            )
            out[kind] = part.compute()
    return out


@validate_args(_CONSTRAINTS, owner="engines.fit")
def fit(
    playbook: Any,
    transactions: Any,
    *,
    customers: Any = None,
    contacts: Any = None,
    interactions: Any = None,
    feedback: Any = None,
    events: Any = None,
    campaigns: Any = None,
    touches: Any = None,
    prospects: Any = None,
    columns: ColumnMap | Mapping[str, str] | None = None,
    as_of: Any = None,
    time_unit: str = "W",
    sample: int = 100_000,
    seed: int = 0,
    progress: bool | None = None,
) -> Any:
    """Fit a Playbook on Spark or Dask records: statistics of all, a sample for the rest.

    1. ``as_of``: the user's, or the last transaction day computed by the
       engine over all transactions.
    2. The customer view of every customer is summarised inside the engine
       (:func:`crmkit.summarize`) and reduced to sufficient statistics
       (:func:`crmkit.engines.sufficient_stats`); the purchase and spend
       models are fitted on them (weighted: the full-data likelihood).
       ``"auto"`` follows the Playbook's rules (the default purchase model
       from :data:`~crmkit.compose.MIN_REPEAT_BUYERS` repeat buyers on; a
       Gamma-Gamma on the repeat buyers with positive spend, else observed
       spend).
    3. A sample of about ``sample`` customers is drawn inside the engine
       (a hash of the seed and the customer id below ``sample / n``: all
       records of a sampled customer, the same customers whatever the row
       order), collected as pandas, and the playbook's other steps are
       fitted on it with the value models of step 2
       (``Playbook.fit(data, value_models=...)``).

    The sizes are stated in ``playbook.notes_`` (and so in
    ``result.attrs["playbook"]["notes"]`` of a pandas assessment) and in
    ``playbook.fit_sample_`` (``{"customers": n, "sampled": k, "seed": s}``).
    Local frames (pandas, polars, DuckDB) are fitted whole with
    :meth:`Playbook.fit`.

    Parameters
    ----------
    playbook : Playbook
        The playbook to fit (fitted in place and returned, as ``fit`` does).
    transactions : DataFrame
        Purchases: Spark, Dask, pandas, polars or DuckDB.
    customers, contacts, interactions, feedback, events, touches : DataFrame, optional
        The other customer-keyed records, on the transactions' engine.
    campaigns, prospects : DataFrame, optional
        Records not keyed by customer (collected).
    columns : ColumnMap or mapping, optional
        The user's column names by role.
    as_of : date-like, optional
        Observation end; default the last transaction day.
    time_unit : {"D", "W", "M"}, default="W"
        Unit of recency, T and tenure.
    sample : int, default=100_000
        Customers (about) the steps other than the value models are fitted on.
    seed : int, default=0
        Chooses the sample.
    progress : bool, optional
        A progress bar over the steps (``as_of``, ``statistics``, ``value``,
        ``sample``, ``fit``); tqdm needed, ``False`` never.

    Returns
    -------
    Playbook
        ``playbook``, fitted.

    Raises
    ------
    InvalidParameterError
        For bad options, frames of mixed engines, an object that is not a
        Playbook.
    SchemaError, ConvergenceError
        As :meth:`Playbook.fit`.

    See Also
    --------
    crmkit.engines.assess : assessing every customer in the engine.

    Examples
    --------
    >>> import pytest
    >>> dd = pytest.importorskip("dask.dataframe")
    >>> from crmkit.compose import Playbook
    >>> from crmkit.datasets import make_crm
    >>> crm = make_crm(300, seed=2)
    >>> tx = dd.from_pandas(crm.data.transactions, npartitions=2)
    >>> pb = fit(Playbook(), tx, sample=100, progress=False)
    >>> pb.fit_sample_["customers"], 60 < pb.fit_sample_["sampled"] < 140
    (300, True)
    """
    given = {
        "transactions": transactions,
        "customers": customers,
        "contacts": contacts,
        "interactions": interactions,
        "feedback": feedback,
        "events": events,
        "campaigns": campaigns,
        "touches": touches,
        "prospects": prospects,
    }
    records = EngineRecords(given, columns, "engines.fit")
    if records.engine == "local":
        fitted: Any = playbook.fit(records.local_data(as_of, time_unit), progress=progress)
        return fitted
    with step_bar(progress, LARGE, "engines.fit") as bar:
        day = records.observation_end(as_of)
        bar.step("as_of")
        stats, spend_stats = _view_stats(records, day, time_unit)
        n = int(stats["weights"].sum())
        bar.step("statistics")
        pm, sm, notes = fit_value_stats(
            playbook.purchase_model, playbook.spend_model, stats, spend_stats
        )
        bar.step("value")
        fraction = min(1.0, float(sample) / max(n, 1))
        frames: dict[str, Any] = {**_sample(records, int(seed), fraction), **records.shared}
        data = CustomerData.from_frames(
            frames.pop("transactions"),
            **frames,
            columns=records.cmap,
            as_of=day,
            time_unit=time_unit,
        )
        bar.step("sample")
        playbook.fit(data, value_models=(pm, sm), progress=False)
        bar.step("fit")
    k = data.n_customers
    playbook.notes_ = (
        *playbook.notes_,
        *notes,
        f"engines.fit: value models fitted on the sufficient statistics of all {n} "
        f"customers; the other steps on a sample of {k} customers (seed {int(seed)}, "
        f"as of {day.date()})",
    )
    setattr(playbook, "fit_sample_", {"customers": n, "sampled": k, "seed": int(seed)})  # noqa: B010
    return playbook
