"""Run crmkit where the data is: Spark, Dask, DuckDB, polars or pandas.

- :func:`sufficient_stats` counts customers per distinct model input inside
  the engine; the models fit on the small collected table with
  ``fit(stats, weights=stats["weights"])`` (the exact likelihood).
- :func:`score` scores every customer on the engine with one shared pandas
  function, :func:`score_batch` (Spark ``mapInPandas``, Dask
  ``map_partitions``, local Arrow batches), so every engine gives the same
  numbers.
- :func:`crmkit.summarize` builds the customer view inside the engine too.
- :func:`assess` runs a fitted :class:`~crmkit.compose.Playbook` on Spark or
  Dask records, partitioned by customer (``applyInPandas`` /
  ``map_partitions``), equal to the pandas assessment row for row;
  :func:`fit` fits one at scale (value models on sufficient statistics of
  every customer, the other steps on a customer sample drawn in the engine).

Examples
--------
>>> import pandas as pd
>>> from crmkit.engines import sufficient_stats
>>> view = pd.DataFrame({"frequency": [1, 1], "recency": [2.0, 2.0], "T": [5.0, 5.0]})
>>> sufficient_stats(view)["weights"].tolist()
[2]
"""

from crmkit._frames import engine_of
from crmkit.engines._assess import assess
from crmkit.engines._fit import fit
from crmkit.engines._score import SCORE_COLUMNS, BatchScorer, score, score_batch
from crmkit.value import PURCHASE_COLUMNS, SPEND_COLUMNS, sufficient_stats

__all__ = [
    "PURCHASE_COLUMNS",
    "SCORE_COLUMNS",
    "SPEND_COLUMNS",
    "BatchScorer",
    "assess",
    "engine_of",
    "fit",
    "score",
    "score_batch",
    "sufficient_stats",
]
