"""The second signal: is a question nearer a rule's firing examples than its near-misses?

For one rule, with unit vectors of its firing examples F and near-misses N (rules.yaml), the
margin of a question q is

    margin(q) = mean of the K highest cos(q, f) over F  -  mean of the K highest cos(q, n) over N

(its nearest firing examples against its nearest near-misses; K = 3, so one odd neighbour does
not decide: on the training examples K = 3 recovered more firing examples than K = 1 at no
wrong firing, see docs/metrics.md). The rule's threshold comes from its
own examples by leave-one-out: each example's margin is computed with itself left out of F or
N, and the threshold is just above the largest leave-one-out margin of any near-miss the vote
could be asked about (the "anchored" ones, see engine.py), and never below `MIN_THRESHOLD`. So
on the training examples the vote makes no wrong firing; a rule with fewer than two anchored
near-misses gets no vote at all (threshold infinite). Deterministic: same vectors, same answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

K = 3  # neighbours averaged on each side
EPSILON = 0.01  # the threshold sits this far above the worst near-miss's leave-one-out margin
MIN_THRESHOLD = 0.0  # the nearest example must at least be a firing one
MIN_ANCHORED_NEAR_MISSES = 2


def unit_rows(vectors: list[list[float]]) -> np.ndarray:
    m = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1.0, norms)


def top_mean(sims: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """Row-wise mean of the K highest similarities, ignoring cells where `exclude` is true
    (an example itself); -inf for a row with nothing left."""
    if exclude is not None:
        sims = np.where(exclude, -np.inf, sims)
    if sims.shape[1] == 0:
        return np.full(sims.shape[0], -np.inf)
    top = -np.sort(-sims, axis=1)[:, :K]
    finite = np.isfinite(top)
    count = finite.sum(axis=1)
    return np.where(count > 0, np.where(finite, top, 0.0).sum(axis=1) / np.maximum(count, 1), -np.inf)


def loo_margins(firing: np.ndarray, near: np.ndarray, firing_texts: list[str],
                near_texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each example's margin with itself (and any example of the same text) left out."""
    f_text, n_text = np.array(firing_texts, dtype=object), np.array(near_texts, dtype=object)
    ff, fn, nn = firing @ firing.T, firing @ near.T, near @ near.T
    firing_margin = (top_mean(ff, f_text[:, None] == f_text[None, :])
                     - top_mean(fn, f_text[:, None] == n_text[None, :]))
    near_margin = (top_mean(fn.T, n_text[:, None] == f_text[None, :])
                   - top_mean(nn, n_text[:, None] == n_text[None, :]))
    return firing_margin, near_margin


def threshold_from(near_margins: np.ndarray) -> float:
    """Just above the worst anchored near-miss; infinite when there are too few to tell."""
    finite = near_margins[np.isfinite(near_margins)]
    if len(near_margins) < MIN_ANCHORED_NEAR_MISSES:
        return math.inf
    if len(finite) < len(near_margins):  # a near-miss with no other near-miss to compare against
        return math.inf
    return max(MIN_THRESHOLD, float(finite.max()) + EPSILON)


@dataclass(frozen=True)
class Calibration:
    """How one rule's vote was set, for the tests and docs/metrics.md."""

    threshold: float
    firing: int  # examples the margin is computed against
    near: int
    anchored_firing: int  # firing examples the vote could be asked about
    anchored_near: int  # near-misses the vote could be asked about: they set the threshold
    caught: int  # anchored firing examples whose leave-one-out margin clears the threshold: had the
    #              phrase lists missed their concept, the vote would still have fired the rule


@dataclass(frozen=True, eq=False)
class ExampleVote:
    firing: np.ndarray
    near: np.ndarray
    threshold: float

    def margin(self, question: np.ndarray) -> float:
        return float(top_mean((self.firing @ question)[None, :])[0] - top_mean((self.near @ question)[None, :])[0])

    def fires(self, question: np.ndarray) -> bool:
        return math.isfinite(self.threshold) and self.margin(question) >= self.threshold
