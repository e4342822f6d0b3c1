"""Scoring every customer with fitted models, identically on every engine.

One pandas function, :func:`score_batch`, computes the scores of a batch of
customers. :class:`BatchScorer` carries the fitted models as their JSON
description (a few hundred bytes) and rebuilds them wherever it runs, so the
same code scores a pandas view, the batches of a polars or DuckDB frame, the
partitions of a Dask frame (``map_partitions``) and the Arrow batches of a
Spark frame (``mapInPandas``). Every score of a customer depends on that
customer's row only, so the results do not depend on how rows are batched.
"""

from __future__ import annotations

import importlib
import json
import math
import numbers
from collections.abc import Callable
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from crmkit._frames import is_spark, require_columns, to_narwhals
from crmkit._params import (
    Interval,
    Options,
    Predicate,
    instance_of,
    validate_args,
    validate_params,
)
from crmkit._persist import from_dict
from crmkit.compose import LARGE, StepBar, step_bar
from crmkit.data import TIME_UNITS
from crmkit.exceptions import NotFittedError

__all__ = ["SCORE_COLUMNS", "BatchScorer", "score", "score_batch"]

#: The columns :func:`score_batch` adds (``clv`` only with a spend model).
SCORE_COLUMNS: tuple[str, ...] = ("p_alive", "expected_purchases", "clv")
_ID = "customer_id"


def _finite(low_open: bool) -> Predicate:
    def check(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            return False
        return float(v) > 0 if low_open else float(v) >= 0

    return Predicate(check, "a finite float > 0" if low_open else "a finite float >= 0")


def _has_methods(*names: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return all(callable(getattr(value, n, None)) for n in names)

    return check


_CONSTRAINTS: dict[str, list[Any]] = {
    "horizon": [_finite(True)],
    "discount_rate": [_finite(False)],
    "time_unit": [Options(frozenset(TIME_UNITS))],
    "steps": [None, Interval("int", 1, None)],
    "margin": [Interval("real", 0, 1, closed="right")],
    "model": [
        Predicate(
            _has_methods("p_alive", "conditional_expected_purchases", "to_dict"),
            "a fitted crmkit purchase model (with p_alive, conditional_expected_purchases "
            "and to_dict)",
        )
    ],
    "spend_model": [
        None,
        Predicate(
            _has_methods("expected_spend", "to_dict"),
            "a fitted crmkit spend model (with expected_spend and to_dict)",
        ),
    ],
    "batch": [instance_of(pd.DataFrame, "a pandas DataFrame")],
    "batch_size": [Interval("int", 1, None)],
}
_SCORER = ("horizon", "discount_rate", "time_unit", "steps", "margin", "model", "spend_model")


def _rules(*names: str) -> dict[str, list[Any]]:
    return {name: _CONSTRAINTS[name] for name in names}


@validate_args(_rules(*_SCORER, "batch"))
def score_batch(
    model: Any,
    batch: pd.DataFrame,
    *,
    horizon: float,
    spend_model: Any = None,
    discount_rate: float = 0.0,
    time_unit: str = "W",
    steps: int | None = None,
    margin: float = 1.0,
) -> pd.DataFrame:
    """Score a batch of customers: P(alive), expected purchases and CLV.

    The one scoring function behind :func:`score` on every engine.

    Parameters
    ----------
    model : fitted purchase model
        E.g. :class:`~crmkit.value.BetaGeo`; reads ``frequency``,
        ``recency`` and ``T``.
    batch : pandas DataFrame
        Customers (rows of the customer view), with the columns the models
        read; other columns are passed through.
    horizon : float
        How far ahead, in the view's time unit (> 0).
    spend_model : fitted spend model, optional
        E.g. :class:`~crmkit.value.GammaGamma` (reads ``frequency`` and
        ``monetary_value``); when given, ``clv`` is added.
    discount_rate : float, default=0.0
        Annual discount rate of the CLV (>= 0).
    time_unit : {"D", "W", "M"}, default="W"
        Time unit of the view and of ``horizon``.
    steps : int, optional
        Sub-periods of the CLV sum (default one per month of the horizon).
    margin : float, default=1.0
        Share of revenue kept as margin, in (0, 1].

    Returns
    -------
    DataFrame
        ``batch``'s columns (a column named like a score is replaced)
        followed by ``p_alive``, ``expected_purchases`` (in the next
        ``horizon``) and, with a spend model, ``clv`` (all float64); same
        index as ``batch``.

    Raises
    ------
    SchemaError
        For missing or invalid columns (naming the ``customer_id`` values
        when the batch has such a column).
    NotFittedError
        When a model is not fitted.
    InvalidParameterError
        For a bad ``horizon``, ``discount_rate``, ``time_unit``, ``steps`` or
        ``margin``; when ``batch`` is not a pandas DataFrame or a model lacks
        the methods (also a ``TypeError``).

    See Also
    --------
    crmkit.value.clv : the CLV definition.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.value import BetaGeo
    >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> batch = pd.DataFrame({"customer_id": ["a", "b"], "frequency": [0, 2],
    ...                       "recency": [0.0, 30.0], "T": [38.0, 38.0]})
    >>> out = score_batch(m, batch, horizon=52)
    >>> out.columns.tolist()
    ['customer_id', 'frequency', 'recency', 'T', 'p_alive', 'expected_purchases']
    >>> bool((out["p_alive"] == m.p_alive(batch)).all())
    True
    """
    new = [c for c in SCORE_COLUMNS if c != "clv" or spend_model is not None]
    n = len(batch)
    if n == 0:
        values = {c: np.zeros(0, dtype=np.float64) for c in new}
    else:
        work = batch
        if _ID in batch.columns and isinstance(batch.index, pd.RangeIndex):
            # error messages then name customers rather than batch positions
            work = batch.set_index(_ID, drop=False)
        values = {
            "p_alive": model.p_alive(work).to_numpy(dtype=np.float64),
            "expected_purchases": model.conditional_expected_purchases(
                work, float(horizon)
            ).to_numpy(dtype=np.float64),
        }
        if spend_model is not None:
            from crmkit.value import clv

            values["clv"] = clv(
                model,
                spend_model,
                work,
                horizon=horizon,
                discount_rate=discount_rate,
                time_unit=time_unit,
                steps=steps,
                margin=margin,
            ).to_numpy(dtype=np.float64)
    out: pd.DataFrame = batch.drop(columns=[c for c in new if c in batch.columns]).assign(**values)
    return out


class BatchScorer:
    """A picklable scoring function for executors: fitted models travel as JSON.

    Holds the models' ``to_dict()`` JSON (validated on the driver) and the
    scoring options; calling it on a pandas batch rebuilds the models once
    per process-side copy with :func:`crmkit._persist.from_dict` and runs
    :func:`score_batch`. Use it in your own pipelines (e.g. Spark
    ``mapInPandas``/``applyInPandas``, Dask ``map_partitions``, a
    multiprocessing pool); :func:`score` uses it for every engine.

    Parameters
    ----------
    model : fitted purchase model
        E.g. :class:`~crmkit.value.BetaGeo`.
    horizon : float
        Scoring horizon in the view's time unit (> 0).
    spend_model : fitted spend model, optional
        E.g. :class:`~crmkit.value.GammaGamma`; adds ``clv``.
    discount_rate : float, default=0.0
        Annual discount rate of the CLV.
    time_unit : {"D", "W", "M"}, default="W"
        Time unit of the view.
    steps : int, optional
        Sub-periods of the CLV sum.
    margin : float, default=1.0
        Share of revenue kept, in (0, 1].

    Attributes
    ----------
    payload : str
        The JSON sent to executors (models and options; no customer data).
    input_columns : tuple of str
        The view columns the models read.
    output_columns : tuple of str
        The columns added.

    Raises
    ------
    NotFittedError
        When a model is not fitted.
    InvalidParameterError
        For bad options.

    Examples
    --------
    >>> import pickle, pandas as pd
    >>> from crmkit.value import BetaGeo
    >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> scorer = pickle.loads(pickle.dumps(BatchScorer(m, horizon=52)))
    >>> batch = pd.DataFrame({"frequency": [2], "recency": [30.0], "T": [38.0]})
    >>> bool(scorer(batch)["p_alive"].iloc[0] == m.p_alive(batch).iloc[0])
    True
    >>> scorer.output_columns
    ('p_alive', 'expected_purchases')
    """

    def __init__(
        self,
        model: Any,
        *,
        horizon: float,
        spend_model: Any = None,
        discount_rate: float = 0.0,
        time_unit: str = "W",
        steps: int | None = None,
        margin: float = 1.0,
    ) -> None:
        options = {
            "horizon": horizon,
            "discount_rate": discount_rate,
            "time_unit": time_unit,
            "steps": steps,
            "margin": margin,
        }
        models = {"model": model, "spend_model": spend_model}
        validate_params("BatchScorer", {**options, **models}, _rules(*_SCORER))
        docs: dict[str, Any] = {}
        modules: list[str] = []
        for role, m in models.items():
            if m is None:
                continue
            doc = m.to_dict()
            if doc.get("state") is None:
                raise NotFittedError(
                    f"This {type(m).__name__} is not fitted yet: call 'fit' before scoring."
                )
            docs[role] = doc
            modules.append(type(m).__module__)
        self.payload = json.dumps(
            {"models": docs, "modules": modules, "options": options}, allow_nan=False
        )
        columns: list[str] = list(getattr(model, "_columns", ("frequency", "recency", "T")))
        if spend_model is not None:
            columns += [c for c in ("frequency", "monetary_value") if c not in columns]
        self.input_columns: tuple[str, ...] = tuple(columns)
        self.output_columns: tuple[str, ...] = tuple(
            c for c in SCORE_COLUMNS if c != "clv" or spend_model is not None
        )
        self._models: dict[str, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {
            "payload": self.payload,
            "input_columns": self.input_columns,
            "output_columns": self.output_columns,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.payload = state["payload"]
        self.input_columns = tuple(state["input_columns"])
        self.output_columns = tuple(state["output_columns"])
        self._models = None

    def _rebuild(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if self._models is None:
            data = json.loads(self.payload)
            for name in data["modules"]:  # registers the model classes in this process
                importlib.import_module(name)
            models = {role: from_dict(doc) for role, doc in data["models"].items()}
            self._models = {"models": models, "options": data["options"]}
        return self._models["models"], self._models["options"]

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Score one pandas batch (see :func:`score_batch`).

        Parameters
        ----------
        batch : pandas DataFrame
            Customers with the input columns.

        Returns
        -------
        DataFrame
            ``batch`` with the output columns.

        Examples
        --------
        See the class.
        """
        models, options = self._rebuild()
        return score_batch(models["model"], batch, spend_model=models.get("spend_model"), **options)


def _score_local(f: Any, scorer: BatchScorer, batch_size: int, bar: StepBar) -> Any:
    """Score a polars/DuckDB/pyarrow... frame in Arrow batches of ``batch_size`` rows."""
    try:
        pa: Any = importlib.import_module("pyarrow")
    except ImportError as exc:  # pragma: no cover - pyarrow comes with the extras
        raise ImportError(
            "crmkit.engines.score needs pyarrow for polars/DuckDB frames: pip install pyarrow"
        ) from exc
    lazy = isinstance(f, nw.LazyFrame)
    impl = f.implementation
    eager = f.collect(backend="pyarrow") if lazy else f
    table = eager.to_arrow()
    parts = []
    for i, b in enumerate(table.to_batches(max_chunksize=batch_size)):
        parts.append(pa.Table.from_pandas(scorer(b.to_pandas()), preserve_index=False))
        bar.step(f"batch {i + 1}")
    if not parts:
        parts = [pa.Table.from_pandas(scorer(table.to_pandas()), preserve_index=False)]
    result = nw.from_native(pa.concat_tables(parts), eager_only=True)
    if lazy:
        return result.lazy(backend=impl).to_native()
    return nw.from_arrow(result.to_native(), backend=impl).to_native()


@validate_args(_rules("batch_size"))
def score(
    view: Any,
    model: Any,
    *,
    horizon: float,
    spend_model: Any = None,
    discount_rate: float = 0.0,
    time_unit: str = "W",
    steps: int | None = None,
    margin: float = 1.0,
    batch_size: int = 100_000,
    progress: bool | None = None,
) -> Any:
    """Score every customer of a view where it lives, with one shared function.

    The fitted models are shipped as JSON (:class:`BatchScorer`) and every
    batch is scored by :func:`score_batch`, so the numbers are the same on
    every engine:

    - pandas: the whole view at once;
    - polars, DuckDB (and other local frames): Arrow batches of
      ``batch_size`` rows;
    - Dask: ``map_partitions`` (lazy; nothing runs until ``compute``);
    - PySpark (classic or Connect): ``mapInPandas`` (lazy), the JSON
      travelling with the task closure; crmkit must be installed on the
      executors.

    Parameters
    ----------
    view : DataFrame
        Customer view: pandas, polars (eager or lazy), DuckDB relation, Dask
        or PySpark frame with the columns the models read.
    model : fitted purchase model
        E.g. :class:`~crmkit.value.BetaGeo`.
    horizon : float
        How far ahead, in the view's time unit (> 0).
    spend_model : fitted spend model, optional
        E.g. :class:`~crmkit.value.GammaGamma`; adds ``clv``.
    discount_rate : float, default=0.0
        Annual discount rate of the CLV (>= 0).
    time_unit : {"D", "W", "M"}, default="W"
        Time unit of the view and of ``horizon``.
    steps : int, optional
        Sub-periods of the CLV sum.
    margin : float, default=1.0
        Share of revenue kept as margin, in (0, 1].
    batch_size : int, default=100_000
        Rows per batch for local engines (polars, DuckDB).
    progress : bool, optional
        A progress bar (tqdm needed): the driver's steps (``models``,
        ``plan``) for Spark and Dask, one step per batch for local engines;
        ``False`` never, ``None`` on a terminal or in a notebook for
        distributed frames and views of 50,000 rows or more.

    Returns
    -------
    DataFrame
        Same kind as ``view`` (lazy stays lazy): its columns followed by
        ``p_alive``, ``expected_purchases`` and, with a spend model, ``clv``.

    Raises
    ------
    SchemaError
        For missing or non-numeric columns (checked on the driver) and
        invalid values (when the batches run).
    NotFittedError
        When a model is not fitted.
    InvalidParameterError
        For bad options; when ``view`` is not a data frame or a model lacks
        the methods (also a ``TypeError``).

    Examples
    --------
    >>> import polars as pl
    >>> from crmkit.value import BetaGeo
    >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> view = pl.DataFrame({"customer_id": ["a", "b"], "frequency": [0, 2],
    ...                      "recency": [0.0, 30.0], "T": [38.0, 38.0]})
    >>> out = score(view, m, horizon=52)
    >>> type(out).__name__, out.columns[-2:]
    ('DataFrame', ['p_alive', 'expected_purchases'])
    >>> out["p_alive"].to_list() == m.p_alive(view.to_pandas()).tolist()
    True
    """
    scorer = BatchScorer(
        model,
        horizon=horizon,
        spend_model=spend_model,
        discount_rate=discount_rate,
        time_unit=time_unit,
        steps=steps,
        margin=margin,
    )
    f = to_narwhals(view, "score", "view")
    require_columns(f, scorer.input_columns, "score")
    impl = f.implementation
    distributed = impl.is_dask() or is_spark(impl)
    size = LARGE if distributed else (len(view) if isinstance(view, pd.DataFrame) else 0)
    with step_bar(progress, size, "engines.score") as bar:
        bar.step("models")
        if isinstance(view, pd.DataFrame):
            out = scorer(view)
        elif impl.is_dask():
            from crmkit.engines._dask import score_dask

            out = score_dask(view, scorer)
        elif is_spark(impl):
            from crmkit.engines._spark import score_spark

            out = score_spark(view, scorer)
        else:
            return _score_local(f, scorer, int(batch_size), bar)
        bar.step("plan" if distributed else "score")
    return out
