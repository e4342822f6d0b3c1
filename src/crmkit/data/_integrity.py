"""Referential integrity across record kinds: ids that do not join.

Every record kind that names a customer (contacts, interactions, feedback,
events, touches, prospects' converted customer) is compared with the
customer universe: the customer ids of the transactions and of the
customers records. Touches are also compared with the campaigns; a touched
customer who never bought is normal (campaign measurement counts it as not
converted), so unknown customer ids of touches are type-checked but not
counted as unmatched. Ids of
another type (text against numbers) or written differently (``'007'``
against ``'7'``) are a :class:`~crmkit.exceptions.SchemaError` naming both
kinds; rows whose id is simply unknown are counted per kind
(:class:`UnmatchedRows`) and reported, never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.data._columns import ColumnMap
from crmkit.exceptions import SchemaFailure

__all__ = ["UnmatchedRows", "check_references", "unmatched_message"]

#: (record kind, id role, what it refers to): "customer" or "campaign".
REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("contacts", "customer_id", "customer"),
    ("interactions", "customer_id", "customer"),
    ("feedback", "customer_id", "customer"),
    ("events", "customer_id", "customer"),
    ("touches", "customer_id", "customer"),
    ("touches", "campaign_id", "campaign"),
    ("prospects", "converted_customer_id", "customer"),
)

#: References whose unknown ids are expected (checked for type, not counted).
MAY_BE_UNKNOWN: frozenset[tuple[str, str]] = frozenset({("touches", "customer_id")})


@attrs.frozen
class UnmatchedRows:
    """Rows of a record kind whose id joins no customer (or campaign).

    They stay in the records but contribute to no customer's row of the
    customer view.

    Parameters
    ----------
    kind : str
        Record kind (``"feedback"`` ...).
    column : str
        The user's id column.
    target : {"customer", "campaign"}
        What the id should name.
    n_rows : int
        How many rows do not join.
    rows : tuple
        The first row labels (at most 5).
    ids : tuple
        The first distinct unknown ids (at most 5).

    Examples
    --------
    >>> u = UnmatchedRows("feedback", "customer_id", "customer", 30, (0, 1), ("X9",))
    >>> print(u.describe())
    30 feedback rows name no known customer (customer_id e.g. 'X9'; rows [0, 1])
    """

    kind: str
    column: str
    target: str
    n_rows: int
    rows: tuple[Any, ...] = ()
    ids: tuple[Any, ...] = ()

    def describe(self) -> str:
        """One line: how many rows of which kind, the column, example ids and rows.

        Returns
        -------
        str

        Examples
        --------
        >>> UnmatchedRows("touches", "campaign_id", "campaign", 1, (4,), (99,)).describe()
        '1 touches row names no known campaign (campaign_id e.g. 99; rows [4])'
        """
        noun = "row names" if self.n_rows == 1 else "rows name"
        ids = ", ".join(repr(v) for v in self.ids)
        rows = ", ".join(repr(r) for r in self.rows)
        return (
            f"{self.n_rows} {self.kind} {noun} no known {self.target} "
            f"({self.column} e.g. {ids}; rows [{rows}])"
        )


def _id_type(s: pd.Series) -> str | None:
    """``"numbers"``, ``"text"`` or None (no values / something else) for an id column."""
    if isinstance(s.dtype, pd.StringDtype):
        return "text"
    if s.dtype.kind in "iuf":
        return "numbers"
    vals = s.dropna()
    if not len(vals):
        return None
    inferred = pd.api.types.infer_dtype(vals, skipna=True)
    if inferred == "string":
        return "text"
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return "numbers"
    return None


def _examples(s: pd.Series, n: int = 3) -> tuple[Any, ...]:
    out: list[Any] = []
    for v in s.dropna().drop_duplicates().iloc[:n].tolist():
        out.append(v.item() if isinstance(v, np.generic) else v)
    return tuple(out)


_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


def _plain(values: Any) -> pd.Index:
    """Ids as an Index; text as Python objects (hash lookups are faster than pyarrow's)."""
    out: pd.Index
    if isinstance(values.dtype, pd.StringDtype):
        out = pd.Index(np.asarray(values, dtype=object), dtype=object)
    else:
        out = pd.Index(values, copy=False)
    return out


def _normalised(values: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Ids as written loosely: spaces, case and leading zeros of numbers ignored (C007 ~ c7)."""
    return np.array(
        [_LEADING_ZEROS.sub("", str(v).strip().casefold()) for v in values], dtype=object
    )


def _distinct(ids: pd.Series) -> pd.Series:
    """The distinct non-null ids in order of first appearance (dtype kept)."""
    out: pd.Series = pd.Series(ids.dropna().unique(), dtype=ids.dtype)
    return out


def _compare(
    kind: str,
    column: str,
    ids: pd.Series,
    target: str,
    universe: pd.Series,
    universe_name: str,
    fails: list[SchemaFailure],
) -> UnmatchedRows | None:
    present = ids.notna().to_numpy()
    if not present.any() or not len(universe):
        return None
    mine, theirs = _id_type(ids), _id_type(universe)
    if mine is not None and theirs is not None and mine != theirs:
        fails.append(
            SchemaFailure(
                frame=kind,
                column=column,
                check=f"ids are {mine} but the {target} ids of {universe_name} are {theirs} "
                f"(e.g. {kind} {list(_examples(ids))} vs {universe_name} "
                f"{list(_examples(universe))}); no row would join — give every id column the "
                "same type, e.g. read ids as text in every file",
                n_failing=int(present.sum()),
                rows=tuple(ids.index[present][:5].tolist()),
                values=_examples(ids, 5),
            )
        )
        return None
    known = _plain(universe.dropna().unique())
    # a hash lookup in the unique known ids (faster than isin, above all for pandas' str dtype)
    missing = present & (known.get_indexer(_plain(ids)) < 0)
    if not missing.any():
        return None
    lost = ids[missing]
    if mine == "text" and theirs == "text":
        distinct = np.asarray(pd.unique(lost.to_numpy(dtype=object)), dtype=object)
        reference = np.asarray(known, dtype=object)
        loose_ref = _normalised(reference)
        first = ~pd.Series(loose_ref).duplicated().to_numpy()
        at = pd.Index(loose_ref[first]).get_indexer(_normalised(distinct))
        hit = at >= 0
        if hit.any():
            near = reference[first][at[hit]]
            pairs = [
                f"{kind} {a!r} vs {universe_name} {b!r}"
                for a, b in zip(distinct[hit][:3], near[:3], strict=True)
            ]
            written = pd.Index(distinct[hit]).get_indexer(lost.to_numpy(dtype=object)) >= 0
            fails.append(
                SchemaFailure(
                    frame=kind,
                    column=column,
                    check=f"ids are written differently from the {target} ids of {universe_name} "
                    f"(leading zeros, case or spaces), e.g. {', '.join(pairs)}; these rows "
                    "would not join — write the ids the same way in every record kind",
                    n_failing=int(written.sum()),
                    rows=tuple(lost.index[written][:5].tolist()),
                    values=_examples(lost[written], 5),
                )
            )
            return None
    return UnmatchedRows(
        kind, column, target, int(missing.sum()), tuple(lost.index[:5].tolist()), _examples(lost, 5)
    )


def check_references(
    frames: Mapping[str, pd.DataFrame], columns: ColumnMap, fails: list[SchemaFailure]
) -> tuple[UnmatchedRows, ...]:
    """Compare the ids of every record kind with the customers (and campaigns).

    Type mismatches and ids written differently are appended to ``fails``;
    rows with unknown ids are returned, per kind.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Validated records with canonical column names (all transactions,
        before any are left out as later than ``as_of``).
    columns : ColumnMap
        The user's column names (for messages).
    fails : list of SchemaFailure
        Collector.

    Returns
    -------
    tuple of UnmatchedRows

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "b"]})
    >>> fb = pd.DataFrame({"customer_id": ["a", "z", "z"]})
    >>> fails = []
    >>> check_references({"transactions": tx, "feedback": fb}, ColumnMap(), fails)[0].n_rows
    2
    >>> fb = pd.DataFrame({"customer_id": [1, 2]})
    >>> _ = check_references({"transactions": tx, "feedback": fb}, ColumnMap(), fails)
    >>> print(fails[0].describe())  # doctest: +ELLIPSIS
    feedback['customer_id']: ids are numbers but the customer ids of transactions are text ...
    """
    # the distinct ids, once (not per record kind): a hash pass over every transaction
    tx_ids = _distinct(frames["transactions"]["customer_id"])
    universe, universe_name = tx_ids, "transactions"
    if "customers" in frames:
        own = frames["customers"]["customer_id"]
        n_fails = len(fails)
        _compare(
            "customers",
            columns.column_for("customers", "customer_id"),
            own,
            "customer",
            tx_ids,
            "transactions",
            fails,
        )
        if len(fails) > n_fails:
            return ()
        universe = _distinct(pd.concat([tx_ids, own], ignore_index=True))
        universe_name = "transactions and customers"
    out: list[UnmatchedRows] = []
    for kind, role, target in REFERENCES:
        frame = frames.get(kind)
        if frame is None or role not in frame.columns:
            continue
        if target == "campaign":
            if "campaigns" not in frames:
                continue
            ref, ref_name = frames["campaigns"]["campaign_id"], "campaigns"
        else:
            ref, ref_name = universe, universe_name
        found = _compare(
            kind, columns.column_for(kind, role), frame[role], target, ref, ref_name, fails
        )
        if found is not None and (kind, role) not in MAY_BE_UNKNOWN:
            out.append(found)
    return tuple(out)


def unmatched_message(unmatched: tuple[UnmatchedRows, ...]) -> str:
    """The one-line note (and warning text) for rows that do not join.

    Parameters
    ----------
    unmatched : tuple of UnmatchedRows
        From :func:`check_references` (not empty).

    Returns
    -------
    str

    Examples
    --------
    >>> u = UnmatchedRows("feedback", "cid", "customer", 3, (7,), ("x",))
    >>> print(unmatched_message((u,)))  # doctest: +ELLIPSIS
    3 rows do not join: 3 feedback rows name no known customer (cid e.g. 'x'; rows [7]); they
    are kept in the records but add nothing to the customer view (customers are the ids of the
    transactions and customers records)
    """
    total = sum(u.n_rows for u in unmatched)
    known = "customers are the ids of the transactions and customers records"
    if any(u.target == "campaign" for u in unmatched):
        known += ", campaigns those of the campaigns records"
    head = f"{total} row does not join: " if total == 1 else f"{total} rows do not join: "
    return (
        head
        + "; ".join(u.describe() for u in unmatched)
        + f"; they are kept in the records but add nothing to the customer view ({known})"
    )
