"""Which of Hellman's five levels of customer management the records support (seed 003).

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

from collections.abc import Iterable, Sequence
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

_LIFT = {
    "1a": "record purchases per customer (transactions)",
    "1b": "keep customer records (customers: industry, size, region ...) or contacts for "
    "every purchasing customer",
    "2a": "record campaigns and the customers each one touched (campaigns + touches)",
    "2b": "select campaign targets from the customer database (touches naming known customers)",
    "3a": "keep the purchase history for at least the required span",
    "3b": "follow repeat purchases per customer (repeat buying is too rare to model value)",
    "3c": "record the cost of each transaction line (margin, profitability per customer)",
    "4a": "set goals per managed account (account plans with short- or long-term goals)",
    "4b": "map the decision makers of the managed accounts (contacts with decision_maker)",
    "4c": "log meetings, calls and visits with the managed accounts, with the seller",
    "5a": "share customer data with network partners (a customer_id x partner table)",
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
                    "network",
                    "<frame>",
                    f"is a {type(network).__name__}; "
                    "assess_maturity needs a DataFrame with customer_id "
                    "and partner",
                )
            ]
        )
    require_columns(network, "network", ["customer_id", "partner"], "assess_maturity")
    return network


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
       asiakkuudet. (The five levels, as summarised in seed 003.)

    Examples
    --------
    >>> from crmkit.datasets._synthetic import make_crm
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
                    "data",
                    "<frame>",
                    f"is a {type(data).__name__}; assess_maturity needs CustomerData",
                )
            ]
        )
    coverage = check_fraction(coverage, "coverage", "assess_maturity", closed=True)
    min_history_days = check_int(min_history_days, "min_history_days", "assess_maturity", 0)
    min_repeat_share = check_fraction(
        min_repeat_share, "min_repeat_share", "assess_maturity", closed=True
    )
    net = _check_network(network)
    tx = data.transactions
    buyers = pd.Index(pd.unique(tx["customer_id"].to_numpy()))
    n_buyers = len(buyers)
    rows: list[tuple[str, int, str, bool, str]] = []

    def add(code: str, level: int, text: str, met: bool, evidence: str) -> None:
        rows.append((code, level, text, bool(met), evidence))

    add(
        "1a",
        1,
        "transactions exist",
        n_buyers > 0,
        f"{len(tx)} transaction lines of {n_buyers} customers",
    )
    known = pd.Index([])
    for kind in ("customers", "contacts"):
        frame = data.get(kind)
        if frame is not None:
            known = known.union(pd.Index(pd.unique(frame["customer_id"].to_numpy())))
    cov = _share(int(buyers.isin(known).sum()), n_buyers)
    add(
        "1b",
        1,
        "customer records or contacts for the buyers",
        cov >= coverage,
        f"{cov:.0%} of purchasing customers have customer records or contacts",
    )

    touches, campaigns = data.get("touches"), data.get("campaigns")
    n_campaigns = 0 if touches is None else int(touches["campaign_id"].nunique())
    add(
        "2a",
        2,
        "campaigns with touched customers",
        n_campaigns > 0 and campaigns is not None,
        f"{n_campaigns} campaigns with touches"
        + ("" if campaigns is not None else "; no campaign records"),
    )
    touched = (
        pd.Index(pd.unique(touches["customer_id"].to_numpy()))
        if touches is not None
        else pd.Index([])
    )
    all_known = known.union(buyers)
    t_cov = _share(int(touched.isin(all_known).sum()), len(touched))
    add(
        "2b",
        2,
        "targets selected from the customer database",
        len(touched) > 0 and t_cov >= coverage,
        f"{t_cov:.0%} of {len(touched)} touched customers are known customers",
    )

    dates = pd.to_datetime(tx["date"])
    span = int((data.as_of - dates.min()).days) if len(tx) else 0
    add(
        "3a",
        3,
        f"purchase history of at least {min_history_days} days",
        span >= min_history_days,
        f"history spans {span} days",
    )
    days_per = (
        pd.DataFrame({"c": tx["customer_id"].to_numpy(), "d": dates.dt.normalize()})
        .drop_duplicates()
        .groupby("c")
        .size()
    )
    repeat = _share(int((days_per >= 2).sum()), n_buyers)
    add(
        "3b",
        3,
        f"at least {min_repeat_share:.0%} repeat buyers",
        repeat >= min_repeat_share,
        f"{repeat:.0%} of customers bought on two or more days",
    )
    cost_cov = float(tx["cost"].notna().mean()) if "cost" in tx.columns and len(tx) else 0.0
    add(
        "3c",
        3,
        "costs for margin",
        cost_cov >= coverage,
        f"{cost_cov:.0%} of transaction lines have a cost",
    )

    managed, which = _managed(data, accounts)
    plans = list(account_plans) if account_plans is not None else []
    with_goals = pd.Index(
        pd.unique(
            np.asarray(
                [p.customer_id for p in plans if p.short_term_goals or p.long_term_goals],
                dtype=object,
            )
        )
    )
    g_cov = _share(int(managed.isin(with_goals).sum()), len(managed))
    add(
        "4a",
        4,
        "goals per managed account",
        g_cov >= coverage and len(managed) > 0,
        f"{g_cov:.0%} of {len(managed)} managed accounts ({which}) have account plans with goals",
    )
    contacts = data.get("contacts")
    dm_cov = 0.0
    if contacts is not None and "decision_maker" in contacts.columns:
        active = contacts["decision_maker"].fillna(False).astype(bool).to_numpy()
        if "left_date" in contacts.columns:
            left = (
                contacts["left_date"].notna().to_numpy()
                & (pd.to_datetime(contacts["left_date"]) <= data.as_of).to_numpy()
            )
            active = active & ~left
        dm_ids = pd.Index(pd.unique(contacts["customer_id"].to_numpy()[active]))
        dm_cov = _share(int(managed.isin(dm_ids).sum()), len(managed))
    add(
        "4b",
        4,
        "decision-maker contacts of managed accounts",
        dm_cov >= coverage,
        f"{dm_cov:.0%} of managed accounts have an active decision-maker contact",
    )
    ix = data.get("interactions")
    ix_cov = 0.0
    if ix is not None and "seller" in ix.columns:
        met_ids = pd.Index(pd.unique(ix["customer_id"].to_numpy()[ix["seller"].notna().to_numpy()]))
        ix_cov = _share(int(managed.isin(met_ids).sum()), len(managed))
    add(
        "4c",
        4,
        "interactions with managed accounts, by seller",
        ix_cov >= coverage,
        f"{ix_cov:.0%} of managed accounts have logged interactions with a seller",
    )

    shared = 0 if net is None else int(net["customer_id"].isin(all_known).sum())
    partners = 0 if net is None else int(net["partner"].nunique())
    add(
        "5a",
        5,
        "customers shared with network partners",
        shared > 0,
        f"{shared} links to {partners} partners" if net is not None else "no network table",
    )

    checks = pd.DataFrame(
        rows, columns=["criterion", "level", "description", "met", "evidence"]
    ).set_index("criterion")
    checks["to_lift"] = [("" if m else _LIFT[c]) for c, m in checks["met"].items()]
    met = {lvl: bool(checks.loc[checks["level"] == lvl, "met"].all()) for lvl in range(1, 6)}
    met[4] = bool(checks.loc["4a", "met"] or (checks.loc["4b", "met"] and checks.loc["4c", "met"]))
    level = 0
    while level < 5 and met[level + 1]:
        level += 1
    supported = [lvl <= level for lvl in range(1, 6)]
    levels = pd.DataFrame(
        {
            "name": list(MATURITY_LEVELS.values()),
            "met": [met[i] for i in range(1, 6)],
            "supported": supported,
        },
        index=pd.Index(range(1, 6), name="level"),
    )
    steps: tuple[str, ...] = ()
    if level < 5:
        todo = checks.loc[(checks["level"] == level + 1) & ~checks["met"]]
        if level + 1 == 4 and (checks.loc["4b", "met"] or checks.loc["4c", "met"]):
            todo = todo.drop(index="4a")  # the account-data route is already half-way
        steps = tuple(todo["to_lift"].tolist())
    name = MATURITY_LEVELS.get(level, "none")
    return MaturityAssessment(
        level=level, name=name, checks=checks, levels=levels, next_steps=steps
    )
