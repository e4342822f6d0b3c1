"""Stage migration: how customers moved between lifecycle stages (or statuses) between two dates."""

from __future__ import annotations

import attrs
import numpy as np
import pandas as pd

from crmkit._checks import label_series
from crmkit.domain import can_transition
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plugins import STAGES, STATUSES

__all__ = ["GONE", "NEW", "StageMigration", "stage_migration"]

#: Row label of customers not present at the first date (new customers or prospects).
NEW = "(new)"
#: Column label of customers present only at the first date.
GONE = "(gone)"


@attrs.frozen(eq=False)
class StageMigration:
    """A transition matrix between the lifecycle stages (or statuses) at two dates.

    Parameters
    ----------
    counts : pandas.DataFrame
        Customers by stage at the first date (rows: the four stages of
        :data:`crmkit.plugins.STAGES`, then ``"(new)"`` for customers absent
        then) and at the second date (columns: the four stages, then
        ``"(gone)"`` for customers absent then). Integers. For statuses,
        :data:`crmkit.plugins.STATUSES` instead of the stages.
    shares : pandas.DataFrame
        ``counts`` divided by their row totals (a row without customers is
        all 0): the probability of each move from a stage.

    Attributes
    ----------
    counts : pandas.DataFrame
    shares : pandas.DataFrame

    Examples
    --------
    >>> a = pd.Series(["onboarding", "retention"], index=["c1", "c2"])
    >>> b = pd.Series(["development", "development", "onboarding"], index=["c1", "c2", "c3"])
    >>> m = stage_migration(a, b)
    >>> int(m.counts.loc["retention", "development"]), int(m.counts.loc["(new)", "onboarding"])
    (1, 1)
    >>> was, now = pd.Series(["active"], index=["c1"]), pd.Series(["lapsed"], index=["c1"])
    >>> int(stage_migration(was, now).counts.loc["active", "lapsed"])
    1
    """

    counts: pd.DataFrame
    shares: pd.DataFrame

    @property
    def n_customers(self) -> int:
        """Customers present at either date.

        Returns
        -------
        int

        Examples
        --------
        >>> a = pd.Series(["onboarding"], index=["c1"])
        >>> stage_migration(a, pd.Series(["retention"], index=["c2"])).n_customers
        2
        """
        return int(self.counts.to_numpy().sum())

    @property
    def n_stayed(self) -> int:
        """Customers in the same stage (status) at both dates.

        Returns
        -------
        int

        Examples
        --------
        >>> a = pd.Series(["retention", "development"], index=["c1", "c2"])
        >>> b = pd.Series(["retention", "retention"], index=["c1", "c2"])
        >>> stage_migration(a, b).n_stayed
        1
        """
        counts = self.counts.to_numpy(dtype=np.int64)
        return int(sum(counts[i, i] for i in range(len(self.counts.index) - 1)))

    @property
    def irregular(self) -> pd.DataFrame:
        """Moves the lifecycle rules allow only through intermediate steps.

        :data:`crmkit.domain.ALLOWED_TRANSITIONS` lists the direct moves
        (e.g. a customer returns to acquisition only after lapsing and
        being won back). Between two snapshots a customer can take several
        steps, so a move such as ``retention -> acquisition`` (lapsed and
        won back between the dates) is possible in data; these are the
        moves to look at. Every move between statuses is regular.

        Returns
        -------
        pandas.DataFrame
            Columns ``from``, ``to``, ``n_customers``; only moves with
            customers, largest first.

        Examples
        --------
        >>> a = pd.Series(["retention", "retention"], index=["c1", "c2"])
        >>> b = pd.Series(["acquisition", "retention"], index=["c1", "c2"])
        >>> stage_migration(a, b).irregular
                from           to  n_customers
        0  retention  acquisition            1
        """
        counts = self.counts.to_numpy(dtype=np.int64)
        labels = tuple(self.counts.index[:-1])
        rows = [
            (a, b, int(counts[i, j]))
            for i, a in enumerate(labels)
            for j, b in enumerate(labels)
            if labels == STAGES and not can_transition(a, b) and counts[i, j] > 0
        ]
        frame = pd.DataFrame(rows, columns=["from", "to", "n_customers"])
        out: pd.DataFrame = frame.sort_values(
            "n_customers", ascending=False, kind="stable"
        ).reset_index(drop=True)
        return out


def _vocabulary(*sides: pd.Series) -> tuple[str, ...]:
    """The statuses when every label is a status, else the stages."""
    labels = {v for side in sides for v in side.dropna().tolist()}
    return STATUSES if labels and labels <= set(STATUSES) else STAGES


def _check(labels: object, side: str, vocabulary: tuple[str, ...]) -> pd.Series:
    labels, failures = label_series(labels, side)
    values = labels.astype(object)
    present = values.notna().to_numpy()
    unknown = present & ~values.isin(list(vocabulary)).to_numpy()
    if unknown.any():
        hint = (
            "; 'lapsed' is a status, not a stage: migrate the statuses separately"
            if "lapsed" in set(values[unknown].tolist())
            else ""
        )
        failures.append(
            SchemaFailure(
                frame=side,
                column=str(labels.name),
                check=f"holds labels that are not stages ({', '.join(STAGES)}) nor all statuses "
                f"({', '.join(STATUSES)}){hint}",
                n_failing=int(unknown.sum()),
                rows=tuple(labels.index[unknown][:5].tolist()),
                values=tuple(values[unknown][:5].tolist()),
            )
        )
    if failures:
        raise SchemaError(failures)
    return values


def stage_migration(before: pd.Series, after: pd.Series) -> StageMigration:
    """Count how customers moved between lifecycle stages, aligned on customer id.

    Works the same on statuses: when every label of both sides is a status
    (``"active"``, ``"lapsed"``, e.g. columns of ``stage_history(...,
    column="status")``), the matrix is between the statuses.

    Parameters
    ----------
    before : pandas.Series
        Stage of each customer at the first date, indexed by customer id
        (a stager's output or a column of :func:`stage_history`). A missing
        value means the customer did not exist yet; it counts as ``"(new)"``.
    after : pandas.Series
        Stage of each customer at the second date, likewise. Customers
        absent here count as ``"(gone)"``.

    Returns
    -------
    StageMigration
        ``counts`` and row ``shares``: rows are the four stages then
        ``"(new)"``, columns the four stages then ``"(gone)"``. Every
        customer present at either date is counted once, so the row sums
        are the stage counts of ``before`` (plus the new customers) and the
        column sums those of ``after`` (plus the gone).

    Raises
    ------
    SchemaError
        For a non-Series input, duplicate ids or a label that is not a stage
        (nor, for both sides, a status).

    Examples
    --------
    >>> before = pd.Series(["onboarding", "development", "retention", None],
    ...                    index=["c1", "c2", "c3", "c4"])
    >>> after = pd.Series(["development", "retention", "development", "onboarding"],
    ...                   index=["c1", "c2", "c3", "c4"])
    >>> stage_migration(before, after).counts
                 acquisition  onboarding  development  retention  (gone)
    acquisition            0           0            0          0       0
    onboarding             0           0            1          0       0
    development            0           0            0          1       0
    retention              0           0            1          0       0
    (new)                  0           1            0          0       0
    """
    series = [x for x in (before, after) if isinstance(x, pd.Series)]
    vocabulary = _vocabulary(*(x.astype(object) for x in series))
    b = _check(before, "before", vocabulary)
    a = _check(after, "after", vocabulary)
    rows_ = (*vocabulary, NEW)
    cols_ = (*vocabulary, GONE)
    b = b[b.notna().to_numpy()]
    a = a[a.notna().to_numpy()]
    ids = b.index.union(a.index, sort=False)
    src = b.reindex(ids).where(ids.isin(b.index), NEW)
    dst = a.reindex(ids).where(ids.isin(a.index), GONE)
    r = pd.Index(rows_, dtype=object).get_indexer(src.to_numpy())
    c = pd.Index(cols_, dtype=object).get_indexer(dst.to_numpy())
    flat = np.bincount(r * len(cols_) + c, minlength=len(rows_) * len(cols_))
    counts = pd.DataFrame(
        flat.reshape(len(rows_), len(cols_)).astype(np.int64),
        index=pd.Index(rows_, dtype=object),
        columns=pd.Index(cols_, dtype=object),
    )
    totals = counts.sum(axis=1).to_numpy()
    safe = np.where(totals > 0, totals, 1)
    shares = pd.DataFrame(
        counts.to_numpy() / safe[:, None], index=counts.index, columns=counts.columns
    )
    return StageMigration(counts, shares)
