"""The shared vocabulary of crmkit: lifecycle stages, statuses and their columns.

Part of the kernel (layer 0): every layer may import it, and nothing else
defines these names. :mod:`crmkit.domain` builds its
:class:`~crmkit.domain.LifecycleStage` and :class:`~crmkit.domain.CustomerStatus`
enums from them; :mod:`crmkit.plugins` re-exports :data:`STAGES` and
:data:`STATUSES` as the categories of a stager's output.

A customer's **stage** says where the customership stands in its life
(Mäntyneva's four stages); its **status** says whether it is still going on.
A lapsed customer keeps its stage (a one-time buyer that never came back is
*onboarding, lapsed*; a lost regular is *development* or *retention,
lapsed*), so stage and status are two columns, never one.

Examples
--------
>>> from crmkit._vocab import STAGES, STATUSES
>>> STAGES
('acquisition', 'onboarding', 'development', 'retention')
>>> STATUSES
('active', 'lapsed')
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "ACTIVE",
    "LAPSED",
    "STAGER_COLUMNS",
    "STAGES",
    "STAGE_COLUMN",
    "STAGE_REASONS_COLUMN",
    "STATUSES",
    "STATUS_COLUMN",
    "UNIT_NAMES",
]

#: The four lifecycle stages, in lifecycle order.
STAGES: tuple[str, ...] = ("acquisition", "onboarding", "development", "retention")

#: The status of an active customership.
ACTIVE = "active"

#: The status of a customer that has most likely stopped buying.
LAPSED = "lapsed"

#: The statuses of a customership. There is no "lost": in records without
#: contracts a defection is never observed, and customers the rules call
#: lapsed still come back (on CDNOW 18 % within nine months; 38 % of those
#: with a Pareto/NBD P(alive) below 0.1).
STATUSES: tuple[str, ...] = (ACTIVE, LAPSED)

#: The column holding the stage.
STAGE_COLUMN = "stage"

#: The column holding the status.
STATUS_COLUMN = "status"

#: The column holding the reasons of the stage and the status.
STAGE_REASONS_COLUMN = "stage_reasons"

#: The columns a stager provides, in order.
STAGER_COLUMNS: tuple[str, ...] = (STAGE_COLUMN, STATUS_COLUMN, STAGE_REASONS_COLUMN)

#: Plural names of the time units of a customer view (for reason texts).
UNIT_NAMES: Mapping[str, str] = {"D": "days", "W": "weeks", "M": "months"}
