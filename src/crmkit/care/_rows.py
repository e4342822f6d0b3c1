"""Row-level helpers of the care models: reading labels and reasons, one-row plans."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._checks import check_row, failure_at
from crmkit._text import fixed
from crmkit.domain import CarePlan
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plugins import CARE_PLAN_COLUMNS

__all__ = [
    "Firing",
    "care_plan_from_row",
    "churn_firing",
    "check_row",
    "column_labels",
    "one_row_frame",
    "plan_rows",
    "required_labels",
    "top_reasons",
]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]

_MAX_SHOWN = 5


def _failure(column: str, check: str, mask: BoolArray, index: pd.Index) -> SchemaFailure:
    return failure_at(frame="view", column=column, check=check, mask=mask, labels=index)


def column_labels(view: pd.DataFrame, column: str) -> tuple[ObjArray, BoolArray]:
    """A label column as an object array of str, and its missing-value mask.

    Parameters
    ----------
    view : pandas.DataFrame
        The view.
    column : str
        A categorical, string or object column.

    Returns
    -------
    labels : numpy.ndarray of object, shape (n_customers,)
        ``str`` of each label (``""`` where missing).
    missing : numpy.ndarray of bool, shape (n_customers,)

    Examples
    --------
    >>> v = pd.DataFrame({"p": pd.Categorical(["A", None, "B"])})
    >>> column_labels(v, "p")
    (array(['A', '', 'B'], dtype=object), array([False,  True, False]))
    """
    codes, uniques = pd.factorize(view[column], use_na_sentinel=True)
    names = np.asarray([str(u) for u in uniques] + [""], dtype=object)
    codes = np.asarray(codes, dtype=np.intp)
    missing = codes < 0
    labels: ObjArray = names[np.where(missing, len(names) - 1, codes)]
    return labels, missing


def required_labels(view: pd.DataFrame, column: str) -> ObjArray:
    """A label column as str labels; missing labels raise.

    Parameters
    ----------
    view : pandas.DataFrame
        The (validated) view.
    column : str
        The label column.

    Returns
    -------
    numpy.ndarray of object, shape (n_customers,)

    Raises
    ------
    SchemaError
        When labels are missing (naming the first rows).

    Examples
    --------
    >>> v = pd.DataFrame({"stage": ["onboarding", None]}, index=pd.Index(["a", "b"]))
    >>> required_labels(v, "stage")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - view['stage']: contains missing labels (1 row; rows ['b'])
    """
    labels, missing = column_labels(view, column)
    if missing.any():
        raise SchemaError([_failure(column, "contains missing labels", missing, view.index)])
    return labels


def _arrow_top_reasons(column: pd.Series, mask: BoolArray) -> ObjArray | None:
    """:func:`top_reasons` of a pyarrow-backed string column, split in C (else None).

    Splitting at the first ``"; "`` and then the first ``" ("`` is what
    ``str.split(sep, 1)[0]`` does; the few distinct names are stripped in Python.
    """
    if not isinstance(column.array, pd.arrays.ArrowStringArray):
        return None
    pa: Any = importlib.import_module("pyarrow")
    pc: Any = importlib.import_module("pyarrow.compute")
    texts = pa.chunked_array(column.array.__arrow_array__()).filter(pa.array(mask))
    for sep in ("; ", " ("):
        texts = pc.list_element(pc.split_pattern(texts, pattern=sep, max_splits=1), 0)
    encoded = pc.dictionary_encode(texts.combine_chunks())
    names = [str(t).strip() for t in encoded.dictionary.to_pylist()]
    table = np.empty(len(names) + 1, dtype=object)
    table[:] = [*names, ""]  # missing texts give ""
    codes = pc.fill_null(encoded.indices, len(names)).to_numpy(zero_copy_only=False)
    out: ObjArray = table[np.asarray(codes, dtype=np.intp)]
    return out


def top_reasons(view: pd.DataFrame, column: str, mask: BoolArray) -> ObjArray:
    """The first (strongest) churn reason of each customer in ``mask``.

    A reasons text lists signals largest first, ``"name (0.31); other
    (0.12)"``; the top reason is the name before the first ``" ("``. Missing
    or empty texts give ``""``.

    Parameters
    ----------
    view : pandas.DataFrame
        The view.
    column : str
        The reasons column (text); absent columns give ``""`` everywhere.
    mask : numpy.ndarray of bool, shape (n_customers,)
        Customers to read.

    Returns
    -------
    numpy.ndarray of object, shape (mask.sum(),)

    Raises
    ------
    SchemaError
        When the column holds values that are neither text nor missing.

    Examples
    --------
    >>> v = pd.DataFrame({"r": ["overdue (0.40); nps_detractor (0.10)", None]})
    >>> top_reasons(v, "r", np.array([True, True])).tolist()
    ['overdue', '']
    """
    n = int(mask.sum())
    if column not in view.columns:
        return np.full(n, "", dtype=object)
    fast = _arrow_top_reasons(view[column], mask)
    if fast is not None:
        return fast
    raw = view[column].to_numpy(dtype=object)[mask]
    out = np.full(n, "", dtype=object)
    bad = np.zeros(n, dtype=bool)
    for i, value in enumerate(raw):
        if isinstance(value, str):
            out[i] = value.split("; ", 1)[0].split(" (", 1)[0].strip()
        elif not (value is None or value is pd.NA or (isinstance(value, float) and value != value)):
            bad[i] = True
    if bad.any():
        rows = view.index[mask][bad]
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column=column,
                    check="holds values that are not churn-reason texts",
                    n_failing=int(bad.sum()),
                    rows=tuple(rows[:_MAX_SHOWN].tolist()),
                    values=tuple(raw[bad][:_MAX_SHOWN].tolist()),
                )
            ]
        )
    return out


@attrs.frozen
class Firing:
    """Who the churn override concerns: the top churn reason and the risk as shown.

    Attributes
    ----------
    top : numpy.ndarray of int, shape (n_customers,)
        Code of the top churn reason into ``tops``; -1 where the risk does
        not exceed the threshold.
    tops : list of str
        The distinct top reasons.
    shown : numpy.ndarray of int, shape (n_customers,)
        Code of the risk written with two decimals into ``texts``.
    texts : list of str
        The distinct risks as written.

    Examples
    --------
    >>> Firing.__name__
    'Firing'
    """

    top: npt.NDArray[np.intp]
    tops: list[str]
    shown: npt.NDArray[np.intp]
    texts: list[str]


def churn_firing(view: pd.DataFrame, risk: FloatArray, threshold: float, column: str) -> Firing:
    """Which customers the churn override concerns, with their top reason and risk text.

    Parameters
    ----------
    view : pandas.DataFrame
        The view (its ``column`` holds the churn reasons).
    risk : numpy.ndarray of float, shape (n_customers,)
        Churn risk (NaN never exceeds the threshold).
    threshold : float
        Risks above it fire.
    column : str
        The churn reasons column.

    Returns
    -------
    Firing

    Examples
    --------
    >>> v = pd.DataFrame({"r": ["overdue (0.40)", "x (0.1)"]})
    >>> f = churn_firing(v, np.array([0.7, 0.2]), 0.5, "r")
    >>> f.top.tolist(), f.tops, [f.texts[k] for k in f.shown.tolist()]
    ([0, -1], ['overdue'], ['0.70', ''])
    """
    with np.errstate(invalid="ignore"):
        fires = risk > threshold
    top = np.full(len(risk), -1, dtype=np.intp)
    tops: list[str] = []
    if fires.any():
        codes, distinct = pd.factorize(top_reasons(view, column, fires), use_na_sentinel=False)
        top[fires] = codes
        tops = [str(t) for t in distinct]
    shown = fixed(risk, 2, where=fires)
    return Firing(top=top, tops=tops, shown=shown.codes, texts=shown.texts)


def plan_rows(
    keys: list[npt.NDArray[Any]], n: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The group of each row by its combination of key values, and each group's first row.

    Parameters
    ----------
    keys : list of numpy.ndarray, each shape (n,)
        Discrete keys (codes, masks).
    n : int
        Number of rows.

    Returns
    -------
    rows : numpy.ndarray of int, shape (n,)
        Group of each row.
    first : numpy.ndarray of int, shape (n_groups,)
        First row of each group.

    Examples
    --------
    >>> rows, first = plan_rows([np.array([1, 0, 1]), np.array([True, False, True])], 3)
    >>> rows.tolist(), first.tolist()
    ([0, 1, 0], [0, 1])
    """
    combined = np.zeros(n, dtype=np.int64)
    for key in keys:
        codes, distinct = pd.factorize(np.asarray(key))
        combined, _ = pd.factorize(combined * len(distinct) + codes)  # stays below n
    rows = np.asarray(combined, dtype=np.intp)
    first = np.empty(int(rows.max()) + 1 if n else 0, dtype=np.intp)
    first[rows[::-1]] = np.arange(n - 1, -1, -1)
    return rows, first


def _join(left: ObjArray, right: ObjArray | str) -> ObjArray:
    """Join texts with ``"; "``, skipping empty parts."""
    right_arr = np.broadcast_to(np.asarray(right, dtype=object), left.shape)
    both = left + "; " + right_arr
    out: ObjArray = np.where(left == "", right_arr, np.where(right_arr == "", left, both))
    return out.astype(object)


def one_row_frame(
    row: Mapping[str, Any] | pd.Series, name: Any = None, who: str = "one_row_frame"
) -> pd.DataFrame:
    """One customer's values as a one-row customer view.

    Parameters
    ----------
    row : mapping or pandas.Series
        Column name -> value (e.g. a row of an assessment frame).
    name : object, optional
        The customer id; default the Series' name, else ``"customer"``.
    who : str, default="one_row_frame"
        The caller, for the message.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``; each column typed from its value.

    Raises
    ------
    InvalidParameterError
        When ``row`` is neither a mapping nor a Series (also a ``TypeError``).

    Examples
    --------
    >>> one_row_frame({"portfolio": "A", "clv": 10.0}, "c1").dtypes.astype(str).tolist()
    ['str', 'float64']
    """
    row = check_row(row, who)
    if name is None:
        name = row.name if isinstance(row, pd.Series) and row.name is not None else "customer"
    columns = {str(k): [v] for k, v in row.items()}
    frame: pd.DataFrame = pd.DataFrame(columns, index=pd.Index([name], name="customer_id"))
    return frame


def care_plan_from_row(row: Mapping[str, Any] | pd.Series) -> CarePlan:
    """The :class:`~crmkit.domain.CarePlan` of one row of a care model's output.

    Parameters
    ----------
    row : mapping or pandas.Series
        With the :data:`~crmkit.plugins.CARE_PLAN_COLUMNS`.

    Returns
    -------
    CarePlan
        ``activities`` and ``care_reasons`` split on ``"; "``.

    Raises
    ------
    SchemaError
        When the row lacks a column or holds an invalid value.
    InvalidParameterError
        When ``row`` is neither a mapping nor a Series (also a ``TypeError``).

    Examples
    --------
    >>> plan = care_plan_from_row({"care_model": "D", "intensity": "low", "cadence_days": 180,
    ...     "channel": "email", "owner_role": "marketing", "activities": "newsletter; web shop",
    ...     "budget_share": 0.001, "care_reasons": "portfolio D"})
    >>> plan.activities
    ('newsletter', 'web shop')
    """
    row = check_row(row, "care_plan_from_row")
    absent = [c for c in CARE_PLAN_COLUMNS if c not in row]
    if absent:
        raise SchemaError(
            [
                SchemaFailure(frame="row", column=c, check="is missing (a care plan needs it)")
                for c in absent
            ]
        )

    def parts(value: Any) -> tuple[str, ...]:
        return tuple(p for p in str(value).split("; ") if p) if isinstance(value, str) else ()

    return CarePlan(
        care_model=str(row["care_model"]),
        intensity=str(row["intensity"]),
        cadence_days=int(row["cadence_days"]),
        channel=str(row["channel"]),
        owner_role=str(row["owner_role"]),
        activities=parts(row["activities"]),
        budget_share=float(row["budget_share"]),
        reasons=parts(row["care_reasons"]),
    )
