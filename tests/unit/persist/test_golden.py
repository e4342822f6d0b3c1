"""Golden files: models saved by earlier crmkit versions keep loading and predicting.

Every ``tests/data/golden/schema<N>_<name>.json`` ever checked in is loaded
with ``crmkit.load`` and must predict what it predicted when it was written
(``schema<N>_expected.json``). Files of the current schema version are
regenerated with ``python tests/data/make_golden.py``; those of earlier
versions are never changed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import crmkit
from crmkit._persist import READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION
from tests.data import make_golden

_NAME = re.compile(r"schema(\d+)_(\w+)\.json")
GOLDEN_FILES = sorted(
    p for p in make_golden.GOLDEN.glob("schema*_*.json") if not p.name.endswith("_expected.json")
)
_TYPES = {
    "bgnbd": "BetaGeo",
    "paretonbd": "ParetoNBD",
    "mbgnbd": "ModifiedBetaGeo",
    "gammagamma": "GammaGamma",
    "bgbb": "BetaGeoBetaBinom",
    "sbg": "ShiftedBetaGeo",
    "playbook": "Playbook",
}


def _expected(schema: int) -> dict[str, Any]:
    path = make_golden.GOLDEN / f"schema{schema}_expected.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_current_schema_has_a_golden_file_per_model() -> None:
    names = {m.group(2) for p in GOLDEN_FILES if (m := _NAME.fullmatch(p.name))
             and int(m.group(1)) == SCHEMA_VERSION}  # fmt: skip
    assert names == set(make_golden.FITS) == set(_TYPES)
    assert set(_expected(SCHEMA_VERSION)) == names


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.name)
def test_golden_file_loads_and_predicts_as_written(path: Path) -> None:
    match = _NAME.fullmatch(path.name)
    assert match is not None
    schema, name = int(match.group(1)), match.group(2)
    assert schema in READABLE_SCHEMA_VERSIONS
    assert json.loads(path.read_text())["schema_version"] == schema
    model = crmkit.load(path)
    assert type(model).__name__ == _TYPES[name]
    got = make_golden.predictions(name, model)
    expected = _expected(schema)[name]
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        have = got[key]
        assert len(have) == len(want), key
        if all(isinstance(v, (float, int)) or v is None for v in want):
            a = np.array([np.nan if v is None else v for v in have], dtype=float)
            b = np.array([np.nan if v is None else v for v in want], dtype=float)
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=0, equal_nan=True, err_msg=key)
        else:
            assert have == want, key
