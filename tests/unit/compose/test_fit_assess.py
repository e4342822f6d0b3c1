"""``Playbook.fit_assess``: one customer view for fit and assess, same result as both."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from crmkit.compose import Playbook
from crmkit.datasets import make_crm


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_crm(400, seed=11).data


@pytest.mark.parametrize("include_view", [False, True])
def test_fit_assess_equals_fit_then_assess(data, include_view) -> None:  # type: ignore[no-untyped-def]
    expected = Playbook().fit(data).assess(data, include_view=include_view)
    pb = Playbook()
    got = pb.fit_assess(data, include_view=include_view)
    pd.testing.assert_frame_equal(got, expected)
    assert set(pb.timings_) >= {"view", "value", "stager"}
    # the fitted playbook is the same as one fitted by fit
    pd.testing.assert_frame_equal(pb.assess(data), Playbook().fit(data).assess(data))


def test_fit_assess_summarises_once(data, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import crmkit.compose._playbook as module

    calls = []
    real = module.summarize

    def counting(d):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(d)

    monkeypatch.setattr(module, "summarize", counting)
    Playbook(care=None).fit_assess(data)
    assert len(calls) == 1
