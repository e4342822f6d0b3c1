"""Campaign uplift in customer-value units, against a purchase model's baseline.

The design
----------
A purchase model fitted on the history *before* the campaign (the
calibration period, which the campaign cannot have influenced) predicts how
many purchases each customer would make in its response window without the
campaign: ``E_i``. The customer's observed purchases ``X_i`` (distinct
purchase days in the window, the model's unit of count) exceed that
baseline by ``X_i - E_i``. Valued like CLV -- purchases times expected
spend per purchase times margin -- the excess is ``V_i = (X_i - E_i) *
s_i * m``.

* With a control group the uplift is ``mean(V | treatment) - mean(V |
  control)``: the control group's excess absorbs the model's bias (a
  mis-calibrated model, seasonality, a market-wide shock), and subtracting
  the prediction removes the between-customer variance the model explains
  (a regression adjustment in the spirit of CUPED), so the interval is
  usually narrower than the plain difference of observed values.
* Without a control group the uplift is ``mean(V | treatment)``: it then
  rests entirely on the model being right for these customers in this
  window (no seasonality, no trend, no selection of customers who were
  about to buy anyway) -- read it as an estimate, not as a test.

Assumptions: groups assigned at random (with a control group); the campaign
does not change the calibration history; the spend per purchase is
unaffected by the campaign (only the number of purchases is); the window is
short enough for discounting not to matter (values are undiscounted, in the
money units of CLV: margin, or revenue when no margin is known).
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Interval, validate_params
from crmkit.data import TIME_UNITS, CustomerData, summarize
from crmkit.exceptions import DataWarning, SchemaError, SchemaFailure
from crmkit.measure._experiments import CONFIDENCE, N_BOOT, SEED
from crmkit.measure._exposures import campaign_exposures
from crmkit.measure._inputs import as_data, day_numbers
from crmkit.measure._stats import (
    bootstrap_mean_differences,
    interval,
    one_sample_p_value,
    welch_test,
)

__all__ = ["CLVUpliftResult", "clv_uplift"]

F = npt.NDArray[np.float64]


@attrs.frozen(kw_only=True, eq=False)
class CLVUpliftResult:
    """A campaign's uplift in purchases and in customer value, against a model baseline.

    Parameters
    ----------
    campaign_id : object
        The campaign.
    n_treatment, n_control : int
        Customers used (those with purchases before the campaign).
    n_excluded : int
        Touched customers without purchases before the campaign (no
        baseline can be predicted for them).
    calibration_end : Timestamp
        Last day of the history the baseline is predicted from (the day
        before the earliest response window).
    horizon : float
        Mean response-window length, in time units.
    time_unit : str
        The time unit.
    observed_treatment, expected_treatment : float
        Mean observed and baseline purchases per treatment customer.
    observed_control, expected_control : float
        The same for the control group (NaN without one).
    purchase_uplift : float
        Excess purchases per treatment customer over the control group's
        excess (or over the baseline without control).
    purchase_ci : tuple of float
        Its percentile-bootstrap interval.
    value_per_purchase : float
        Mean value of a purchase (spend x margin) over treatment customers.
    value_uplift : float
        Incremental value per treatment customer (CLV money units).
    value_ci : tuple of float
        Its percentile-bootstrap interval.
    value_p_value : float
        Two-sided p-value (Welch's t-test of the excess values; a one-sample
        t-test without control).
    total_value_uplift : float
        ``value_uplift * n_treatment``.
    unadjusted_value_uplift : float
        The plain difference of observed purchase values (no baseline), for
        comparison; NaN without control.
    value_basis : {"margin", "revenue"}
        Units of the values.
    has_control : bool
        Whether a control group was used (one of fewer than 2 customers is
        ignored, with a warning).
    confidence : float
        Interval level.
    customers : DataFrame
        Per customer: ``group``, ``observed``, ``expected``, ``excess``,
        ``value_per_purchase``, ``excess_value``.

    Examples
    --------
    See :func:`clv_uplift`.
    """

    campaign_id: Any
    n_treatment: int
    n_control: int
    n_excluded: int
    calibration_end: pd.Timestamp
    horizon: float
    time_unit: str
    observed_treatment: float
    expected_treatment: float
    observed_control: float
    expected_control: float
    purchase_uplift: float
    purchase_ci: tuple[float, float]
    value_per_purchase: float
    value_uplift: float
    value_ci: tuple[float, float]
    value_p_value: float
    total_value_uplift: float
    unadjusted_value_uplift: float
    value_basis: str
    has_control: bool
    confidence: float
    customers: pd.DataFrame = attrs.field(repr=False)

    @property
    def significant(self) -> bool:
        """Whether the value uplift is significant at ``1 - confidence``.

        Returns
        -------
        bool

        Examples
        --------
        See :func:`clv_uplift`.
        """
        return bool(self.value_p_value < 1.0 - self.confidence)


def _ready(model: Any, view: pd.DataFrame, default: Any) -> Any:
    """A fitted model: ``model`` as given, a fitted copy of an unfitted one, or the default."""
    if model is None:
        return default().fit(view)
    if hasattr(model, "fit") and hasattr(model, "get_params") and not hasattr(model, "params_"):
        return type(model)(**model.get_params()).fit(view)
    return model


def _margin_share(tx: pd.DataFrame, margin: float | None) -> tuple[float, str]:
    if margin is not None:
        return float(margin), "margin"
    if "cost" not in tx.columns:
        return 1.0, "revenue"
    cost = tx["cost"].to_numpy(dtype=np.float64, na_value=np.nan)
    known = ~np.isnan(cost)
    amount = tx["amount"].to_numpy(dtype=np.float64)[known]
    revenue = float(amount.sum())
    if not known.any() or revenue <= 0:
        return 1.0, "revenue"
    return float((revenue - cost[known].sum()) / revenue), "margin"


def _calibration(
    data: CustomerData, table: pd.DataFrame, campaign_id: Any
) -> tuple[pd.Timestamp, npt.NDArray[np.bool_], pd.DataFrame]:
    """The day before the first window, which purchases precede it, and their view."""
    first_window = table["window_start"].min()
    cal_end = first_window - pd.Timedelta(days=1)
    tx = data.transactions
    before = (tx["date"] < first_window).to_numpy()
    if not before.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="transactions",
                    column="date",
                    check="has no purchases before "
                    f"campaign {campaign_id!r} (window from "
                    f"{first_window.date()}): no baseline to predict",
                )
            ]
        )
    cal = attrs.evolve(data, frames={"transactions": tx.loc[before]}, as_of=cal_end)
    return cal_end, before, summarize(cal, include_records=False)


def _with_history(
    table: pd.DataFrame, view: pd.DataFrame, campaign_id: Any
) -> tuple[pd.DataFrame, int]:
    """The exposures of customers who bought before the campaign, and how many are left out."""
    known = table["customer_id"].isin(view.index).to_numpy()
    n_excluded = int((~known).sum())
    if n_excluded:
        warnings.warn(
            f"crmkit: {n_excluded} customers of campaign {campaign_id!r} had no "
            "purchases before it; no baseline can be predicted for them and they "
            "are left out",
            DataWarning,
            stacklevel=3,
        )
    return table.loc[known].reset_index(drop=True), n_excluded


def _groups(
    table: pd.DataFrame, campaign_id: Any
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], bool]:
    """Treatment and control masks, and whether the control group is usable (>= 2)."""
    treat = (table["group"] == "treatment").to_numpy()
    if treat.sum() < 2:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="touches",
                    column="group",
                    check=f"campaign {campaign_id!r} has "
                    f"{int(treat.sum())} treatment customers with a "
                    "purchase history; at least 2 are needed",
                )
            ]
        )
    ctrl = ~treat
    if ctrl.sum() == 1:
        warnings.warn(
            f"crmkit: campaign {campaign_id!r} has a single control customer with a "
            "history; it is ignored and the uplift rests on the model baseline alone",
            DataWarning,
            stacklevel=3,
        )
    return treat, ctrl, int(ctrl.sum()) >= 2


def _expected_purchases(
    model: Any, sub: pd.DataFrame, table: pd.DataFrame, cal_end: pd.Timestamp, unit: float
) -> tuple[F, F, F]:
    """Purchases the model expects in each customer's window, and the window bounds."""
    cal_day = int(day_numbers(pd.Series([cal_end]))[0])
    t_lo = (day_numbers(table["window_start"]) - 1 - cal_day) / unit
    t_hi = (day_numbers(table["window_end"]) - cal_day) / unit
    expected = np.asarray(
        model.conditional_expected_purchases(sub, t_hi), dtype=np.float64
    ) - np.asarray(model.conditional_expected_purchases(sub, t_lo), dtype=np.float64)
    return expected, t_lo, t_hi


def clv_uplift(
    data: CustomerData | Any,
    campaign_id: Any,
    *,
    purchase_model: Any = None,
    spend_model: Any = None,
    window: int | str = "campaign",
    margin: float | None = None,
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    confidence: float = 0.95,
) -> CLVUpliftResult:
    """Uplift of a campaign in CLV units: observed purchases against a model's baseline.

    See the module notes for the design and its assumptions. The baseline
    of each customer is the purchase model's expected number of purchases
    in its response window, ``E[X(t_end)] - E[X(t_start)]`` given its
    history up to ``calibration_end`` (the day before the earliest window).

    Parameters
    ----------
    data : CustomerData or mapping of str to DataFrame
        Records with ``transactions``, ``touches`` (+ ``campaigns`` for
        ``window="campaign"``), with ``as_of`` after the response window
        (see :func:`~crmkit.measure.campaign_exposures`).
    campaign_id : object
        The campaign.
    purchase_model : purchase model, optional
        A fitted model with ``conditional_expected_purchases(view, t)`` --
        it must have been fitted on data up to ``calibration_end`` only --
        or an unfitted crmkit model, which is copied and fitted on the
        calibration view. Default: :class:`crmkit.value.BetaGeo` fitted on
        the calibration view of all customers.
    spend_model : spend model, optional
        Fitted (or unfitted, copied and fitted) model with
        ``expected_spend(view)`` (e.g. Gamma-Gamma). Default: the mean spend
        per purchase day over the calibration period, the same for everyone.
    window : int or "campaign", default="campaign"
        The response window.
    margin : float, optional
        Share of revenue kept as margin, in (0, 1]. Default: the overall
        margin share of the calibration transactions when they have a cost,
        else 1 (revenue units).
    n_boot : int, default=2000
        Bootstrap replicates (>= 100).
    seed : int, Generator or None, default=None
        Random seed of the bootstrap.
    confidence : float, default=0.95
        Interval level.

    Returns
    -------
    CLVUpliftResult

    Raises
    ------
    SchemaError
        For invalid records, an unknown campaign, fewer than 2 treatment
        customers with a history, or a calibration view the model cannot
        fit.
    InvalidParameterError
        For a bad argument.
    ConvergenceError
        When the default purchase model cannot be fitted.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting
       your customers" the easy way: an alternative to the Pareto/NBD model.
       Marketing Science 24(2), 275-284.
    .. [2] Deng, A., Xu, Y., Kohavi, R. and Walker, T. (2013). Improving the
       sensitivity of online controlled experiments by utilizing
       pre-experiment data. WSDM '13, 123-132.

    Examples
    --------
    >>> import pandas as pd
    >>> class Steady:  # one purchase every 10 days for everyone
    ...     def conditional_expected_purchases(self, view, t):
    ...         return pd.Series(t / 10.0, index=view.index)
    >>> days = pd.date_range("2024-01-01", periods=9, freq="10D")  # the last on 2024-03-21
    >>> tx = pd.DataFrame({"customer_id": [c for c in (1, 2, 3, 4) for _ in days],
    ...                    "amount": 100.0, "date": list(days) * 4})
    >>> extra = pd.DataFrame({"customer_id": [1, 2], "amount": 100.0,
    ...                       "date": pd.Timestamp("2024-03-25")})
    >>> touches = pd.DataFrame({"campaign_id": "K", "customer_id": [1, 2, 3, 4],
    ...                         "date": pd.Timestamp("2024-03-21"),
    ...                         "group": ["treatment"] * 2 + ["control"] * 2})
    >>> data = CustomerData.from_frames(pd.concat([tx, extra]), touches=touches,
    ...                                 time_unit="D", as_of="2024-04-30")
    >>> res = clv_uplift(data, "K", purchase_model=Steady(), window=20, n_boot=100, seed=0)
    >>> res.expected_treatment, res.observed_treatment, res.observed_control
    (2.0, 2.0, 1.0)
    >>> res.purchase_uplift, res.value_uplift, res.value_basis
    (1.0, 100.0, 'revenue')
    """
    validate_params(
        "clv_uplift",
        {"n_boot": n_boot, "seed": seed, "confidence": confidence, "margin": margin},
        {
            "n_boot": N_BOOT,
            "seed": SEED,
            "confidence": CONFIDENCE,
            "margin": [Interval("real", 0, 1, closed="right"), None],
        },
    )
    data = as_data(data, "clv_uplift", ("touches", "campaigns"))
    table = campaign_exposures(data, window=window, campaign_ids=[campaign_id]).table
    cal_end, before, view = _calibration(data, table, campaign_id)
    table, n_excluded = _with_history(table, view, campaign_id)
    treat, ctrl, has_control = _groups(table, campaign_id)
    from crmkit.value import BetaGeo, GammaGamma  # the scoring layer, below measure

    sub = view.loc[table["customer_id"].to_numpy()]
    expected, t_lo, t_hi = _expected_purchases(
        _ready(purchase_model, view, BetaGeo), sub, table, cal_end, TIME_UNITS[data.time_unit]
    )
    spend = (
        np.full(len(sub), float(view["revenue"].sum() / (view["frequency"] + 1).sum()))
        if spend_model is None
        else np.asarray(_ready(spend_model, view, GammaGamma).expected_spend(sub), np.float64)
    )
    share, basis = _margin_share(data.transactions.loc[before], margin)
    observed = table["n_purchases"].to_numpy(dtype=np.float64)
    value = spend * share
    excess = observed - expected
    customers = pd.DataFrame({
        "group": table["group"].to_numpy(), "observed": observed, "expected": expected,
        "excess": excess, "value_per_purchase": value, "excess_value": excess * value,
    }, index=pd.Index(table["customer_id"].to_numpy(), name="customer_id"))  # fmt: skip
    cols_t = np.column_stack([excess[treat], excess[treat] * value[treat]])
    cols_c = (
        np.column_stack([excess[ctrl], excess[ctrl] * value[ctrl]])
        if has_control
        else np.zeros((0, 2))
    )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    ci_purchases, ci_value = interval(bootstrap_mean_differences(cols_t, cols_c, n_boot, rng),
                                      confidence)  # fmt: skip
    diff = cols_t.mean(axis=0) - (cols_c.mean(axis=0) if has_control else 0.0)
    if has_control:
        p_value = welch_test(cols_t[:, 1], cols_c[:, 1])[2]
        unadjusted = float(
            (observed[treat] * value[treat]).mean() - (observed[ctrl] * value[ctrl]).mean()
        )
    else:
        p_value, unadjusted = one_sample_p_value(cols_t[:, 1]), float("nan")
    nan = float("nan")
    return CLVUpliftResult(
        campaign_id=campaign_id, n_treatment=int(treat.sum()),
        n_control=int(ctrl.sum()) if has_control else 0, n_excluded=n_excluded,
        calibration_end=cal_end, horizon=float(np.mean(t_hi - t_lo)),
        time_unit=data.time_unit, observed_treatment=float(observed[treat].mean()),
        expected_treatment=float(expected[treat].mean()),
        observed_control=float(observed[ctrl].mean()) if has_control else nan,
        expected_control=float(expected[ctrl].mean()) if has_control else nan,
        purchase_uplift=float(diff[0]), purchase_ci=ci_purchases,
        value_per_purchase=float(value[treat].mean()), value_uplift=float(diff[1]),
        value_ci=ci_value, value_p_value=float(p_value),
        total_value_uplift=float(diff[1] * treat.sum()), unadjusted_value_uplift=unadjusted,
        value_basis=basis, has_control=has_control, confidence=float(confidence),
        customers=customers,
    )  # fmt: skip
