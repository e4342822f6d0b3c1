"""SklearnChurn: any scikit-learn classifier as a churn detector (not saved)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit._estimator import clone as crmkit_clone
from crmkit._params import (
    Constraint,
    Interval,
    Predicate,
    column_names,
    parameter_error,
    validate_params,
)
from crmkit.churn._common import (
    LABELS,
    check_churn_view,
    check_labels,
    format_reasons,
    score_frame,
)
from crmkit.churn._features import FeatureMap, default_log_columns
from crmkit.churn._logistic import DEFAULT_CHURN_COLUMNS
from crmkit.exceptions import ModelFileError
from crmkit.plugins import CHURN_SCORE_COLUMNS, PluginBase

if TYPE_CHECKING:
    import os
    from pathlib import Path

    from typing_extensions import Self

__all__ = ["SklearnChurn"]


_REFUSAL = (
    "SklearnChurn cannot be saved: a general scikit-learn estimator can only be stored with "
    "pickle, which crmkit does not use; keep its parameters and refit it, or use "
    "LogisticChurn, which saves as JSON"
)


def _is_classifier(value: Any) -> bool:
    return all(callable(getattr(value, m, None)) for m in ("fit", "predict_proba", "get_params"))


def _clone(estimator: Any) -> Any:
    """A new unfitted estimator with the same parameters (scikit-learn's ``clone``)."""
    try:
        from sklearn.base import clone  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:  # the scikit-learn estimator protocol, without scikit-learn
        return crmkit_clone(estimator)
    return clone(estimator)


class SklearnChurn(PluginBase):
    """Adapter: a scikit-learn classifier scores churn on standardised view columns.

    The view columns are prepared as in :class:`LogisticChurn` (signed log
    scale for skewed columns, standardisation, missing-value indicators) and
    passed to a clone of ``estimator``, fitted on the churn labels;
    ``churn_risk`` is its ``predict_proba`` for the churn class. Its single
    signal, ``model``, equals the risk (an arbitrary classifier offers no
    additive explanation); ``reasons`` reads ``"model (0.83)"`` above
    ``min_contribution``.

    scikit-learn is optional: it is imported only to clone the estimator
    (any object following its estimator protocol, ``get_params``/``fit``/
    ``predict_proba``, works without it).

    Parameters
    ----------
    estimator : object
        An unfitted scikit-learn classifier (never fitted itself: ``fit``
        fits a clone).
    columns : tuple of str, optional
        Numeric or bool view columns; default
        :data:`crmkit.churn.DEFAULT_CHURN_COLUMNS`.
    log_columns : tuple of str, optional
        Columns on the signed log scale; default the skewed ones.
    min_contribution : float, default=0.05
        Smallest risk listed in ``reasons``.

    Attributes
    ----------
    estimator_ : object
        The fitted clone.
    features_ : FeatureMap
        The column preparation.
    churn_class_ : int
        Column of ``predict_proba`` holding the churn class.

    Notes
    -----
    Not saved: a general scikit-learn estimator can only be stored with
    pickle, which crmkit never uses (a pickle can run code when loaded).
    ``to_dict`` and ``save`` raise :class:`~crmkit.exceptions.ModelFileError`;
    refit the adapter instead. For the same reason it is not one of the
    registry's built-in churn detectors.

    Examples
    --------
    >>> class Rate:  # a minimal classifier following the scikit-learn protocol
    ...     def get_params(self, deep=True):
    ...         return {}
    ...     def fit(self, X, y):
    ...         self.classes_ = np.array([False, True])
    ...         self.p_ = float(np.mean(y))
    ...         return self
    ...     def predict_proba(self, X):
    ...         return np.column_stack([np.full(len(X), 1 - self.p_), np.full(len(X), self.p_)])
    >>> view = pd.DataFrame({"last_nps": [3.0, 9.0, 8.0, 2.0]},
    ...                     index=pd.Index(list("abcd"), name="customer_id"))
    >>> y = pd.Series([True, False, False, False], index=view.index)
    >>> SklearnChurn(Rate(), columns=("last_nps",)).fit(view, y).score(view)["churn_risk"].tolist()
    [0.25, 0.25, 0.25, 0.25]
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "estimator": [Predicate(_is_classifier, "a classifier with fit, predict_proba and "
                                "get_params (scikit-learn's protocol)")],
        "columns": [column_names(), None],
        "log_columns": [
            column_names(allow_empty=True),
            None,
        ],
        "min_contribution": [Interval("float", 0, 1)],
    }  # fmt: skip

    def __init__(
        self,
        estimator: Any,
        *,
        columns: tuple[str, ...] | None = None,
        log_columns: tuple[str, ...] | None = None,
        min_contribution: float = 0.05,
    ) -> None:
        self.estimator = estimator
        self.columns = columns
        self.log_columns = log_columns
        self.min_contribution = min_contribution

    def _columns(self) -> tuple[str, ...]:
        columns = self._validated("columns")
        return DEFAULT_CHURN_COLUMNS if columns is None else tuple(columns)

    @property
    def requires(self) -> tuple[str, ...]:
        """The view columns passed to the classifier.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> SklearnChurn(None, columns=("last_nps",)).requires
        ('last_nps',)
        """
        return self._columns()

    @property
    def provides(self) -> tuple[str, ...]:
        """``churn_risk``, ``reasons`` and ``signal_model``.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> SklearnChurn(None).provides
        ('churn_risk', 'reasons', 'signal_model')
        """
        return (*CHURN_SCORE_COLUMNS, "signal_model")

    def _check_view(self, view: pd.DataFrame, who: str) -> pd.DataFrame:
        return check_churn_view(view, f"SklearnChurn.{who}", self._columns())

    def fit(self, view: pd.DataFrame, y: pd.Series | None = None) -> Self:
        """Fit a clone of the classifier to the churn labels.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.
        y : pandas.Series of bool
            Whether each customer churned (required).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters, without ``y``, or when the fitted
            classifier has no churn class.
        SchemaError
            For missing or non-numeric columns or bad labels.

        Examples
        --------
        See :class:`SklearnChurn`.
        """
        self._validate_params()
        validate_params("SklearnChurn.fit", {"y": y}, {"y": [LABELS]})
        view = self._check_view(view, "fit")
        labels = check_labels(y, view, "SklearnChurn.fit")
        cols = self._columns()
        logs = default_log_columns(cols) if self.log_columns is None else tuple(self.log_columns)
        features = FeatureMap.fit(view, cols, logs)
        estimator = _clone(self.estimator)
        estimator.fit(features.design(view), labels)
        classes = [bool(c) for c in np.asarray(getattr(estimator, "classes_", [False, True]))]
        if True not in classes:
            raise parameter_error(
                "SklearnChurn.fit",
                "y",
                "labels with churned customers (the classifier saw none: classes_ lacks True)",
                classes,
            )
        self.estimator_ = estimator
        self.features_ = features
        self.churn_class_ = classes.index(True)
        return self

    def score(self, view: pd.DataFrame) -> pd.DataFrame:
        """Score each customer with the classifier's churn probability.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``view``: ``churn_risk``, ``reasons`` and
            ``signal_model`` (equal to the risk).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or non-numeric columns.

        Examples
        --------
        See :class:`SklearnChurn`.
        """
        check_is_fitted(self, "estimator_")
        view = self._check_view(view, "score")
        proba = np.asarray(self.estimator_.predict_proba(self.features_.design(view)))
        risk = np.clip(np.asarray(proba[:, self.churn_class_], dtype=np.float64), 0.0, 1.0)
        reasons = format_reasons(risk[:, None], ["model"], minimum=float(self.min_contribution))
        return score_frame(view.index, risk, reasons, {"model": risk})

    def to_dict(self) -> dict[str, Any]:
        """Refuse: an arbitrary scikit-learn estimator cannot be saved without pickle.

        Returns
        -------
        dict
            Never; always raises.

        Raises
        ------
        ModelFileError
            Always.

        Examples
        --------
        >>> SklearnChurn(None).to_dict()
        Traceback (most recent call last):
        ...
        crmkit.exceptions.ModelFileError: SklearnChurn cannot be saved: ...
        """
        raise ModelFileError(_REFUSAL)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Refuse, like :meth:`to_dict`.

        Parameters
        ----------
        path : str or path-like
            Ignored.

        Returns
        -------
        pathlib.Path
            Never; always raises.

        Raises
        ------
        ModelFileError
            Always.

        Examples
        --------
        >>> SklearnChurn(None).save("model.json")
        Traceback (most recent call last):
        ...
        crmkit.exceptions.ModelFileError: SklearnChurn cannot be saved: ...
        """
        raise ModelFileError(_REFUSAL)
