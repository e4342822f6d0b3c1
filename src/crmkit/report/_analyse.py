"""The numbers behind the report: playbook, concentration, migration, holdout, pulse."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmkit._checks import first_line
from crmkit._estimator import clone
from crmkit._params import Interval, validate_args
from crmkit.data import TIME_UNITS, ColumnMap, CustomerData
from crmkit.exceptions import ConvergenceWarning, CrmkitError, DataWarning

__all__ = [
    "Holdout",
    "ReportInputs",
    "analyse",
    "as_customer_data",
    "capture_data_warnings",
]

Progress = Callable[[str], None]

#: The report section of each kind of playbook note (by the note's prefix).
_NOTE_SECTIONS: Mapping[str, str] = {"churn": "churn", "care": "portfolio"}


def _sentence(text: str) -> str:
    head, _, rest = text.partition(": ")
    body = rest or head
    return f"{head.capitalize()}: {body}." if rest else body[:1].upper() + body[1:] + "."


@contextlib.contextmanager
def capture_data_warnings(into: list[str]) -> Iterator[None]:
    """Collect data and model-fit warnings instead of showing them, for the report's notes.

    Messages of :class:`~crmkit.exceptions.DataWarning` (rows dropped or
    kept) and :class:`~crmkit.exceptions.ConvergenceWarning` (a model the
    data cannot identify) are collected; other warnings are shown as usual
    once the block ends.

    Parameters
    ----------
    into : list of str
        Receives each distinct message once.

    Yields
    ------
    None

    Examples
    --------
    >>> seen = []
    >>> with capture_data_warnings(seen):
    ...     warnings.warn("3 rows dropped", DataWarning)
    ...     warnings.warn("BetaGeo: the likelihood is flat", ConvergenceWarning)
    >>> seen
    ['3 rows dropped', 'BetaGeo: the likelihood is flat']
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        if issubclass(w.category, (DataWarning, ConvergenceWarning)):
            if str(w.message) not in into:
                into.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


@attrs.frozen(eq=False)
class Holdout:
    """What happened after the analysis date, and how the model saw it coming.

    Parameters
    ----------
    end : Timestamp
        Last day of the holdout period.
    cal_hold : DataFrame
        The calibration view with the holdout columns
        (:func:`crmkit.data.calibration_holdout`).
    tracking : DataFrame or None
        :func:`crmkit.value.tracking_series` of the whole base (None without
        a purchase model).
    calibration_end_t : float
        The analysis date on the tracking time axis.
    evaluation : HoldoutEvaluation or None
        :func:`crmkit.value.evaluate_holdout` of the purchase model.
    """

    end: pd.Timestamp
    cal_hold: pd.DataFrame
    tracking: pd.DataFrame | None
    calibration_end_t: float
    evaluation: Any


@attrs.frozen(eq=False)
class ReportInputs:
    """Everything the report shows, computed once.

    Parameters
    ----------
    data : CustomerData
        The validated records.
    assessment : DataFrame or None
        The playbook's assessment with the customer view's columns
        (``assess(data, include_view=True)``).
    playbook : Playbook or None
        The fitted playbook.
    migration : StageMigration or None
        Stage migration from ``migration_start`` to the analysis date.
    migration_start : Timestamp or None
        The earlier date of the migration.
    holdout : Holdout or None
        Holdout period results.
    pulse : DataFrame or None
        :func:`crmkit.loyalty.cx_pulse` of the NPS answers.
    nps : DataFrame or None
        :func:`crmkit.loyalty.nps` over all answers.
    notes : dict of str to list of str
        Per section, why something was left out or what to know.
    data_warnings : tuple of str
        The data warnings raised while the records were read.
    """

    data: CustomerData
    assessment: pd.DataFrame | None
    playbook: Any
    migration: Any
    migration_start: pd.Timestamp | None
    holdout: Holdout | None
    pulse: pd.DataFrame | None
    nps: pd.DataFrame | None
    notes: dict[str, list[str]]
    data_warnings: tuple[str, ...]


def as_customer_data(
    data: Any,
    *,
    columns: ColumnMap | Mapping[str, str] | None = None,
    as_of: Any = None,
    time_unit: str = "W",
) -> CustomerData:
    """Records as :class:`~crmkit.data.CustomerData` (a transactions frame is validated).

    Parameters
    ----------
    data : CustomerData or DataFrame
        Validated records, or a transactions frame.
    columns : ColumnMap or mapping, optional
        Column mapping of a transactions frame.
    as_of : date-like, optional
        Analysis date of a transactions frame (default its last day).
    time_unit : {"D", "W", "M"}, default="W"
        Time unit of a transactions frame.

    Returns
    -------
    CustomerData

    Raises
    ------
    SchemaError
        For invalid records.
    TypeError
        For something that is not a data frame.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [5.0]})
    >>> as_customer_data(tx).n_customers
    1
    """
    if isinstance(data, CustomerData):
        return data
    return CustomerData.from_frames(
        transactions=data, columns=columns, as_of=as_of, time_unit=time_unit
    )


def _fit_and_assess(book: Any, data: CustomerData) -> tuple[Any, pd.DataFrame]:
    """Fit ``book`` and assess ``data``, summarising the records once where it can."""
    both = getattr(book, "fit_assess", None)
    if both is not None:
        return book, both(data, include_view=True)
    fitted = book.fit(data)
    return fitted, fitted.assess(data, include_view=True)


def _fit_playbook(
    data: CustomerData, playbook: Any, notes: dict[str, list[str]]
) -> tuple[Any, pd.DataFrame]:
    if playbook is not None:
        if hasattr(playbook, "plugins_"):
            return playbook, playbook.assess(data, include_view=True)
        return _fit_and_assess(clone(playbook, safe=False), data)
    from crmkit.compose import Playbook

    book = Playbook()  # its "auto" steps adapt to what the records hold
    try:
        return _fit_and_assess(book, data)
    except CrmkitError as exc:
        if hasattr(book, "plugins_"):  # fitted: the assessment failed, as it did before
            raise
        notes["value"].append(
            f"The purchase and spend models could not be fitted "
            f"({first_line(exc)}); value, portfolio and care sections "
            "are left out."
        )
    lean = book.set_params(purchase_model=None, spend_model=None, segmenter=None, care=None)
    return _fit_and_assess(lean, data)


def _stages_now(stager: Any, playbook: Any, assessment: pd.DataFrame) -> pd.Series | None:
    """The assessment's stages, when staging afresh at the analysis date gives the same.

    :func:`~crmkit.lifecycle.stage_history` fits a fresh copy of ``stager``
    on the customer view of the records cut at the date. The stages of a
    :class:`~crmkit.lifecycle.RuleStager` depend only on its settings and
    on the view's purchase columns, not on what it was fitted on; at the
    analysis date those are the playbook's own view, so the playbook's
    stages are the ones a second staging would give (its ``time_unit``
    only names the unit in the reasons). Other stagers: None (stage again).
    """
    from crmkit.lifecycle import RuleStager
    from crmkit.plugins import default_registry

    fitted = getattr(playbook, "plugins_", {}).get("stager")
    fresh = default_registry().get("stagers", stager) if isinstance(stager, str) else stager
    if "stage" not in assessment or type(fitted) is not RuleStager:
        return None
    if type(fresh) is not RuleStager:
        return None
    own = {k: v for k, v in fitted.get_params(deep=False).items() if k != "time_unit"}
    other = {k: v for k, v in fresh.get_params(deep=False).items() if k != "time_unit"}
    stages: pd.Series = assessment["stage"]
    return stages if own == other else None


def _object_ids(series: pd.Series) -> pd.Series:
    """``series`` with its customer ids as Python objects (fast to look up)."""
    out: pd.Series = series.set_axis(series.index.astype(object))
    return out


def _migration(
    data: CustomerData,
    playbook: Any,
    assessment: pd.DataFrame,
    days: int,
    notes: dict[str, list[str]],
) -> tuple[Any, pd.Timestamp | None]:
    from crmkit.lifecycle import stage_history, stage_migration

    start = data.as_of - pd.Timedelta(days=days)
    first = pd.Timestamp(data.transactions["date"].min()).normalize()
    if start < first:
        notes["lifecycle"].append(
            f"Stage migration is left out: the records start on "
            f"{first.date()}, less than {days} days before the analysis "
            "date."
        )
        return None, None
    stager = playbook.stager if isinstance(playbook.stager, str) else playbook.plugins_["stager"]
    try:
        now = _stages_now(stager, playbook, assessment)
        dates = [start] if now is not None else [start, data.as_of]
        history = stage_history(data, dates, stager=stager)
    except CrmkitError as exc:
        notes["lifecycle"].append(f"Stage migration is left out: {first_line(exc)}")
        return None, None
    after = history.iloc[:, 1] if now is None else now
    # ids as objects: stage_migration's isin on Arrow-backed text ids is ~20x slower
    return stage_migration(_object_ids(history.iloc[:, 0]), _object_ids(after)), start


def _holdout(
    data: CustomerData,
    holdout: Any,
    columns: ColumnMap | Mapping[str, str] | None,
    holdout_end: Any,
    playbook: Any,
    notes: dict[str, list[str]],
) -> Holdout | None:
    from crmkit.data import calibration_holdout
    from crmkit.value import evaluate_holdout, tracking_series

    if isinstance(holdout, CustomerData):
        later_tx = holdout.transactions
    else:
        later_tx = CustomerData.from_frames(
            transactions=holdout, columns=columns, as_of=holdout_end, time_unit=data.time_unit
        ).transactions
    cal_tx = data.transactions
    later_tx = later_tx.loc[(later_tx["date"] >= data.as_of + pd.Timedelta(days=1)).to_numpy()]
    if len(later_tx) == 0:
        notes["holdout"].append(
            "The holdout records have no transactions after the analysis "
            f"date ({data.as_of.date()}): nothing to track."
        )
        return None
    end = (
        pd.Timestamp(holdout_end).normalize()
        if holdout_end is not None
        else pd.Timestamp(later_tx["date"].max()).normalize()
    )
    keep = ["customer_id", "date", "amount"]
    both = pd.concat([cal_tx[keep], later_tx[keep]], ignore_index=True)
    cal_hold = calibration_holdout(
        both, calibration_end=data.as_of, holdout_end=end, time_unit=data.time_unit
    )
    model = getattr(playbook, "purchase_model_", None)
    unit = TIME_UNITS[data.time_unit]
    origin = pd.Timestamp(cal_tx["date"].min()).normalize()
    cal_end_t = float((data.as_of - origin).days / unit)
    if model is None:
        return Holdout(end, cal_hold, None, cal_end_t, None)
    # the purchase days of the calibration customers, by customer code: each distinct id
    # looked up once (isin on Arrow-backed text ids is slow), one integer key per day
    codes, ids = pd.factorize(both["customer_id"], use_na_sentinel=False)
    known = pd.Index(ids, dtype=object).isin(cal_hold.index.astype(object))[codes]
    day = both["date"].dt.normalize().to_numpy()[known]
    codes = codes[known]
    ordinal = day.astype("datetime64[D]").astype(np.int64)
    span = int(ordinal.max() - ordinal.min()) + 1 if len(ordinal) else 1
    key = codes.astype(np.int64) * span + (ordinal - (ordinal.min() if len(ordinal) else 0))
    once = ~pd.Index(key).duplicated()
    days = pd.DataFrame({"customer": codes[once], "day": day[once]})
    first = days.groupby("customer")["day"].transform("min")
    repeat = days.loc[(days["day"] > first).to_numpy(), "day"]
    first_t = (cal_hold["first_purchase"] - origin).dt.days.to_numpy(dtype=np.float64) / unit
    repeat_t = (repeat - origin).dt.days.to_numpy(dtype=np.float64) / unit
    end_t = float((end - origin).days / unit)
    tracking = tracking_series(model, first_t, repeat_t, end=end_t, step=1.0)
    evaluation = evaluate_holdout(model, cal_hold)
    return Holdout(end, cal_hold, tracking, cal_end_t, evaluation)


def _pulse(data: CustomerData, notes: dict[str, list[str]]) -> tuple[Any, Any]:
    from crmkit.loyalty import cx_pulse, nps

    fb = data.get("feedback")
    if fb is None or not (fb["kind"].astype(str).str.lower() == "nps").any():
        why = "no feedback records" if fb is None else "no NPS answers in the feedback records"
        notes["pulse"].append(
            f"The customer pulse is left out: {why} (the CDNOW data, for "
            "one, has none). Give feedback records with kind 'nps' and a "
            "0-10 score to see it."
        )
        return None, None
    try:
        return cx_pulse(data, window="90D", freq="M"), nps(data)
    except CrmkitError as exc:
        notes["pulse"].append(f"The customer pulse is left out: {first_line(exc)}")
        return None, None


@validate_args({"migration_days": [Interval("int", 1, None)]})
def analyse(
    data: CustomerData,
    *,
    holdout: Any = None,
    holdout_end: Any = None,
    columns: ColumnMap | Mapping[str, str] | None = None,
    playbook: Any = None,
    migration_days: int = 91,
    progress: Progress | None = None,
) -> ReportInputs:
    """Compute everything the report shows; what cannot be computed becomes a note.

    Parameters
    ----------
    data : CustomerData
        The records up to the analysis date.
    holdout : DataFrame or CustomerData, optional
        Transactions after the analysis date (a frame of all transactions
        may be given: earlier rows are ignored).
    holdout_end : date-like, optional
        Last day of the holdout (default its last transaction day).
    columns : ColumnMap or mapping, optional
        Column mapping of a ``holdout`` frame.
    playbook : Playbook, optional
        Fitted or not; default ``Playbook()``, whose ``"auto"`` steps are
        chosen from what the records hold.
    migration_days : int, default=91
        Stage migration from this many days before the analysis date.
    progress : callable, optional
        Called with the name of each step before it runs.

    Returns
    -------
    ReportInputs

    Raises
    ------
    InvalidParameterError
        For a bad ``migration_days``.
    SchemaError
        For invalid holdout records.

    Examples
    --------
    >>> from crmkit.datasets import load_cdnow
    >>> tx = load_cdnow().head(300)
    >>> data = CustomerData.from_frames(tx[tx["date"] <= "1997-06-30"], as_of="1997-06-30")
    >>> inputs = analyse(data, migration_days=60)
    >>> len(inputs.assessment), inputs.holdout is None, inputs.notes["pulse"][0][:26]
    (111, True, 'The customer pulse is left')
    """
    say = progress or (lambda _step: None)
    notes: dict[str, list[str]] = {
        k: [] for k in ("value", "lifecycle", "portfolio", "churn", "holdout", "pulse")
    }
    seen: list[str] = []
    with capture_data_warnings(seen):
        say("fitting the playbook and assessing customers")
        fitted, assessment = _fit_playbook(data, playbook, notes)
        for text in getattr(fitted, "notes_", ()):
            notes[_NOTE_SECTIONS.get(text.split(":", 1)[0], "value")].append(_sentence(text))
        say("staging the customers at two dates")
        migration, start = _migration(data, fitted, assessment, migration_days, notes)
        hold = None
        if holdout is not None:
            say("tracking the holdout period")
            hold = _holdout(data, holdout, columns, holdout_end, fitted, notes)
        else:
            notes["holdout"].append(
                "No holdout given: pass the transactions after the "
                "analysis date (holdout=...) to compare predictions with "
                "what happened."
            )
        say("measuring the customer pulse")
        pulse, nps_table = _pulse(data, notes)
    return ReportInputs(
        data, assessment, fitted, migration, start, hold, pulse, nps_table, notes, tuple(seen)
    )
