"""The pieces a :class:`~crmkit.compose.Playbook` is made of, and how it runs them.

Choosing components by name or object, the value step (purchase and spend
models), the view's schema (so one customer's view has the same columns as
the base's), ordering the plugin steps by the columns they require, and a
stopwatch.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmkit._estimator import clone
from crmkit.data import CustomerData
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = [
    "PURCHASE_MODELS",
    "SPEND_MODELS",
    "ObservedSpend",
    "Step",
    "Stopwatch",
    "complete_view",
    "conform_view",
    "order_steps",
    "value_model",
    "view_schema",
]

#: Purchase models by name (classes of :mod:`crmkit.value`).
PURCHASE_MODELS: Mapping[str, str] = {
    "bgnbd": "BetaGeo",
    "paretonbd": "ParetoNBD",
    "mbgnbd": "ModifiedBetaGeo",
}

#: Spend models by name.
SPEND_MODELS: Mapping[str, str] = {"gammagamma": "GammaGamma"}

_VALUE_MODULES: Mapping[str, str] = {
    "BetaGeo": "crmkit.value._bgnbd",
    "ParetoNBD": "crmkit.value._paretonbd",
    "ModifiedBetaGeo": "crmkit.value._mbgnbd",
    "GammaGamma": "crmkit.value._gammagamma",
}

#: View columns that :func:`crmkit.data.summarize` leaves out when no record
#: qualifies (no complaint, no leaver, no move), with the record kind they
#: come from; missing means "never happened" for every customer.
_ABSENT_WHEN_NONE: Mapping[str, str] = {
    "days_since_complaint": "feedback",
    "days_since_contact_left": "contacts",
    "days_since_address_change": "events",
}


def value_model(kind: str, spec: Any) -> Any:
    """A new purchase or spend model from a name or an object.

    Parameters
    ----------
    kind : {"purchase_model", "spend_model"}
        Which table of names to use (:data:`PURCHASE_MODELS`,
        :data:`SPEND_MODELS`).
    spec : str, object or None
        A name, a model (copied unfitted) or None.

    Returns
    -------
    object or None

    Raises
    ------
    InvalidParameterError
        For an unknown name.

    Examples
    --------
    >>> value_model("purchase_model", "bgnbd")
    BetaGeo()
    """
    if spec is None:
        return None
    if not isinstance(spec, str):
        return clone(spec, safe=False)
    table = PURCHASE_MODELS if kind == "purchase_model" else SPEND_MODELS
    if spec not in table:
        raise InvalidParameterError(
            f"The {kind!r} parameter of Playbook names no known model: {spec!r}; "
            f"names: {', '.join(table)} (or pass a model object, or None)"
        )
    name = table[spec]
    public = importlib.import_module("crmkit.value")
    cls = getattr(public, name, None)
    if cls is None:  # the package does not re-export it (yet): its own module
        cls = getattr(importlib.import_module(_VALUE_MODULES[name]), name)
    return cls()


class ObservedSpend:
    """Spend per purchase as observed: ``max(revenue, 0) / (frequency + 1)``.

    The spend model a :class:`~crmkit.compose.Playbook` uses with
    ``spend_model=None``: each customer's own mean spend per purchase
    period (the first one included), no pooling. Stateless.

    Examples
    --------
    >>> view = pd.DataFrame({"revenue": [30.0, 10.0], "frequency": [2, 0]})
    >>> ObservedSpend().expected_spend(view).tolist()
    [10.0, 10.0]
    """

    def expected_spend(self, view: pd.DataFrame) -> pd.Series:
        """Mean observed spend per purchase period.

        Parameters
        ----------
        view : pandas.DataFrame
            With ``revenue`` and ``frequency``.

        Returns
        -------
        pandas.Series
            Named ``expected_spend``, indexed like ``view``.

        Raises
        ------
        SchemaError
            When a column is missing or not finite.

        Examples
        --------
        >>> ObservedSpend().expected_spend(pd.DataFrame({"revenue": [8.0], "frequency": [3]}))
        0    2.0
        Name: expected_spend, dtype: float64
        """
        from crmkit.plugins import validate_view

        validate_view(
            view,
            "ObservedSpend",
            required=("revenue", "frequency"),
            numeric=("revenue", "frequency"),
        )
        revenue = view["revenue"].to_numpy(dtype=np.float64)
        periods = view["frequency"].to_numpy(dtype=np.float64) + 1.0
        out: pd.Series = pd.Series(
            np.maximum(revenue, 0.0) / np.maximum(periods, 1.0),
            index=view.index,
            name="expected_spend",
        )
        return out


def complete_view(view: pd.DataFrame, data: CustomerData) -> pd.DataFrame:
    """Add the "days since" columns a summary leaves out when nothing happened.

    Parameters
    ----------
    view : pandas.DataFrame
        A customer view from :func:`crmkit.data.summarize`.
    data : CustomerData
        Its records.

    Returns
    -------
    pandas.DataFrame
        ``view`` plus ``days_since_complaint`` / ``days_since_contact_left``
        / ``days_since_address_change`` (all NaN) where the record kind exists
        but no record qualified.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [5.0]})
    >>> fb = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "kind": ["nps"],
    ...                    "score": [9.0]})
    >>> data = CustomerData.from_frames(transactions=tx, feedback=fb)
    >>> from crmkit.data import summarize
    >>> complete_view(summarize(data), data)["days_since_complaint"].tolist()
    [nan]
    """
    extra = {
        col: np.full(len(view), np.nan)
        for col, kind in _ABSENT_WHEN_NONE.items()
        if col not in view.columns and data.get(kind) is not None
    }
    return view.assign(**extra) if extra else view


def view_schema(view: pd.DataFrame) -> dict[str, str]:
    """The view's columns and their dtypes (as text), in order.

    Parameters
    ----------
    view : pandas.DataFrame
        A customer view.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> view_schema(pd.DataFrame({"frequency": [1], "T": [2.0]}))
    {'frequency': 'int64', 'T': 'float64'}
    """
    return {str(c): str(t) for c, t in view.dtypes.items()}


def _missing_column(dtype: str, index: pd.Index) -> Any:
    n = len(index)
    if dtype.startswith(("int", "uint", "Int", "UInt")):
        return np.zeros(n, dtype=np.int64)  # counts: nothing to count
    if dtype in ("bool", "boolean"):
        return np.zeros(n, dtype=bool)
    if dtype.startswith("float"):
        return np.full(n, np.nan)
    if dtype.startswith("datetime64"):
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    return pd.Series([None] * n, index=index, dtype=object)


def conform_view(view: pd.DataFrame, schema: Mapping[str, str]) -> pd.DataFrame:
    """Give a view exactly the fitted columns: drop others, add the absent ones.

    A summary of a few customers can lack a column a larger one has (e.g.
    ``days_since_complaint`` when none of them complained); such a column
    is added as "nothing happened" (NaN, 0 for counts, False for flags), so
    every customer is assessed from the same columns.

    Parameters
    ----------
    view : pandas.DataFrame
        A customer view.
    schema : mapping of str to str
        From :func:`view_schema` of the fitting view.

    Returns
    -------
    pandas.DataFrame
        Columns in schema order.

    Examples
    --------
    >>> v = pd.DataFrame({"T": [2.0], "x": [1]})
    >>> conform_view(v, {"T": "float64", "n_visits": "int64"}).to_dict("list")
    {'T': [2.0], 'n_visits': [0]}
    """
    columns = {
        name: view[name] if name in view.columns else _missing_column(dtype, view.index)
        for name, dtype in schema.items()
    }
    out: pd.DataFrame = pd.DataFrame(columns, index=view.index)
    return out


@attrs.define
class Step:
    """One plugin step of a playbook.

    Parameters
    ----------
    key : str
        ``"stager"``, ``"segmenter:0"``, ``"churn:1"``, ``"care"`` ...
    plugin : object
        The plugin.
    requires : tuple of str
        Columns it reads.
    provides : tuple of str
        Columns it adds to the working view.

    Examples
    --------
    >>> Step("care", None, ("portfolio",), ("care_model",)).group
    'care'
    """

    key: str
    plugin: Any
    requires: tuple[str, ...]
    provides: tuple[str, ...]

    @property
    def group(self) -> str:
        """The step's kind, for timings: ``stager``, ``segmenter``, ``churn``, ``care``.

        Returns
        -------
        str

        Examples
        --------
        >>> Step("churn:1", None, (), ()).group
        'churn'
        """
        return self.key.split(":", 1)[0]


def order_steps(steps: Sequence[Step], available: Sequence[str]) -> list[Step]:
    """Order the steps so that each runs after the steps making what it requires.

    Steps keep their given order where they can (stager, segmenters, churn
    detectors, care model).

    Parameters
    ----------
    steps : sequence of Step
        The plugin steps, in preferred order.
    available : sequence of str
        Columns of the view before any step runs.

    Returns
    -------
    list of Step

    Raises
    ------
    SchemaError
        When some step needs a column that neither the view nor any step
        provides (each such column named with the step needing it).

    Examples
    --------
    >>> a = Step("care", None, ("stage",), ("care_model",))
    >>> b = Step("stager", None, ("T",), ("stage",))
    >>> [s.key for s in order_steps([a, b], ["T"])]
    ['stager', 'care']
    """
    have = set(available)
    pending = list(steps)
    ordered: list[Step] = []
    while pending:
        ready = next((s for s in pending if set(s.requires) <= have), None)
        if ready is None:
            made = {c for s in pending for c in s.provides}
            failures = [
                SchemaFailure(
                    frame="view",
                    column=col,
                    check=f"is required by the playbook's {s.key} ({type(s.plugin).__name__}) but "
                    "neither the customer view nor an earlier step provides it"
                    + (" (a circular requirement)" if col in made else ""),
                )
                for s in pending
                for col in s.requires
                if col not in have
            ]
            raise SchemaError(failures)
        ordered.append(ready)
        pending.remove(ready)
        have |= set(ready.provides)
    return ordered


class Stopwatch:
    """Seconds spent per named step.

    Examples
    --------
    >>> watch = Stopwatch()
    >>> with watch("value"):
    ...     pass
    >>> list(watch.seconds)
    ['value']
    """

    def __init__(self, bar: Any = None) -> None:
        self.seconds: dict[str, float] = {}
        self.bar = bar  # a StepBar told of each finished step (a progress display), or None

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the block and add its duration to ``name``.

        Parameters
        ----------
        name : str
            The step.

        Yields
        ------
        None

        Examples
        --------
        >>> watch = Stopwatch()
        >>> with watch("x"):
        ...     pass
        >>> watch.seconds["x"] >= 0
        True
        """
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            if self.bar is not None:
                self.bar.step(name)
