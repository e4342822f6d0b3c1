"""The ``"auto"`` defaults of a :class:`~crmkit.compose.Playbook`, resolved from the records.

A playbook created without arguments must work on any valid records: an
order table alone (a consumer shop such as CDNOW), orders plus a customer
table, or full business-to-business CRM records (firmographics, contacts,
feedback, events). At fit time the ``"auto"`` parameters become concrete
steps chosen from what the records contain:

- **purchase model**: :data:`DEFAULT_PURCHASE_MODEL` (the Pareto/NBD, see
  the playbook user guide for why not the BG/NBD);
- **spend model**: a Gamma-Gamma fitted on the repeat buyers whose mean
  spend is positive (zero-priced purchases and net refunds are left out and
  counted), or observed spend when too few such buyers exist;
- **churn**: :class:`~crmkit.churn.AliveChurn` on the fitted purchase model
  over the playbook's horizon, with the early-warning rules of
  :data:`crmkit.churn.RULES` whose columns the records feed;
- **care**: :class:`~crmkit.care.PortfolioCare` with consumer channels and
  roles (:data:`crmkit.care.CONSUMER_PORTFOLIO_RULES`) unless the records
  hold firmographics or contacts, then the business-to-business tables.

Every choice is written down: :class:`Resolution` collects one line per
step (``resolved``) and the things left out and why (``notes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pandas as pd

from crmkit.data import CustomerData

__all__ = [
    "AUTO",
    "FIRMOGRAPHIC_COLUMNS",
    "RecordsProfile",
    "Resolution",
    "build_plugins",
    "profile_records",
    "resolution_lines",
    "resolution_steps",
    "resolve_care",
    "resolve_churn",
]

#: The value of a parameter that the playbook chooses from the records at fit time.
AUTO = "auto"

#: Customer-table columns that mark business customers (firmographics).
FIRMOGRAPHIC_COLUMNS: tuple[str, ...] = ("industry", "size_class", "key_account")

#: Which records feed a view column the early-warning rules read.
_SOURCE: Mapping[str, str] = {
    "last_nps": "feedback",
    "mean_csat": "feedback",
    "days_since_complaint": "feedback",
    "n_complaints_open": "feedback",
    "days_since_address_change": "events",
    "n_decision_makers_left": "contacts",
    "days_since_contact_left": "contacts",
}

_UNITS: Mapping[str, str] = {"D": "days", "W": "weeks", "M": "months"}


@attrs.frozen
class RecordsProfile:
    """What the records hold, as far as the playbook's defaults care.

    Parameters
    ----------
    business : bool
        Whether the records describe business customers (firmographics in
        the customer table, or contact records).
    business_why : str
        Why, in words.
    signals : tuple of str
        The rules of :data:`crmkit.churn.RULES` whose columns the view has.
    skipped_signals : mapping of str to str
        The other rules, each with why it cannot run.

    Examples
    --------
    >>> RecordsProfile(False, "no firmographics or contacts", ("overdue",), {}).business
    False
    """

    business: bool
    business_why: str
    signals: tuple[str, ...]
    skipped_signals: Mapping[str, str]


@attrs.define
class Resolution:
    """The steps a playbook resolved and what it left out, in words.

    Attributes
    ----------
    resolved : dict of str to str
        One line per resolved step (``purchase_model``, ``spend_model``,
        ``churn``, ``care``).
    notes : list of str
        What was left out and why.

    Examples
    --------
    >>> r = Resolution()
    >>> r.say("care", "PortfolioCare (consumer tables)")
    >>> r.note("spend model: 2 repeat buyers with zero spend left out")
    >>> r.resolved
    {'care': 'PortfolioCare (consumer tables)'}
    >>> r.notes
    ['spend model: 2 repeat buyers with zero spend left out']
    """

    resolved: dict[str, str] = attrs.field(factory=dict)
    notes: list[str] = attrs.field(factory=list)

    def say(self, step: str, text: str) -> None:
        """Record what ``step`` became.

        Parameters
        ----------
        step : str
            The playbook parameter.
        text : str
            What it resolved to.

        Examples
        --------
        See :class:`Resolution`.
        """
        self.resolved[step] = text

    def note(self, text: str) -> None:
        """Record something left out (once).

        Parameters
        ----------
        text : str
            What, and why.

        Examples
        --------
        See :class:`Resolution`.
        """
        if text not in self.notes:
            self.notes.append(text)


def _firmographics(customers: pd.DataFrame | None) -> list[str]:
    if customers is None:
        return []
    return [
        c for c in FIRMOGRAPHIC_COLUMNS if c in customers.columns and customers[c].notna().any()
    ]


def profile_records(data: CustomerData, view: pd.DataFrame) -> RecordsProfile:
    """Describe the records: business or consumer, and which churn signals they feed.

    Parameters
    ----------
    data : CustomerData
        The records.
    view : pandas.DataFrame
        Their customer view (the columns decide which rules can run).

    Returns
    -------
    RecordsProfile

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [5.0, 6.0, 7.0],
    ...                    "date": ["2024-01-01", "2024-02-01", "2024-01-15"]})
    >>> data = CustomerData.from_frames(tx)
    >>> from crmkit.data import summarize
    >>> profile = profile_records(data, summarize(data))
    >>> profile.business, profile.signals
    (False, ('falling_purchases', 'overdue'))
    >>> profile.skipped_signals["nps_detractor"]
    'needs last_nps (no feedback records)'
    """
    from crmkit.churn import RULES

    firmo = _firmographics(data.get("customers"))
    contacts = data.get("contacts")
    has_contacts = contacts is not None and len(contacts) > 0
    if firmo or has_contacts:
        parts = ([f"firmographics ({', '.join(firmo)})"] if firmo else []) + (
            ["contact records"] if has_contacts else []
        )
        business, why = True, "the records hold " + " and ".join(parts)
    else:
        business = False
        why = "the records hold no firmographics (" + ", ".join(FIRMOGRAPHIC_COLUMNS) + ")"
        why += " and no contacts"
    have = set(view.columns)
    signals: list[str] = []
    skipped: dict[str, str] = {}
    for name, rule in RULES.items():
        missing = [c for c in rule.columns if c not in have]
        if not missing:
            signals.append(name)
            continue
        kinds = sorted({_SOURCE.get(c, "transactions") for c in missing})
        absent = [k for k in kinds if data.get(k) is None]
        text = f"needs {', '.join(missing)}"
        if absent:
            text += f" (no {' or '.join(absent)} records)"
        skipped[name] = text
    return RecordsProfile(business, why, tuple(signals), skipped)


def _alive_churn(
    model: Any, horizon: float, signals: tuple[str, ...] | None, time_unit: str
) -> Any:
    from crmkit.churn import AliveChurn

    return AliveChurn(model=model, horizon=float(horizon), signals=signals, time_unit=time_unit)


def _signals_text(signals: Sequence[str]) -> str:
    """How the default churn step uses the signals (history signals need labels)."""
    from crmkit.churn import HISTORY_SIGNALS

    seen = [n for n in signals if n not in HISTORY_SIGNALS]
    history = [n for n in signals if n in HISTORY_SIGNALS]
    text = f", with the signals {', '.join(seen)}" if seen else ""
    if history:
        text += (
            f"; {', '.join(history)} read only the purchase history the model already "
            "uses, so they weigh 0 unless fit is given churn labels"
        )
    return text


def _signal_rules(signals: Sequence[str]) -> Any:
    from crmkit.churn import SignalRules

    return SignalRules(signals=tuple(signals))


def _skipped_text(profile: RecordsProfile) -> str:
    return "; ".join(f"{k} {v}" for k, v in profile.skipped_signals.items())


def resolve_churn(
    spec: Any,
    profile: RecordsProfile,
    purchase_model: Any,
    horizon: float,
    resolution: Resolution,
    time_unit: str = "W",
) -> list[tuple[str, Any]]:
    """The churn detectors (names or objects) a ``churn`` parameter stands for, with labels.

    ``"auto"`` is :class:`~crmkit.churn.AliveChurn` on the playbook's fitted
    purchase model over ``horizon``, with the early-warning rules the
    records feed (None when they feed none); without a purchase model it is
    :class:`~crmkit.churn.SignalRules` on those rules, or nothing. The name
    ``"signals"`` is :class:`~crmkit.churn.SignalRules` restricted to the
    rules the records feed (all of them when they feed none, so that the
    missing columns are named when the playbook orders its steps). Other
    names and objects are kept.

    Parameters
    ----------
    spec : str, object, list of those, or None
        The ``churn`` parameter.
    profile : RecordsProfile
        From :func:`profile_records`.
    purchase_model : object or None
        The playbook's fitted purchase model.
    horizon : float
        The playbook's horizon.
    resolution : Resolution
        Receives what was chosen and left out.
    time_unit : str, default="W"
        The data's time unit (for the text).

    Returns
    -------
    list of (str, object)
        Each detector's label (its name, or its class name in lower case)
        and the detector (a name or an object); empty: no churn step.

    Examples
    --------
    >>> profile = RecordsProfile(False, "", ("overdue",), {"nps_detractor": "needs last_nps"})
    >>> r = Resolution()
    >>> resolve_churn("signals", profile, None, 52.0, r)
    [('signals', SignalRules(signals=('overdue',)))]
    >>> r.notes
    ['churn: early-warning signals left out: nps_detractor needs last_nps']
    """
    specs = list(spec) if isinstance(spec, (list, tuple)) else [spec]
    out: list[tuple[str, Any]] = []
    for s in specs:
        if s is None:
            continue
        if s == AUTO:
            signals = profile.signals
            if purchase_model is not None:
                out.append(
                    ("alive", _alive_churn(purchase_model, horizon, signals or None, time_unit))
                )
                resolution.say(
                    "churn",
                    f"AliveChurn: P(no purchase within {horizon:g} "
                    f"{_UNITS.get(time_unit, time_unit)}) from the "
                    f"{type(purchase_model).__name__}"
                    + _signals_text(signals),
                )
            elif signals:
                out.append(("signals", _signal_rules(signals)))
                resolution.say("churn", f"SignalRules on {', '.join(signals)} (no purchase model)")
            else:
                resolution.note("churn: left out (no purchase model and no early-warning signal)")
                continue
        elif s == "signals":
            if profile.signals:
                out.append((s, _signal_rules(profile.signals)))
                resolution.say("churn", f"SignalRules on {', '.join(profile.signals)}")
            else:
                out.append((s, s))
        else:
            out.append((_label(s), s))
            continue
        if profile.skipped_signals:
            resolution.note(f"churn: early-warning signals left out: {_skipped_text(profile)}")
    return out


def resolve_care(
    spec: Any,
    profile: RecordsProfile,
    columns: Sequence[str],
    has_churn: bool,
    resolution: Resolution,
) -> Any:
    """The care model a ``care`` parameter stands for.

    ``"auto"`` is :class:`~crmkit.care.PortfolioCare` when a step writes a
    ``portfolio`` column, else :class:`~crmkit.care.LifecycleCare` (by
    ``stage``); with consumer tables (:data:`crmkit.care.CONSUMER_PORTFOLIO_RULES`
    ...) unless the records describe business customers; valued by ``clv``
    when there is one, else by ``revenue``; the churn override only with a
    churn step. Other values are kept.

    Parameters
    ----------
    spec : str, object or None
        The ``care`` parameter.
    profile : RecordsProfile
        From :func:`profile_records`.
    columns : sequence of str
        Columns the view and the earlier steps provide.
    has_churn : bool
        Whether the playbook has a churn step.
    resolution : Resolution
        Receives what was chosen.

    Returns
    -------
    str, object or None

    Examples
    --------
    >>> profile = RecordsProfile(False, "no firmographics or contacts", (), {})
    >>> care = resolve_care("auto", profile, ["portfolio", "clv"], True, Resolution())
    >>> type(care).__name__, care.table["A"]["owner_role"]
    ('PortfolioCare', 'customer relations')
    """
    if spec != AUTO:
        return spec
    from crmkit.care import (
        CONSUMER_LIFECYCLE_RULES,
        CONSUMER_PORTFOLIO_RULES,
        CONSUMER_RETENTION_ACTIONS,
        LifecycleCare,
        PortfolioCare,
    )

    value = "clv" if "clv" in columns else "revenue"
    threshold = 0.5 if has_churn else None
    portfolio = "portfolio" in columns
    kind = "PortfolioCare" if portfolio else "LifecycleCare"
    if profile.business:
        care: Any = (
            PortfolioCare(value_column=value, churn_threshold=threshold)
            if portfolio
            else LifecycleCare(value_column=value, churn_threshold=threshold)
        )
        tables = "business-to-business tables (account managers)"
    else:
        care = (
            PortfolioCare(
                table=CONSUMER_PORTFOLIO_RULES,
                value_column=value,
                churn_threshold=threshold,
                retention_actions=CONSUMER_RETENTION_ACTIONS,
            )
            if portfolio
            else LifecycleCare(
                table=CONSUMER_LIFECYCLE_RULES,
                value_column=value,
                churn_threshold=threshold,
                retention_actions=CONSUMER_RETENTION_ACTIONS,
            )
        )
        tables = "consumer tables (e-mail, app, service desk, offers, win-back)"
    resolution.say("care", f"{kind} with {tables}: {profile.business_why}")
    return care


def _label(spec: Any) -> str:
    return spec if isinstance(spec, str) else type(spec).__name__.lower()


def _describe(plugin: Any) -> str:
    return plugin if isinstance(plugin, str) else repr(plugin)


def build_plugins(
    params: Mapping[str, Any],
    profile: RecordsProfile,
    purchase_model: Any,
    columns: Sequence[str],
    resolution: Resolution,
    time_unit: str = "W",
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Create a playbook's plugins (unfitted), resolving its ``"auto"`` parameters.

    Parameters
    ----------
    params : mapping of str to object
        The playbook's parameters (``get_params(deep=False)``).
    profile : RecordsProfile
        From :func:`profile_records`.
    purchase_model : object or None
        The fitted purchase model.
    columns : sequence of str
        Columns of the view before the plugin steps (value columns
        included).
    resolution : Resolution
        Receives one line per step and the notes.
    time_unit : str, default="W"
        The data's time unit.

    Returns
    -------
    plugins : dict of str to object
        By step key (``"stager"``, ``"segmenter:0"``, ``"churn"`` (a tuple),
        ``"care"``).
    labels : tuple of str
        Names of the churn detectors.

    Raises
    ------
    InvalidParameterError
        When two churn detectors have the same name.
    PluginNotFoundError
        For a plugin name the registry does not know.

    Examples
    --------
    >>> profile = RecordsProfile(False, "no firmographics or contacts", (), {})
    >>> params = {"stager": "rules", "segmenter": None, "churn": None, "care": "auto",
    ...           "horizon": 52.0}
    >>> plugins, labels = build_plugins(params, profile, None, ["revenue"], Resolution())
    >>> sorted(plugins), type(plugins["care"]).__name__
    (['care', 'stager'], 'LifecycleCare')
    """
    from crmkit._estimator import clone
    from crmkit.exceptions import InvalidParameterError
    from crmkit.plugins import default_registry

    reg = default_registry()
    plugins: dict[str, Any] = {}
    stager = params["stager"]
    if isinstance(stager, str):
        extra: dict[str, Any] = {"horizon": float(params["horizon"])} if stager == "model" else {}
        if stager in ("rules", "model"):  # the built-in stagers name the unit in their reasons
            extra["time_unit"] = time_unit
        plugins["stager"] = reg.get("stagers", stager, **extra)
    else:
        plugins["stager"] = clone(stager, safe=False)
    resolution.say("stager", _describe(plugins["stager"]))
    segmenter = params["segmenter"]
    if segmenter == AUTO:
        segmenter = "portfolio" if "clv" in columns else "rfm"
        if segmenter == "rfm":
            resolution.note("segmenter: RFM segments instead of portfolios A-D (no clv)")
    specs = segmenter if isinstance(segmenter, (list, tuple)) else [segmenter]
    for k, spec in enumerate(s for s in specs if s is not None):
        if isinstance(spec, str):
            extra = {"output_name": "portfolio"} if spec == "portfolio" else {}
            plugins[f"segmenter:{k}"] = reg.get("segmenters", spec, **extra)
        else:
            plugins[f"segmenter:{k}"] = clone(spec, safe=False)
        resolution.say(f"segmenter:{k}", _describe(plugins[f"segmenter:{k}"]))
    labelled = resolve_churn(
        params["churn"], profile, purchase_model, float(params["horizon"]), resolution, time_unit
    )
    labels = tuple(label for label, _ in labelled)
    churn = [c for _, c in labelled]
    if len(set(labels)) != len(labels):
        raise InvalidParameterError(
            f"The 'churn' parameter of Playbook names two detectors alike ({labels}); "
            "give each detector once"
        )
    if churn:
        plugins["churn"] = tuple(
            reg.get("churn_detectors", c) if isinstance(c, str) else clone(c, safe=False)
            for c in churn
        )
        if "churn" not in resolution.resolved or len(churn) > 1:
            resolution.say("churn", ", ".join(_describe(d) for d in plugins["churn"]))
    made = [*columns]
    for plugin in plugins.values():
        for p in plugin if isinstance(plugin, tuple) else (plugin,):
            made.extend(str(c) for c in getattr(p, "provides", ()))
    care = resolve_care(params["care"], profile, made, bool(churn), resolution)
    if care is not None:
        plugins["care"] = (
            reg.get("care_models", care) if isinstance(care, str) else clone(care, safe=False)
        )
        resolution.resolved.setdefault("care", _describe(plugins["care"]))
    return plugins, labels


def resolution_lines(resolved: Mapping[str, str] | None, notes: Sequence[str]) -> list[str]:
    """The lines a fitted playbook's ``repr`` adds: each resolved step, then each note.

    Parameters
    ----------
    resolved : mapping of str to str or None
        ``resolved_`` (None before ``fit``: no lines).
    notes : sequence of str
        ``notes_``.

    Returns
    -------
    list of str

    Examples
    --------
    >>> resolution_lines({"care": "PortfolioCare"}, ["loyalty: left out nps"])
    ['  care: PortfolioCare', '  note: loyalty: left out nps']
    """
    if resolved is None:
        return []
    return [*(f"  {k}: {v}" for k, v in resolved.items()), *(f"  note: {n}" for n in notes)]


def resolution_steps(
    params: Mapping[str, Any], resolved: Mapping[str, str] | None, notes: Sequence[str]
) -> dict[str, Any]:
    """The rows of a playbook's HTML card: each parameter with what it resolved to, and notes.

    Parameters
    ----------
    params : mapping of str to object
        ``get_params(deep=False)``.
    resolved : mapping of str to str or None
        ``resolved_`` (None before ``fit``).
    notes : sequence of str
        ``notes_``.

    Returns
    -------
    dict of str to object

    Examples
    --------
    >>> resolution_steps({"care": "auto"}, {"care": "PortfolioCare"}, ["n"])
    {'care': 'auto → PortfolioCare', 'note 1': 'n'}
    """
    steps: dict[str, Any] = dict(params)
    if resolved is None:
        return steps
    for key, text in resolved.items():
        steps[key] = f"{steps[key]} → {text}" if key in steps else text
    steps.update({f"note {k}": n for k, n in enumerate(notes, 1)})
    return steps
