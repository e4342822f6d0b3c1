"""A fitted Playbook on Dask records: packed, shuffled by customer bucket, ``map_partitions``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmkit.engines._records import BUCKET, KIND, Layout

__all__ = ["assess_dask", "dask_sample_mask", "hash_ids"]


def hash_ids(ids: pd.Series, seed: int | None = None) -> np.ndarray:
    """A 64-bit hash of each customer id (of its text), the same on every worker.

    Parameters
    ----------
    ids : pandas.Series
        Customer ids.
    seed : int, optional
        Mixed into the hash (sampling); None for bucketing.

    Returns
    -------
    numpy.ndarray of uint64

    Examples
    --------
    >>> a = hash_ids(pd.Series([1, 2]))
    >>> bool(a[0] == hash_ids(pd.Series([5, 1]))[1])
    True
    """
    text = ids.astype(object).map(str).astype(object)
    key = "crmkit-buckets00" if seed is None else f"{int(seed):016d}"[-16:]
    hashed: np.ndarray = pd.util.hash_pandas_object(text, index=False, hash_key=key).to_numpy()
    return hashed


class _Pack:
    """Renames one kind's columns, tags the kind and computes the bucket (per partition)."""

    def __init__(self, position: int, id_column: str, names: dict[str, str], n: int) -> None:
        self.position = position
        self.id_column = id_column
        self.names = names
        self.n = n

    def __call__(self, part: pd.DataFrame) -> pd.DataFrame:
        cats = [c for c in part.columns if isinstance(part[c].dtype, pd.CategoricalDtype)]
        out = part.astype({c: object for c in cats}) if cats else part
        bucket = (hash_ids(part[self.id_column]) % np.uint64(self.n)).astype(np.int64)
        out = out.rename(columns=self.names)
        packed: pd.DataFrame = out.assign(**{KIND: np.int64(self.position), BUCKET: bucket})
        return packed


def _restore(dtype: Any) -> str | None:
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return str(dtype)
    return None


def pack_dask(
    frames: Mapping[str, Any], id_columns: Mapping[str, str], n_buckets: int
) -> tuple[Any, Layout]:
    """Concatenate the record kinds into one Dask frame: generated names, kind tag, bucket.

    Parameters
    ----------
    frames : mapping of str to dask.dataframe.DataFrame
        Records by kind (transactions first).
    id_columns : mapping of str to str
        The customer id column of each kind.
    n_buckets : int
        Buckets the customers are hashed into.

    Returns
    -------
    packed : dask.dataframe.DataFrame
        Lazy.
    layout : list
        See :func:`crmkit.engines._records.unpack`.

    Examples
    --------
    >>> import pytest
    >>> dd = pytest.importorskip("dask.dataframe")
    >>> tx = dd.from_pandas(pd.DataFrame({"id": [1, 2], "amount": [1.0, 2.0]}), npartitions=1)
    >>> packed, layout = pack_dask({"transactions": tx}, {"transactions": "id"}, 4)
    >>> layout[0][1][0]
    ('c0_0', 'id', 'int64')
    """
    import dask.dataframe as dd

    parts = []
    layout: Layout = []
    for position, (kind, frame) in enumerate(frames.items()):
        meta = frame._meta
        names = {c: f"c{position}_{j}" for j, c in enumerate(meta.columns)}
        pack = _Pack(position, id_columns[kind], names, n_buckets)
        parts.append(frame.map_partitions(pack, meta=pack(meta)))
        layout.append((kind, [(names[c], str(c), _restore(meta[c].dtype)) for c in meta.columns]))
    concat: Any = dd.concat
    packed = parts[0] if len(parts) == 1 else concat(parts, join="outer",
                                                      interleave_partitions=True)
    return packed, layout


def dask_sample_mask(part: pd.DataFrame, column: str, seed: int, fraction: float) -> pd.Series:
    """Rows of the customers whose hashed id falls below ``fraction`` (per partition).

    Parameters
    ----------
    part : pandas.DataFrame
        A partition of records.
    column : str
        Its customer id column.
    seed : int
        Mixed into the hash.
    fraction : float
        Share of customers kept, in [0, 1].

    Returns
    -------
    pandas.Series of bool

    Examples
    --------
    >>> part = pd.DataFrame({"id": range(1000)})
    >>> 400 < int(dask_sample_mask(part, "id", 0, 0.5).sum()) < 600
    True
    """
    unit = (hash_ids(part[column], seed) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    keep: pd.Series = pd.Series(unit < float(fraction), index=part.index)
    return keep


def assess_dask(
    frames: Mapping[str, Any],
    id_columns: Mapping[str, str],
    n_buckets: int,
    make_runner: Callable[[Layout, str], Any],
) -> Any:
    """Run a Playbook on every customer bucket of Dask records (lazy).

    Parameters
    ----------
    frames : mapping of str to dask.dataframe.DataFrame
        Records by kind (transactions first).
    id_columns : mapping of str to str
        The customer id column of each kind.
    n_buckets : int
        Output partitions (the customers are hashed into them).
    make_runner : callable
        ``(layout, id_dtype) -> PlaybookRunner``.

    Returns
    -------
    dask.dataframe.DataFrame
        ``customer_id`` and the assessment columns; computed on ``compute()``.

    Examples
    --------
    >>> assess_dask(frames, ids, 4, make_runner)  # doctest: +SKIP
    """
    tx_meta = frames["transactions"]._meta
    id_dtype = _restore(tx_meta[id_columns["transactions"]].dtype) or "object"
    packed, layout = pack_dask(frames, id_columns, n_buckets)
    runner = make_runner(layout, id_dtype)
    shuffled = packed.shuffle(on=BUCKET, npartitions=n_buckets)
    return shuffled.map_partitions(runner, meta=runner.empty())
