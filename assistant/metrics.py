"""The few measures the evals and the benchmarks share, defined once so their numbers agree.

Pure functions over plain values: no model, no index, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def fold(text: str) -> str:
    """Case- and whitespace-insensitive form used for every phrase match."""
    return " ".join(text.lower().split())


def first_rank(texts: Iterable[str], phrases: Sequence[str]) -> int | None:
    """1-based rank of the first text holding any of the phrases (folded), None when none does."""
    wanted = [fold(p) for p in phrases]
    for rank, text in enumerate(texts, start=1):
        folded = fold(text)
        if any(p in folded for p in wanted):
            return rank
    return None


def ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def rank_metrics(ranks: Sequence[int | None]) -> dict[str, float | int | None]:
    """hit@1, hit@3 and MRR over one rank per question (None = no hit); None values when no questions."""
    n = len(ranks)
    return {"cases": n,
            "hit@1": ratio(sum(1 for k in ranks if k == 1), n),
            "hit@3": ratio(sum(1 for k in ranks if k and k <= 3), n),
            "mrr": ratio(sum(1 / k for k in ranks if k), n)}


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1), rounded to 0.01; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 2)
