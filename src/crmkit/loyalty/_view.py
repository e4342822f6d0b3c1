"""Reading customer-view columns for the loyalty index, listing every problem."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._checks import first_labels as _first
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["ViewReader"]

F = npt.NDArray[np.float64]


class ViewReader:
    """Read numeric view columns as float arrays; collect every problem, then raise once.

    Parameters
    ----------
    view : object
        The candidate customer view (a DataFrame indexed by customer id).
    who : str
        The caller, for messages (``"LoyaltyIndex.fit"``).

    Attributes
    ----------
    view : DataFrame
        The view (never modified).
    fails : list of SchemaFailure
        Problems found so far.

    Raises
    ------
    SchemaError
        At once when ``view`` is not a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> r = ViewReader(pd.DataFrame({"T": [1.0, -2.0]}, index=["a", "b"]), "demo")
    >>> _ = r.column("T"), r.column("tenure")
    >>> r.done()
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 2 problems in the input:
      - view['T']: must be finite and >= 0 (1 row; rows ['b']; values [-2.0])
      - view['tenure']: is missing (required by demo)
    """

    def __init__(self, view: Any, who: str) -> None:
        if not isinstance(view, pd.DataFrame):
            raise SchemaError([SchemaFailure(
                frame="view", column="<frame>",
                check=f"is not a pandas DataFrame (got {type(view).__name__}); "
                f"{who} reads a customer view")])  # fmt: skip
        self.view: pd.DataFrame = view
        self.who = who
        self.fails: list[SchemaFailure] = []
        if not view.index.is_unique:
            dup = np.asarray(view.index.duplicated(keep=False))
            self.fails.append(SchemaFailure(frame="view", column="<index>",
                                            check="has duplicate customer ids",
                                            n_failing=int(dup.sum()),
                                            rows=_first(view.index, dup)))  # fmt: skip

    def _add(self, name: str, text: str, mask: npt.NDArray[np.bool_], values: F) -> None:
        self.fails.append(SchemaFailure(frame="view", column=name, check=text,
                                        n_failing=int(mask.sum()),
                                        rows=_first(self.view.index, mask),
                                        values=tuple(values[mask][:5].tolist())))  # fmt: skip

    def column(
        self,
        name: str,
        *,
        nullable: bool = False,
        integer: bool = False,
        bounds: tuple[float, float] = (0.0, math.inf),
    ) -> F:
        """Read one column: numeric, finite, within ``bounds`` (NaN only if ``nullable``).

        Parameters
        ----------
        name : str
            The column.
        nullable : bool, default=False
            Whether missing values are allowed (they stay NaN).
        integer : bool, default=False
            Whether values must be whole numbers.
        bounds : (float, float), default=(0, inf)
            Inclusive range of the values.

        Returns
        -------
        ndarray of shape (n_customers,)
            float64 copy (zeros when the column cannot be read; the problem
            is recorded).

        Examples
        --------
        >>> import pandas as pd
        >>> r = ViewReader(pd.DataFrame({"nps": [3.0, None]}), "demo")
        >>> r.column("nps", nullable=True, bounds=(0, 10)).tolist()
        [3.0, nan]
        """
        n = len(self.view)
        if name not in self.view.columns:
            self.fails.append(
                SchemaFailure(
                    frame="view", column=name, check=f"is missing (required by {self.who})"
                )
            )
            return np.zeros(n)
        selected: object = self.view[name]
        if not isinstance(selected, pd.Series):
            self.fails.append(
                SchemaFailure(frame="view", column=name, check="appears more than once")
            )
            return np.zeros(n)
        if selected.dtype.kind == "b" or not pd.api.types.is_numeric_dtype(selected.dtype):
            self.fails.append(SchemaFailure(frame="view", column=name,
                                            check=f"must be numeric, got dtype {selected.dtype}",
                                            n_failing=n,
                                            rows=tuple(selected.index[:5].tolist())))  # fmt: skip
            return np.zeros(n)
        x = selected.to_numpy(dtype=np.float64, na_value=np.nan)
        nan = np.isnan(x)
        if nan.any() and not nullable:
            self._add(name, "contains missing values", nan, x)
        low, high = bounds
        bad = ~nan & ~(np.isfinite(x) & (x >= low) & (x <= high))
        if bad.any():
            what = (f"must be in [{low:g}, {high:g}]" if math.isfinite(high)
                    else f"must be finite and >= {low:g}")  # fmt: skip
            self._add(name, what, bad, x)
        if integer:
            frac = ~nan & ~bad & (x != np.floor(np.where(np.isfinite(x), x, 0.0)))
            if frac.any():
                self._add(name, "must hold whole numbers", frac, x)
        return x

    def check(self, mask: npt.NDArray[np.bool_], name: str, text: str, values: F) -> None:
        """Record a problem of the rows in ``mask`` (nothing when none fail).

        Parameters
        ----------
        mask : ndarray of bool
            Failing rows.
        name : str
            The column.
        text : str
            What is wrong.
        values : ndarray
            The column's values (the first failing ones are shown).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> r = ViewReader(pd.DataFrame({"x": [1.0]}), "demo")
        >>> r.check(np.array([True]), "x", "is odd", np.array([1.0]))
        >>> r.fails[0].describe()
        "view['x']: is odd (1 row; rows [0]; values [1.0])"
        """
        if mask.any():
            self._add(name, text, mask, values)

    def done(self) -> None:
        """Raise one SchemaError listing every problem recorded, if any.

        Raises
        ------
        SchemaError

        Examples
        --------
        >>> import pandas as pd
        >>> ViewReader(pd.DataFrame({"x": [1.0]}), "demo").done()
        """
        if self.fails:
            raise SchemaError(self.fails)
