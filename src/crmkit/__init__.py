"""crmkit: customer relationship management analytics.

Turns transactions, customers, contacts, visits, feedback, campaigns and
prospects into a per-customer view: lifecycle stage, value, loyalty, churn
risk, segment and care model.

Examples
--------
>>> import crmkit
>>> tx = crmkit.datasets.load_cdnow()
>>> view = crmkit.summarize(tx, as_of="1997-09-30", time_unit="W")  # doctest: +SKIP
>>> crmkit.__version__ >= "0"
True
"""

from crmkit import analysis, datasets, exceptions, loyalty, measure
from crmkit._persist import load
from crmkit._version import __version__
from crmkit.data import ColumnMap, CustomerData, summarize

__all__ = [
    "ColumnMap",
    "CustomerData",
    "__version__",
    "analysis",
    "datasets",
    "exceptions",
    "load",
    "loyalty",
    "measure",
    "summarize",
]
