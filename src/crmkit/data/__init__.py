"""Records to customer view: column mapping, validation, summaries.

Examples
--------
>>> import pandas as pd
>>> from crmkit.data import summarize
>>> tx = pd.DataFrame({"customer_id": ["a", "a"], "date": ["2024-01-01", "2024-01-08"],
...                    "amount": [5.0, 7.0]})
>>> int(summarize(tx, as_of="2024-01-15").loc["a", "frequency"])
1
"""

from crmkit.data._columns import (
    RECORD_KINDS,
    RECORD_SCHEMAS,
    TIME_UNITS,
    VIEW_COLUMNS,
    ColumnMap,
    RoleSpec,
)
from crmkit.data._container import CustomerData, DroppedRows, ValidationReport
from crmkit.data._integrity import UnmatchedRows
from crmkit.data._split import calibration_holdout
from crmkit.data._sql import read_sql, read_sql_table
from crmkit.data._summarize import summarize
from crmkit.data._validate import as_timestamp, to_pandas, validate_frame

__all__ = [
    "RECORD_KINDS",
    "RECORD_SCHEMAS",
    "TIME_UNITS",
    "VIEW_COLUMNS",
    "ColumnMap",
    "CustomerData",
    "DroppedRows",
    "RoleSpec",
    "UnmatchedRows",
    "ValidationReport",
    "as_timestamp",
    "calibration_holdout",
    "read_sql",
    "read_sql_table",
    "summarize",
    "to_pandas",
    "validate_frame",
]
