"""Which sections are about the same topic: nearest neighbours by section vector, within one
business only (the two businesses' pages never conflict or duplicate each other by design).

Cosines are model-specific (e5's sit near 0.8 even for unrelated text, a bag of words' near 0.1),
so "similar" is not one absolute number: a pair counts when one section is among the other's
`k` nearest neighbours AND its cosine is in the top `share` of that business's section pairs
(estimated from a fixed-seed sample). On the seed pages this keeps the collections e-mail sections
together (e5: 0.875, the business's 75th percentile 0.852) and the tow section apart from them
(0.830). Matrix products in row batches: never all pairs in a Python loop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NEIGHBOURS = 5  # per section
TOP_SHARE = 0.25  # of a business's section pairs, by cosine
SAMPLE_PAIRS = 20_000
ROW_BATCH = 256  # rows per product: 256 x 50k float32 is 50 MB, kept in cache-sized pieces
SEED = 14


@dataclass(frozen=True)
class Pair:
    a: int  # section indexes, a < b
    b: int
    similarity: float


def pair_floor(vectors: np.ndarray, rows: np.ndarray, share: float, rng: np.random.Generator) -> float:
    """The cosine above which a pair of these rows is in the top `share` of all their pairs."""
    n = len(rows)
    if n < 3:
        return -1.0
    if n * (n - 1) // 2 <= SAMPLE_PAIRS:
        sims = vectors[rows] @ vectors[rows].T
        values = sims[np.triu_indices(n, 1)]
    else:
        a = rng.integers(0, n, SAMPLE_PAIRS)
        b = rng.integers(0, n, SAMPLE_PAIRS)
        keep = a != b
        values = np.einsum("ij,ij->i", vectors[rows[a[keep]]], vectors[rows[b[keep]]])
    return float(np.quantile(values, 1.0 - share))


def similar_pairs(vectors: np.ndarray, businesses: Sequence[str], k: int = NEIGHBOURS,
                  share: float = TOP_SHARE) -> list[Pair]:
    """Pairs of sections of one business that are about the same topic, most similar first."""
    by_business: dict[str, list[int]] = defaultdict(list)
    for i, business in enumerate(businesses):
        by_business[business].append(i)
    rng = np.random.default_rng(SEED)
    found: dict[tuple[int, int], float] = {}
    for business in sorted(by_business):
        rows = np.asarray(by_business[business])
        if len(rows) < 2:
            continue
        floor = pair_floor(vectors, rows, share, rng)
        block = vectors[rows]
        kk = min(k, len(rows) - 1)
        for start in range(0, len(rows), ROW_BATCH):
            sims = block[start:start + ROW_BATCH] @ block.T
            local = np.arange(start, min(start + ROW_BATCH, len(rows)))
            sims[np.arange(len(local)), local] = -np.inf  # not its own neighbour
            top = np.argpartition(sims, -kk, axis=1)[:, -kk:]
            for r, cols in enumerate(top):
                for c in cols:
                    sim = float(sims[r, c])
                    if sim >= floor:
                        i, j = int(rows[local[r]]), int(rows[c])
                        found[(min(i, j), max(i, j))] = sim
    return [Pair(a, b, s) for (a, b), s in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))]
