"""Segment migration: who moved from which segment to which between two dates."""

from __future__ import annotations

import attrs
import numpy as np
import pandas as pd

from crmkit._checks import label_series
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["GONE", "NEW", "SegmentMigration", "segment_migration"]

#: Row label of customers present only after.
NEW = "(new)"
#: Column label of customers present only before.
GONE = "(gone)"


@attrs.frozen(eq=False)
class SegmentMigration:
    """A transition matrix between two segmentations of the same base.

    Parameters
    ----------
    counts : pandas.DataFrame
        Customers by segment before (rows, plus :data:`NEW`) and after
        (columns, plus :data:`GONE`).
    shares : pandas.DataFrame
        ``counts`` divided by their row totals (a row without customers is
        all 0).

    Attributes
    ----------
    counts : pandas.DataFrame
    shares : pandas.DataFrame

    Examples
    --------
    >>> m = segment_migration(pd.Series(["A"], index=[1]), pd.Series(["A"], index=[1]))
    >>> int(m.counts.loc["A", "A"])
    1
    """

    counts: pd.DataFrame
    shares: pd.DataFrame

    @property
    def n_stayed(self) -> int:
        """Customers in the same segment before and after.

        Returns
        -------
        int

        Examples
        --------
        >>> m = segment_migration(pd.Series(["A", "B"], index=[1, 2]),
        ...                       pd.Series(["A", "A"], index=[1, 2]))
        >>> m.n_stayed
        1
        """
        common = [c for c in self.counts.index if c in self.counts.columns]
        return int(sum(self.counts.loc[c, c] for c in common))


def _check(labels: object, side: str) -> pd.Series:
    labels, failures = label_series(labels, side)
    na = labels.isna().to_numpy()
    if na.any():
        failures.append(
            SchemaFailure(
                frame=side,
                column=str(labels.name),
                check="contains missing labels",
                n_failing=int(na.sum()),
                rows=tuple(labels.index[na][:5].tolist()),
            )
        )
    clash = {NEW, GONE} & set(pd.unique(labels.to_numpy()).tolist())
    if clash:
        failures.append(
            SchemaFailure(
                frame=side,
                column=str(labels.name),
                check=f"uses the reserved label {sorted(clash)[0]!r}",
            )
        )
    if failures:
        raise SchemaError(failures)
    return labels


def _levels(labels: pd.Series) -> list[object]:
    if isinstance(labels.dtype, pd.CategoricalDtype):
        return list(labels.cat.categories)
    present = pd.unique(labels.to_numpy()).tolist()
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=str)


def segment_migration(labels_before: pd.Series, labels_after: pd.Series) -> SegmentMigration:
    """Count how customers moved between segments, aligned on customer id.

    Parameters
    ----------
    labels_before : pandas.Series
        Segment of each customer at the first date, indexed by customer id.
    labels_after : pandas.Series
        Segment of each customer at the second date, indexed by customer id.

    Returns
    -------
    SegmentMigration
        ``counts``: rows are the segments before (every category of a
        categorical, else the sorted labels) plus ``"(new)"`` for customers
        only in ``labels_after``; columns are the segments after plus
        ``"(gone)"`` for customers only in ``labels_before``. ``shares``:
        each row divided by its total.

    Raises
    ------
    SchemaError
        For a non-Series input, duplicate ids, missing labels or a label equal
        to ``"(new)"``/``"(gone)"``.

    Examples
    --------
    >>> before = pd.Series(["A", "A", "B"], index=["c1", "c2", "c3"])
    >>> after = pd.Series(["B", "A", "A"], index=["c3", "c1", "c4"])
    >>> segment_migration(before, after).counts
            A  B  (gone)
    A       1  0       1
    B       0  1       0
    (new)   1  0       0
    """
    before = _check(labels_before, "labels_before")
    after = _check(labels_after, "labels_after")
    rows = [*_levels(before), NEW]
    cols = [*_levels(after), GONE]
    ids = before.index.union(after.index, sort=False)
    b = before.reindex(ids).astype(object).where(ids.isin(before.index), NEW)
    a = after.reindex(ids).astype(object).where(ids.isin(after.index), GONE)
    r = pd.Index(rows, dtype=object).get_indexer(b.to_numpy())
    c = pd.Index(cols, dtype=object).get_indexer(a.to_numpy())
    flat = np.bincount(r * len(cols) + c, minlength=len(rows) * len(cols))
    counts = pd.DataFrame(
        flat.reshape(len(rows), len(cols)).astype(np.int64),
        index=pd.Index(rows, dtype=object),
        columns=pd.Index(cols, dtype=object),
    )
    totals = counts.sum(axis=1).to_numpy()
    safe = np.where(totals > 0, totals, 1)
    shares = pd.DataFrame(
        counts.to_numpy() / safe[:, None], index=counts.index, columns=counts.columns
    )
    return SegmentMigration(counts, shares)
