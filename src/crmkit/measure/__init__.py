"""Measurement per customer, action, campaign and profile (seed 004)."""

from crmkit.measure._campaigns import CampaignReport, campaign_report
from crmkit.measure._clv_uplift import CLVUpliftResult, clv_uplift
from crmkit.measure._experiments import UpliftResult, uplift_from_outcomes, uplift_test
from crmkit.measure._exposures import Exposures, campaign_exposures
from crmkit.measure._kpis import KPI_LEVELS, kpi_series
from crmkit.measure._programme import (
    AREAS,
    DEFAULT_CHANNEL_AREAS,
    DEFAULT_STREAMS,
    AnnualProgramme,
    ProgrammeStream,
    annual_programme,
)

__all__ = [
    "AREAS",
    "DEFAULT_CHANNEL_AREAS",
    "DEFAULT_STREAMS",
    "KPI_LEVELS",
    "AnnualProgramme",
    "CLVUpliftResult",
    "CampaignReport",
    "Exposures",
    "ProgrammeStream",
    "UpliftResult",
    "annual_programme",
    "campaign_exposures",
    "campaign_report",
    "clv_uplift",
    "kpi_series",
    "uplift_from_outcomes",
    "uplift_test",
]
