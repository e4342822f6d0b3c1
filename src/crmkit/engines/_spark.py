"""Scoring a PySpark customer view: ``mapInPandas`` with the shared batch scorer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd

from crmkit.engines._score import BatchScorer

__all__ = ["SparkBatches", "score_spark"]


class SparkBatches:
    """The ``mapInPandas`` function: scores each Arrow batch of a partition.

    Pickled (with the scorer's JSON payload) into every task; on the
    executor it imports crmkit, rebuilds the models once per task and scores
    batch after batch.

    Parameters
    ----------
    scorer : BatchScorer
        Models and options.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.value import BetaGeo
    >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> fn = SparkBatches(BatchScorer(m, horizon=52))
    >>> batch = pd.DataFrame({"frequency": [2], "recency": [30.0], "T": [38.0]})
    >>> [b.columns[-1] for b in fn([batch, batch])]
    ['expected_purchases', 'expected_purchases']
    """

    def __init__(self, scorer: BatchScorer) -> None:
        self.scorer = scorer

    def __call__(self, batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """Score the batches one by one.

        Parameters
        ----------
        batches : iterable of pandas DataFrame
            The partition's Arrow batches, as pandas.

        Yields
        ------
        DataFrame
            Each batch with the score columns.
        """
        for batch in batches:
            yield self.scorer(batch)


def score_spark(frame: Any, scorer: BatchScorer) -> Any:
    """Score every row of a PySpark DataFrame with ``mapInPandas`` (lazy).

    The output schema is the input schema (without columns named like a
    score) followed by the score columns as doubles.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        The customer view (classic or Spark Connect).
    scorer : BatchScorer
        Models and options.

    Returns
    -------
    pyspark.sql.DataFrame
        Lazy; runs on an action (``write``, ``collect``, ``toPandas`` ...).

    Examples
    --------
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> out = score_spark(spark_view, BatchScorer(model, horizon=52))  # doctest: +SKIP
    >>> out.columns[-2:]  # doctest: +SKIP
    ['p_alive', 'expected_purchases']
    """
    from pyspark.sql.types import DoubleType, StructField, StructType

    new = scorer.output_columns
    fields = [fld for fld in frame.schema.fields if fld.name not in new]
    fields += [StructField(name, DoubleType(), True) for name in new]
    return frame.mapInPandas(SparkBatches(scorer), schema=StructType(fields))
