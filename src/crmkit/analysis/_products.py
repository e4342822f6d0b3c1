"""Customer x product (and customer x anything) pivots of the transactions.

The recommenders work on :func:`sparse_product_matrix`: a
``scipy.sparse`` CSR matrix holding only the pairs a customer bought, so
memory grows with the transactions, never with customers x products.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crmkit.analysis._inputs import frame_of
from crmkit.data import CustomerData
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["PurchaseMatrix", "level_codes", "pivot_sum", "product_matrix", "sparse_product_matrix"]

_VALUES = ("binary", "count", "revenue", "quantity")


def level_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and levels of a column (category order, else sorted).

    Parameters
    ----------
    values : Series
        Without missing values.

    Returns
    -------
    codes : ndarray of int64
    levels : Index

    Examples
    --------
    >>> codes, levels = level_codes(pd.Series(["b", "a", "b"]))
    >>> codes.tolist(), levels.tolist()
    ([1, 0, 1], ['a', 'b'])
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        # drop the unused categories in linear time (pandas' remove_unused_categories sorts)
        raw = np.asarray(values.cat.codes, dtype=np.int64)
        categories = values.cat.categories
        used = np.bincount(raw[raw >= 0], minlength=len(categories)) > 0
        if used.all():
            return raw, pd.Index(categories)
        new_code = np.cumsum(used) - 1
        codes = np.where(raw >= 0, new_code[raw], -1)
        return codes, pd.Index(categories[used])
    codes_raw, uniques = pd.factorize(values, sort=True)
    return np.asarray(codes_raw, dtype=np.int64), pd.Index(uniques)


def pivot_sum(
    rows: pd.Series, columns: pd.Series, weights: np.ndarray, *, row_name: str, column_name: str
) -> pd.DataFrame:
    """Sum ``weights`` over every (row, column) pair: a dense pivot table.

    Parameters
    ----------
    rows, columns : Series
        Keys of each record, without missing values.
    weights : ndarray of float
        What to add up per record.
    row_name, column_name : str
        Names of the index and the columns.

    Returns
    -------
    DataFrame
        Rows and columns in category order (else sorted); 0 where a pair has
        no records.

    Examples
    --------
    >>> pivot_sum(pd.Series([1, 1, 2]), pd.Series(["x", "y", "x"]), np.array([1.0, 2.0, 3.0]),
    ...           row_name="customer_id", column_name="product")
    product        x    y
    customer_id
    1            1.0  2.0
    2            3.0  0.0
    """
    r, r_levels = level_codes(rows)
    c, c_levels = level_codes(columns)
    n_r, n_c = len(r_levels), len(c_levels)
    flat = np.bincount(r * n_c + c, weights=weights, minlength=n_r * n_c)
    result: pd.DataFrame = pd.DataFrame(
        flat.reshape(n_r, n_c),
        index=pd.Index(r_levels, name=row_name),
        columns=pd.Index(c_levels, name=column_name),
        copy=False,
    )
    return result


def product_matrix(
    data: CustomerData | pd.DataFrame, values: str = "count", *, sparse: bool = False
) -> pd.DataFrame:
    """The customer x product matrix of the transactions.

    Parameters
    ----------
    data : CustomerData or DataFrame
        Validated records, or a transactions frame with the canonical
        columns ``customer_id``, ``product``, ``amount`` (and ``quantity``
        for ``values="quantity"``).
    values : {"count", "binary", "revenue", "quantity"}, default="count"
        ``"count"``: purchase lines (lines with a positive amount; refunds
        are not purchases); ``"binary"``: 1 when the customer bought the
        product at least once, else 0; ``"revenue"``: net amount (refunds
        subtract); ``"quantity"``: units.
    sparse : bool, default=False
        Return columns of pandas' ``Sparse`` dtype (fill value 0), built
        from a ``scipy.sparse`` matrix: memory grows with the transactions,
        not with customers x products (use it for large catalogues;
        :meth:`DataFrame.sparse.to_coo` gives the scipy matrix).

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted), one column per product (category
        order, else sorted); integers for ``count``/``binary``, floats
        otherwise; 0 where the customer has no line of the product.

    Raises
    ------
    SchemaError
        When the transactions lack a needed column, or every line lacks a
        product.
    InvalidParameterError
        For another ``values``.

    Warns
    -----
    DataWarning
        When lines without a product are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 2], "product": ["ink", "paper", "ink", "ink"],
    ...                    "amount": [10.0, 5.0, 8.0, -8.0]})
    >>> product_matrix(tx)
    product      ink  paper
    customer_id
    1              1      1
    2              1      0
    >>> product_matrix(tx, values="revenue")
    product       ink  paper
    customer_id
    1            10.0    5.0
    2             0.0    0.0
    """
    tx, weights = _weights(data, values)
    if sparse:
        pm = _sparse_from(tx, weights, values)
        matrix = pm.matrix.astype(np.int64) if values in ("count", "binary") else pm.matrix
        accessor: Any = pd.DataFrame.sparse
        frame: pd.DataFrame = accessor.from_spmatrix(
            matrix,
            index=pd.Index(pm.customers, name="customer_id"),
            columns=pd.Index(pm.products, name="product"),
        )
        if len(frame.columns) and pd.isna(frame.dtypes.iloc[0].fill_value):
            # pandas 3.0.0 gives float matrices a NaN fill value: build the columns one by one
            csc = matrix.tocsc()
            columns = [
                pd.arrays.SparseArray.from_spmatrix(csc[:, [j]]) for j in range(csc.shape[1])
            ]
            frame = pd.DataFrame(dict(enumerate(columns)), index=frame.index)
            frame.columns = pd.Index(pm.products, name="product")
        return frame
    out = pivot_sum(
        tx["customer_id"], tx["product"], weights, row_name="customer_id", column_name="product"
    )
    if values == "binary":
        result: pd.DataFrame = (out > 0).astype(np.int64)
        return result
    if values == "count":
        result = out.astype(np.int64)
        return result
    return out


def _weights(data: CustomerData | pd.DataFrame, values: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The transactions with a product and what each line adds to its cell."""
    if values not in _VALUES:
        raise InvalidParameterError(
            "The 'values' parameter of product_matrix must be one of {'binary', 'count', "
            f"'quantity', 'revenue'}}. Got {values!r} instead."
        )
    needed = ["customer_id", "product", "amount"] + (["quantity"] if values == "quantity" else [])
    tx = frame_of(data, "transactions", "product_matrix", needed)
    no_product = tx["product"].isna().to_numpy()
    if no_product.all():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="transactions",
                    column="product",
                    check="has no values; product_matrix needs products",
                )
            ]
        )
    if no_product.any():
        warnings.warn(
            f"product_matrix: {int(no_product.sum())} transaction lines without a product "
            f"left out (first rows {tx.index[no_product][:5].tolist()})",
            DataWarning,
            stacklevel=3,
        )
        tx = tx.loc[~no_product]
    amount = tx["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    if values in ("count", "binary"):
        weights = (amount > 0).astype(np.float64)
    elif values == "revenue":
        weights = np.nan_to_num(amount, nan=0.0)
    else:
        weights = tx["quantity"].to_numpy(dtype=np.float64, na_value=0.0)
    return tx, weights


class PurchaseMatrix(NamedTuple):
    """A sparse customer x product matrix with its labels.

    Attributes
    ----------
    matrix : scipy.sparse.csr_array of float64, shape (n_customers, n_products)
        Canonical CSR (sorted column indices, no duplicates, no stored zeros).
    customers : Index
        Row labels (sorted customer ids; every customer with a product line,
        also one whose cells are all 0).
    products : Index
        Column labels (category order, else sorted).
    """

    matrix: sp.csr_array
    customers: pd.Index
    products: pd.Index


def _cells(key: np.ndarray, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct cell keys (ascending) and each record's position among them.

    Linear time: a dense count over the key space where that is no larger
    than twice the records, else a hash factorisation (only the distinct
    cells are sorted). The same as ``np.unique(key, return_inverse=True)``.
    """
    if n_cells <= 2 * len(key) + 1024:
        present = np.bincount(key, minlength=n_cells) > 0
        cells = np.flatnonzero(present)
        small = np.int32 if len(cells) < 2**31 else np.int64  # half the memory to gather from
        position = np.cumsum(present, dtype=small)
        position -= 1
        return cells, position[key]
    codes, uniques = pd.factorize(key, sort=False)
    order = np.argsort(uniques)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return np.asarray(uniques)[order], rank[codes]


def _sparse_from(tx: pd.DataFrame, weights: np.ndarray, values: str) -> PurchaseMatrix:
    r, r_levels = level_codes(tx["customer_id"])
    c, c_levels = level_codes(tx["product"])
    n_r, n_c = len(r_levels), len(c_levels)
    # one key per cell, sorted row-major; bincount sums each cell in record
    # order (the very sums of the dense pivot)
    cells, inverse = _cells(r * n_c + c, n_r * n_c)
    sums = np.bincount(inverse, weights=weights, minlength=len(cells))
    if values == "binary":
        sums = (sums > 0).astype(np.float64)
    keep = sums != 0
    cells, sums = cells[keep], sums[keep]
    rows = cells // n_c
    indptr = np.zeros(n_r + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_r), out=indptr[1:])
    matrix = sp.csr_array(
        (sums.astype(np.float64), (cells % n_c).astype(np.int64), indptr), shape=(n_r, n_c)
    )
    return PurchaseMatrix(matrix, pd.Index(r_levels), pd.Index(c_levels))


def sparse_product_matrix(
    data: CustomerData | pd.DataFrame, values: str = "binary"
) -> PurchaseMatrix:
    """The customer x product matrix as a sparse CSR matrix with its labels.

    The same numbers as :func:`product_matrix` (summed in the same order),
    but only the non-zero cells are stored: memory grows with the
    transactions, not with customers x products.

    Parameters
    ----------
    data : CustomerData or DataFrame
        Validated records or a transactions frame (see :func:`product_matrix`).
    values : {"binary", "count", "revenue", "quantity"}, default="binary"
        What a cell holds (see :func:`product_matrix`).

    Returns
    -------
    PurchaseMatrix
        ``matrix`` (CSR, float64), ``customers`` and ``products``.

    Raises
    ------
    SchemaError
        When the transactions lack a needed column, or every line lacks a
        product.
    InvalidParameterError
        For another ``values``.

    Warns
    -----
    DataWarning
        When lines without a product are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [2, 1, 1], "product": ["ink", "ink", "paper"],
    ...                    "amount": [8.0, 10.0, 5.0]})
    >>> pm = sparse_product_matrix(tx)
    >>> pm.matrix.toarray().tolist(), pm.customers.tolist(), pm.products.tolist()
    ([[1.0, 1.0], [1.0, 0.0]], [1, 2], ['ink', 'paper'])
    """
    tx, weights = _weights(data, values)
    return _sparse_from(tx, weights, values)
