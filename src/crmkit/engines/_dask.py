"""Scoring a Dask customer view: ``map_partitions`` with the shared batch scorer."""

from __future__ import annotations

from typing import Any

from crmkit.engines._score import BatchScorer

__all__ = ["score_dask"]


def score_dask(frame: Any, scorer: BatchScorer) -> Any:
    """Score every partition of a Dask DataFrame (lazy).

    The scorer (the models as JSON) is part of the task graph; each worker
    rebuilds the models and scores its partitions with
    :func:`crmkit.engines.score_batch`.

    Parameters
    ----------
    frame : dask.dataframe.DataFrame
        The customer view.
    scorer : BatchScorer
        Models and options.

    Returns
    -------
    dask.dataframe.DataFrame
        The view with the score columns; computed on ``compute()``.

    Examples
    --------
    >>> import pandas as pd, pytest
    >>> dd = pytest.importorskip("dask.dataframe")
    >>> from crmkit.value import BetaGeo
    >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> view = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 30.0], "T": [38.0] * 2})
    >>> out = score_dask(dd.from_pandas(view, npartitions=2), BatchScorer(m, horizon=52))
    >>> out.compute()["p_alive"].tolist() == m.p_alive(view).tolist()
    True
    """
    meta = scorer(frame._meta)
    return frame.map_partitions(scorer, meta=meta)
