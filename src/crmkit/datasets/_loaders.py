"""Loaders of the public research data sets bundled with crmkit."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_cdnow", "load_donations", "CDNOW_CALIBRATION_END"]

#: End of the 39-week calibration period used by the CDNOW papers.
CDNOW_CALIBRATION_END = "1997-09-30"


def load_cdnow() -> pd.DataFrame:
    """CDNOW transactions: 2,357 customers, 6,919 purchases (1997-01 to 1998-06).

    A 1/10 systematic sample of the cohort that first bought at CDNOW in the
    first quarter of 1997 (Fader & Hardie's public data). The papers use the
    first 39 weeks (to 1997-09-30, :data:`CDNOW_CALIBRATION_END`) for
    calibration, weeks as the time unit, and count distinct purchase days.

    Returns
    -------
    DataFrame
        Columns ``customer_id`` (str, the zero-padded master id, kept
        exactly), ``date`` (datetime64), ``quantity`` (number of CDs) and
        ``amount`` (dollars); one row per purchase (several per day are
        separate rows).

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your
       customers" the easy way. Marketing Science, 24(2), 275-284.

    Examples
    --------
    >>> tx = load_cdnow()
    >>> tx.shape, tx["customer_id"].nunique()
    ((6919, 4), 2357)
    """
    with resources.files("crmkit.datasets").joinpath("data/cdnow_sample.txt").open("r") as fh:
        raw = pd.read_csv(
            fh,
            sep=r"\s+",
            header=None,
            names=["customer_id", "sample_id", "date", "quantity", "amount"],
            dtype={"customer_id": str, "sample_id": str, "date": str},
        )
    out: pd.DataFrame = pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype(str),
            "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "quantity": raw["quantity"].astype("int64"),
            "amount": raw["amount"].astype("float64"),
        }
    )
    return out


def load_donations() -> pd.DataFrame:
    """Repeat donations of 11,104 first-time donors over 6 annual opportunities.

    Aggregated histories: each row is one pattern shared by ``weights``
    donors, with ``frequency`` (repeat donations), ``recency`` (the
    opportunity of the last one) and ``periods`` (6 opportunities).

    Returns
    -------
    DataFrame
        Columns ``frequency``, ``recency``, ``periods``, ``weights`` (int64).

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base
       analysis in a discrete-time noncontractual setting. Marketing Science,
       29(6), 1086-1108.

    Examples
    --------
    >>> d = load_donations()
    >>> int(d["weights"].sum()), list(d.columns)
    (11104, ['frequency', 'recency', 'periods', 'weights'])
    """
    with resources.files("crmkit.datasets").joinpath("data/donations.csv").open("r") as fh:
        out: pd.DataFrame = pd.read_csv(fh).astype("int64")
    return out
