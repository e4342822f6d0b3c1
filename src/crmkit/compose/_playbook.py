"""``Playbook``: stager, value models, loyalty, segments, churn and care in one estimator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pandas as pd

from crmkit._display import playbook_html
from crmkit._estimator import BaseEstimator, check_is_fitted
from crmkit._params import Constraint, Interval, Predicate
from crmkit._persist import Persistable
from crmkit.compose._assessment import assessment_from_row
from crmkit.compose._defaults import (
    AUTO,
    Resolution,
    build_plugins,
    profile_records,
    resolution_lines,
    resolution_steps,
)
from crmkit.compose._progress import size_of, step_bar
from crmkit.compose._run import apply_step, assemble, make_step, value_columns
from crmkit.compose._steps import (
    Step,
    Stopwatch,
    complete_view,
    conform_view,
    order_steps,
    view_schema,
)
from crmkit.compose._value_defaults import (
    fit_value_models,
    given_value_models,
    new_loyalty,
)
from crmkit.data import CustomerData, summarize
from crmkit.domain import CustomerAssessment
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["Playbook"]


def _has(*methods: str) -> Predicate:
    return Predicate(
        lambda v: not isinstance(v, str) and all(callable(getattr(v, m, None)) for m in methods),
        f"an object with {', '.join(methods)}",
    )


def _many(*methods: str) -> Predicate:
    def check(v: Any) -> bool:
        if not isinstance(v, (list, tuple)) or not v:
            return False
        return all(isinstance(x, str) or _has(*methods).accepts(x) for x in v)

    return Predicate(check, f"a non-empty list of names or objects with {', '.join(methods)}")


class Playbook(BaseEstimator, Persistable):
    """Assess every customer: stage, value, loyalty, segment, churn risk and care plan.

    A playbook composes a lifecycle stager, a purchase model and a spend
    model (for ``p_alive``, ``expected_purchases`` and ``clv``), a loyalty
    index, segmenters, churn detectors and a care model. Each is chosen by
    registry name (:func:`crmkit.plugins.default_registry`) or given as an
    object (a copy is fitted; the parameter is never changed).

    ``fit(data)`` summarises the records (:func:`crmkit.data.summarize`),
    fits the value models and the loyalty index, then fits each plugin on
    the view holding every column the earlier steps made. Each plugin
    declares what it ``requires``; the steps run in an order that computes
    those columns first (stager, segmenters, churn detectors, care model,
    reordered where one needs another's output). ``assess(data)`` runs the
    fitted steps on any records; ``assess_one(history)`` on one customer's
    records (``data.for_customer(id)``) gives exactly that customer's row of
    the bulk output, because every step is applied row by row with state
    learned in ``fit`` (no statistic of the assessed batch is used).

    The assessed view always has the columns of the fitting view: a summary
    of a few customers that lacks one (``days_since_complaint`` when none of
    them complained ...) gets it as "nothing happened" (NaN, 0 for counts).

    Parameters
    ----------
    stager : str or Stager, default="rules"
        Lifecycle stager (``"rules"``, ``"model"`` ...). ``"model"`` is
        created with the playbook's ``horizon``.
    purchase_model : str, purchase model or None, default="auto"
        ``"auto"``: a Pareto/NBD (:data:`crmkit.compose.DEFAULT_PURCHASE_MODEL`,
        weak penalty), fitted when the records hold at least
        :data:`crmkit.compose.MIN_REPEAT_BUYERS` repeat buyers, else left
        out with a note. ``"bgnbd"``, ``"paretonbd"``, ``"mbgnbd"`` or a
        model of :mod:`crmkit.value` (``BetaGeo()`` ...) are fitted as
        given; None leaves out ``p_alive``, ``expected_purchases`` and
        ``clv``.
    spend_model : str, spend model or None, default="auto"
        ``"auto"``: a Gamma-Gamma fitted on the repeat buyers with a
        positive mean spend (zero-priced purchases and net refunds left out
        and counted in ``notes_``), or observed spend when fewer than ten
        such buyers exist or the fit fails. ``"gammagamma"`` or a model with
        ``expected_spend`` are fitted on the same buyers (leaving some out
        then warns); None values purchases at each customer's own mean spend
        per purchase period (:class:`crmkit.compose.ObservedSpend`).
    segmenter : str, Segmenter, list of those, or None, default="auto"
        Segmenters. ``"auto"``: ``"portfolio"`` when there is a ``clv``,
        else ``"rfm"``. By name, ``"portfolio"`` writes a ``portfolio``
        column (:class:`~crmkit.segmentation.PortfolioSegmenter` on revenue
        x CLV) and the others a ``segment`` column; objects write their own
        ``provides[0]``. Two segmenters may not write the same column. Next
        to each segment column goes ``<column>_reasons``
        (``portfolio_reasons``): why each customer has its label, with its
        own numbers and the fitted thresholds
        (:func:`crmkit.segmentation.explain_segments`; a segmenter without
        reasons gets ``"<label>: assigned by <ClassName>"``).
    churn : str, ChurnDetector, list of those, or None, default="auto"
        Churn detectors. ``"auto"``: :class:`~crmkit.churn.AliveChurn` on
        the fitted purchase model, ``churn_risk`` = P(no purchase within
        ``horizon`` | history), with the early-warning signals of
        :data:`crmkit.churn.RULES` the records feed. ``"signals"``:
        :class:`~crmkit.churn.SignalRules` on the signals the records feed.
        Their risk becomes ``churn_risk`` and their reasons
        ``churn_reasons``; with several, ``churn_risk`` is the highest risk,
        ``churn_reasons`` that detector's reasons and ``churn_risk_<name>``
        each detector's risk.
    care : str, CareModel or None, default="auto"
        The care model. ``"auto"``: :class:`~crmkit.care.PortfolioCare`
        (by ``portfolio``, else :class:`~crmkit.care.LifecycleCare`) with
        consumer channels and roles (:data:`crmkit.care.CONSUMER_PORTFOLIO_RULES`)
        unless the records hold firmographics or contacts, then with the
        business-to-business tables. Names: ``"portfolio"``,
        ``"lifecycle"``, ``"key_accounts"`` (their default tables).
    loyalty : bool or LoyaltyIndex, default=True
        Add a ``loyalty`` column (0-100) from
        :class:`crmkit.loyalty.LoyaltyIndex` (True: default weights over the
        components the records feed).
    horizon : float, default=52.0
        Horizon of ``expected_purchases``, ``clv`` and the default churn
        risk, in the data's time unit (52 weeks: a year).
    discount_rate : float, default=0.1
        Annual discount rate of ``clv``.

    Attributes
    ----------
    time_unit_ : str
        Time unit of the fitting data; assessed data must share it.
    schema_ : dict of str to str
        Columns (and dtypes) of the fitting view.
    purchase_model_, spend_model_ : object or None
        The fitted value models.
    loyalty_ : LoyaltyIndex or None
        The fitted loyalty index.
    plugins_ : dict of str to object
        The fitted plugins by step (``"stager"``, ``"segmenter:0"``,
        ``"churn"`` (a tuple of detectors), ``"care"``).
    order_ : tuple of str
        The order the plugin steps run in.
    churn_labels_ : tuple of str
        Names of the churn detectors (for ``churn_risk_<name>``).
    resolved_ : dict of str to str
        What each step became, in words (the ``"auto"`` ones resolved from
        the records).
    notes_ : tuple of str
        What the playbook left out and why (signals the records cannot
        feed, buyers left out of the spend model ...). ``assess`` copies
        both into ``result.attrs["playbook"]``.
    timings_ : dict of str to float
        Seconds per step of the last ``fit`` or ``assess``: ``view``
        (summarising the records), ``setup`` (creating the components, first
        imports included; fit only), ``value``, ``loyalty``, ``stager``,
        ``segmenter``, ``churn``, ``care``, ``assemble`` (assess only).

    Examples
    --------
    >>> from crmkit.datasets import make_crm
    >>> crm = make_crm(80, seed=2)
    >>> playbook = Playbook().fit(crm.data)
    >>> result = playbook.assess(crm.data)
    >>> result.columns.tolist()[:6]
    ['stage', 'status', 'stage_reasons', 'clv', 'p_alive', 'expected_purchases']
    >>> one = playbook.assess_one(crm.data.for_customer(7))
    >>> row = result.loc[7]
    >>> bool(one.clv == row["clv"]), one.care_plan.care_model == row["care_model"]
    (True, True)
    """

    model_type: ClassVar[str] = "crmkit.compose.Playbook"
    _parameter_constraints: ClassVar[Mapping[str, list[Constraint]]] = {
        "stager": [str, _has("fit", "stage")],
        "purchase_model": [str, _has("fit", "p_alive", "conditional_expected_purchases"), None],
        "spend_model": [str, _has("fit", "expected_spend"), None],
        "segmenter": [str, _has("fit", "assign"), _many("fit", "assign"), None],
        "churn": [str, _has("fit", "score"), _many("fit", "score"), None],
        "care": [str, _has("fit", "plan"), None],
        "loyalty": [bool, _has("fit", "score")],
        "horizon": [Interval("float", 0, None, closed="neither")],
        "discount_rate": [Interval("float", 0, None)],
    }

    def __init__(
        self,
        *,
        stager: Any = "rules",
        purchase_model: Any = AUTO,
        spend_model: Any = AUTO,
        segmenter: Any = AUTO,
        churn: Any = AUTO,
        care: Any = AUTO,
        loyalty: Any = True,
        horizon: float = 52.0,
        discount_rate: float = 0.1,
    ) -> None:
        self.stager = stager
        self.purchase_model = purchase_model
        self.spend_model = spend_model
        self.segmenter = segmenter
        self.churn = churn
        self.care = care
        self.loyalty = loyalty
        self.horizon = horizon
        self.discount_rate = discount_rate

    # ---------------------------------------------------------------- building
    def _steps(self) -> list[Step]:
        by_key = {
            s.key: s
            for s in (make_step(k, p, self.churn_labels_) for k, p in self.plugins_.items())
        }
        return [by_key[k] for k in self.order_]

    # ------------------------------------------------------------------ running
    def _view(
        self, data: Any, watch: Stopwatch, fitting: bool, base: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        if not isinstance(data, CustomerData):
            raise InvalidParameterError(
                f"Playbook: 'data' must be CustomerData (crmkit.CustomerData.from_frames, or "
                f"data.for_customer(id) for one customer); got {type(data).__name__}"
            )
        if not fitting and data.time_unit != self.time_unit_:
            raise InvalidParameterError(
                f"the data's time unit is {data.time_unit!r} but the playbook was fitted "
                f"with {self.time_unit_!r}; summarise both in the same unit"
            )
        with watch("view"):
            view = complete_view(summarize(data), data) if base is None else base
            if not fitting:
                view = conform_view(view, self.schema_)
        return view

    def _value(self, view: pd.DataFrame) -> dict[str, Any]:
        return value_columns(
            self.purchase_model_,
            self.spend_model_,
            view,
            horizon=float(self.horizon),
            discount_rate=float(self.discount_rate),
            time_unit=self.time_unit_,
        )

    def _repr_html_(self) -> str:
        said = getattr(self, "resolved_", None), getattr(self, "notes_", ())
        return playbook_html(self, resolution_steps(self.get_params(deep=False), *said))

    def __repr__(self) -> str:
        said = getattr(self, "resolved_", None), getattr(self, "notes_", ())
        return "\n".join([super().__repr__(), *resolution_lines(*said)])

    def fit(
        self, data: CustomerData, y: pd.Series | None = None, *, progress: bool | None = None,
        value_models: tuple[Any, Any] | None = None,
    ) -> Playbook:  # fmt: skip
        """Fit every component on the customer base.

        Parameters
        ----------
        data : CustomerData
            Validated records of the customer base.
        y : pandas.Series of bool, optional
            Churn labels by customer id, passed to the churn detectors.
        progress : bool, optional
            A progress bar over the steps (needs tqdm: ``pip install
            'crmkit[progress]'``; silent without it). Default: shown for
            50,000 customers or more on a terminal or in a notebook;
            ``False`` never, ``True`` always.
        value_models : (purchase_model, spend_model), optional
            Value models fitted already (e.g. by :func:`crmkit.engines.fit`
            on the whole base), used as given (a spend model of None values
            purchases at observed spend); the other steps fit on ``data``.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters (an unknown name ...).
        PluginNotFoundError
            For a plugin name the registry does not know.
        SchemaError
            When a step requires a column nothing provides, or for invalid
            data.
        TypeError
            When ``data`` is not :class:`~crmkit.data.CustomerData`.
        ConvergenceError
            When a value model cannot be fitted.

        Examples
        --------
        >>> from crmkit.datasets import make_crm
        >>> pb = Playbook(care="lifecycle").fit(make_crm(60, seed=4).data)
        >>> pb.order_
        ('stager', 'segmenter:0', 'churn', 'care')
        """
        with step_bar(progress, size_of(data), "Playbook.fit") as bar:
            return self._fit(data, y, Stopwatch(bar), None, value_models)

    def _fit(
        self, data: CustomerData, y: pd.Series | None, watch: Stopwatch, base: Any,
        value_models: tuple[Any, Any] | None = None, keep: list[pd.DataFrame] | None = None,
    ) -> Playbook:  # fmt: skip
        self._validate_params()
        view = self._view(data, watch, fitting=True, base=base)
        self.time_unit_ = data.time_unit
        self.schema_ = view_schema(view)
        said = Resolution()
        with watch("setup"):
            profile = profile_records(data, view)
            self.loyalty_ = new_loyalty(self.loyalty, view, said)
        with watch("value"):
            self.purchase_model_, self.spend_model_ = (
                fit_value_models(self.purchase_model, self.spend_model, view, said)
                if value_models is None
                else given_value_models(value_models, said)
            )
            view = view.assign(**self._value(view))
        with watch("loyalty"):
            if self.loyalty_ is not None:
                self.loyalty_.fit(view)
                view = view.assign(loyalty=self.loyalty_.score(view)["loyalty"])
        with watch("setup"):
            plugins, labels = build_plugins(
                self.get_params(deep=False),
                profile,
                self.purchase_model_,
                list(view.columns),
                said,
                data.time_unit,
            )
        self.churn_labels_ = labels
        steps = [make_step(k, p, labels) for k, p in plugins.items()]
        made = [c for s in steps for c in s.provides]
        clash = sorted({c for c in made if made.count(c) > 1})
        if clash:
            raise InvalidParameterError(
                f"two steps of the playbook write the same columns {clash}; give segmenters "
                "different output_name values"
            )
        ordered = order_steps(steps, list(view.columns))
        for step in ordered:
            with watch(step.group):
                if step.group == "churn":
                    for detector in step.plugin:
                        if y is None:
                            detector.fit(view)
                        else:
                            detector.fit(view, y)
                else:
                    step.plugin.fit(view)
                view = view.assign(**apply_step(step, view, self.churn_labels_))
        self.plugins_ = plugins
        self.order_ = tuple(s.key for s in ordered)
        self.resolved_ = dict(said.resolved)
        self.notes_ = tuple(said.notes)
        self.timings_ = dict(watch.seconds)
        if keep is not None:  # fit_assess: the fitted steps already ran on this very view
            keep.append(view)
        return self

    def _check_fitted(self) -> None:
        check_is_fitted(self, ("plugins_", "order_", "schema_"))

    def assess(
        self, data: CustomerData, *, include_view: bool = False, progress: bool | None = None
    ) -> pd.DataFrame:
        """Assess every customer of ``data`` (one row each).

        Parameters
        ----------
        data : CustomerData
            Records (the fitting base, a later snapshot, or one customer's
            records via ``data.for_customer(id)``), in the fitted time unit.
        include_view : bool, default=False
            Put the customer view's columns (revenue, frequency ...) first.
        progress : bool, optional
            A progress bar over the steps, as in :meth:`fit`.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``customer_id``: ``stage`` (categorical
            :data:`crmkit.plugins.STAGES`, the four lifecycle stages),
            ``status`` (categorical :data:`crmkit.plugins.STATUSES`: active
            / lapsed, a lapsed customer keeping its stage),
            ``stage_reasons`` (the stager's reasons with the customer's own
            numbers; for a stager without them, the stage and the stager's
            name, status active), ``clv``, ``p_alive``, ``expected_purchases``, ``loyalty``, the
            segment columns (``portfolio`` ...) each followed by its reasons
            (``portfolio_reasons`` ...), ``churn_risk``,
            ``churn_reasons`` (``churn_risk_<name>`` per detector when
            several) and the care plan columns
            (:data:`crmkit.plugins.CARE_PLAN_COLUMNS`); columns of
            components left out are absent.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        TypeError
            When ``data`` is not :class:`~crmkit.data.CustomerData`.
        InvalidParameterError
            When ``data`` has another time unit.
        SchemaError
            For invalid data.

        Examples
        --------
        >>> from crmkit.datasets import make_crm
        >>> crm = make_crm(60, seed=6)
        >>> out = Playbook(churn=None, care=None).fit(crm.data).assess(crm.data)
        >>> "churn_risk" in out.columns, len(out) == crm.data.n_customers
        (False, True)
        """
        self._check_fitted()
        with step_bar(progress, size_of(data), "Playbook.assess") as bar:
            return self._assess(data, Stopwatch(bar), None, include_view)

    def fit_assess(
        self,
        data: CustomerData,
        y: pd.Series | None = None,
        *,
        include_view: bool = False,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        """Fit on ``data`` and assess the same customers, summarising the records once.

        Equal to ``fit(data, y).assess(data, include_view=include_view)``;
        the customer view built for fitting is reused for the assessment.

        Parameters
        ----------
        data : CustomerData
            Validated records of the customer base.
        y : pandas.Series of bool, optional
            Churn labels by customer id, passed to the churn detectors.
        include_view : bool, default=False
            Put the customer view's columns first.
        progress : bool, optional
            A progress bar over the steps, as in :meth:`fit`.

        Returns
        -------
        pandas.DataFrame
            As :meth:`assess`; ``timings_`` holds the seconds of both halves.

        Raises
        ------
        InvalidParameterError, PluginNotFoundError, SchemaError, ConvergenceError
            As :meth:`fit`.

        Examples
        --------
        >>> from crmkit.datasets import make_crm
        >>> crm = make_crm(60, seed=6)
        >>> out = Playbook().fit_assess(crm.data)
        >>> out.equals(Playbook().fit(crm.data).assess(crm.data))
        True
        """
        with step_bar(progress, size_of(data), "Playbook.fit_assess") as bar:
            watch = Stopwatch(bar)
            self._validate_params()
            base = self._view(data, watch, fitting=True)
            fitted: list[pd.DataFrame] = []
            self._fit(data, y, watch, base, keep=fitted)
            # fitting ran every component, in order, on this very view: assess is that view
            return self._assess(data, watch, base, include_view, done=fitted[0])

    def _assess(
        self, data: CustomerData, watch: Stopwatch, base: Any, include_view: bool,
        done: pd.DataFrame | None = None,
    ) -> pd.DataFrame:  # fmt: skip
        if done is not None:
            view = done
        else:
            view = self._view(data, watch, fitting=False, base=base)
            with watch("value"):
                view = view.assign(**self._value(view))
            with watch("loyalty"):
                if self.loyalty_ is not None:
                    view = view.assign(loyalty=self.loyalty_.score(view)["loyalty"])
            for step in self._steps():
                with watch(step.group):
                    view = view.assign(**apply_step(step, view, self.churn_labels_))
        with watch("assemble"):
            out = assemble(view, self._steps(), self.schema_, "care" in self.plugins_, include_view)
        out.attrs["playbook"] = {
            "resolved": dict(getattr(self, "resolved_", {})),
            "notes": list(getattr(self, "notes_", ())),
        }
        self.timings_ = dict(watch.seconds)
        return out

    def assess_one(self, history: CustomerData) -> CustomerAssessment:
        """Assess one customer from its own records.

        Parameters
        ----------
        history : CustomerData
            One customer's records, e.g. ``data.for_customer(customer_id)``.

        Returns
        -------
        CustomerAssessment
            Exactly what the customer's row of a bulk :meth:`assess` says,
            every ``*_reasons`` column included (``reasons``).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            When the records hold more (or fewer) than one customer.

        Examples
        --------
        >>> from crmkit.datasets import make_crm
        >>> crm = make_crm(60, seed=6)
        >>> pb = Playbook().fit(crm.data)
        >>> pb.assess_one(crm.data.for_customer(3)).customer_id
        3
        """
        self._check_fitted()
        frame = self.assess(history, include_view=True)
        if len(frame) != 1:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="transactions",
                        column="customer_id",
                        check=f"holds {len(frame)} customers; assess_one reads one customer's "
                        "records (data.for_customer(id)); use assess for several",
                    )
                ]
            )
        segments = [
            c
            for s in self._steps()
            if s.group == "segmenter"
            for c in s.provides
            if not c.endswith("_reasons")
        ]
        return assessment_from_row(
            frame.iloc[0], customer_id=frame.index[0], segment_columns=segments
        )

    # -------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "plugins_"):
            return None
        return {
            "time_unit": self.time_unit_,
            "schema": dict(self.schema_),
            "purchase_model": self.purchase_model_,
            "spend_model": self.spend_model_,
            "loyalty": self.loyalty_,
            "plugins": dict(self.plugins_),
            "order": tuple(self.order_),
            "churn_labels": tuple(self.churn_labels_),
            "resolved": dict(getattr(self, "resolved_", {})),
            "notes": list(getattr(self, "notes_", ())),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.time_unit_ = str(state["time_unit"])
        self.schema_ = {str(k): str(v) for k, v in state["schema"].items()}
        self.purchase_model_ = state["purchase_model"]
        self.spend_model_ = state["spend_model"]
        self.loyalty_ = state["loyalty"]
        plugins = dict(state["plugins"])
        if "churn" in plugins:
            plugins["churn"] = tuple(plugins["churn"])
        self.plugins_ = plugins
        self.order_ = tuple(str(k) for k in state["order"])
        self.churn_labels_ = tuple(str(k) for k in state["churn_labels"])
        self.resolved_ = {str(k): str(v) for k, v in dict(state.get("resolved", {})).items()}
        self.notes_ = tuple(str(n) for n in state.get("notes", ()))
