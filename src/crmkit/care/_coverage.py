"""Contact coverage and the decision-maker map.

A relationship tied to one contact person is lost when that person leaves;
an account manager should know every key decision maker and their part in
the buying process.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from crmkit._params import Interval, instance_of, validate_params
from crmkit.data import CustomerData
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["COVERAGE_RISKS", "contact_coverage", "contact_map"]

#: The coverage verdicts, worst first.
COVERAGE_RISKS: tuple[str, ...] = (
    "only contact left",
    "all decision makers left",
    "no contact known",
    "single-threaded",
    "no decision maker known",
    "decision makers not met",
    "covered",
)

#: Days within which a decision maker counts as recently met (contact_coverage).
MET_WITHIN_DAYS = 365

_MAP_COLUMNS = (
    "customer_id",
    "contact_id",
    "name",
    "role",
    "decision_maker",
    "influence",
    "active",
    "left_date",
    "last_interaction",
    "days_since_interaction",
)


_DATA = instance_of(CustomerData, "CustomerData (crmkit.CustomerData.from_frames)")


def _check_data(data: object, who: str) -> CustomerData:
    validate_params(who, {"data": data}, {"data": [_DATA]})
    data = cast(CustomerData, data)
    if data.get("contacts") is None:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="contacts",
                    column="<frame>",
                    check=f"is missing: {who} needs contact records (customer_id, contact_id, "
                    "role, decision_maker, left_date); pass contacts= to "
                    "CustomerData.from_frames",
                )
            ]
        )
    return data


def _days(later: pd.Timestamp, dates: pd.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
    delta = (later - pd.to_datetime(dates)).to_numpy(dtype="timedelta64[ns]")
    out = delta / np.timedelta64(1, "D")
    return np.asarray(out, dtype=np.float64)


def contact_map(data: CustomerData, customer_id: Any = None) -> pd.DataFrame:
    """The decision-maker map: every contact person of every account.

    Parameters
    ----------
    data : CustomerData
        Validated records with ``contacts`` (and optionally
        ``interactions``). A contact is *active* unless its ``left_date`` is
        on or before ``data.as_of``. A ``name`` column of the contacts is
        shown when present (else the contact id).
    customer_id : object, optional
        Only this account's contacts.

    Returns
    -------
    pandas.DataFrame
        One row per contact, columns ``customer_id``, ``contact_id``,
        ``name``, ``role`` (``""`` when unknown), ``decision_maker`` (bool;
        missing reads false), ``influence`` (float, NaN when unknown),
        ``active`` (bool), ``left_date``, ``last_interaction`` and
        ``days_since_interaction`` (the last interaction naming the contact
        through a ``contact_id`` column of the interactions; NaT/NaN when
        the interactions do not name contacts). Sorted by account, active
        first, decision makers first, then by influence (highest first) and
        contact id.

    Raises
    ------
    SchemaError
        When ``data`` has no contact records.
    InvalidParameterError
        When ``data`` is not :class:`~crmkit.data.CustomerData` (also a
        ``TypeError``).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.data import CustomerData
    >>> tx = pd.DataFrame({"customer_id": ["c1"], "date": ["2024-01-01"], "amount": [5.0]})
    >>> ct = pd.DataFrame({"customer_id": ["c1", "c1"], "contact_id": ["p1", "p2"],
    ...                    "role": ["cfo", "buyer"], "decision_maker": [True, False],
    ...                    "left_date": [pd.NaT, pd.Timestamp("2023-12-01")]})
    >>> data = CustomerData.from_frames(transactions=tx, contacts=ct)
    >>> contact_map(data)[["contact_id", "role", "decision_maker", "active"]]
      contact_id   role  decision_maker  active
    0         p1    cfo            True    True
    1         p2  buyer           False   False
    """
    data = _check_data(data, "contact_map")
    ct = data.frames["contacts"]
    if customer_id is not None:
        ct = ct.loc[(ct["customer_id"] == customer_id).to_numpy()]
    n = len(ct)
    as_of = data.as_of
    left = ct["left_date"] if "left_date" in ct.columns else pd.Series(pd.NaT, index=ct.index)
    left = pd.to_datetime(left)
    active = ~(left.notna() & (left <= as_of)).to_numpy(dtype=bool)
    if "decision_maker" in ct.columns:
        dm = ct["decision_maker"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    else:
        dm = np.zeros(n, dtype=bool)
    influence = (
        ct["influence"].to_numpy(dtype=np.float64, na_value=np.nan)
        if "influence" in ct.columns
        else np.full(n, np.nan)
    )
    role = (
        ct["role"].astype(object).where(ct["role"].notna(), "").astype(str).to_numpy()
        if "role" in ct.columns
        else np.full(n, "", dtype=object)
    )
    name_src = ct["name"] if "name" in ct.columns else ct["contact_id"]
    name = name_src.astype(object).where(name_src.notna(), ct["contact_id"]).astype(str)
    last = pd.Series(pd.NaT, index=ct.index, dtype="datetime64[ns]")
    ix = data.get("interactions")
    if ix is not None and "contact_id" in ix.columns and n:
        named = ix.loc[ix["contact_id"].notna().to_numpy()]
        latest = named.groupby(["customer_id", "contact_id"], sort=False)["date"].max()
        keys = pd.MultiIndex.from_arrays([ct["customer_id"], ct["contact_id"]])
        last = pd.Series(latest.reindex(keys).to_numpy(dtype="datetime64[ns]"), index=ct.index)
    out = pd.DataFrame(
        {
            "customer_id": ct["customer_id"].to_numpy(),
            "contact_id": ct["contact_id"].to_numpy(),
            "name": name.to_numpy(dtype=object),
            "role": np.asarray(role, dtype=object),
            "decision_maker": dm,
            "influence": influence,
            "active": active,
            "left_date": left.to_numpy(dtype="datetime64[ns]"),
            "last_interaction": last.to_numpy(dtype="datetime64[ns]"),
            "days_since_interaction": _days(as_of, last),
        },
        columns=list(_MAP_COLUMNS),
    )
    order = np.lexsort(
        (
            out["contact_id"].astype(str).to_numpy(),
            -np.nan_to_num(influence, nan=-1.0),
            ~dm,
            ~active,
            pd.factorize(out["customer_id"], sort=True)[0],
        )
    )
    result: pd.DataFrame = out.iloc[order].reset_index(drop=True)
    return result


def _decision_makers_met(
    people: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp, within: int
) -> tuple[pd.Series, np.ndarray[Any, np.dtype[np.int64]]]:
    """Last meeting with an active decision maker, and how many were met ``within`` days."""
    deciders = people.loc[(people["decision_maker"] & people["active"]).to_numpy(dtype=bool)]
    when = pd.to_datetime(deciders["last_interaction"])
    last = when.groupby(deciders["customer_id"].to_numpy(), sort=False).max()
    recent = (when.notna() & (_days(as_of, when) <= within)).to_numpy(dtype=bool)
    n_recent = pd.Series(recent).groupby(deciders["customer_id"].to_numpy(), sort=False).sum()
    last_met = pd.Series(last.reindex(ids).to_numpy(dtype="datetime64[ns]"), index=ids)
    counts = n_recent.reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    return last_met, counts


def contact_coverage(data: CustomerData, *, met_within_days: int = MET_WITHIN_DAYS) -> pd.DataFrame:
    """Contact coverage of every account: who we know, who decides, who left.

    Parameters
    ----------
    data : CustomerData
        Validated records with ``contacts``; ``interactions`` give the last
        contact with each account (and, with a ``contact_id`` column, the
        person met). Accounts are the customers of the transactions, the
        customer records and the contacts.
    met_within_days : int, default=365
        How recent a meeting with a decision maker must be to count.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (sorted), columns:

        - ``n_contacts`` / ``n_contacts_left`` — active contacts / contacts
          who left (on or before ``as_of``);
        - ``n_decision_makers`` / ``n_decision_makers_left`` — the same for
          decision makers;
        - ``decision_makers`` — the active decision makers, ``"name
          (role)"`` joined with ``"; "``;
        - ``single_threaded`` — exactly one active contact (the
          relationship hangs on one person);
        - ``only_contact_left`` — no active contact, but someone left;
        - ``all_decision_makers_left`` — decision makers were known and all
          of them left;
        - ``last_interaction`` / ``days_since_interaction`` — the last
          interaction with the account (NaT/NaN without one);
        - ``last_decision_maker_met`` / ``days_since_decision_maker_met`` /
          ``n_decision_makers_met`` — the last interaction naming an active
          decision maker, and how many active decision makers were met in
          the last ``met_within_days`` days (NaT/NaN/0 unless the
          interactions name the contact met in a ``contact_id`` column);
        - ``coverage_risk`` — the worst of :data:`COVERAGE_RISKS`;
          ``"decision makers not met"`` when the interactions name contacts
          and no active decision maker was met within ``met_within_days``.

    Raises
    ------
    SchemaError
        When ``data`` has no contact records.
    InvalidParameterError
        When ``data`` is not :class:`~crmkit.data.CustomerData` (also a
        ``TypeError``).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.data import CustomerData
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "c"], "date": ["2024-01-01"] * 3,
    ...                    "amount": [5.0, 5.0, 5.0]})
    >>> ct = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...                    "contact_id": ["p1", "p2", "p3", "p4"],
    ...                    "role": ["cfo", "buyer", "buyer", "ceo"],
    ...                    "decision_maker": [True, False, False, True],
    ...                    "left_date": [pd.NaT, pd.NaT, pd.NaT, pd.Timestamp("2023-06-01")]})
    >>> cov = contact_coverage(CustomerData.from_frames(transactions=tx, contacts=ct))
    >>> cov[["n_contacts", "n_decision_makers", "coverage_risk"]]
                 n_contacts  n_decision_makers      coverage_risk
    customer_id
    a                     2                  1            covered
    b                     1                  0    single-threaded
    c                     0                  0  only contact left
    """
    data = _check_data(data, "contact_coverage")
    validate_params(
        "contact_coverage",
        {"met_within_days": met_within_days},
        {"met_within_days": [Interval("int", 0, None)]},
    )
    people = contact_map(data)
    parts = [data.transactions["customer_id"], people["customer_id"]]
    customers = data.get("customers")
    if customers is not None:
        parts.append(customers["customer_id"])
    ids = pd.Index(pd.unique(pd.concat(parts, ignore_index=True)), name="customer_id")
    ids = ids.sort_values()
    active = people["active"].to_numpy(dtype=bool)
    dm = people["decision_maker"].to_numpy(dtype=bool)
    flags = pd.DataFrame(
        {
            "customer_id": people["customer_id"],
            "n_contacts": active,
            "n_contacts_left": ~active,
            "n_decision_makers": dm & active,
            "n_decision_makers_left": dm & ~active,
        }
    )
    counts = flags.groupby("customer_id", sort=False).sum().reindex(ids, fill_value=0)
    counts = counts.astype(np.int64)
    deciders = people.loc[dm & active]
    labels = deciders["name"].astype(str) + np.where(
        deciders["role"].astype(str) != "", " (" + deciders["role"].astype(str) + ")", ""
    )
    joined = labels.groupby(deciders["customer_id"].to_numpy(), sort=False).agg("; ".join)
    out = counts.copy()
    out["decision_makers"] = pd.array(
        joined.reindex(ids).fillna("").astype(str).tolist(), dtype="str"
    )
    n_act = out["n_contacts"].to_numpy()
    n_dm = out["n_decision_makers"].to_numpy()
    out["single_threaded"] = n_act == 1
    out["only_contact_left"] = (n_act == 0) & (out["n_contacts_left"].to_numpy() > 0)
    out["all_decision_makers_left"] = (n_dm == 0) & (out["n_decision_makers_left"].to_numpy() > 0)
    ix = data.get("interactions")
    last = pd.Series(pd.NaT, index=ids, dtype="datetime64[ns]")
    if ix is not None and len(ix):
        latest = ix.groupby("customer_id", sort=False)["date"].max()
        last = pd.Series(latest.reindex(ids).to_numpy(dtype="datetime64[ns]"), index=ids)
    out["last_interaction"] = last.to_numpy(dtype="datetime64[ns]")
    out["days_since_interaction"] = _days(data.as_of, last)
    met, n_met = _decision_makers_met(people, ids, data.as_of, met_within_days)
    out["last_decision_maker_met"] = met.to_numpy(dtype="datetime64[ns]")
    out["days_since_decision_maker_met"] = _days(data.as_of, met)
    out["n_decision_makers_met"] = n_met
    names_met = ix is not None and "contact_id" in ix.columns
    conditions = [
        out["only_contact_left"].to_numpy(),
        out["all_decision_makers_left"].to_numpy(),
        n_act == 0,
        n_act == 1,
        n_dm == 0,
        np.full(len(ids), names_met) & (n_met == 0),
    ]
    risk = np.select(conditions, list(COVERAGE_RISKS[:-1]), default=COVERAGE_RISKS[-1])
    out["coverage_risk"] = pd.Categorical(risk, categories=list(COVERAGE_RISKS), ordered=True)
    out.index.name = "customer_id"
    result: pd.DataFrame = out
    return result
