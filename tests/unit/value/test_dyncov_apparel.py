"""ParetoNBDDynamic on CLVTools' apparel data (read from ../shared/data, never copied)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.value import ParetoNBD, ParetoNBDDynamic

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
pytestmark = pytest.mark.skipif(
    not (DATA / "apparel_dynamic_covariates.csv.gz").is_file(), reason="apparel data not found"
)
COLUMNS = {"id_column": "Id", "period_column": "Cov.Date", "date_column": "Date"}
BOTH = ["Gender", "Channel"]


@pytest.fixture(scope="module")
def apparel() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    tx = pd.read_csv(DATA / "apparel_transactions.csv", parse_dates=["Date"])
    cov = pd.read_csv(DATA / "apparel_dynamic_covariates.csv.gz", parse_dates=["Cov.Date"])
    static = pd.read_csv(DATA / "apparel_static_covariates.csv").set_index("Id")
    as_of = pd.Timestamp("2006-12-31")  # the first 104 weeks
    view = crmkit.summarize(tx[tx["Date"] <= as_of], customer_id="Id", date="Date",
                            amount="Price", as_of=as_of, time_unit="W")
    return tx, cov, view.join(static)


def test_constant_dynamic_covariates_give_the_static_model(apparel):
    tx, cov, view = apparel
    static = ParetoNBD(purchase_covariates=BOTH, dropout_covariates=BOTH).fit(view)
    p = static.params_
    at_static = ParetoNBDDynamic.from_params(
        p.r, p.alpha, p.s, p.beta, purchase_covariates=BOTH, dropout_covariates=BOTH,
        coef=dict(zip(static.coefficient_names_, static.coef_.tolist(), strict=True)), **COLUMNS,
    )
    np.testing.assert_allclose(
        at_static.log_likelihood(view, cov, tx).to_numpy(),
        static.log_likelihood(view).to_numpy(), rtol=0, atol=1e-8,
    )
    fitted = ParetoNBDDynamic(purchase_covariates=BOTH, dropout_covariates=BOTH, **COLUMNS)
    fitted.fit(view, cov, tx)
    assert fitted.converged_
    assert fitted.log_likelihood_ == pytest.approx(static.log_likelihood_, abs=1e-6)
    np.testing.assert_allclose(fitted.coef_, static.coef_, atol=1e-4)
    np.testing.assert_allclose(fitted.coef_standard_errors_, static.coef_standard_errors_,
                               rtol=1e-3)
