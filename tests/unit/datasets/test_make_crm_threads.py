"""make_crm gives the same records whether its side frames are drawn on a second thread or not."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.datasets import make_crm
from crmkit.datasets._synth_args import in_background


def _frames(monkeypatch: pytest.MonkeyPatch, cores: int) -> dict[str, pd.DataFrame]:
    with monkeypatch.context() as patch:
        patch.setattr("os.cpu_count", lambda: cores)
        crm = make_crm(400, seed=11, n_prospects=30)
        out = dict(crm.frames)
        out.update({f"data.{k}": v for k, v in crm.data.frames.items()})
        out["truth"] = crm.truth
    return out


def test_make_crm_is_the_same_on_one_core_and_on_two(monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = _frames(monkeypatch, 1), _frames(monkeypatch, 2)
    assert one.keys() == two.keys()
    for name, frame in one.items():
        pd.testing.assert_frame_equal(frame, two[name], check_exact=True, obj=name)


@pytest.mark.parametrize("cores", [1, 2])
def test_in_background_runs_tasks_in_order_and_reraises(
    monkeypatch: pytest.MonkeyPatch, cores: int
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    seen: list[int] = []

    def boom() -> int:
        raise ValueError("task failed")

    first, second = in_background(lambda: seen.append(1) or 1, lambda: seen.append(2) or 2)
    assert (first(), second(), seen) == (1, 2, [1, 2])
    if cores == 1:
        with pytest.raises(ValueError, match="task failed"):
            in_background(boom)
    else:
        (failed,) = in_background(boom)
        with pytest.raises(ValueError, match="task failed"):
            failed()
