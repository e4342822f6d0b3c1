"""Labels and reasons from any segmenter: its own reasons, or a generic one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmkit._params import Predicate, instance_of, validate_args
from crmkit.exceptions import InvalidParameterError
from crmkit.plugins import REASONS_SUFFIX
from crmkit.segmentation._text import pick

__all__ = ["explain_segments"]


def _generic(labels: pd.Series, owner: str) -> Any:
    codes, uniques = pd.factorize(labels.to_numpy(dtype=object), use_na_sentinel=False)
    texts = [f"{'missing' if pd.isna(u) else u}: assigned by {owner}" for u in uniques]
    return pick(texts, codes).array


def _check(part: object, what: str, owner: str, index: pd.Index) -> None:
    if not isinstance(part, (pd.Series, pd.DataFrame)) or not part.index.equals(index):
        raise InvalidParameterError(
            f"{owner}.{what} must return pandas data indexed like the view (the same "
            f"customer ids in the same order); got {type(part).__name__}"
        )


def _is_segmenter(segmenter: object) -> bool:
    provides = getattr(segmenter, "provides", None)
    return (
        not isinstance(segmenter, type)
        and callable(getattr(segmenter, "assign", None))
        and isinstance(provides, (tuple, list))
        and bool(provides)
    )


@validate_args(
    {
        "segmenter": [
            Predicate(_is_segmenter, "a fitted segmenter (an object with 'provides' and 'assign')")
        ],
        "view": [instance_of(pd.DataFrame, "a pandas DataFrame (a customer view)")],
    }
)
def explain_segments(segmenter: Any, view: pd.DataFrame) -> pd.DataFrame:
    """Each customer's segment and the reason for it, from any segmenter.

    Uses the segmenter's ``explain`` (labels and reasons in one pass) when it
    has one, else ``assign`` and its ``reasons``; a segmenter with neither
    gets the generic reason ``"<label>: assigned by <ClassName>"``.

    Parameters
    ----------
    segmenter : Segmenter
        A fitted segmenter (:class:`crmkit.plugins.Segmenter`).
    view : pandas.DataFrame
        Customer view with the segmenter's ``requires`` columns.

    Returns
    -------
    pandas.DataFrame
        Index ``view.index``; the labels (column ``provides[0]``, as
        ``assign`` returns them) and the reasons (column ``provides[0] +
        "_reasons"``, dtype ``"str"``).

    Raises
    ------
    NotFittedError
        Before the segmenter is fitted.
    SchemaError
        For a view the segmenter cannot read.
    InvalidParameterError
        When the segmenter's output is not indexed like the view.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.segmentation import DecileSegmenter
    >>> view = pd.DataFrame({"revenue": [5.0, 50.0]},
    ...                     index=pd.Index(["a", "b"], name="customer_id"))
    >>> seg = DecileSegmenter(n_groups=2, output_name="value_half").fit(view)
    >>> explain_segments(seg, view)["value_half_reasons"].tolist()
    ['2: revenue 5 (bottom 50 %, <= 27.5)', '1: revenue 50 (top 50 %, > 27.5)']
    >>> class Everyone(DecileSegmenter):
    ...     explain = reasons = None  # a segmenter that gives no reasons
    >>> explain_segments(Everyone(n_groups=2).fit(view), view)["segment_reasons"].tolist()
    ['2: assigned by Everyone', '1: assigned by Everyone']
    """
    name = str(segmenter.provides[0])
    reasons_name = f"{name}{REASONS_SUFFIX}"
    owner = type(segmenter).__name__
    explain = getattr(segmenter, "explain", None)
    if callable(explain):
        frame = explain(view)
        _check(frame, "explain", owner, view.index)
        missing = [c for c in (name, reasons_name) if c not in frame.columns]
        if missing:
            raise InvalidParameterError(
                f"{owner}.explain must return the columns {[name, reasons_name]}; "
                f"{missing} are missing"
            )
        result: pd.DataFrame = frame[[name, reasons_name]]
        return result
    labels = segmenter.assign(view)
    _check(labels, "assign", owner, view.index)
    give = getattr(segmenter, "reasons", None)
    if callable(give):
        given = give(view)
        _check(given, "reasons", owner, view.index)
        reasons = pd.array(np.asarray(given.to_numpy(dtype=object)), dtype="str")
    else:
        reasons = _generic(labels, owner)
    out: pd.DataFrame = pd.DataFrame({name: labels.array, reasons_name: reasons}, index=view.index)
    return out
