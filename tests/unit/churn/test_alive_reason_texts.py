"""AliveChurn's reasons: each customer's text is the per-customer sentence, whatever the batch."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.churn import AliveChurn
from crmkit.value import ParetoNBD


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 9.95 else f"{value:.1f}"


def _sentence(x: float, tx: float, T: float, p0: float, share: float) -> str:
    """The reason as one f-string per customer (the definition the bulk texts must equal)."""
    since, gap = T - tx, (tx / x if x > 0 else 0.0)
    sh, s, g, p = (round(v, d) + 0.0 for v, d in ((share, 2), (since, 1), (gap, 1), (p0, 2)))
    head = f"dropout ({sh:.2f}): P(no purchase in 52 weeks) {p:.2f}"
    if x == 0:
        return f"{head} after a single purchase {_number(s)} weeks ago"
    ratio = s / g if g > 0 else 0.0
    return (f"{head} after no purchase for {_number(s)} weeks, {_number(ratio)}x the usual gap "
            f"of {_number(g)} weeks ({int(x) + 1} purchases)")  # fmt: skip


def test_reasons_equal_the_per_customer_sentence_in_any_order() -> None:
    model = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    view = model.sample(3000, 39.0, seed=5)
    view.loc[view.index[:3], ["frequency", "recency", "T"]] = [[0, 0.0, 0.0], [2, 0.0, 5.0],
                                                              [1, 39.0, 39.0]]  # fmt: skip
    churn = AliveChurn(model=model).fit(view)
    out = churn.score(view)
    p0 = np.clip(model.p_no_purchase(view, 52.0).to_numpy(), 0.0, 1.0)
    expected = [
        _sentence(float(x), float(tx), float(T), float(p), float(p))
        for x, tx, T, p in zip(view["frequency"], view["recency"], view["T"], p0, strict=True)
    ]
    assert out["reasons"].tolist() == expected
    assert out["reasons"].dtype == pd.array([], dtype="str").dtype
    backwards = churn.score(view.iloc[::-1])
    assert backwards["reasons"].tolist() == expected[::-1]
