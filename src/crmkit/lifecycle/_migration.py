"""Stage migration: how customers moved between lifecycle stages between two dates."""

from __future__ import annotations

import attrs
import numpy as np
import pandas as pd

from crmkit.domain import can_transition
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plugins import STAGES

__all__ = ["GONE", "NEW", "StageMigration", "stage_migration"]

#: Row label of customers not present at the first date (new customers or prospects).
NEW = "(new)"
#: Column label of customers present only at the first date.
GONE = "(gone)"

_ROWS: tuple[str, ...] = (*STAGES, NEW)
_COLS: tuple[str, ...] = (*STAGES, GONE)


@attrs.frozen(eq=False)
class StageMigration:
    """A transition matrix between the lifecycle stages at two dates.

    Parameters
    ----------
    counts : pandas.DataFrame
        Customers by stage at the first date (rows: the five stages of
        :data:`crmkit.plugins.STAGES`, then ``"(new)"`` for customers absent
        then) and at the second date (columns: the five stages, then
        ``"(gone)"`` for customers absent then). Integers.
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
    >>> b = pd.Series(["development", "lapsed", "onboarding"], index=["c1", "c2", "c3"])
    >>> m = stage_migration(a, b)
    >>> int(m.counts.loc["retention", "lapsed"]), int(m.counts.loc["(new)", "onboarding"])
    (1, 1)
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
        >>> stage_migration(a, pd.Series(["lapsed"], index=["c2"])).n_customers
        2
        """
        return int(self.counts.to_numpy().sum())

    @property
    def n_stayed(self) -> int:
        """Customers in the same stage at both dates.

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
        return int(sum(counts[i, i] for i in range(len(STAGES))))

    @property
    def irregular(self) -> pd.DataFrame:
        """Moves the lifecycle rules allow only through intermediate steps.

        :data:`crmkit.domain.ALLOWED_TRANSITIONS` lists the direct moves
        (e.g. a lapsed customer returns only through acquisition). Between
        two snapshots a customer can take several steps, so a move such as
        ``lapsed -> retention`` (a win-back between the dates) is possible
        in data; these are the moves to look at.

        Returns
        -------
        pandas.DataFrame
            Columns ``from``, ``to``, ``n_customers``; only moves with
            customers, largest first.

        Examples
        --------
        >>> a = pd.Series(["lapsed", "lapsed"], index=["c1", "c2"])
        >>> b = pd.Series(["retention", "lapsed"], index=["c1", "c2"])
        >>> stage_migration(a, b).irregular
             from         to  n_customers
        0  lapsed  retention            1
        """
        counts = self.counts.to_numpy(dtype=np.int64)
        rows = [
            (a, b, int(counts[i, j]))
            for i, a in enumerate(STAGES)
            for j, b in enumerate(STAGES)
            if not can_transition(a, b) and counts[i, j] > 0
        ]
        frame = pd.DataFrame(rows, columns=["from", "to", "n_customers"])
        out: pd.DataFrame = frame.sort_values(
            "n_customers", ascending=False, kind="stable"
        ).reset_index(drop=True)
        return out


def _check(labels: object, side: str) -> pd.Series:
    if not isinstance(labels, pd.Series):
        raise SchemaError(
            [
                SchemaFailure(
                    side, "<frame>", f"is not a pandas Series (got {type(labels).__name__})"
                )
            ]
        )
    failures = []
    if not labels.index.is_unique:
        dup = np.asarray(labels.index.duplicated(keep=False))
        failures.append(
            SchemaFailure(
                side,
                "<index>",
                "has duplicate customer ids",
                int(dup.sum()),
                tuple(labels.index[dup][:5].tolist()),
            )
        )
    values = labels.astype(object)
    present = values.notna().to_numpy()
    unknown = present & ~values.isin(list(STAGES)).to_numpy()
    if unknown.any():
        failures.append(
            SchemaFailure(
                side,
                str(labels.name),
                f"holds labels that are not stages ({', '.join(STAGES)})",
                int(unknown.sum()),
                tuple(labels.index[unknown][:5].tolist()),
                tuple(values[unknown][:5].tolist()),
            )
        )
    if failures:
        raise SchemaError(failures)
    return values


def stage_migration(before: pd.Series, after: pd.Series) -> StageMigration:
    """Count how customers moved between lifecycle stages, aligned on customer id.

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
        ``counts`` and row ``shares``: rows are the five stages then
        ``"(new)"``, columns the five stages then ``"(gone)"``. Every
        customer present at either date is counted once, so the row sums
        are the stage counts of ``before`` (plus the new customers) and the
        column sums those of ``after`` (plus the gone).

    Raises
    ------
    SchemaError
        For a non-Series input, duplicate ids or a label that is not a stage.

    Examples
    --------
    >>> before = pd.Series(["onboarding", "development", "retention", None],
    ...                    index=["c1", "c2", "c3", "c4"])
    >>> after = pd.Series(["development", "retention", "lapsed", "onboarding"],
    ...                   index=["c1", "c2", "c3", "c4"])
    >>> stage_migration(before, after).counts
                 acquisition  onboarding  development  retention  lapsed  (gone)
    acquisition            0           0            0          0       0       0
    onboarding             0           0            1          0       0       0
    development            0           0            0          1       0       0
    retention              0           0            0          0       1       0
    lapsed                 0           0            0          0       0       0
    (new)                  0           1            0          0       0       0
    """
    b = _check(before, "before")
    a = _check(after, "after")
    b = b[b.notna().to_numpy()]
    a = a[a.notna().to_numpy()]
    ids = b.index.union(a.index, sort=False)
    src = b.reindex(ids).where(ids.isin(b.index), NEW)
    dst = a.reindex(ids).where(ids.isin(a.index), GONE)
    r = pd.Index(_ROWS, dtype=object).get_indexer(src.to_numpy())
    c = pd.Index(_COLS, dtype=object).get_indexer(dst.to_numpy())
    flat = np.bincount(r * len(_COLS) + c, minlength=len(_ROWS) * len(_COLS))
    counts = pd.DataFrame(
        flat.reshape(len(_ROWS), len(_COLS)).astype(np.int64),
        index=pd.Index(_ROWS, dtype=object),
        columns=pd.Index(_COLS, dtype=object),
    )
    totals = counts.sum(axis=1).to_numpy()
    safe = np.where(totals > 0, totals, 1)
    shares = pd.DataFrame(
        counts.to_numpy() / safe[:, None], index=counts.index, columns=counts.columns
    )
    return StageMigration(counts, shares)
