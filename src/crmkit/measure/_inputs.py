"""Reading the records that measurement needs: CustomerData or raw frames."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._checks import first_labels
from crmkit._params import instance_of, validate_params
from crmkit.data import RECORD_KINDS, CustomerData
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["as_data", "require_records", "day_numbers", "first_labels", "fail"]

IntArray = npt.NDArray[np.int64]
_NS_PER_DAY = 86_400_000_000_000

_DATA = instance_of(
    (CustomerData, Mapping),
    "CustomerData or a mapping of record frames {'transactions': ..., 'touches': ...}",
)


def fail(
    frame: str, column: str, check: str, rows: Any = (), values: Any = (), n: int | None = None
) -> SchemaError:
    """One-problem :class:`SchemaError` (rows and values cut to the first 5).

    Parameters
    ----------
    frame, column, check : str
        Where and what.
    rows, values : sequence, default=()
        The failing row labels and values.
    n : int, optional
        How many rows fail; default ``len(rows)``.

    Returns
    -------
    SchemaError

    Examples
    --------
    >>> print(fail("touches", "group", "has unknown groups", [3], ["x"]))
    1 problem in the input:
      - touches['group']: has unknown groups (1 row; rows [3]; values ['x'])
    """
    rows_t, values_t = tuple(rows), tuple(values)
    count = len(rows_t) if n is None else int(n)
    return SchemaError(
        [
            SchemaFailure(
                frame=frame,
                column=column,
                check=check,
                n_failing=count,
                rows=rows_t[:5],
                values=values_t[:5],
            )
        ]
    )


def as_data(data: Any, who: str, kinds: Sequence[str]) -> CustomerData:
    """Return validated records: ``data`` itself, or ``data`` (raw frames) validated.

    Parameters
    ----------
    data : CustomerData or mapping of str to DataFrame
        Validated records, or raw frames by record kind with crmkit's
        canonical column names. Raw frames are validated with
        :meth:`CustomerData.from_frames` (``as_of``: the last transaction
        day); only the kinds in ``kinds`` are read.
    who : str
        The caller, for messages.
    kinds : sequence of str
        The record kinds the caller reads (``transactions`` is always read).

    Returns
    -------
    CustomerData

    Raises
    ------
    InvalidParameterError
        For anything else than CustomerData or a mapping of frames (also a
        :class:`TypeError`).
    SchemaError
        For unknown record kinds or invalid records.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [1.0]})
    >>> as_data({"transactions": tx}, "kpi_series", ["feedback"]).n_customers
    1
    """
    if isinstance(data, CustomerData):
        return data
    validate_params(who, {"data": data}, {"data": [_DATA]})
    unknown = [k for k in data if k not in RECORD_KINDS]
    if unknown:
        raise fail(
            "<input>", str(unknown[0]), f"is not a record kind; kinds: {', '.join(RECORD_KINDS)}"
        )
    if "transactions" not in data:
        raise fail("<input>", "transactions", f"are missing: {who} needs the transactions")
    wanted = {"transactions", *kinds}
    frames = {k: v for k, v in data.items() if k in wanted and v is not None}
    return CustomerData.from_frames(**frames)


def require_records(data: CustomerData, kind: str, who: str) -> pd.DataFrame:
    """The records of ``kind``, refusing absent or empty ones.

    Parameters
    ----------
    data : CustomerData
        Validated records.
    kind : str
        Record kind.
    who : str
        The caller, for messages.

    Returns
    -------
    DataFrame

    Raises
    ------
    SchemaError
        When the records are absent or empty.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [1.0]})
    >>> require_records(CustomerData.from_frames(tx), "touches", "campaign_report")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - touches['<frame>']: is missing: campaign_report needs the touches records ...
    """
    frame = data.get(kind)
    if frame is None:
        raise fail(
            kind,
            "<frame>",
            f"is missing: {who} needs the {kind} records (give "
            f"{kind}=... to CustomerData.from_frames)",
        )
    if len(frame) == 0:
        raise fail(kind, "<frame>", f"is empty: {who} has nothing to measure")
    return frame


def day_numbers(dates: pd.Series | pd.Index) -> IntArray:
    """Whole days since 1970-01-01 of ``datetime64`` values (time of day dropped).

    Parameters
    ----------
    dates : Series or Index of datetime64
        No missing values.

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> import pandas as pd
    >>> day_numbers(pd.Series(pd.to_datetime(["1970-01-02 18:00"]))).tolist()
    [1]
    """
    ns = np.asarray(dates.to_numpy(dtype="datetime64[ns]")).view(np.int64)
    out: IntArray = np.floor_divide(ns, _NS_PER_DAY)
    return out
