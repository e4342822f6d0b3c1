"""The pieces of the ``crmkit`` command line (see :mod:`crmkit.cli`).

Examples
--------
>>> from crmkit._cli import COMMANDS
>>> sorted(COMMANDS)
['assess', 'fit', 'report', 'summarize']
"""

from crmkit._cli._commands import COMMANDS, MODELS, add_commands, parse_playbook_spec
from crmkit._cli._data import Loaded, add_data_arguments, load_records
from crmkit._cli._io import InputError, read_mapping, read_table, write_table
from crmkit._cli._main import ArgumentError, OneLineParser, execute, one_line
from crmkit._cli._progress import Progress

__all__ = [
    "COMMANDS",
    "MODELS",
    "ArgumentError",
    "InputError",
    "Loaded",
    "OneLineParser",
    "Progress",
    "add_commands",
    "add_data_arguments",
    "execute",
    "load_records",
    "one_line",
    "parse_playbook_spec",
    "read_mapping",
    "read_table",
    "write_table",
]
