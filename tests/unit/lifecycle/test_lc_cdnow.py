"""The status on real data: CDNOW (calibration to 1997-09-30, holdout to 1998-06-30).

Lapsed customers must have a lower mean P(alive) and a lower holdout repurchase rate
than the active customers of every stage, with the P(alive) of Pareto/NBD (the
playbook's default purchase model) and, for the repurchase rate, of BG/NBD too
(whose P(alive) = 1 for one-time buyers is no evidence and is not used).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.data import calibration_holdout
from crmkit.datasets import load_cdnow
from crmkit.lifecycle import ModelStager, RuleStager
from crmkit.value import BetaGeo, ParetoNBD

#: Active stages with fewer customers than this are not compared (noise).
MIN_GROUP = 30


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 21 repeated rows: a DataWarning, kept on purpose
        view: pd.DataFrame = calibration_holdout(
            load_cdnow(), calibration_end="1997-09-30", holdout_end="1998-06-30"
        )
    return view


def _groups(view: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    """Mean P(alive) and holdout repurchase rate of lapsed and of each active stage."""
    bought = (view["frequency_holdout"] > 0).to_numpy(dtype=float)
    group = np.where(out["status"] == "lapsed", "lapsed", out["stage"].astype(object))
    frame = pd.DataFrame({"group": group, "p_alive": view["p_alive"], "bought": bought})
    table: pd.DataFrame = frame.groupby("group").agg(
        n=("bought", "size"), p_alive=("p_alive", "mean"), repurchase=("bought", "mean")
    )
    return table


def _with_model(view: pd.DataFrame, model: object) -> pd.DataFrame:
    fitted = model.fit(view)  # type: ignore[attr-defined]
    return view.assign(p_alive=fitted.p_alive(view).to_numpy())


def test_lapsed_below_every_active_stage_with_pareto_nbd(cdnow: pd.DataFrame) -> None:
    view = _with_model(cdnow, ParetoNBD())
    out = RuleStager().fit(view).stage_frame(view)
    table = _groups(view, out)
    lapsed = table.loc["lapsed"]
    active = table.drop(index="lapsed")
    active = active[active["n"] >= MIN_GROUP]
    assert len(active) >= 1 and lapsed["n"] >= 0.3 * len(view), table
    assert (lapsed["p_alive"] < active["p_alive"]).all(), table
    assert (lapsed["repurchase"] < active["repurchase"]).all(), table
    # measured: lapsed 1,752 customers, P(alive) 0.32, 18 % bought again;
    # development (active) 605, 0.80 and 62 %
    assert lapsed["p_alive"] < 0.4 and lapsed["repurchase"] < 0.25, table


def test_bgnbd_one_time_buyers_are_judged_on_their_rhythm(cdnow: pd.DataFrame) -> None:
    view = _with_model(cdnow, BetaGeo())
    once = (view["frequency"] == 0).to_numpy()
    assert (view["p_alive"].to_numpy()[once] == 1.0).all()  # BG/NBD's assumption
    out = RuleStager().fit(view).stage_frame(view)
    rhythm_only = RuleStager(p_alive_threshold=None).fit(view).stage_frame(view)
    # the uninformative P(alive) = 1 changes nothing for one-time buyers
    assert out["status"][once].tolist() == rhythm_only["status"][once].tolist()
    assert (out["status"][once] == "lapsed").mean() > 0.9  # idle >= 27 weeks, gap 7 weeks
    table = _groups(view, out)
    active = table.drop(index="lapsed")
    active = active[active["n"] >= MIN_GROUP]
    assert (table.loc["lapsed", "repurchase"] < active["repurchase"]).all(), table
    assert not out.loc[once, "stage_reasons"].str.contains("P\\(alive\\)").any()


def test_model_stager_on_cdnow(cdnow: pd.DataFrame) -> None:
    view = cdnow[["n_transactions", "frequency", "recency", "T"]]
    out = ModelStager(model=ParetoNBD()).fit(view).stage_frame(view)
    table = _groups(_with_model(cdnow, ParetoNBD()), out)
    active = table.drop(index="lapsed")
    active = active[active["n"] >= MIN_GROUP]
    assert (table.loc["lapsed", "p_alive"] < active["p_alive"]).all(), table
    assert (table.loc["lapsed", "repurchase"] < active["repurchase"]).all(), table


def test_playbook_default_on_cdnow_transactions() -> None:
    from crmkit import CustomerData
    from crmkit.compose import Playbook

    tx = load_cdnow()
    calibration = tx[tx["date"] <= "1997-09-30"]
    holdout = tx[(tx["date"] > "1997-09-30") & (tx["date"] <= "1998-06-30")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the repeated rows' DataWarning
        data = CustomerData.from_frames(transactions=calibration, as_of="1997-09-30")
    out = Playbook().fit(data).assess(data)
    assert set(out["stage"].astype(object)) <= {"onboarding", "development", "retention"}
    bought = out.index.isin(holdout["customer_id"].unique()).astype(float)
    view = pd.DataFrame({"frequency_holdout": bought, "p_alive": out["p_alive"]}, index=out.index)
    table = _groups(view, out)
    active = table.drop(index="lapsed")
    active = active[active["n"] >= MIN_GROUP]
    assert (table.loc["lapsed", "p_alive"] < active["p_alive"]).all(), table
    assert (table.loc["lapsed", "repurchase"] < active["repurchase"]).all(), table
    assert out["stage_reasons"].str.len().gt(0).all()
