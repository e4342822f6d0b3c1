"""``engines.assess``: a fitted Playbook run where the records live (Spark, Dask, local)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmkit._frames import to_narwhals
from crmkit._params import Interval, validate_args
from crmkit.compose import LARGE, step_bar
from crmkit.data import ColumnMap
from crmkit.engines._driver import PLAYBOOK, EngineRecords, check_fitted, parse_as_of
from crmkit.engines._records import Layout, PlaybookRunner, output_layout

__all__ = ["EngineRecords", "assess", "parse_as_of"]


def _id_probe(records: EngineRecords) -> Any:
    tx = records.frames["transactions"]
    column = records.id_columns["transactions"]
    schema = dict(to_narwhals(tx, "engines.assess", "transactions").collect_schema())
    return 0 if schema[column].is_integer() else "0"


@validate_args(
    {"partitions": [None, Interval("int", 1, None)], "playbook": [PLAYBOOK]},
    owner="engines.assess",
)
def assess(
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
    partitions: int | None = None,
    progress: bool | None = None,
) -> Any:
    """Assess every customer with a fitted Playbook inside the records' engine.

    - Spark (classic or Connect): the record kinds are unioned into one
      frame (each kind's columns under generated names, a kind tag and a
      bucket ``pmod(xxhash64(customer id), partitions)``), grouped by bucket
      and assessed with ``applyInPandas``: all records of a customer meet in
      one pandas call. Lazy: runs on an action.
    - Dask: the same packing, ``shuffle`` on the bucket and
      ``map_partitions``. Lazy: runs on ``compute()``.
    - pandas, polars, DuckDB: :meth:`CustomerData.from_frames` and
      :meth:`Playbook.assess` on this machine (a pandas frame indexed by
      ``customer_id``).

    The playbook travels to the workers as its JSON (``to_dict``); crmkit
    must be installed there. ``as_of`` is one date for all customers: the
    user's, or the last transaction day computed by the engine over all
    transactions before anything runs. Each customer's row therefore equals
    its row of ``playbook.assess(CustomerData.from_frames(...))`` on the
    same records (every step reads only the customer's own records and the
    fitted state; see :meth:`Playbook.assess_one`).

    Output columns of the engines: ``customer_id`` (the transactions' id
    type), then the assessment's columns with types from the fitted
    playbook (learned from a made-up one-customer assessment, no data
    read): floats as ``double``/float64, integers ``bigint``/int64, text,
    categoricals (``stage``, ``status``, segments ...) and every
    ``*_reasons`` column as strings (Python ``str``/None in Dask).

    Parameters
    ----------
    playbook : Playbook
        Fitted (:meth:`Playbook.fit` or :func:`crmkit.engines.fit`).
    transactions : DataFrame
        Purchases (Spark, Dask, pandas, polars, DuckDB).
    customers, contacts, interactions, feedback, events, touches : DataFrame, optional
        The other customer-keyed records, on the transactions' engine.
    campaigns, prospects : DataFrame, optional
        Records not keyed by customer: collected (they are small) and sent
        to every partition for validation.
    columns : ColumnMap or mapping, optional
        The user's column names by role (as in :meth:`CustomerData.from_frames`).
    as_of : date-like, optional
        Observation end; default the last transaction day (then the
        transactions' date column must hold dates or timestamps).
    partitions : int, optional
        Customer buckets: Spark default ``spark.sql.shuffle.partitions``,
        Dask the transactions' partitions.
    progress : bool, optional
        A progress bar over the driver's steps (``as_of``, ``schema``,
        ``plan``); tqdm needed, ``False`` never. The engine's jobs run when
        the result is computed.

    Returns
    -------
    DataFrame
        Spark or Dask frame (lazy) with ``customer_id`` and the assessment
        columns, or for local input the pandas assessment.

    Raises
    ------
    InvalidParameterError
        For a playbook that is not a Playbook, frames of mixed engines, a
        date column without dates and no ``as_of``, ``partitions`` < 1.
    NotFittedError
        When the playbook is not fitted.
    SchemaError
        For missing id or date columns (on the driver); invalid records
        fail when the engine runs (the message travels in the engine's
        error).

    See Also
    --------
    crmkit.engines.fit : fitting a Playbook on engine records.

    Examples
    --------
    >>> import pytest
    >>> dd = pytest.importorskip("dask.dataframe")
    >>> from crmkit.compose import Playbook
    >>> from crmkit.datasets import make_crm
    >>> crm = make_crm(80, seed=2)
    >>> pb = Playbook().fit(crm.data)
    >>> tx = dd.from_pandas(crm.data.transactions, npartitions=2)
    >>> out = assess(pb, tx, progress=False).compute().set_index("customer_id").sort_index()
    >>> bool((out["clv"] == pb.assess(crm.data)["clv"]).all())
    True
    """
    check_fitted(playbook)
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
    records = EngineRecords(given, columns, "engines.assess")
    if records.engine == "local":
        return playbook.assess(records.local_data(as_of, playbook.time_unit_), progress=progress)
    with step_bar(progress, LARGE, "engines.assess") as bar:
        day = records.observation_end(as_of)
        bar.step("as_of")
        output = output_layout(playbook, day, _id_probe(records))
        bar.step("schema")
        n = records.n_buckets(partitions)

        def make_runner(layout: Layout, id_dtype: str) -> PlaybookRunner:
            return PlaybookRunner(
                playbook, layout, output, id_dtype, day, records.cmap.mapping, records.shared
            )

        if records.engine == "pyspark":
            from crmkit.engines._assess_spark import assess_spark

            out = assess_spark(records.frames, records.id_columns, n, make_runner, output)
        else:
            from crmkit.engines._assess_dask import assess_dask

            out = assess_dask(records.frames, records.id_columns, n, make_runner)
        bar.step("plan")
    return out
