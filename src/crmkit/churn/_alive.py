"""AliveChurn: churn risk as 1 - P(alive) of a purchase model."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit._params import Constraint, Interval, Predicate
from crmkit.churn._common import check_labels, format_reasons, score_frame
from crmkit.exceptions import ConvergenceError, DataWarning, ModelFileError, SchemaError
from crmkit.plugins import CHURN_SCORE_COLUMNS, PluginBase, validate_view

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AliveChurn", "FALLBACK_BG_PARAMS"]

#: BG/NBD parameters used when the view cannot identify the model (a single
#: customer, no repeat buyers, a fit that runs to the edge of the parameter
#: space): the CDNOW estimates of Fader, Hardie & Lee (2005), in weeks.
FALLBACK_BG_PARAMS: dict[str, float] = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

_COLUMNS = ("frequency", "recency", "T")


def _has_p_alive(value: Any) -> bool:
    return callable(getattr(value, "p_alive", None))


class AliveChurn(PluginBase):
    """Churn risk = 1 - P(alive) from a purchase model of :mod:`crmkit.value`.

    A customer who has stopped buying for good cannot be seen directly in
    non-contractual data; purchase models such as the BG/NBD or the
    Pareto/NBD give the probability that the customer is still active given
    ``frequency``, ``recency`` and ``T``. This detector turns it into a churn
    risk: ``churn_risk = 1 - p_alive``. Its single signal, ``dropout``,
    equals the risk; ``reasons`` reads ``"dropout (0.83)"`` when the risk
    exceeds ``min_contribution``.

    Parameters
    ----------
    model : object, optional
        A fitted model with a ``p_alive(view)`` method
        (:class:`crmkit.value.BetaGeo`, :class:`crmkit.value.ParetoNBD` ...),
        used as it is (never refitted). None fits a BG/NBD on the view in
        ``fit``; when the view cannot identify it (a single customer, no
        repeat buyers, a fit that fails) the parameters
        :data:`FALLBACK_BG_PARAMS` are used instead, with a
        :class:`~crmkit.exceptions.DataWarning`.
    penalizer : float, default=0.01
        L2 penalty of the BG/NBD fitted when ``model`` is None.
    min_contribution : float, default=0.05
        Smallest risk listed in ``reasons``.

    Attributes
    ----------
    model_ : object
        The purchase model used (``model``, or the fitted BG/NBD).
    fallback_ : bool
        Whether the fallback parameters were used.

    Notes
    -----
    Labels given to ``fit`` are checked but not used. Saving works when the
    model is a crmkit model: it is stored as a nested model (its parameters,
    never customer data).

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your
    customers" the easy way: an alternative to the Pareto/NBD model.
    Marketing Science, 24(2), 275-284.

    Examples
    --------
    >>> from crmkit.value import BetaGeo
    >>> bg = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> view = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 30.0], "T": [38.0, 38.0]},
    ...                     index=pd.Index(["a", "b"], name="customer_id"))
    >>> out = AliveChurn(model=bg).fit(view).score(view)
    >>> out[["churn_risk", "reasons"]]
                 churn_risk         reasons
    customer_id
    a                  0.00
    b                  0.27  dropout (0.27)
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "model": [Predicate(_has_p_alive, "a fitted model with a p_alive method"), None],
        "penalizer": [Interval("float", 0, None)],
        "min_contribution": [Interval("float", 0, 1)],
    }

    def __init__(
        self, *, model: Any = None, penalizer: float = 0.01, min_contribution: float = 0.05
    ) -> None:
        self.model = model
        self.penalizer = penalizer
        self.min_contribution = min_contribution

    @property
    def requires(self) -> tuple[str, ...]:
        """``frequency``, ``recency`` and ``T``.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> AliveChurn().requires
        ('frequency', 'recency', 'T')
        """
        return _COLUMNS

    @property
    def provides(self) -> tuple[str, ...]:
        """``churn_risk``, ``reasons`` and ``signal_dropout``.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> AliveChurn().provides
        ('churn_risk', 'reasons', 'signal_dropout')
        """
        return (*CHURN_SCORE_COLUMNS, "signal_dropout")

    def _check_view(self, view: pd.DataFrame, who: str) -> pd.DataFrame:
        return validate_view(view, f"AliveChurn.{who}", required=_COLUMNS, numeric=_COLUMNS)

    def fit(self, view: pd.DataFrame, y: pd.Series | None = None) -> Self:
        """Fit the BG/NBD (unless a model was given) and check the model scores the view.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with ``frequency``, ``recency`` and ``T``.
        y : pandas.Series of bool, optional
            Churn labels; checked, not used.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters.
        SchemaError
            For missing or invalid columns or bad labels.
        NotFittedError
            When ``model`` is not fitted.

        Warns
        -----
        DataWarning
            When the fallback parameters replace a BG/NBD fit.

        Examples
        --------
        See :class:`AliveChurn`.
        """
        self._validate_params()
        view = self._check_view(view, "fit")
        if y is not None:
            check_labels(y, view, "AliveChurn.fit")
        from crmkit.value import BetaGeo

        fallback = False
        model: Any = self.model
        if model is None:
            try:
                model = BetaGeo(penalizer=self.penalizer).fit(view)
            except (SchemaError, ConvergenceError) as exc:
                warnings.warn(
                    "AliveChurn: a BG/NBD cannot be fitted on this view "
                    f"({type(exc).__name__}: {str(exc).splitlines()[-1].strip()}); using the "
                    "fallback parameters FALLBACK_BG_PARAMS instead",
                    DataWarning,
                    stacklevel=2,
                )
                model = BetaGeo.from_params(**FALLBACK_BG_PARAMS)
                fallback = True
        if len(view):
            model.p_alive(view.iloc[:1])  # fails early for an unfitted model
        self.model_ = model
        self.fallback_ = fallback
        return self

    def score(self, view: pd.DataFrame) -> pd.DataFrame:
        """Score each customer: ``churn_risk = 1 - p_alive``.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with ``frequency``, ``recency`` and ``T``.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``view``: ``churn_risk``, ``reasons`` and
            ``signal_dropout`` (equal to the risk).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns.

        Examples
        --------
        See :class:`AliveChurn`.
        """
        check_is_fitted(self, "model_")
        view = self._check_view(view, "score")
        p_alive = np.asarray(self.model_.p_alive(view), dtype=np.float64)
        risk = np.clip(1.0 - p_alive, 0.0, 1.0)
        reasons = format_reasons(risk[:, None], ["dropout"], minimum=float(self.min_contribution))
        return score_frame(view.index, risk, reasons, {"dropout": risk})

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "model_"):
            return None
        return {"model": self.model_, "fallback": self.fallback_}

    def _set_state(self, state: dict[str, Any]) -> None:
        model = state["model"]
        if not _has_p_alive(model):
            raise ModelFileError(
                "malformed fitted state for AliveChurn: 'model' must be a purchase model "
                f"with a p_alive method; got {type(model).__name__}"
            )
        self.model_ = model
        self.fallback_ = bool(state["fallback"])
