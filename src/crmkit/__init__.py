"""crmkit: customer relationship management analytics.

Turns transactions, customers, contacts, visits, feedback, campaigns and
prospects into a per-customer view: lifecycle stage, value, loyalty, churn
risk, segment and care model.

Examples
--------
>>> import crmkit
>>> crmkit.__version__ >= "0"
True
"""

from crmkit._version import __version__

__all__ = ["__version__"]
