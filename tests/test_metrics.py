"""The shared measures: one definition for the evals and the benchmarks."""

from __future__ import annotations

import pytest

from assistant.metrics import first_rank, percentile, rank_metrics


@pytest.mark.parametrize("texts,phrases,rank", [
    (["a", "the Tow  Receipt", "tow receipt"], ["tow receipt"], 2),
    (["x", "y"], ["tow receipt"], None),
    (["x", "y"], [], None),
    (["first", "second hit"], ["nothing", "HIT"], 2),
], ids=["folded-case-and-space", "no-hit", "no-phrases", "any-phrase"])
def test_first_rank(texts: list[str], phrases: list[str], rank: int | None) -> None:
    assert first_rank(texts, phrases) == rank


def test_rank_metrics_and_percentile() -> None:
    assert rank_metrics([1, 2, None, 4]) == {"cases": 4, "hit@1": 0.25, "hit@3": 0.5, "mrr": 0.4375}
    assert rank_metrics([]) == {"cases": 0, "hit@1": None, "hit@3": None, "mrr": None}
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile([], 0.5)) == (51.0, 95.0, None)
