"""Data sets: the bundled CDNOW and donations data, and a synthetic CRM.

Examples
--------
>>> from crmkit.datasets import load_cdnow
>>> len(load_cdnow())
6919
"""

from crmkit.datasets._loaders import CDNOW_CALIBRATION_END, load_cdnow, load_donations
from crmkit.datasets._synthetic import SyntheticCRM, make_crm

__all__ = ["CDNOW_CALIBRATION_END", "SyntheticCRM", "load_cdnow", "load_donations", "make_crm"]
