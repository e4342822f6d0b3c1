"""Shipping a fitted Playbook and customers' records to engine partitions.

The record kinds of a customer (transactions, customers, contacts ...) are
packed into one frame: every record keeps its own columns under generated
names (``c<kind>_<position>``, so that two kinds may share a column name
with different types), next to a kind tag (:data:`KIND`) and a bucket
computed from the customer id (:data:`BUCKET`). The engine moves all rows of
a bucket to one place (Spark ``groupBy(bucket).applyInPandas``, Dask
``shuffle``), where :class:`PlaybookRunner` unpacks the kinds as pandas
frames, restores the column types the packing widened (integers and
booleans become floats/objects where another kind's rows are null), builds
:class:`~crmkit.data.CustomerData` with the global ``as_of`` and runs the
fitted Playbook, rebuilt from its JSON.

Every row of a Playbook assessment depends on that customer's records and
on the fitted state only (``Playbook.assess_one`` gives the bulk row), so
the rows do not depend on how customers are grouped into buckets.
"""

from __future__ import annotations

import importlib
import json
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmkit.exceptions import DataWarning, SchemaError

__all__ = [
    "BUCKET",
    "CUSTOMER_KINDS",
    "KIND",
    "SHARED_KINDS",
    "PlaybookRunner",
    "output_layout",
]

#: Column of the packed frame naming the record kind (its position in the layout).
KIND = "__crmkit_kind"
#: Column of the packed frame holding the customer's bucket.
BUCKET = "__crmkit_bucket"
#: Record kinds keyed by customer (partitioned with their customers).
CUSTOMER_KINDS: tuple[str, ...] = (
    "transactions",
    "customers",
    "contacts",
    "interactions",
    "feedback",
    "events",
    "touches",
)
#: Record kinds not keyed by customer: collected and sent whole to every partition.
SHARED_KINDS: tuple[str, ...] = ("campaigns", "prospects")

#: Output column kinds and their pandas dtypes (strings as objects holding str or None).
_PANDAS: Mapping[str, str] = {
    "float": "float64",
    "int": "int64",
    "bool": "bool",
    "datetime": "datetime64[ns]",
    "string": "object",
}

#: Output integer and boolean dtypes where a partition has missing values.
_NULLABLE: Mapping[str, str] = {"int": "Int64", "bool": "boolean"}

#: (generated name, the record's column name, dtype to restore or None) per column.
Layout = list[tuple[str, list[tuple[str, str, str | None]]]]


def _kind_of(dtype: Any) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "string"


def output_layout(playbook: Any, as_of: pd.Timestamp, id_value: Any) -> list[tuple[str, str]]:
    """The assessment's columns and their kinds, learned from a one-customer sample.

    The columns of ``playbook.assess`` depend on the fitted steps only; a
    made-up customer with one purchase on ``as_of`` gives them without
    touching the data. Kinds: ``"float"``, ``"int"``, ``"bool"``,
    ``"datetime"`` and ``"string"`` (categoricals, text and reasons).

    Parameters
    ----------
    playbook : Playbook
        Fitted.
    as_of : Timestamp
        The observation end.
    id_value : int or str
        A customer id of the records' id type.

    Returns
    -------
    list of (str, str)
        Column name and kind, without the customer id.

    Examples
    --------
    >>> from crmkit.compose import Playbook
    >>> from crmkit.datasets import make_crm
    >>> crm = make_crm(60, seed=6)
    >>> pb = Playbook(churn=None, care=None).fit(crm.data)
    >>> output_layout(pb, crm.data.as_of, 0)[:2]
    [('stage', 'string'), ('status', 'string')]
    """
    from crmkit.data import CustomerData

    tx = pd.DataFrame({"customer_id": [id_value], "date": [as_of], "amount": [1.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = CustomerData.from_frames(tx, as_of=as_of, time_unit=playbook.time_unit_)
        out = playbook.assess(data, progress=False)
    return [(str(c), _kind_of(out[c].dtype)) for c in out.columns]


def empty_output(layout: Sequence[tuple[str, str]], id_dtype: Any) -> pd.DataFrame:
    """An empty frame with the output columns (``customer_id`` first).

    Parameters
    ----------
    layout : sequence of (str, str)
        From :func:`output_layout`.
    id_dtype : dtype
        pandas dtype of the customer id.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> empty_output([("clv", "float"), ("stage", "string")], "int64").dtypes.tolist()
    [dtype('int64'), dtype('float64'), dtype('O')]
    """
    columns: dict[str, Any] = {"customer_id": pd.Series([], dtype=id_dtype)}
    columns.update({c: pd.Series([], dtype=_PANDAS[k]) for c, k in layout})
    frame: pd.DataFrame = pd.DataFrame(columns)
    return frame


def cast_output(out: pd.DataFrame, layout: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """An assessment (indexed by customer id) as a flat frame with the layout's types.

    Categoricals and text become Python strings (None where missing),
    integers int64 (nullable ``Int64`` where missing), floats float64.

    Parameters
    ----------
    out : DataFrame
        ``Playbook.assess`` output.
    layout : sequence of (str, str)
        From :func:`output_layout`.

    Returns
    -------
    DataFrame
        ``customer_id`` then the layout's columns.

    Raises
    ------
    SchemaError
        When a column of the layout is missing.

    Examples
    --------
    >>> out = pd.DataFrame({"stage": pd.Categorical(["retention", None])},
    ...                    index=pd.Index([1, 2], name="customer_id"))
    >>> cast_output(out, [("stage", "string")])["stage"].tolist()
    ['retention', None]
    """
    from crmkit.exceptions import SchemaFailure

    missing = [c for c, _ in layout if c not in out.columns]
    if missing:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="assessment", column=c, check="is missing from a partition's output"
                )
                for c in missing
            ]
        )
    columns: dict[str, Any] = {"customer_id": out.index.to_numpy()}
    for name, kind in layout:
        s = out[name]
        if kind == "float":
            columns[name] = s.to_numpy(dtype=np.float64, na_value=np.nan)
        elif kind in ("int", "bool"):
            target: Any = _PANDAS[kind] if not s.isna().any() else _NULLABLE[kind]
            columns[name] = s.astype(target).array
        elif kind == "datetime":
            columns[name] = pd.to_datetime(s).to_numpy(dtype="datetime64[ns]")
        else:
            values = s.astype(object).to_numpy(copy=True)
            values[pd.isna(values)] = None
            columns[name] = pd.Series(values, dtype=object)  # no inference of a str dtype
    n = len(out)
    frame: pd.DataFrame = pd.DataFrame(
        {c: v if isinstance(v, pd.Series) else pd.Series(v) for c, v in columns.items()},
        index=pd.RangeIndex(n),
    )
    frame["customer_id"] = frame["customer_id"].astype(out.index.dtype)
    return frame


def unpack(frame: pd.DataFrame, layout: Layout) -> dict[str, pd.DataFrame]:
    """Split a packed frame into the record kinds, with their own names and types.

    Parameters
    ----------
    frame : DataFrame
        Rows of several kinds (:data:`KIND` tags their position in ``layout``).
    layout : list
        ``(kind, [(generated, name, dtype or None), ...])`` per kind.

    Returns
    -------
    dict of str to DataFrame
        Records by kind (every kind of the layout, possibly empty).

    Examples
    --------
    >>> packed = pd.DataFrame({KIND: [0, 1], "c0_0": [1.0, np.nan], "c1_0": [np.nan, 1.0]})
    >>> parts = unpack(packed, [("transactions", [("c0_0", "customer_id", "int64")]),
    ...                         ("customers", [("c1_0", "customer_id", "int64")])])
    >>> parts["customers"]["customer_id"].tolist(), str(parts["customers"]["customer_id"].dtype)
    ([1], 'int64')
    """
    tags = frame[KIND].to_numpy()
    records: dict[str, pd.DataFrame] = {}
    for position, (kind, cols) in enumerate(layout):
        rows = frame.loc[tags == position, [g for g, _, _ in cols]]
        part = rows.rename(columns={g: name for g, name, _ in cols}).reset_index(drop=True)
        for _, name, dtype in cols:
            if dtype is not None and not part[name].isna().any():
                part[name] = part[name].astype(dtype)
        records[kind] = part
    return records


def _all_late(exc: SchemaError) -> bool:
    return all(str(f.check).startswith("all transactions are after as_of") for f in exc.failures)


class PlaybookRunner:
    """Assess the customers of one packed partition with the fitted Playbook.

    Picklable: the playbook travels as its JSON (``to_dict``), rebuilt once
    per process-side copy; the shared record kinds (campaigns, prospects)
    travel as pandas frames.

    Parameters
    ----------
    playbook : Playbook
        Fitted.
    layout : list
        Packed columns per kind (see :func:`unpack`).
    output : sequence of (str, str)
        Output columns and kinds (:func:`output_layout`).
    id_dtype : str
        pandas dtype of the output's ``customer_id``.
    as_of : Timestamp
        The observation end, the same for every partition.
    columns : mapping of str to str
        The user's column names by role (``ColumnMap.mapping``).
    shared : mapping of str to DataFrame, optional
        Campaigns and prospects, sent whole.

    Attributes
    ----------
    payload : str
        The playbook's JSON.

    Examples
    --------
    >>> import pickle
    >>> from crmkit.compose import Playbook
    >>> from crmkit.datasets import make_crm
    >>> crm = make_crm(60, seed=6)
    >>> pb = Playbook(churn=None, care=None).fit(crm.data)
    >>> tx = crm.data.transactions
    >>> layout = [("transactions", [(f"c0_{j}", c, None) for j, c in enumerate(tx.columns)])]
    >>> packed = tx.set_axis([f"c0_{j}" for j in range(tx.shape[1])], axis=1).assign(**{KIND: 0})
    >>> runner = PlaybookRunner(pb, layout, output_layout(pb, crm.data.as_of, 0), "int64",
    ...                         crm.data.as_of, {})
    >>> out = pickle.loads(pickle.dumps(runner))(packed)
    >>> bool((out["clv"].to_numpy() == pb.assess(crm.data)["clv"].to_numpy()).all())
    True
    """

    def __init__(
        self,
        playbook: Any,
        layout: Layout,
        output: Sequence[tuple[str, str]],
        id_dtype: str,
        as_of: pd.Timestamp,
        columns: Mapping[str, str],
        shared: Mapping[str, pd.DataFrame] | None = None,
    ) -> None:
        self.payload = json.dumps(playbook.to_dict(), allow_nan=False)
        self.modules = sorted(_plugin_modules(playbook))
        self.layout = layout
        self.output = list(output)
        self.id_dtype = id_dtype
        self.as_of = pd.Timestamp(as_of)
        self.time_unit = str(playbook.time_unit_)
        self.columns = dict(columns)
        self.shared = dict(shared or {})
        self._playbook: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_playbook"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def playbook(self) -> Any:
        """The fitted playbook, rebuilt from the JSON on first use.

        Returns
        -------
        Playbook

        Examples
        --------
        See the class.
        """
        if self._playbook is None:
            from crmkit.compose import Playbook

            for name in self.modules:  # registers third-party plugin classes here
                importlib.import_module(name)
            self._playbook = Playbook.from_dict(json.loads(self.payload))
        return self._playbook

    def empty(self) -> pd.DataFrame:
        """The output of a partition without customers.

        Returns
        -------
        DataFrame

        Examples
        --------
        See the class.
        """
        return empty_output(self.output, self.id_dtype)

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Assess the customers whose records are in ``frame``.

        Parameters
        ----------
        frame : DataFrame
            Packed records of whole customers.

        Returns
        -------
        DataFrame
            ``customer_id`` and the assessment columns, one row per customer
            with transactions up to ``as_of``.

        Examples
        --------
        See the class.
        """
        from crmkit.data import CustomerData

        records = unpack(frame, self.layout)
        tx = records.pop("transactions", None)
        if tx is None or len(tx) == 0:
            return self.empty()
        given: dict[str, Any] = {k: v for k, v in records.items() if len(v) > 0}
        given.update(self.shared)
        playbook = self.playbook()
        with warnings.catch_warnings():
            # dropped and unmatched rows are announced per partition: not the user's view
            warnings.simplefilter("ignore", DataWarning)
            try:
                data = CustomerData.from_frames(
                    tx,
                    **given,
                    columns=self.columns,
                    as_of=self.as_of,
                    time_unit=self.time_unit,
                )
            except SchemaError as exc:
                if _all_late(exc):  # only customers who bought after as_of: none to assess
                    return self.empty()
                raise
            out = playbook.assess(data, progress=False)
        result = cast_output(out, self.output)
        id_dtype: Any = self.id_dtype
        result["customer_id"] = result["customer_id"].astype(id_dtype)
        return result


def _plugin_modules(playbook: Any) -> set[str]:
    found = {type(playbook).__module__}
    for plugin in playbook.plugins_.values():
        for p in plugin if isinstance(plugin, tuple) else (plugin,):
            found.add(type(p).__module__)
    for model in (playbook.purchase_model_, playbook.spend_model_, playbook.loyalty_):
        if model is not None:
            found.add(type(model).__module__)
    return found
