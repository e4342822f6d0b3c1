"""``LoyaltyIndex``: behavioural and attitudinal loyalty in one 0-100 score."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._estimator import BaseEstimator, check_is_fitted
from crmkit._params import COLUMN_NAME, Constraint, Interval, Options, Predicate, parameter_error
from crmkit._persist import Persistable
from crmkit.exceptions import (
    DataWarning,
    ModelFileError,
    SchemaError,
    SchemaFailure,
)
from crmkit.loyalty._scaling import SCALINGS, quantile_grid, scale
from crmkit.loyalty._view import ViewReader

__all__ = ["LoyaltyIndex", "COMPONENTS", "DEFAULT_WEIGHTS"]

F = npt.NDArray[np.float64]

#: Behavioural components (buying behaviour) and their meaning.
BEHAVIOURAL: tuple[str, ...] = ("repeat", "tenure", "regularity", "breadth", "share_of_wallet")
#: Attitudinal components (what the customer says).
ATTITUDINAL: tuple[str, ...] = ("nps", "csat", "ces")
#: Every component, in output order.
COMPONENTS: tuple[str, ...] = BEHAVIOURAL + ATTITUDINAL
#: Weights used for components not named in ``weights``.
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "repeat": 1.0, "tenure": 1.0, "regularity": 1.0, "breadth": 1.0, "share_of_wallet": 1.0,
    "nps": 1.0, "csat": 1.0, "ces": 0.0,
})  # fmt: skip
#: Components every customer has (no per-customer missing values).
_ALWAYS = ("repeat", "tenure", "regularity", "breadth")
#: View columns of the optional components and their valid ranges.
_OPTIONAL_COLUMNS = {
    "breadth": "n_products",
    "nps": "last_nps",
    "csat": "mean_csat",
    "ces": "mean_ces",
}
_RANGES = {"nps": (0.0, 10.0), "csat": (1.0, 5.0), "ces": (1.0, 7.0), "share_of_wallet": (0.0, 1.0)}


_WEIGHT = Interval("real", 0, None, finite=True)


def _is_weights(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        name in COMPONENTS and _WEIGHT.accepts(w) for name, w in value.items()
    )


def _is_range(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        and 0.0 <= value[0] < value[1] <= 1.0
    )


class LoyaltyIndex(BaseEstimator, Persistable):
    """Customer loyalty, 0-100, from buying behaviour and what the customer says.

    Loyalty shows in buying behaviour and grows from satisfaction.
    The index is a weighted mean of component scores, each 0-100:

    behavioural
        ``repeat`` -- repeat purchase rate ``frequency / T`` (0 when ``T`` is
        0); ``tenure`` -- the ``tenure`` column; ``regularity`` -- the share
        of the expected repeat purchases made: over its life ``T`` a customer
        buying at its own mean inter-purchase time ``m = recency / frequency``
        would make ``T / m`` of them, it made ``frequency``, so
        ``frequency * m / T = recency / T`` (1 when still buying on rhythm,
        falling as the gap since the last purchase grows; 0 without repeat
        purchases); ``breadth`` -- distinct products bought (``n_products``:
        the more products, the longer the relationship lasts);
        ``share_of_wallet`` -- optional, a 0..1 column named by the
        ``share_of_wallet`` parameter.
    attitudinal
        ``nps`` (``last_nps``), ``csat`` (``mean_csat``), ``ces``
        (``mean_ces``, weight 0 by default).

    ``fit`` learns each component's scaling on the customer base (a grid of
    quantiles; see ``scaling``); ``score`` applies it row by row, so one
    customer scored alone gets exactly the value it gets in bulk. Higher
    raw values always give higher scores, so the index is non-decreasing in
    ``frequency``, ``recency``, ``tenure``, ``n_products``, share of wallet
    and survey scores and non-increasing in ``T``.

    Missing attitudinal data (or share of wallet) is never imputed: for that
    customer the component's weight is spread over the available components
    (weights re-normalised), the used weights are shown per customer, and
    ``loyalty_attitudinal_missing`` flags it.

    The scaling is learned in the view's time unit (``repeat`` is per unit
    of ``T``, ``tenure`` is in units): fit and score views built with the
    same ``time_unit``.

    Parameters
    ----------
    weights : mapping of str to float, optional
        Weights (>= 0) by component name, overriding :data:`DEFAULT_WEIGHTS`
        (1 for all but ``ces``); 0 leaves a component out. At least one of
        ``repeat``, ``tenure``, ``regularity``, ``breadth`` must weigh > 0 so
        that every customer gets a score. Components left at their default
        whose column is absent or empty in the fitting view are left out
        with a DataWarning; named ones raise SchemaError.
    share_of_wallet : str, optional
        Column with the customer's share of wallet in [0, 1] (NaN = unknown).
    scaling : {"rank", "minmax"}, default="rank"
        ``"rank"``: percentile rank in the fitted base (mid-rank for ties);
        ``"minmax"``: the ``quantile_range`` quantiles of the base map to 0
        and 100, clipped.
    n_quantiles : int, default=101
        Size of the stored quantile grid per component.
    quantile_range : (float, float), default=(0.05, 0.95)
        Quantiles of the 0 and 100 points of ``"minmax"``.

    Attributes
    ----------
    components_ : tuple of str
        Components used, in :data:`COMPONENTS` order.
    weights_ : dict of str to float
        Their weights (before per-customer re-normalisation).
    quantiles_ : dict of str to ndarray of shape (n_quantiles,)
        Fitted quantile grid per component (aggregates only, no customer rows).
    n_customers_ : int
        Customers in the fitting view.

    References
    ----------
    .. [1] Dick, A. S. & Basu, K. (1994). Customer loyalty: toward an integrated
       conceptual framework. Journal of the Academy of Marketing Science 22(2).
    .. [2] Reinartz, W. & Kumar, V. (2003). The impact of customer relationship
       characteristics on profitable lifetime duration. Journal of Marketing 67(1).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> view = pd.DataFrame({"frequency": [0, 2, 6, 9], "recency": [0.0, 10.0, 30.0, 50.0],
    ...                      "T": [20.0, 40.0, 35.0, 52.0], "tenure": [20.0, 40.0, 35.0, 52.0],
    ...                      "n_products": [1, 2, 4, 6], "last_nps": [np.nan, 6.0, 9.0, 10.0],
    ...                      "mean_csat": [np.nan, 3.0, 4.5, 5.0]},
    ...                     index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
    >>> index = LoyaltyIndex().fit(view)
    >>> scores = index.score(view)
    >>> scores[["loyalty", "loyalty_nps", "loyalty_weight_nps", "loyalty_weight_tenure"]].round(3)
                 loyalty  loyalty_nps  loyalty_weight_nps  loyalty_weight_tenure
    customer_id
    a              0.000          NaN               0.000                  0.250
    b             27.666        0.000               0.167                  0.167
    c             55.697       50.000               0.167                  0.167
    d            100.000      100.000               0.167                  0.167
    >>> scores["loyalty_attitudinal_missing"].tolist()
    [True, False, False, False]
    """

    _parameter_constraints: ClassVar[Mapping[str, list[Constraint]]] = {
        "weights": [
            None,
            Predicate(
                _is_weights,
                f"a mapping of component name ({', '.join(COMPONENTS)}) to a finite float >= 0",
            ),
        ],
        "share_of_wallet": [None, COLUMN_NAME],
        "scaling": [Options(frozenset(SCALINGS))],
        "n_quantiles": [Interval("int", 2, 10_001)],
        "quantile_range": [Predicate(_is_range, "a tuple (low, high) with 0 <= low < high <= 1")],
    }

    def __init__(
        self,
        *,
        weights: Mapping[str, float] | None = None,
        share_of_wallet: str | None = None,
        scaling: str = "rank",
        n_quantiles: int = 101,
        quantile_range: tuple[float, float] = (0.05, 0.95),
    ) -> None:
        self.weights = weights
        self.share_of_wallet = share_of_wallet
        self.scaling = scaling
        self.n_quantiles = n_quantiles
        self.quantile_range = quantile_range

    def _named_weights(self) -> dict[str, float]:
        given: dict[str, Any] = dict(self._validated("weights") or {})
        if self.share_of_wallet is None and given.get("share_of_wallet", 0.0) > 0:
            raise parameter_error(
                "LoyaltyIndex",
                "weights",
                "weights without 'share_of_wallet' when the 'share_of_wallet' parameter names "
                "no column (give the column name)",
                self.weights,
            )
        return {name: float(value) for name, value in given.items()}

    def _column_of(self, component: str) -> str | None:
        if component == "share_of_wallet":
            return self.share_of_wallet
        return _OPTIONAL_COLUMNS.get(component)

    def _raw(self, view: Any, components: tuple[str, ...], who: str) -> dict[str, F]:
        """Validated raw component measures; NaN marks missing optional values."""
        r = ViewReader(view, who)
        n = len(r.view)
        out: dict[str, F] = {}
        if {"repeat", "regularity"} & set(components):
            freq = r.column("frequency", integer=True)
            rec = r.column("recency")
            t = r.column("T")
            r.check(rec > t * (1 + 1e-12) + 1e-12, "recency", "is greater than T", rec)
            r.check((freq > 0) & (t <= 0), "T", "is 0 for customers with repeat purchases", t)
            has_t = t > 0
            if "repeat" in components:
                out["repeat"] = np.divide(freq, t, out=np.zeros(n), where=has_t)
            if "regularity" in components:
                out["regularity"] = np.divide(
                    np.minimum(rec, t), t, out=np.zeros(n), where=has_t & (freq > 0)
                )
        if "tenure" in components:
            out["tenure"] = r.column("tenure")
        if "breadth" in components:
            out["breadth"] = r.column("n_products", integer=True)
        for name in ("share_of_wallet", *ATTITUDINAL):
            if name not in components:
                continue
            col = self._column_of(name)
            if col is None or col not in r.view.columns:
                out[name] = np.full(n, np.nan)  # absent at scoring time: missing for all
                continue
            out[name] = r.column(col, nullable=True, bounds=_RANGES[name])
        r.done()
        return out

    def fit(self, view: pd.DataFrame) -> LoyaltyIndex:
        """Choose the components and learn each one's scaling from a customer view.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view indexed by customer id with ``frequency``,
            ``recency``, ``T``, ``tenure`` and, when used, ``n_products``,
            ``last_nps``, ``mean_csat``, ``mean_ces`` and the share-of-wallet
            column (at least one customer).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters or weights.
        SchemaError
            For a missing or invalid column (every problem listed), or a
            named component without data.

        Examples
        --------
        >>> import pandas as pd
        >>> view = pd.DataFrame({"frequency": [1, 3], "recency": [2.0, 9.0], "T": [10.0, 10.0],
        ...                      "tenure": [10.0, 10.0], "n_products": [1, 4],
        ...                      "last_nps": [7.0, None], "mean_csat": [None, None]})
        >>> index = LoyaltyIndex(weights={"csat": 0.0, "nps": 2.0}, n_quantiles=5).fit(view)
        >>> index.components_
        ('repeat', 'tenure', 'regularity', 'breadth', 'nps')
        >>> index.quantiles_["breadth"].tolist()
        [1.0, 1.75, 2.5, 3.25, 4.0]
        """
        self._validate_params()
        named = self._named_weights()
        weights = {**DEFAULT_WEIGHTS, **named}
        if self.share_of_wallet is None:
            weights["share_of_wallet"] = 0.0
        ViewReader(view, "LoyaltyIndex.fit")  # refuses anything but a DataFrame
        present = set(view.columns)
        used: list[str] = []
        dropped: list[str] = []
        fails: list[SchemaFailure] = []
        for name in COMPONENTS:
            if weights[name] <= 0:
                continue
            col = self._column_of(name)
            empty = col is not None and (
                col not in present or bool(np.asarray(view[col].isna()).all())
            )
            if not empty:
                used.append(name)
            elif name in named or name == "share_of_wallet":
                what = "is missing" if col not in present else "has no values"
                fails.append(
                    SchemaFailure(
                        frame="view",
                        column=str(col),
                        check=f"{what}: LoyaltyIndex cannot learn the scaling of the "
                        f"{name!r} component",
                    )
                )
            else:
                dropped.append(f"{name} ({col})")
        if fails:
            raise SchemaError(fails)
        if not set(used) & set(_ALWAYS):
            raise parameter_error(
                "LoyaltyIndex",
                "weights",
                "weights that give a weight > 0 to at least one of 'repeat', 'tenure', "
                "'regularity', 'breadth' (with its column present) so that every customer "
                "gets a score",
                self.weights,
            )
        components = tuple(used)
        raw = self._raw(view, components, "LoyaltyIndex.fit")
        if len(view) == 0:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column="<frame>",
                        check="has no customers; LoyaltyIndex.fit needs at least one",
                    )
                ]
            )
        if dropped:
            warnings.warn(
                f"crmkit LoyaltyIndex: left out {', '.join(dropped)}: no data in "
                "the view; the weights were re-normalised over the other "
                "components",
                DataWarning,
                stacklevel=2,
            )
        self.quantiles_ = {
            name: quantile_grid(raw[name][~np.isnan(raw[name])], self.n_quantiles)
            for name in components
        }
        self.components_ = components
        self.weights_ = {name: weights[name] for name in components}
        self.n_customers_ = len(view)
        return self

    def score(self, view: pd.DataFrame) -> pd.DataFrame:
        """Loyalty, its components and the weights used, per customer.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the columns the fitted components read.
            Attitudinal or share-of-wallet columns absent here count as
            missing for every customer (flagged, re-weighted).

        Returns
        -------
        pandas.DataFrame
            Indexed like ``view``: ``loyalty`` (0-100),
            ``loyalty_behavioural`` and, when attitudinal components are used,
            ``loyalty_attitudinal`` (0-100 sub-indices over the available
            components of each kind; the latter NaN when the customer has no
            attitudinal data), ``loyalty_attitudinal_missing`` (bool: some
            attitudinal component used by the index is missing for the
            customer), ``loyalty_share_of_wallet_missing`` (bool, when used),
            then ``loyalty_<component>`` (0-100, NaN where missing) and
            ``loyalty_weight_<component>`` (weights used, summing to 1 per
            customer) for every component in ``components_``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns (every problem listed).

        Examples
        --------
        >>> import pandas as pd
        >>> view = pd.DataFrame({"frequency": [0, 1, 3], "recency": [0.0, 2.0, 9.0],
        ...                      "T": [4.0, 10.0, 10.0], "tenure": [4.0, 10.0, 10.0],
        ...                      "n_products": [1, 1, 4], "last_nps": [None, 7.0, 10.0]})
        >>> index = LoyaltyIndex(weights={"csat": 0.0}).fit(view)
        >>> index.score(view)["loyalty"].round(2).tolist()
        [6.25, 40.0, 95.0]
        >>> index.score(view.loc[[1]])["loyalty"].round(2).tolist()
        [40.0]
        """
        check_is_fitted(self, "quantiles_")
        raw = self._raw(view, self.components_, "LoyaltyIndex.score")
        n = len(view)
        scores = {
            name: scale(raw[name], self.quantiles_[name], self.scaling, self.quantile_range)
            for name in self.components_
        }
        avail = {name: ~np.isnan(scores[name]) for name in self.components_}

        def combine(names: tuple[str, ...]) -> tuple[F, dict[str, F]]:
            total = np.zeros(n)
            for name in names:
                total = total + np.where(avail[name], self.weights_[name], 0.0)
            shares: dict[str, F] = {}
            value = np.zeros(n)
            for name in names:
                w = np.where(avail[name], self.weights_[name], 0.0)
                shares[name] = np.divide(w, total, out=np.zeros(n), where=total > 0)
                value = value + shares[name] * np.where(avail[name], scores[name], 0.0)
            return np.where(total > 0, value, np.nan), shares

        loyalty, shares = combine(self.components_)
        behavioural, _ = combine(tuple(c for c in self.components_ if c in BEHAVIOURAL))
        attitudinal_used = tuple(c for c in self.components_ if c in ATTITUDINAL)
        data: dict[str, Any] = {"loyalty": loyalty, "loyalty_behavioural": behavioural}
        if attitudinal_used:
            data["loyalty_attitudinal"] = combine(attitudinal_used)[0]
        missing = np.zeros(n, dtype=bool)
        for name in attitudinal_used:
            missing |= ~avail[name]
        data["loyalty_attitudinal_missing"] = missing
        if "share_of_wallet" in self.components_:
            data["loyalty_share_of_wallet_missing"] = ~avail["share_of_wallet"]
        for name in self.components_:
            data[f"loyalty_{name}"] = scores[name]
        for name in self.components_:
            data[f"loyalty_weight_{name}"] = shares[name]
        result: pd.DataFrame = pd.DataFrame(data, index=view.index)
        return result

    def transform(self, view: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``view`` with the :meth:`score` columns added (or replaced).

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view.

        Returns
        -------
        pandas.DataFrame
            New frame; ``view`` is not modified.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns.

        Examples
        --------
        >>> import pandas as pd
        >>> view = pd.DataFrame({"frequency": [1, 3], "recency": [2.0, 9.0],
        ...                      "T": [10.0, 10.0], "tenure": [10.0, 10.0]})
        >>> out = LoyaltyIndex(weights={"breadth": 0, "nps": 0, "csat": 0}).fit(view).transform(
        ...     view)
        >>> "loyalty" in out.columns, "loyalty" in view.columns
        (True, False)
        """
        scores = self.score(view)
        kept = view.drop(columns=[c for c in scores.columns if c in view.columns])
        result: pd.DataFrame = pd.concat([kept, scores], axis=1)
        return result

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "quantiles_"):
            return None
        return {
            "components": self.components_,
            "weights": dict(self.weights_),
            "quantiles": dict(self.quantiles_),
            "n_customers": self.n_customers_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        components = tuple(str(c) for c in state["components"])
        unknown = [c for c in components if c not in COMPONENTS]
        if unknown:
            raise ModelFileError(f"unknown loyalty components {unknown}")
        self.components_ = components
        self.weights_ = {str(k): float(v) for k, v in state["weights"].items()}
        self.quantiles_ = {
            str(k): np.asarray(v, dtype=np.float64) for k, v in state["quantiles"].items()
        }
        missing = [c for c in components if c not in self.quantiles_ or c not in self.weights_]
        if missing:
            raise ModelFileError(f"no fitted scaling for components {missing}")
        self.n_customers_ = int(state["n_customers"])
