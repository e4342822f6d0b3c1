"""Which of Hellman's five levels of customer management the records support.

The levels, each including those below:

1. **Customer-data management** — purchases and who the customers are.
   Criteria: *1a* transactions exist; *1b* customer records (or contacts)
   cover at least ``coverage`` of the purchasing customers.
2. **Targeted sales and marketing** — campaigns and invitations from the
   database. *2a* at least one campaign with touch records; *2b* at least
   ``coverage`` of the touched customers are known customers.
3. **Relationship marketing** — long relationships and their
   profitability. *3a* the purchase history spans at least
   ``min_history_days``; *3b* at least ``min_repeat_share`` of the customers
   bought on two or more days (value models need repeat buying); *3c* at
   least ``coverage`` of the transaction lines carry a cost (margin).
4. **Customer-based management** — goals set per customer, for the managed
   accounts (the key accounts when flagged, else the top 20 % by revenue,
   or ``accounts``). *4a* account plans with goals for at least
   ``coverage`` of them; or both *4b* active decision-maker contacts and
   *4c* logged interactions with a named seller for at least ``coverage``
   of them.
5. **Network management** — customers shared across a network. *5a* a
   network table (``customer_id``, ``partner``) links at least one known
   customer to a partner.

The level reached is the highest level whose criteria, and those of every
level below, are met.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmkit.analysis._inputs import check_fraction, check_int, require_columns
from crmkit.data import CustomerData
from crmkit.domain import AccountPlan
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["MATURITY_LEVELS", "MaturityAssessment", "assess_maturity"]

#: Hellman's five levels of customer management, by number.
MATURITY_LEVELS: dict[int, str] = {
    1: "customer-data management",
    2: "targeted sales and marketing",
    3: "relationship marketing",
    4: "customer-based management",
    5: "network management",
}


@attrs.frozen(eq=False)
class MaturityAssessment:
    """What level of customer management the records support and what would lift it.

    Parameters
    ----------
    level : int
        0 to 5; 0 when not even level 1 is met.
    name : str
        Name of the level reached (``"none"`` for 0).
    checks : DataFrame
        One row per criterion (index ``criterion``: ``"1a"`` ...): ``level``,
        ``description``, ``met``, ``evidence`` and ``to_lift``.
    levels : DataFrame
        Index ``level`` 1-5: ``name``, ``met`` (its own criteria),
        ``supported`` (met, with every level below).
    next_steps : tuple of str
        What data would lift the records to the next level (empty at 5).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2], "date": ["2025-01-01", "2025-02-01"],
    ...                    "amount": [5.0, 7.0]})
    >>> a = assess_maturity(CustomerData.from_frames(tx))
    >>> a.level
    0
    >>> print(a.next_steps[0])
    keep customer records (customers: industry, size, region ...) or contacts for every ...
    """

    level: int
    name: str
    checks: pd.DataFrame
    levels: pd.DataFrame
    next_steps: tuple[str, ...]

    def __str__(self) -> str:
        lines = [f"Customer-management maturity: level {self.level} ({self.name})"]
        for lvl, row in self.levels.iterrows():
            mark = "x" if row["supported"] else ("~" if row["met"] else " ")
            lines.append(f"  [{mark}] {lvl} {row['name']}")
        if self.next_steps:
            lines.append(f"To reach level {self.level + 1}:")
            lines += [f"  - {s}" for s in self.next_steps]
        return "\n".join(lines)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _ids(values: Any) -> pd.Index:
    ids: pd.Index = pd.Index(pd.unique(np.asarray(values, dtype=object)))
    return ids


def _managed(data: CustomerData, accounts: Sequence[Any] | None) -> tuple[pd.Index, str]:
    buyers = data.transactions["customer_id"]
    if accounts is not None:
        return pd.Index(pd.unique(np.asarray(list(accounts), dtype=object))), "given accounts"
    cust = data.get("customers")
    if cust is not None and "key_account" in cust.columns:
        flag = cust["key_account"].fillna(False).astype(bool).to_numpy()
        if flag.any():
            return pd.Index(pd.unique(cust["customer_id"].to_numpy()[flag])), "key accounts"
    revenue = data.transactions.groupby("customer_id", sort=True)["amount"].sum()
    n_top = max(int(np.ceil(0.2 * buyers.nunique())), 1)
    top = revenue.sort_values(ascending=False, kind="stable").index[:n_top]
    return pd.Index(top), "top 20% by revenue"


def _check_network(network: object) -> pd.DataFrame | None:
    if network is None:
        return None
    if not isinstance(network, pd.DataFrame):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="network",
                    column="<frame>",
                    check=f"is a {type(network).__name__}; "
                    "assess_maturity needs a DataFrame with customer_id "
                    "and partner",
                )
            ]
        )
    require_columns(network, "network", ["customer_id", "partner"], "assess_maturity")
    return network


@attrs.frozen(eq=False)
class _Records:
    """What the criteria read: the records, the thresholds and the customers known."""

    data: CustomerData
    coverage: float
    min_history_days: int
    min_repeat_share: float
    network: pd.DataFrame | None
    plans: list[AccountPlan]
    managed: pd.Index
    which: str
    buyers: pd.Index
    known: pd.Index  # customers with customer records or contacts

    @property
    def tx(self) -> pd.DataFrame:
        return self.data.transactions

    @property
    def all_known(self) -> pd.Index:
        union: pd.Index = self.known.union(self.buyers)
        return union

    def managed_share(self, ids: pd.Index) -> float:
        return _share(int(self.managed.isin(ids).sum()), len(self.managed))


def _records(
    data: CustomerData,
    coverage: float,
    min_history_days: int,
    min_repeat_share: float,
    network: pd.DataFrame | None,
    account_plans: Iterable[AccountPlan] | None,
    accounts: Sequence[Any] | None,
) -> _Records:
    known = pd.Index([])
    for kind in ("customers", "contacts"):
        frame = data.get(kind)
        if frame is not None:
            known = known.union(pd.Index(pd.unique(frame["customer_id"].to_numpy())))
    managed, which = _managed(data, accounts)
    return _Records(
        data=data,
        coverage=coverage,
        min_history_days=min_history_days,
        min_repeat_share=min_repeat_share,
        network=network,
        plans=list(account_plans) if account_plans is not None else [],
        managed=managed,
        which=which,
        buyers=pd.Index(pd.unique(data.transactions["customer_id"].to_numpy())),
        known=known,
    )


# Each criterion reads the records and says whether it is met, with the evidence.


def _transactions(r: _Records) -> tuple[bool, str]:
    return len(r.buyers) > 0, f"{len(r.tx)} transaction lines of {len(r.buyers)} customers"


def _customer_records(r: _Records) -> tuple[bool, str]:
    cov = _share(int(r.buyers.isin(r.known).sum()), len(r.buyers))
    return cov >= r.coverage, f"{cov:.0%} of purchasing customers have customer records or contacts"


def _campaigns(r: _Records) -> tuple[bool, str]:
    touches, campaigns = r.data.get("touches"), r.data.get("campaigns")
    n_campaigns = 0 if touches is None else int(touches["campaign_id"].nunique())
    evidence = f"{n_campaigns} campaigns with touches" + (
        "" if campaigns is not None else "; no campaign records"
    )
    return n_campaigns > 0 and campaigns is not None, evidence


def _targets(r: _Records) -> tuple[bool, str]:
    touches = r.data.get("touches")
    touched = (
        pd.Index(pd.unique(touches["customer_id"].to_numpy()))
        if touches is not None
        else pd.Index([])
    )
    t_cov = _share(int(touched.isin(r.all_known).sum()), len(touched))
    evidence = f"{t_cov:.0%} of {len(touched)} touched customers are known customers"
    return len(touched) > 0 and t_cov >= r.coverage, evidence


def _history(r: _Records) -> tuple[bool, str]:
    span = int((r.data.as_of - pd.to_datetime(r.tx["date"]).min()).days) if len(r.tx) else 0
    return span >= r.min_history_days, f"history spans {span} days"


def _repeat_buyers(r: _Records) -> tuple[bool, str]:
    # a customer bought on two or more days iff its last purchase day is after its first
    # (one pass over the lines, no table of distinct customer-days)
    days = pd.to_datetime(r.tx["date"]).dt.normalize().astype("int64").to_numpy()
    codes, uniques = pd.factorize(r.tx["customer_id"])
    first = np.full(len(uniques), np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(len(uniques), np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, codes, days)
    np.maximum.at(last, codes, days)
    repeat = _share(int((last > first).sum()), len(r.buyers))
    return repeat >= r.min_repeat_share, f"{repeat:.0%} of customers bought on two or more days"


def _costs(r: _Records) -> tuple[bool, str]:
    tx = r.tx
    cost_cov = float(tx["cost"].notna().mean()) if "cost" in tx.columns and len(tx) else 0.0
    return cost_cov >= r.coverage, f"{cost_cov:.0%} of transaction lines have a cost"


def _goals(r: _Records) -> tuple[bool, str]:
    with_goals = _ids([p.customer_id for p in r.plans if p.short_term_goals or p.long_term_goals])
    g_cov = r.managed_share(with_goals)
    evidence = (
        f"{g_cov:.0%} of {len(r.managed)} managed accounts ({r.which}) have account plans "
        "with goals"
    )
    return g_cov >= r.coverage and len(r.managed) > 0, evidence


def _decision_makers(r: _Records) -> tuple[bool, str]:
    contacts = r.data.get("contacts")
    dm_cov = 0.0
    if contacts is not None and "decision_maker" in contacts.columns:
        active = contacts["decision_maker"].fillna(False).astype(bool).to_numpy()
        if "left_date" in contacts.columns:
            left = (
                contacts["left_date"].notna().to_numpy()
                & (pd.to_datetime(contacts["left_date"]) <= r.data.as_of).to_numpy()
            )
            active = active & ~left
        dm_cov = r.managed_share(pd.Index(pd.unique(contacts["customer_id"].to_numpy()[active])))
    evidence = f"{dm_cov:.0%} of managed accounts have an active decision-maker contact"
    return dm_cov >= r.coverage, evidence


def _interactions(r: _Records) -> tuple[bool, str]:
    ix = r.data.get("interactions")
    ix_cov = 0.0
    if ix is not None and "seller" in ix.columns:
        with_seller = ix["seller"].notna().to_numpy()
        ix_cov = r.managed_share(pd.Index(pd.unique(ix["customer_id"].to_numpy()[with_seller])))
    evidence = f"{ix_cov:.0%} of managed accounts have logged interactions with a seller"
    return ix_cov >= r.coverage, evidence


def _network(r: _Records) -> tuple[bool, str]:
    net = r.network
    if net is None:
        return False, "no network table"
    shared = int(net["customer_id"].isin(r.all_known).sum())
    return shared > 0, f"{shared} links to {int(net['partner'].nunique())} partners"


@attrs.frozen
class _Criterion:
    code: str
    level: int
    description: str  # formatted with the thresholds
    check: Callable[[_Records], tuple[bool, str]]
    to_lift: str  # what would meet it


#: Hellman's criteria, level by level (see the module notes).
_CRITERIA: tuple[_Criterion, ...] = (
    _Criterion("1a", 1, "transactions exist", _transactions,
               "record purchases per customer (transactions)"),
    _Criterion("1b", 1, "customer records or contacts for the buyers", _customer_records,
               "keep customer records (customers: industry, size, region ...) or contacts for "
               "every purchasing customer"),
    _Criterion("2a", 2, "campaigns with touched customers", _campaigns,
               "record campaigns and the customers each one touched (campaigns + touches)"),
    _Criterion("2b", 2, "targets selected from the customer database", _targets,
               "select campaign targets from the customer database (touches naming known "
               "customers)"),
    _Criterion("3a", 3, "purchase history of at least {min_history_days} days", _history,
               "keep the purchase history for at least the required span"),
    _Criterion("3b", 3, "at least {min_repeat_share:.0%} repeat buyers", _repeat_buyers,
               "follow repeat purchases per customer (repeat buying is too rare to model "
               "value)"),
    _Criterion("3c", 3, "costs for margin", _costs,
               "record the cost of each transaction line (margin, profitability per "
               "customer)"),
    _Criterion("4a", 4, "goals per managed account", _goals,
               "set goals per managed account (account plans with short- or long-term goals)"),
    _Criterion("4b", 4, "decision-maker contacts of managed accounts", _decision_makers,
               "map the decision makers of the managed accounts (contacts with "
               "decision_maker)"),
    _Criterion("4c", 4, "interactions with managed accounts, by seller", _interactions,
               "log meetings, calls and visits with the managed accounts, with the seller"),
    _Criterion("5a", 5, "customers shared with network partners", _network,
               "share customer data with network partners (a customer_id x partner table)"),
)  # fmt: skip


def _checks(r: _Records) -> pd.DataFrame:
    rows = []
    for c in _CRITERIA:
        met, evidence = c.check(r)
        text = c.description.format(
            min_history_days=r.min_history_days, min_repeat_share=r.min_repeat_share
        )
        rows.append((c.code, c.level, text, bool(met), evidence, "" if met else c.to_lift))
    columns = ["criterion", "level", "description", "met", "evidence", "to_lift"]
    checks: pd.DataFrame = pd.DataFrame(rows, columns=columns).set_index("criterion")
    return checks


def _levels_met(checks: pd.DataFrame) -> dict[int, bool]:
    met = {lvl: bool(checks.loc[checks["level"] == lvl, "met"].all()) for lvl in range(1, 6)}
    # level 4 by account plans with goals, or by both decision makers and interactions
    met[4] = bool(checks.loc["4a", "met"] or (checks.loc["4b", "met"] and checks.loc["4c", "met"]))
    return met


def _next_steps(checks: pd.DataFrame, level: int) -> tuple[str, ...]:
    if level >= 5:
        return ()
    todo = checks.loc[(checks["level"] == level + 1) & ~checks["met"]]
    if level + 1 == 4 and (checks.loc["4b", "met"] or checks.loc["4c", "met"]):
        todo = todo.drop(index="4a")  # the account-data route is already half-way
    return tuple(todo["to_lift"].tolist())


def _assessment(checks: pd.DataFrame) -> MaturityAssessment:
    met = _levels_met(checks)
    level = 0
    while level < 5 and met[level + 1]:
        level += 1
    levels = pd.DataFrame(
        {
            "name": list(MATURITY_LEVELS.values()),
            "met": [met[i] for i in range(1, 6)],
            "supported": [lvl <= level for lvl in range(1, 6)],
        },
        index=pd.Index(range(1, 6), name="level"),
    )
    return MaturityAssessment(
        level=level,
        name=MATURITY_LEVELS.get(level, "none"),
        checks=checks,
        levels=levels,
        next_steps=_next_steps(checks, level),
    )


def assess_maturity(
    data: CustomerData,
    *,
    account_plans: Iterable[AccountPlan] | None = None,
    network: pd.DataFrame | None = None,
    accounts: Sequence[Any] | None = None,
    coverage: float = 0.8,
    min_history_days: int = 365,
    min_repeat_share: float = 0.2,
) -> MaturityAssessment:
    """Assess which of Hellman's five levels of customer management the records support.

    The criteria are listed in the module notes (and in the ``checks``
    table of the result, with the evidence found and what would lift each
    unmet one).

    Parameters
    ----------
    data : CustomerData
        Validated records.
    account_plans : iterable of AccountPlan, optional
        Account plans kept in the CRM (level 4: goals per customer).
    network : DataFrame, optional
        Customers shared with network partners: ``customer_id``, ``partner``
        (level 5).
    accounts : sequence, optional
        The managed accounts for level 4; default the key accounts (customer
        records' ``key_account``), else the top 20 % of customers by revenue.
    coverage : float, default=0.8
        Share of the relevant customers a kind of record must cover.
    min_history_days : int, default=365
        Span of purchase history needed for level 3.
    min_repeat_share : float, default=0.2
        Share of customers with two or more purchase days needed for level 3.

    Returns
    -------
    MaturityAssessment

    Raises
    ------
    SchemaError
        For data that is not CustomerData, or a network table without
        ``customer_id`` and ``partner``.
    InvalidParameterError
        For bad thresholds.

    References
    ----------
    .. [1] Hellman, K. (2003). Asiakkuudenhallinnan taso- ja
       kypsyysmallit. In: Hellman, K. & Värilä, R. (eds.), Kannattavat
       asiakkuudet.

    Examples
    --------
    >>> from crmkit.datasets import make_crm
    >>> crm = make_crm(300, seed=1)
    >>> result = assess_maturity(crm.data)
    >>> result.level, result.name
    (4, 'customer-based management')
    >>> result.next_steps
    ('share customer data with network partners (a customer_id x partner table)',)
    """
    if not isinstance(data, CustomerData):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="data",
                    column="<frame>",
                    check=f"is a {type(data).__name__}; assess_maturity needs CustomerData",
                )
            ]
        )
    owner = "assess_maturity"
    records = _records(
        data,
        coverage=check_fraction(coverage, "coverage", owner, closed=True),
        min_history_days=check_int(min_history_days, "min_history_days", owner, 0),
        min_repeat_share=check_fraction(min_repeat_share, "min_repeat_share", owner, closed=True),
        network=_check_network(network),
        account_plans=account_plans,
        accounts=accounts,
    )
    return _assessment(_checks(records))
