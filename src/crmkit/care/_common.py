"""Shared machinery of the care models: reading the view, the churn override, the budget.

Every care model sorts customers into tiers (:meth:`CareModelBase._tiers`),
looks each tier up in its table of care rules, applies its own adjustments
(:meth:`CareModelBase._adjustments`), lets churn reasons override routine
care and shares the care budget out by intensity and value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit._params import COLUMN_NAME, Constraint, Interval, instance_of
from crmkit.care._rows import (
    Firing,
    _failure,
    _join,
    care_plan_from_row,
    churn_firing,
    column_labels,
    one_row_frame,
    plan_rows,
    required_labels,
    top_reasons,
)
from crmkit.care._rules import (
    DEFAULT_RETENTION,
    INTENSITIES,
    merge_actions,
    merge_rules,
    merge_weights,
)
from crmkit.domain import CarePlan
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure
from crmkit.plugins import CARE_PLAN_COLUMNS, PluginBase, validate_view

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "INTENSITY_DTYPE",
    "SHARED_CONSTRAINTS",
    "Adjustment",
    "CareModelBase",
    "care_plan_from_row",
    "column_labels",
    "one_row_frame",
    "required_labels",
    "top_reasons",
]

FloatArray = npt.NDArray[np.float64]

_MAPPING = instance_of(Mapping, "a mapping")

#: The constraints of the parameters every care model takes
#: (:attr:`CareModelBase._SHARED_PARAMS`); a model adds its own.
SHARED_CONSTRAINTS: Mapping[str, list[Constraint]] = {
    "table": [_MAPPING, None],
    "value_column": [COLUMN_NAME],
    "churn_threshold": [Interval("float", 0, 1), None],
    "reasons_column": [COLUMN_NAME],
    "retention_actions": [_MAPPING, None],
    "intensity_weights": [_MAPPING, None],
}
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]

#: The dtype of the ``intensity`` output: ordered low < medium < high < maximum.
INTENSITY_DTYPE = pd.CategoricalDtype(categories=list(INTENSITIES), ordered=True)

_HIGH = INTENSITIES.index("high")
_TOP = len(INTENSITIES) - 1
_MAX_SHOWN = 5


@attrs.frozen
class Adjustment:
    """A change a care model makes to the routine plan of some customers.

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (n_customers,)
        Who is concerned.
    reason : str
        Added to ``care_reasons``.
    step_up : bool, default=False
        Raise the intensity one step (at most to maximum).
    activity : str, default=""
        Added to ``activities`` when not empty.

    Examples
    --------
    >>> Adjustment(np.array([True]), "top value", step_up=True).step_up
    True
    """

    mask: BoolArray
    reason: str
    step_up: bool = False
    activity: str = ""


class CareModelBase(PluginBase):
    """Base of crmkit's care models (see the module docstring).

    Subclasses set ``_defaults`` (tier -> care rule), take the shared
    parameters ``table``, ``value_column``, ``churn_threshold``,
    ``reasons_column``, ``retention_actions`` and ``intensity_weights`` and
    implement :meth:`_tier_columns`, :meth:`_tiers` and, when they learn
    something, :meth:`_learn`, :meth:`_extra_state` and :meth:`_load_extra`.

    Examples
    --------
    >>> from crmkit.care import PortfolioCare
    >>> issubclass(PortfolioCare, CareModelBase), PortfolioCare().provides[0]
    (True, 'care_model')
    """

    _defaults: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    table: Mapping[str, Mapping[str, Any]] | None
    value_column: str
    churn_threshold: float | None
    reasons_column: str
    retention_actions: Mapping[str, Mapping[str, Any]] | None
    intensity_weights: Mapping[str, float] | None

    #: The parameters every care model takes.
    _SHARED_PARAMS: ClassVar[tuple[str, ...]] = (
        "table",
        "value_column",
        "churn_threshold",
        "reasons_column",
        "retention_actions",
        "intensity_weights",
    )

    def _validate_params(self) -> None:
        """Refuse an incomplete care model (the bare base), then check the parameters."""
        cls = type(self)
        missing = [p for p in self._SHARED_PARAMS if not hasattr(self, p)]
        hooks = [
            h for h in ("_tier_columns", "_tiers") if getattr(cls, h) is getattr(CareModelBase, h)
        ]
        if missing or hooks:
            parts = []
            if missing:
                parts.append(f"the parameters {', '.join(map(repr, missing))}")
            if hooks:
                parts.append(f"the methods {', '.join(hooks)}")
            raise InvalidParameterError(
                f"{cls.__name__} is not a complete care model: it lacks {' and '.join(parts)}; "
                "use PortfolioCare, KeyAccountCare or LifecycleCare, or subclass "
                "CareModelBase with those"
            )
        super()._validate_params()

    # ------------------------------------------------------------------ columns
    def _tier_columns(self) -> tuple[str, ...]:
        raise NotImplementedError  # pragma: no cover

    def _optional_numeric(self) -> tuple[str, ...]:
        """Numeric columns read when present (none unless overridden)."""
        return ()

    @property
    def requires(self) -> tuple[str, ...]:
        """The tier columns, the value column and ``churn_risk`` (with a threshold).

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> from crmkit.care import PortfolioCare
        >>> PortfolioCare(churn_threshold=None).requires
        ('portfolio', 'clv')
        """
        cols = [*self._tier_columns(), self.value_column]
        if self.churn_threshold is not None:
            cols.append("churn_risk")
        return tuple(dict.fromkeys(cols))

    @property
    def provides(self) -> tuple[str, ...]:
        """The care plan columns (:data:`crmkit.plugins.CARE_PLAN_COLUMNS`).

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> from crmkit.care import LifecycleCare
        >>> LifecycleCare().provides[-2:]
        ('budget_share', 'care_reasons')
        """
        return CARE_PLAN_COLUMNS

    def rules(self) -> pd.DataFrame:
        """The care rule of every tier (defaults merged with ``table``).

        Returns
        -------
        pandas.DataFrame
            One row per tier: intensity, cadence_days, channel, owner_role,
            activities (``"; "``-joined), reason.

        Raises
        ------
        InvalidParameterError
            For a malformed ``table``.

        Examples
        --------
        >>> from crmkit.care import PortfolioCare
        >>> PortfolioCare().rules()["intensity"].tolist()
        ['maximum', 'high', 'medium', 'low']
        """
        rules = merge_rules(type(self).__name__, self._defaults, self.table)
        frame: pd.DataFrame = pd.DataFrame(
            [{**r, "activities": "; ".join(r["activities"])} for r in rules.values()],
            index=pd.Index(list(rules), name="care_model"),
        )
        return frame

    # --------------------------------------------------------------------- read
    def _read(self, view: object) -> tuple[pd.DataFrame, FloatArray, FloatArray]:
        """Validate the view; return it, the value (>= 0, missing = 0) and the risk."""
        owner = type(self).__name__
        present = [
            c
            for c in self._optional_numeric()
            if isinstance(view, pd.DataFrame) and c in view.columns
        ]
        numeric = [self.value_column, *present]
        if self.churn_threshold is not None:
            numeric.append("churn_risk")
        frame = validate_view(
            view, owner, required=self.requires, numeric=numeric, nullable=numeric
        )
        value = frame[self.value_column].to_numpy(dtype=np.float64, na_value=np.nan)
        value = np.where(np.isnan(value), 0.0, np.maximum(value, 0.0))
        n = len(frame)
        risk = np.full(n, np.nan)
        if self.churn_threshold is not None:
            risk = frame["churn_risk"].to_numpy(dtype=np.float64, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                bad = (risk < 0) | (risk > 1)
            if bad.any():
                raise SchemaError(
                    [_failure("churn_risk", "is not within [0, 1]", bad, frame.index)]
                )
        return frame, value, risk

    def _tiers(self, frame: pd.DataFrame, value: FloatArray) -> ObjArray:
        raise NotImplementedError  # pragma: no cover

    def _adjustments(self, frame: pd.DataFrame, value: FloatArray) -> Sequence[Adjustment]:
        """Changes to the routine plan (none unless overridden)."""
        return ()

    def _learn(self, frame: pd.DataFrame, value: FloatArray) -> None:
        """Learn what the tiers need from the fitting view (hook)."""

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra(self, state: dict[str, Any]) -> None:
        """Restore :meth:`_extra_state` (hook)."""

    # --------------------------------------------------------------------- plan
    def _tier_codes(
        self, frame: pd.DataFrame, value: FloatArray, rules: Mapping[str, Mapping[str, Any]]
    ) -> tuple[ObjArray, npt.NDArray[np.intp]]:
        """Each customer's tier and its code into ``rules`` (labels without a rule raise)."""
        tiers = self._tiers(frame, value)
        code_of = {name: k for k, name in enumerate(rules)}
        # each distinct tier looked up once
        tier_codes, distinct = pd.factorize(np.asarray(tiers, dtype=object), use_na_sentinel=False)
        per_tier = np.asarray([code_of.get(t, -1) for t in distinct], dtype=np.intp)
        codes = per_tier[np.asarray(tier_codes, dtype=np.intp)]
        unknown = codes < 0
        if unknown.any():
            shown = sorted({str(t) for t in tiers[unknown]})[:_MAX_SHOWN]
            raise SchemaError(
                [
                    _failure(
                        (*self._tier_columns(), self.value_column)[0],
                        f"holds labels without a care rule ({', '.join(map(repr, shown))}; "
                        f"rules exist for {', '.join(map(repr, rules))})",
                        unknown,
                        frame.index,
                    )
                ]
            )
        return tiers, codes

    @staticmethod
    def _routine(
        tiers: ObjArray, codes: npt.NDArray[np.intp], rules: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, Any]:
        names = list(rules)

        def pick(key: str, fn: Any = str) -> Any:
            return np.asarray([fn(rules[name][key]) for name in names], dtype=object)[codes]

        return {
            "care_model": tiers,
            "rank": np.asarray(
                [INTENSITIES.index(rules[n]["intensity"]) for n in names], dtype=np.intp
            )[codes],
            "cadence": np.asarray([rules[n]["cadence_days"] for n in names], dtype=np.int64)[codes],
            "channel": pick("channel"),
            "owner": pick("owner_role"),
            "activities": pick("activities", "; ".join),
            "reasons": pick("reason"),
        }

    def _columns(self, frame: pd.DataFrame, value: FloatArray, risk: FloatArray) -> dict[str, Any]:
        """The plan: ``rank`` and ``cadence`` per customer, the texts per distinct plan.

        Customers with the same tier, adjustments, churn override, top churn
        reason and risk shown get the same plan: it is made once per such
        group (its first customer) and ``rows`` gives each customer's group.
        """
        owner = type(self).__name__
        rules = merge_rules(owner, self._defaults, self.table)
        tiers, codes = self._tier_codes(frame, value, rules)
        adjustments = [
            (adj, np.asarray(adj.mask, dtype=bool)) for adj in self._adjustments(frame, value)
        ]
        adjustments = [(adj, m) for adj, m in adjustments if m.any()]
        firing = None
        if self.churn_threshold is not None:
            firing = churn_firing(frame, risk, float(self.churn_threshold), self.reasons_column)
        keys = [codes, *(m for _, m in adjustments)]
        if firing is not None:
            keys += [firing.top, firing.shown]
        rows, first = plan_rows(keys, len(codes))
        cols = self._routine(tiers[first], codes[first], rules)
        for adj, mask in adjustments:
            m = mask[first]
            if adj.step_up:
                cols["rank"] = np.where(m, np.minimum(cols["rank"] + 1, _TOP), cols["rank"])
            if adj.activity:
                cols["activities"][m] = _join(cols["activities"][m], adj.activity)
            cols["reasons"][m] = _join(cols["reasons"][m], adj.reason)
        if firing is not None:
            self._override(firing, first, cols, merge_actions(owner, self.retention_actions))
        cols["rows"] = rows
        cols["rank"], cols["cadence"] = cols["rank"][rows], cols["cadence"][rows]
        return cols

    def _override(
        self,
        firing: Firing,
        first: npt.NDArray[np.intp],
        cols: dict[str, Any],
        actions: Mapping[str, Mapping[str, Any]],
    ) -> None:
        """Let the churn reasons override the routine plans (of the groups' first customers)."""
        fires = firing.top[first] >= 0
        top = np.asarray(firing.tops, dtype=object)[firing.top[first][fires]]
        shown = np.asarray(firing.texts, dtype=object)[firing.shown[first][fires]]
        chosen = [actions.get(t, actions[DEFAULT_RETENTION]) for t in top]
        cols["rank"][fires] = np.maximum(cols["rank"][fires], _HIGH)
        due = np.asarray([a["due_days"] for a in chosen], dtype=np.int64)
        cols["cadence"][fires] = np.minimum(cols["cadence"][fires], due)
        cols["channel"][fires] = np.asarray([a["channel"] for a in chosen], dtype=object)
        cols["owner"][fires] = np.asarray([a["owner_role"] for a in chosen], dtype=object)
        action_text = np.asarray([a["action"] for a in chosen], dtype=object)
        cols["activities"][fires] = _join(action_text, cols["activities"][fires])
        threshold = float(self.churn_threshold)  # type: ignore[arg-type]
        why = np.asarray(
            [
                f"churn risk {r} > {threshold:g} ({t or 'no reason given'})"
                for r, t in zip(shown, top, strict=True)
            ],
            dtype=object,
        )
        cols["reasons"][fires] = _join(why, cols["reasons"][fires])

    def _weights(self, cols: Mapping[str, Any], value: FloatArray) -> FloatArray:
        weights = merge_weights(type(self).__name__, self.intensity_weights)
        per_rank = np.asarray([weights[i] for i in INTENSITIES], dtype=np.float64)
        scale = float(self.value_scale_)
        factor = 1.0 + value / scale if scale > 0 else np.ones(len(value))
        out: FloatArray = per_rank[cols["rank"]] * factor
        return out

    def fit(self, view: pd.DataFrame) -> Self:
        """Learn the value scale, the budget total and what the tiers need.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns (at least one row).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters or tables, or when the model is not a
            complete care model (the bare :class:`CareModelBase`).
        SchemaError
            For missing or invalid columns or labels without a care rule.

        Examples
        --------
        >>> from crmkit.care import PortfolioCare
        >>> from crmkit.testing import make_customer_view
        >>> view = make_customer_view(30, requires=PortfolioCare().requires)
        >>> care = PortfolioCare().fit(view)
        >>> round(float(care.plan(view)["budget_share"].sum()), 6)
        1.0
        """
        self._validate_params()
        frame, value, risk = self._read(view)
        if len(frame) == 0:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column="<frame>",
                        check=f"has no customers; {type(self).__name__} needs at least one",
                    )
                ]
            )
        self._learn(frame, value)
        self.value_scale_ = float(value.mean())
        cols = self._columns(frame, value, risk)
        self.budget_total_ = float(self._weights(cols, value).sum())
        return self

    def _check_fitted(self) -> None:
        check_is_fitted(self, ("value_scale_", "budget_total_"))

    def plan(self, view: pd.DataFrame) -> pd.DataFrame:
        """Plan the care of each customer of ``view``.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``view``: ``care_model`` (the tier), ``intensity``
            (ordered categorical low < medium < high < maximum),
            ``cadence_days`` (int), ``channel``, ``owner_role``,
            ``activities`` (``"; "``-joined), ``budget_share`` (float in
            [0, 1]) and ``care_reasons`` (``"; "``-joined).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns or labels without a care rule.

        Examples
        --------
        >>> from crmkit.care import LifecycleCare
        >>> from crmkit.testing import make_customer_view
        >>> view = make_customer_view(10, requires=LifecycleCare().requires, seed=3)
        >>> LifecycleCare().fit(view).plan(view).columns.tolist()
        ['care_model', 'intensity', 'cadence_days', 'channel', 'owner_role', 'activities',
         'budget_share', 'care_reasons']
        """
        self._check_fitted()
        frame, value, risk = self._read(view)
        cols = self._columns(frame, value, risk)
        rows = cols["rows"]

        def texts(column: str) -> Any:  # each distinct plan's text converted once
            return pd.array(cols[column].tolist(), dtype="str").take(rows)

        total = float(self.budget_total_)
        share = (
            np.minimum(self._weights(cols, value) / total, 1.0)
            if total > 0
            else (np.zeros(len(frame)))
        )
        out: pd.DataFrame = pd.DataFrame(
            {
                "care_model": texts("care_model"),
                "intensity": pd.Categorical.from_codes(cols["rank"], dtype=INTENSITY_DTYPE),
                "cadence_days": np.asarray(cols["cadence"], dtype=np.int64),
                "channel": texts("channel"),
                "owner_role": texts("owner"),
                "activities": texts("activities"),
                "budget_share": np.asarray(share, dtype=np.float64),
                "care_reasons": texts("reasons"),
            },
            index=frame.index,
        )
        return out

    def plan_one(self, row: Mapping[str, Any] | pd.Series) -> CarePlan:
        """Plan the care of one customer given as a row of values.

        Parameters
        ----------
        row : mapping or pandas.Series
            The customer's ``requires`` columns (e.g. a row of a customer
            view or of :meth:`crmkit.compose.Playbook.assess`).

        Returns
        -------
        CarePlan
            The same plan the customer gets in a bulk :meth:`plan`.

        Raises
        ------
        InvalidParameterError
            When ``row`` is neither a mapping nor a Series (also a
            ``TypeError``).
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid values.

        Examples
        --------
        >>> from crmkit.care import PortfolioCare
        >>> from crmkit.testing import make_customer_view
        >>> view = make_customer_view(20, requires=PortfolioCare().requires)
        >>> care = PortfolioCare().fit(view)
        >>> care.plan_one({"portfolio": "A", "clv": 1000.0, "churn_risk": 0.1}).care_model
        'A'
        """
        frame = one_row_frame(row, who=f"{type(self).__name__}.plan_one")
        return care_plan_from_row(self.plan(frame).iloc[0])

    # -------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "budget_total_"):
            return None
        return {
            "value_scale": float(self.value_scale_),
            "budget_total": float(self.budget_total_),
            **self._extra_state(),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.value_scale_ = float(state["value_scale"])
        self.budget_total_ = float(state["budget_total"])
        self._load_extra(state)
