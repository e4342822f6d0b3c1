"""Test actions: treatment vs control uplift with tests and bootstrap intervals.

Seed 004: "test actions need metrics". A campaign with a randomly held-out
control group is an experiment; :func:`uplift_test` compares the groups'
conversion (two-proportion z-test) and revenue per customer (Welch's
t-test), each with a seeded, vectorised percentile-bootstrap interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Constraint, Interval, instance_of, validate_params
from crmkit.data import CustomerData
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.measure._exposures import campaign_exposures
from crmkit.measure._inputs import first_labels
from crmkit.measure._stats import (
    bootstrap_mean_differences,
    interval,
    two_proportion_z_test,
    welch_test,
)

__all__ = ["CONFIDENCE", "N_BOOT", "SEED", "UpliftResult", "uplift_from_outcomes", "uplift_test"]

FloatArray = npt.NDArray[np.float64]
SEED: list[Constraint] = [None, Interval("int", 0, None), np.random.Generator]
N_BOOT: list[Constraint] = [Interval("int", 100, None)]
CONFIDENCE: list[Constraint] = [Interval("real", 0, 1, closed="neither")]


@attrs.frozen(kw_only=True)
class UpliftResult:
    """Treatment vs control: conversion and revenue uplift with tests and intervals.

    Parameters
    ----------
    campaign_id : object
        The campaign (None for outcomes given directly).
    n_treatment, n_control : int
        Customers per group.
    conversion_treatment, conversion_control : float
        Conversion rates.
    conversion_uplift : float
        Treatment minus control rate (percentage points as a fraction).
    conversion_z, conversion_p_value : float
        Two-proportion z statistic (pooled standard error) and its
        two-sided p-value.
    conversion_ci : tuple of float
        Percentile-bootstrap interval of ``conversion_uplift``.
    revenue_treatment, revenue_control : float
        Mean revenue per customer (non-buyers count as 0).
    revenue_uplift : float
        Treatment minus control mean.
    revenue_t, revenue_df, revenue_p_value : float
        Welch's t statistic, its Welch-Satterthwaite degrees of freedom and
        the two-sided p-value.
    revenue_ci : tuple of float
        Percentile-bootstrap interval of ``revenue_uplift``.
    confidence : float
        Level of the intervals; tests are significant when ``p < 1 -
        confidence``.
    n_boot : int
        Bootstrap replicates.

    Examples
    --------
    See :func:`uplift_from_outcomes`.
    """

    campaign_id: Any
    n_treatment: int
    n_control: int
    conversion_treatment: float
    conversion_control: float
    conversion_uplift: float
    conversion_z: float
    conversion_p_value: float
    conversion_ci: tuple[float, float]
    revenue_treatment: float
    revenue_control: float
    revenue_uplift: float
    revenue_t: float
    revenue_df: float
    revenue_p_value: float
    revenue_ci: tuple[float, float]
    confidence: float
    n_boot: int

    @property
    def conversion_significant(self) -> bool:
        """Whether the conversion uplift is significant at ``1 - confidence``.

        Returns
        -------
        bool

        Examples
        --------
        See :func:`uplift_from_outcomes`.
        """
        return bool(self.conversion_p_value < 1.0 - self.confidence)

    @property
    def revenue_significant(self) -> bool:
        """Whether the revenue uplift is significant at ``1 - confidence``.

        Returns
        -------
        bool

        Examples
        --------
        See :func:`uplift_from_outcomes`.
        """
        return bool(self.revenue_p_value < 1.0 - self.confidence)

    def to_frame(self) -> pd.DataFrame:
        """The result as a table: one row per metric.

        Returns
        -------
        DataFrame
            Index ``metric`` (``conversion_rate``, ``revenue_per_customer``);
            columns ``treatment``, ``control``, ``uplift``, ``lower``,
            ``upper``, ``statistic``, ``p_value``, ``significant``.

        Examples
        --------
        See :func:`uplift_from_outcomes`.
        """
        rows = {
            "conversion_rate": (self.conversion_treatment, self.conversion_control,
                                self.conversion_uplift, *self.conversion_ci, self.conversion_z,
                                self.conversion_p_value, self.conversion_significant),
            "revenue_per_customer": (self.revenue_treatment, self.revenue_control,
                                     self.revenue_uplift, *self.revenue_ci, self.revenue_t,
                                     self.revenue_p_value, self.revenue_significant),
        }  # fmt: skip
        cols = ["treatment", "control", "uplift", "lower", "upper", "statistic", "p_value",
                "significant"]  # fmt: skip
        out: pd.DataFrame = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
        out.index.name = "metric"
        return out


_GROUP = instance_of(
    (pd.DataFrame, Mapping), "a DataFrame or a mapping with 'converted' and 'revenue'"
)


def _read_group(obj: Any, name: str) -> tuple[FloatArray, FloatArray]:
    validate_params("uplift_from_outcomes", {name: obj}, {name: [_GROUP]})
    failures: list[SchemaFailure] = []
    arrays: dict[str, FloatArray] = {}
    for col in ("converted", "revenue"):
        if col not in obj:
            failures.append(SchemaFailure(frame=name, column=col, check="is missing"))
            continue
        raw = np.asarray(obj[col])
        if raw.dtype.kind not in "biuf":
            failures.append(
                SchemaFailure(
                    frame=name,
                    column=col,
                    check=f"must be numeric or boolean, got dtype {raw.dtype}",
                )
            )
            continue
        values = raw.astype(np.float64).reshape(-1)
        bad = ~np.isfinite(values)
        if col == "converted":
            bad |= (values != 0.0) & (values != 1.0)
        if bad.any():
            check = "must be 0/1 or boolean" if col == "converted" else "must be finite"
            labels = obj.index if isinstance(obj, pd.DataFrame) else range(len(values))
            failures.append(
                SchemaFailure(
                    frame=name,
                    column=col,
                    check=check,
                    n_failing=int(bad.sum()),
                    rows=first_labels(labels, bad),
                    values=tuple(values[bad][:5].tolist()),
                )
            )
        arrays[col] = values
    if not failures and len(arrays["converted"]) != len(arrays["revenue"]):
        failures.append(
            SchemaFailure(frame=name, column="<frame>", check="has columns of different lengths")
        )
    if not failures and len(arrays["converted"]) < 2:
        failures.append(
            SchemaFailure(
                frame=name,
                column="<frame>",
                check=f"has {len(arrays['converted'])} customers; a test needs at least 2 "
                "per group",
            )
        )
    if failures:
        raise SchemaError(failures)
    return arrays["converted"], arrays["revenue"]


def uplift_from_outcomes(
    treatment: pd.DataFrame | Mapping[str, Any],
    control: pd.DataFrame | Mapping[str, Any],
    *,
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    confidence: float = 0.95,
    campaign_id: Any = None,
) -> UpliftResult:
    """Compare the outcomes of a treatment and a control group.

    Conversion: two-proportion z-test (pooled standard error); revenue per
    customer: Welch's t-test; both uplifts with percentile-bootstrap
    intervals from ``n_boot`` stratified resamples (the same resamples for
    both metrics). Assumes customers were assigned to the groups at random
    and respond independently.

    Parameters
    ----------
    treatment, control : DataFrame or mapping of str to array-like
        Per customer: ``converted`` (bool or 0/1) and ``revenue`` (finite);
        at least 2 customers per group.
    n_boot : int, default=2000
        Bootstrap replicates (>= 100).
    seed : int, Generator or None, default=None
        Random seed of the bootstrap.
    confidence : float, default=0.95
        Interval level; tests are significant when ``p < 1 - confidence``.
    campaign_id : object, optional
        Stored in the result.

    Returns
    -------
    UpliftResult

    Raises
    ------
    SchemaError
        For missing or invalid outcome columns or fewer than 2 customers.
    InvalidParameterError
        For a bad ``n_boot``, ``seed`` or ``confidence``.

    References
    ----------
    .. [1] Efron, B. and Tibshirani, R. J. (1993). An Introduction to the
       Bootstrap. Chapman & Hall.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> t = {"converted": rng.random(2000) < 0.25}
    >>> c = {"converted": rng.random(2000) < 0.20}
    >>> t["revenue"] = t["converted"] * 100.0; c["revenue"] = c["converted"] * 100.0
    >>> res = uplift_from_outcomes(t, c, seed=0)
    >>> round(res.conversion_uplift, 4), res.conversion_significant
    (0.0305, True)
    >>> res.to_frame()[["uplift", "lower", "upper", "p_value"]].round(4)
                          uplift   lower   upper  p_value
    metric
    conversion_rate       0.0305  0.0025  0.0555   0.0223
    revenue_per_customer  3.0500  0.2500  5.5500   0.0223
    """
    validate_params(
        "uplift_from_outcomes",
        {"n_boot": n_boot, "seed": seed, "confidence": confidence},
        {"n_boot": N_BOOT, "seed": SEED, "confidence": CONFIDENCE},
    )
    conv_t, rev_t = _read_group(treatment, "treatment")
    conv_c, rev_c = _read_group(control, "control")
    n_t, n_c = len(conv_t), len(conv_c)
    z, p_z = two_proportion_z_test(float(conv_t.sum()), n_t, float(conv_c.sum()), n_c)
    t, df, p_t = welch_test(rev_t, rev_c)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    reps = bootstrap_mean_differences(
        np.column_stack([conv_t, rev_t]), np.column_stack([conv_c, rev_c]), n_boot, rng
    )
    ci_conv, ci_rev = interval(reps, confidence)
    return UpliftResult(
        campaign_id=campaign_id, n_treatment=n_t, n_control=n_c,
        conversion_treatment=float(conv_t.mean()), conversion_control=float(conv_c.mean()),
        conversion_uplift=float(conv_t.mean() - conv_c.mean()), conversion_z=z,
        conversion_p_value=p_z, conversion_ci=ci_conv,
        revenue_treatment=float(rev_t.mean()), revenue_control=float(rev_c.mean()),
        revenue_uplift=float(rev_t.mean() - rev_c.mean()), revenue_t=t, revenue_df=df,
        revenue_p_value=p_t, revenue_ci=ci_rev, confidence=float(confidence), n_boot=n_boot,
    )  # fmt: skip


def uplift_test(
    data: CustomerData | Any,
    campaign_id: Any,
    *,
    window: int | str = "campaign",
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    confidence: float = 0.95,
) -> UpliftResult:
    """Test a campaign: its treatment customers against its control customers.

    Each customer's response (conversion, revenue in the response window) is
    measured as in :func:`~crmkit.measure.campaign_exposures`; the groups
    are compared with :func:`uplift_from_outcomes`. With
    ``window="campaign"`` both groups are measured over the same calendar
    days, the campaign's ``start`` .. ``end``.

    Parameters
    ----------
    data : CustomerData or mapping of str to DataFrame
        Records with ``transactions``, ``touches`` (with ``group``) and, for
        ``window="campaign"``, ``campaigns``; its ``as_of`` must lie after
        the response window (records after ``as_of`` are dropped by
        :meth:`CustomerData.from_frames`).
    campaign_id : object
        The campaign to test.
    window : int or "campaign", default="campaign"
        The response window (see :func:`~crmkit.measure.campaign_exposures`).
    n_boot : int, default=2000
        Bootstrap replicates (>= 100).
    seed : int, Generator or None, default=None
        Random seed of the bootstrap.
    confidence : float, default=0.95
        Interval level.

    Returns
    -------
    UpliftResult

    Raises
    ------
    SchemaError
        Unknown campaign, no control group (or a group of fewer than 2
        customers), or invalid records.
    InvalidParameterError
        For a bad argument.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 3, 5], "amount": [50.0, 40.0, 30.0, 20.0],
    ...                    "date": pd.to_datetime(["2024-03-03", "2024-03-04", "2024-03-05",
    ...                                            "2024-03-06"])})
    >>> touches = pd.DataFrame({"campaign_id": "K", "customer_id": [1, 2, 3, 4, 5, 6],
    ...                         "date": pd.Timestamp("2024-03-01"),
    ...                         "group": ["treatment"] * 3 + ["control"] * 3})
    >>> data = CustomerData.from_frames(tx, touches=touches, as_of="2024-04-30")
    >>> res = uplift_test(data, "K", window=14, seed=0)
    >>> res.conversion_treatment, round(res.conversion_control, 3)
    (1.0, 0.333)
    """
    validate_params(
        "uplift_test",
        {"window": window, "n_boot": n_boot, "seed": seed, "confidence": confidence},
        {"n_boot": N_BOOT, "seed": SEED, "confidence": CONFIDENCE},
    )
    ex = campaign_exposures(data, window=window, campaign_ids=[campaign_id])
    table = ex.table
    groups = {
        g: table.loc[(table["group"] == g).to_numpy(), ["converted", "revenue"]]
        for g in ("treatment", "control")
    }
    for g, part in groups.items():
        if len(part) < 2:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="touches",
                        column="group",
                        check=f"campaign {campaign_id!r} has {len(part)} {g} customers; "
                        "an uplift test needs at least 2 in each group (hold out a random control "
                        "group, or measure against a model baseline with clv_uplift)",
                    )
                ]
            )
    return uplift_from_outcomes(
        groups["treatment"],
        groups["control"],
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
        campaign_id=campaign_id,
    )
