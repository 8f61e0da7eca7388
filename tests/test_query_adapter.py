"""The query adapter's fits (benchmarks/query_adapter.py): numpy only, deterministic, pulled to the identity."""

from __future__ import annotations

import numpy as np

from benchmarks.query_adapter import AdapterRecipe, apply, fit, fit_contrastive, fit_ridge, normalize


def _problem(seed: int = 0, n: int = 12, d: int = 8, m: int = 5):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    chunks = normalize(rng.normal(size=(m, d)))
    positives = [i % m for i in range(n)]
    queries = normalize(chunks[positives] + 0.8 * rng.normal(size=(n, d)))
    sections = list(range(m))
    return queries, positives, chunks, sections, [sections[p] for p in positives]


def test_apply_gives_unit_vectors() -> None:
    a = np.diag(np.arange(1.0, 5.0)).astype(np.float32)
    out = apply(a, np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0]]))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(out[1], [0, 0, 0, 1], atol=1e-7)


def test_ridge_weight_pulls_to_identity_and_zero_weight_solves_least_squares() -> None:
    queries, positives, chunks, _, _ = _problem(n=40)
    targets = chunks[positives]
    heavy = fit_ridge(queries, targets, 1e6)
    np.testing.assert_allclose(heavy, np.eye(8), atol=1e-4)
    free = fit_ridge(queries, targets, 0.0)
    expected = np.linalg.lstsq(queries, targets, rcond=None)[0].T
    np.testing.assert_allclose(free, expected, atol=1e-4)


def test_contrastive_lowers_its_loss_and_is_deterministic() -> None:
    queries, positives, chunks, sections, query_sections = _problem()
    recipe = AdapterRecipe(method="contrastive", weight=0.01, scale=20.0, steps=60, learning_rate=1e-2)
    a, losses = fit_contrastive(queries, positives, chunks, sections, query_sections, recipe)
    b, _ = fit_contrastive(queries, positives, chunks, sections, query_sections, recipe)
    assert losses[-1] < losses[0]
    np.testing.assert_array_equal(a, b)
    trained = (apply(a, queries) @ chunks.T).argmax(axis=1)
    plain = (queries @ chunks.T).argmax(axis=1)
    assert (trained == positives).sum() >= (plain == positives).sum()


def test_contrastive_first_step_has_the_finite_difference_gradients_sign() -> None:
    """One Adam step from the identity moves every entry against the sign of the loss's gradient."""
    queries, positives, chunks, sections, query_sections = _problem(n=6, d=4, m=3)
    recipe = AdapterRecipe(method="contrastive", weight=0.5, scale=5.0, steps=1, learning_rate=1e-3)

    def loss(a: np.ndarray) -> float:
        u = normalize(queries @ a.T)
        logits = recipe.scale * u @ chunks.T
        same = np.array([[s == qs for s in sections] for qs in query_sections])
        same[np.arange(len(queries)), positives] = False
        logits[same] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        log_prob = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return float(-log_prob[np.arange(len(queries)), positives].mean() + recipe.weight * ((a - np.eye(4)) ** 2).sum())

    numeric = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            step = np.zeros((4, 4))
            step[i, j] = 1e-6
            numeric[i, j] = (loss(np.eye(4) + step) - loss(np.eye(4) - step)) / 2e-6
    a, _ = fit_contrastive(queries, positives, chunks, sections, query_sections, recipe)
    moved = a - np.eye(4)
    big = np.abs(numeric) > 1e-4
    # Adam's first step is -lr * sign(gradient) (to within eps) for every entry with a gradient.
    np.testing.assert_allclose(moved[big], -recipe.learning_rate * np.sign(numeric[big]), rtol=1e-2)


def test_identity_recipe_is_the_identity() -> None:
    queries, positives, chunks, sections, query_sections = _problem()
    np.testing.assert_array_equal(fit(AdapterRecipe(method="identity"), queries, positives, chunks, sections,
                                      query_sections), np.eye(8, dtype=np.float32))
