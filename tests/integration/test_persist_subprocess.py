"""Saved models load in a fresh process: every built-in type, Playbooks, plugins, the CLI.

A model saved here is loaded by a new ``python`` process that has imported
nothing but ``crmkit`` (no subpackage, no test helper) when it calls
``crmkit.load``; its predictions are then pickled back (test data only) and
compared bit for bit with the original's. Several models share one
subprocess to keep the suite fast.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit._persist_types import PERSISTABLE_TYPES
from crmkit.exceptions import DataWarning
from tests.reliability import _fitted
from tests.unit.persist import _plugin_dist

ROOT = Path(__file__).resolve().parents[2]
MODEL_SUBPACKAGES = ("analysis", "care", "churn", "compose", "lifecycle", "loyalty",
                     "segmentation", "value")  # fmt: skip

#: The child: loads every file first (checking nothing was imported before),
#: then computes outputs with ``tests.reliability._fitted`` or assesses.
_CHILD = """
import pickle, sys, warnings
import crmkit
warnings.simplefilter("ignore", crmkit.exceptions.DataWarning)
out_path, mode, *paths = sys.argv[1:]
early = sorted(m for m in sys.modules
               if m.split(".")[:2][-1] in __SUBPACKAGES__ and m.startswith("crmkit."))
models = {p: crmkit.load(p) for p in paths}
sys.path.insert(0, __ROOT__)
from tests.reliability import _fitted
if mode == "outputs":
    result = {p: _fitted.outputs(m) for p, m in models.items()}
else:
    data = _fitted.crm().data
    result = {p: (type(m).__name__, m.assess(data)) for p, m in models.items()}
with open(out_path, "wb") as fh:
    pickle.dump({"early": early, "result": result}, fh)
""".replace("__SUBPACKAGES__", repr(MODEL_SUBPACKAGES)).replace("__ROOT__", repr(str(ROOT)))


def _env(*extra_paths: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in extra_paths)
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return env


def _child(tmp: Path, mode: str, paths: list[Path], *extra: Path) -> dict[str, Any]:
    out = tmp / f"out_{mode}.pkl"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(out), mode, *map(str, paths)],
        capture_output=True, text=True, timeout=600, env=_env(*extra), cwd=tmp, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    with out.open("rb") as fh:
        loaded: dict[str, Any] = pickle.load(fh)  # written by our own child process
    assert loaded["early"] == [], f"imported before load: {loaded['early']}"
    return loaded["result"]  # type: ignore[no-any-return]


def test_every_builtin_type_loads_and_predicts_identically_in_a_new_process(
    tmp_path: Path,
) -> None:
    assert set(_fitted.concrete_classes()) == set(PERSISTABLE_TYPES)
    expected, paths = {}, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        for model_type in sorted(PERSISTABLE_TYPES):
            model = _fitted.shared_fitted(model_type)
            path = model.save(tmp_path / f"{model_type}.json")
            expected[str(path)] = _fitted.outputs(model)
            paths.append(path)
    got = _child(tmp_path, "outputs", paths)
    for path, outputs in expected.items():
        _fitted.assert_identical(outputs, got[path])


def _every_step_kind() -> Any:
    from crmkit.compose import Playbook
    from crmkit.segmentation import (
        DecileSegmenter,
        FirmographicSegmenter,
        KeyAccountSegmenter,
        KMeansSegmenter,
        RFMSegmenter,
    )
    from crmkit.value import ParetoNBD

    return Playbook(
        stager="model",
        purchase_model=ParetoNBD(),
        spend_model="gammagamma",
        segmenter=[
            "portfolio",
            RFMSegmenter(output_name="rfm"),
            KMeansSegmenter(output_name="cluster"),
            DecileSegmenter(output_name="decile"),
            FirmographicSegmenter(output_name="firmographic"),
            KeyAccountSegmenter(output_name="key_segment"),
        ],
        churn=["signals", "alive", "survival", "logistic"],
        care="key_accounts",
        loyalty=True,
        discount_rate=0.12,
    )


def _labels(data: Any) -> pd.Series:
    view = crmkit.summarize(data)
    return view["recency"] < 0.5 * view["T"]  # "churned": silent for half of their tenure


def test_playbooks_with_every_step_kind_load_in_a_new_process(tmp_path: Path) -> None:
    from crmkit.compose import Playbook

    data = _fitted.crm().data
    books = {
        "every_kind": _every_step_kind(),
        "lifecycle_care": Playbook(
            purchase_model="mbgnbd", spend_model=None, care="lifecycle", loyalty=False
        ),
        "unfitted": Playbook(churn=["signals", "alive"]),
    }
    expected, paths = {}, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        for name, book in books.items():
            if name != "unfitted":
                book.fit(data, _labels(data))
                expected[str(tmp_path / f"{name}.json")] = book.assess(data)
            paths.append(book.save(tmp_path / f"{name}.json"))
    every = books["every_kind"]
    segmenters = {f"segmenter:{i}" for i in range(6)}
    assert {"stager", "churn", "care", *segmenters} <= set(every.order_), every.order_
    assert len(every.plugins_["churn"]) == 4
    got = _child(tmp_path, "assess_fitted", paths[:2])
    for path, frame in expected.items():
        name, again = got[path]
        assert name == "Playbook"
        pd.testing.assert_frame_equal(again, frame, check_exact=True)
    # an unfitted playbook loads too, and refuses to assess
    proc = subprocess.run(
        [sys.executable, "-c",
         "import sys, crmkit\nb = crmkit.load(sys.argv[1])\n"
         "print(b.get_params()['churn'], hasattr(b, 'plugins_'))", str(paths[2])],
        capture_output=True, text=True, timeout=120, env=_env(), check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["['signals',", "'alive']", "False"]


def test_playbook_with_an_entry_point_plugin_loads_in_a_new_process(tmp_path: Path) -> None:
    from crmkit.compose import Playbook

    dist = _plugin_dist.make_distribution(tmp_path / "site")
    sys.path.insert(0, str(dist))
    try:
        from crmkit_acme_tiers import Tiers  # type: ignore[import-not-found]

        data = _fitted.crm().data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            book = Playbook(segmenter=["portfolio", Tiers(n_tiers=4)]).fit(data)
            expected = book.assess(data)
        path = book.save(tmp_path / "acme.json")
    finally:
        sys.path.remove(str(dist))
        sys.modules.pop(_plugin_dist.PACKAGE, None)
    assert _plugin_dist.MODEL_TYPE in path.read_text()
    assert set(expected["tier"].unique()) == {"T1", "T2", "T3", "T4"}
    got = _child(tmp_path, "assess_fitted", [path], dist, ROOT)
    pd.testing.assert_frame_equal(got[str(path)][1], expected, check_exact=True)
    # the registry of the new process offers the plugin by its entry-point name
    proc = subprocess.run(
        [sys.executable, "-c",
         "from crmkit.plugins import default_registry as r\n"
         "print(r().origin('segmenters', 'acme_tiers'))"],
        capture_output=True, text=True, timeout=120, env=_env(dist), check=False,
    )
    assert "entry point crmkit.segmenters:acme_tiers" in proc.stdout, proc.stderr
    # without the distribution installed, the file is refused (nothing else is tried)
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, crmkit\ncrmkit.load(sys.argv[1])", str(path)],
        capture_output=True, text=True, timeout=120, env=_env(), check=False,
    )
    assert proc.returncode == 1
    assert "ModelFileError" in proc.stderr
    assert f"unknown model type '{_plugin_dist.MODEL_TYPE}'" in proc.stderr


def test_cli_assess_runs_a_playbook_saved_by_the_api(tmp_path: Path) -> None:
    from crmkit.compose import Playbook
    from crmkit.data import CustomerData

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        tx = crmkit.datasets.make_crm(120, seed=4).frames["transactions"]
        tx[["customer_id", "date", "amount"]].to_csv(tmp_path / "tx.csv", index=False)
        records = pd.read_csv(tmp_path / "tx.csv", dtype={"customer_id": str})
        data = CustomerData.from_frames(records, as_of="2025-06-30")
        book = Playbook(churn=["signals", "alive"], care="lifecycle").fit(data)
        expected = book.assess(data)
    saved = book.save(tmp_path / "playbook.json")
    out = tmp_path / "assessed.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "crmkit.cli", "assess", str(tmp_path / "tx.csv"),
         "--as-of", "2025-06-30", "--playbook", str(saved), "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=_env(), check=False,
    )
    assert proc.returncode == 0, proc.stderr
    written = pd.read_csv(out, index_col="customer_id", dtype={"customer_id": str})
    assert list(written.index) == [str(c) for c in expected.index]
    for column in ("clv", "p_alive", "expected_purchases", "churn_risk", "loyalty"):
        np.testing.assert_allclose(
            written[column].to_numpy(float), expected[column].to_numpy(float),
            rtol=1e-12, err_msg=column,
        )
    for column in ("stage", "care_model"):
        assert written[column].astype(str).tolist() == expected[column].astype(str).tolist()


@pytest.mark.parametrize("model_type", ["crmkit.value.BetaGeo"])
def test_issue_16_reproduction(model_type: str, tmp_path: Path) -> None:
    # fit BetaGeo on CDNOW, save, load in a new process: the report of issue 16
    from tests.data import make_golden

    model = make_golden.FITS["bgnbd"]()
    path = model.save(tmp_path / "bg.json")
    proc = subprocess.run(
        [sys.executable, "-c",
         "import sys, crmkit\nm = crmkit.load(sys.argv[1])\n"
         "print(type(m).__name__, repr(m.params_.r))", str(path)],
        capture_output=True, text=True, timeout=120, env=_env(), check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [model_type.rsplit(".", 1)[1], repr(model.params_.r)]
