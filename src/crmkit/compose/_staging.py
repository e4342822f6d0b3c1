"""The stager step of a playbook: stage, status and reasons from any stager."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from crmkit._vocab import ACTIVE, STAGE_REASONS_COLUMN, STAGES, STATUSES
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["STAGE_DTYPE", "STATUS_DTYPE", "stager_columns"]

#: Categorical dtype of the playbook's ``stage`` column.
STAGE_DTYPE = pd.CategoricalDtype(categories=list(STAGES), ordered=False)

#: Categorical dtype of the playbook's ``status`` column.
STATUS_DTYPE = pd.CategoricalDtype(categories=list(STATUSES), ordered=False)

_STR = pd.array([], dtype="str").dtype


def _known(values: Any, allowed: tuple[str, ...]) -> pd.Categorical | None:
    """A categorical column's labels recoded to ``allowed`` (None when one is not allowed)."""
    if not isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        return None
    given = pd.Categorical(values)
    to_allowed = pd.Index(list(allowed), dtype=object).get_indexer(given.categories.astype(object))
    codes = np.where(given.codes < 0, -1, to_allowed[given.codes])
    if (codes < 0).any():
        return None
    recoded: Any = pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(allowed))
    return cast("pd.Categorical", recoded)


def _labels(
    values: Any, allowed: tuple[str, ...], column: str, owner: str, index: pd.Index
) -> pd.Categorical:
    known = _known(values, allowed)
    if known is not None and len(known) == len(index):
        return known
    raw = pd.Series(np.asarray(values, dtype=object), index=index).astype(object)
    bad = ~raw.isin(list(allowed)).to_numpy()
    if bad.any():
        hint = (
            "; 'lapsed' is a status: give it in a 'status' column (see crmkit.plugins.Stager)"
            if column == "stage" and "lapsed" in set(raw[bad].tolist())
            else ""
        )
        raise SchemaError(
            [
                SchemaFailure(
                    frame="stager output",
                    column=column,
                    check=f"holds labels {owner} may not give ({', '.join(allowed)} allowed){hint}",
                    n_failing=int(bad.sum()),
                    rows=tuple(index[bad][:5].tolist()),
                    values=tuple(raw[bad][:5].tolist()),
                )
            ]
        )
    return pd.Categorical(raw.to_numpy(), categories=list(allowed))


def stager_columns(stager: Any, view: pd.DataFrame) -> dict[str, Any]:
    """Run a stager on a view: ``stage``, ``status`` and ``stage_reasons``.

    A stager with ``stage_frame`` (crmkit's own) gives all three; for one
    with only ``stage`` every customer is ``"active"`` and the reason names
    the stage and the stager. Missing ``status`` or ``stage_reasons``
    columns of a ``stage_frame`` are filled the same way.

    Parameters
    ----------
    stager : Stager
        A fitted stager.
    view : pandas.DataFrame
        The customer view.

    Returns
    -------
    dict of str to object
        ``stage`` (categorical :data:`crmkit.plugins.STAGES`), ``status``
        (categorical :data:`crmkit.plugins.STATUSES`), ``stage_reasons``
        (str), each of length ``len(view)``.

    Raises
    ------
    SchemaError
        When the stager gives a label outside the vocabulary (e.g. a stage
        ``"lapsed"``), naming the column, the rows and the values.

    Examples
    --------
    >>> class Everyone:
    ...     requires, provides = (), ("stage",)
    ...     def stage(self, view):
    ...         return pd.Series("development", index=view.index, name="stage")
    >>> out = stager_columns(Everyone(), pd.DataFrame(index=pd.Index([1, 2])))
    >>> out["status"].tolist(), out["stage_reasons"].tolist()[0]
    (['active', 'active'], 'development: staged by Everyone')
    """
    owner = type(stager).__name__
    index = view.index
    if callable(getattr(stager, "stage_frame", None)):
        frame = stager.stage_frame(view)
        stage_values = frame["stage"] if "stage" in frame.columns else stager.stage(view)
        status_values = frame["status"] if "status" in frame.columns else None
        reasons = frame[STAGE_REASONS_COLUMN] if STAGE_REASONS_COLUMN in frame.columns else None
    else:
        stage_values, status_values, reasons = stager.stage(view), None, None
    stage = _labels(stage_values, STAGES, "stage", owner, index)
    if status_values is None:
        status = pd.Categorical(np.full(len(index), ACTIVE, dtype=object), categories=STATUSES)
    else:
        status = _labels(status_values, STATUSES, "status", owner, index)
    if reasons is None:
        text = [f"{s}: staged by {owner}" for s in np.asarray(stage, dtype=object).tolist()]
    elif getattr(reasons, "dtype", None) == _STR and len(reasons) == len(index):
        text = pd.Series(reasons, copy=False).fillna("").array  # str already: only NaN to fill
    else:
        text = ["" if pd.isna(r) else str(r) for r in np.asarray(reasons, dtype=object)]
    return {
        "stage": pd.Series(stage, index=index, name="stage").astype(STAGE_DTYPE),
        "status": pd.Series(status, index=index, name="status").astype(STATUS_DTYPE),
        STAGE_REASONS_COLUMN: pd.Series(pd.array(text, dtype="str"), index=index),
    }
