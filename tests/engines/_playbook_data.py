"""Records, a fitted Playbook and the pandas reference for the engines.assess/fit tests."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from crmkit.compose import Playbook
from crmkit.data import CustomerData
from crmkit.datasets import make_crm
from crmkit.exceptions import DataWarning

#: The customer-keyed record kinds the tests send to the engines.
KINDS = ("transactions", "customers", "contacts", "interactions", "feedback", "events", "touches")
#: An observation end inside the records (later rows are dropped, some customers vanish).
EARLY = "2025-01-15"


def records(n: int = 150, seed: int = 5) -> dict[str, pd.DataFrame]:
    """make_crm's records (customer-keyed kinds and campaigns), rows shuffled."""
    frames = dict(make_crm(n, seed=seed).data.frames)
    rng = np.random.default_rng(seed)
    out = {k: frames[k].iloc[rng.permutation(len(frames[k]))] for k in KINDS}
    out["campaigns"] = frames["campaigns"]
    return out


def customer_data(recs: dict[str, pd.DataFrame], as_of: Any = None) -> CustomerData:
    """The pandas CustomerData of the records (warnings about dropped rows silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        tx = recs["transactions"]
        others = {k: v for k, v in recs.items() if k != "transactions"}
        return CustomerData.from_frames(tx, **others, as_of=as_of)


def fitted(recs: dict[str, pd.DataFrame]) -> Playbook:
    """The default Playbook fitted on the pandas records."""
    return Playbook().fit(customer_data(recs))


def reference(pb: Playbook, recs: dict[str, pd.DataFrame], as_of: Any = None) -> pd.DataFrame:
    """pandas ``assess`` cast as the engines document: id column, strings for text."""
    out = pb.assess(customer_data(recs, as_of))
    return as_engine_types(out.reset_index())


def as_engine_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals and text as Python str/None objects, sorted by customer id."""
    frame = frame.sort_values("customer_id").reset_index(drop=True)
    cast = {}
    for c in frame.columns:
        kind = frame[c].dtype.kind
        if kind not in "biufM":
            values = frame[c].astype(object).to_numpy(copy=True)
            values[pd.isna(values)] = None
            cast[c] = pd.Series(values, dtype=object)
        else:
            cast[c] = frame[c]
    return pd.DataFrame(cast)


def engine_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical and str columns as objects (Spark's createDataFrame reads those)."""
    out = frame.reset_index(drop=True)
    cast = {c: object for c in out.columns if out[c].dtype.kind not in "biufM"}
    return out.astype(cast) if cast else out
