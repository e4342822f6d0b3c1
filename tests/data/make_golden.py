"""Write the golden model files of this crmkit's schema version, with their predictions.

Golden files are saved models that later crmkit versions must keep loading
(the forward-compatibility promise of the user guide, persistence page).
Each model is fitted on a real data set bundled with crmkit and saved as
``golden/schema<N>_<name>.json``; its predictions on fixed inputs go to
``golden/schema<N>_expected.json``. ``tests/unit/persist/test_golden.py``
loads every golden file ever checked in and compares its predictions.

Run from the project root (regenerates every file of the current schema
version, or only the named ones)::

    python tests/data/make_golden.py            # all
    python tests/data/make_golden.py playbook   # only the Playbook

Never regenerate the files of an earlier schema version: they are the
record of what that version wrote.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import crmkit
from crmkit._persist import SCHEMA_VERSION

GOLDEN = Path(__file__).resolve().parent / "golden"
AS_OF = "1997-09-30"  # end of the CDNOW calibration period
N_ROWS = 25  # customers whose predictions are recorded
SBG_SURVIVORS = [100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]  # Fader & Hardie (2007)


def cdnow_view() -> pd.DataFrame:
    """The CDNOW calibration view (39 weeks, 2,357 customers)."""
    tx = crmkit.datasets.load_cdnow()
    with warnings.catch_warnings():  # 9 repeated rows are real purchases: kept
        warnings.simplefilter("ignore", crmkit.exceptions.DataWarning)
        return crmkit.summarize(tx[tx["date"] <= AS_OF], as_of=AS_OF)


def cdnow_data(n_customers: int | None = None) -> Any:
    """CDNOW records up to the calibration end, optionally of the first customers only."""
    tx = crmkit.datasets.load_cdnow()
    tx = tx[tx["date"] <= AS_OF]
    if n_customers is not None:
        keep = sorted(tx["customer_id"].unique())[:n_customers]
        tx = tx[tx["customer_id"].isin(keep)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmkit.exceptions.DataWarning)
        return crmkit.CustomerData.from_frames(tx, as_of=AS_OF)


def _purchase(cls_name: str) -> Callable[[], Any]:
    def fit() -> Any:
        return getattr(crmkit.value, cls_name)().fit(cdnow_view())

    return fit


def _gammagamma() -> Any:
    view = cdnow_view()
    return crmkit.value.GammaGamma().fit(view[view["frequency"] > 0])


def _bgbb() -> Any:
    d = crmkit.datasets.load_donations()
    return crmkit.value.BetaGeoBetaBinom().fit(d, weights=d["weights"])


def _sbg() -> Any:
    return crmkit.value.ShiftedBetaGeo().fit(SBG_SURVIVORS, n=1000)


def _playbook() -> Any:
    return crmkit.Playbook().fit(cdnow_data())


#: golden name -> how the model is fitted
FITS: Mapping[str, Callable[[], Any]] = {
    "bgnbd": _purchase("BetaGeo"),
    "paretonbd": _purchase("ParetoNBD"),
    "mbgnbd": _purchase("ModifiedBetaGeo"),
    "gammagamma": _gammagamma,
    "bgbb": _bgbb,
    "sbg": _sbg,
    "playbook": _playbook,
}

#: Playbook columns whose values are recorded: what its fitted models compute
#: (compared to 1e-9). The columns of its rule-based steps (stages, churn
#: risk, care) follow each release's documented rules; a later release only
#: has to produce them.
PLAYBOOK_NUMBERS = ("clv", "p_alive", "expected_purchases", "loyalty")
PLAYBOOK_COLUMNS = ("stage", "status", "churn_risk", "care_model")


def _floats(values: Any) -> list[float | None]:
    arr = np.asarray(values, dtype=np.float64).ravel()
    return [None if np.isnan(v) else float(v) for v in arr]


def predictions(name: str, model: Any) -> dict[str, list[Any]]:
    """What a golden model predicts on its fixed inputs (JSON-ready).

    Parameters
    ----------
    name : str
        A key of :data:`FITS`.
    model : object
        The fitted (or loaded) model.

    Returns
    -------
    dict of str to list
        Prediction name -> values (NaN as None).

    Examples
    --------
    >>> m = crmkit.value.ShiftedBetaGeo.from_params(alpha=1.0, beta=1.0)
    >>> predictions("sbg", m)["survival"][:2]
    [1.0, 0.5]
    """
    if name in ("bgnbd", "paretonbd", "mbgnbd"):
        view = cdnow_view().iloc[:N_ROWS]
        return {
            "p_alive": _floats(model.p_alive(view)),
            "conditional_expected_purchases_39": _floats(
                model.conditional_expected_purchases(view, 39.0)
            ),
            "expected_purchases": _floats(model.expected_purchases([1.0, 13.0, 52.0])),
        }
    if name == "gammagamma":
        view = cdnow_view()
        view = view[view["frequency"] > 0].iloc[:N_ROWS]
        return {"expected_spend": _floats(model.expected_spend(view))}
    if name == "bgbb":
        d = crmkit.datasets.load_donations()
        return {
            "p_alive": _floats(model.p_alive(d)),
            "conditional_expected_purchases_5": _floats(model.conditional_expected_purchases(d, 5)),
        }
    if name == "sbg":
        t = np.arange(13)
        return {
            "survival": _floats(model.survival(t)),
            "retention": _floats(model.retention(t[1:])),
        }
    if name == "playbook":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", crmkit.exceptions.DataWarning)
            out = model.assess(cdnow_data(N_ROWS))
        result: dict[str, list[Any]] = {"customer_id": [str(c) for c in out.index]}
        result.update({c: _floats(out[c]) for c in PLAYBOOK_NUMBERS})
        result["columns"] = [c for c in PLAYBOOK_COLUMNS if c in out.columns and
                             out[c].notna().all()]  # fmt: skip
        return result
    raise KeyError(name)


def golden_path(name: str, schema: int = SCHEMA_VERSION) -> Path:
    """Where the golden file ``name`` of schema version ``schema`` lives.

    Parameters
    ----------
    name : str
        A key of :data:`FITS`.
    schema : int, default=SCHEMA_VERSION
        Schema version.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> golden_path("bgnbd", 1).name
    'schema1_bgnbd.json'
    """
    return GOLDEN / f"schema{schema}_{name}.json"


def main(names: list[str]) -> None:
    """Fit, save and record the predictions of the named golden models (all by default)."""
    unknown = sorted(set(names) - set(FITS))
    if unknown:
        raise SystemExit(f"unknown golden models {unknown}; known: {sorted(FITS)}")
    GOLDEN.mkdir(parents=True, exist_ok=True)
    expected_path = GOLDEN / f"schema{SCHEMA_VERSION}_expected.json"
    expected = json.loads(expected_path.read_text()) if expected_path.exists() else {}
    for name in names or list(FITS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", crmkit.exceptions.DataWarning)
            model = FITS[name]()
        model.save(golden_path(name))
        expected[name] = predictions(name, crmkit.load(golden_path(name)))
        print(f"wrote {golden_path(name).name} ({type(model).__name__})")
    expected_path.write_text(json.dumps(dict(sorted(expected.items())), indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
