"""`python -m assistant.calibration [--backend NAME]`: each backend's abstention rule, from training data only.

The procedure behind `config.ABSTAIN_BELOW`, `config.ABSTAIN_LEXICAL_WEIGHT` and `config.ABSTAIN_BANK_WEIGHT` (docs/metrics.md),
rerun whenever the model, the corpus, retrieval, the question bank or the training cases change:

1. ingest the corpus with the backend's embedder into a temporary data directory;
2. collect the cases whose scope is known: every case of the gated set (`evals/*.yaml`, top level)
   and of the training sets (`evals/train/*.yaml`) that expects an abstention (`abstain: true`:
   out of scope) or names evidence (`sources_any`: in scope), plus every question of the
   question bank (`corpus/questions.yaml`, in scope) asked with that one question left out of the
   bank (retrieval uses the bank: asked with itself in it, a bank question would be too easy);
3. retrieve each case's passages exactly as `ask` does and take the three signals the composer
   reads: the best dense relevance and the best BM25 score among the passages, and the question's
   nearness (cosine) to its nearest bank question;
4. fit a three-feature logistic regression (in scope ~ relevance + log(1 + BM25) + bank nearness;
   classes weighted to count equally, features scaled to unit spread, a small ridge penalty;
   Newton's method, so the fit is deterministic) and keep only the *direction* it finds: the
   weights w = (BM25 coefficient) / (relevance coefficient) and b = (nearness coefficient) /
   (relevance coefficient), which make `coverage = relevance + w * log(1 + BM25) + b * nearness` a
   score in dense-cosine units (a weight the fit makes negative is 0: that signal is dropped);
5. pick the threshold on that score as before: the fewest wrong calls (out-of-scope cases at or
   above it plus in-scope cases under it); among equally good ones, the midpoint of the widest gap
   between neighbouring scores, rounded to as few decimals as keep it inside that gap. Balanced
   accuracy is printed for comparison, not used: with a few dozen out-of-scope cases against two
   hundred in-scope ones it weighs each out-of-scope case several times, so one outlier decides.
   The two-signal rule (b = 0) and a dense-only threshold are printed next to it, for comparison.

It must never read `evals/held-out/`: those sets estimate how the chosen values do on unseen
questions, and would stop doing so once used to choose them.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import get_args

import numpy as np

from assistant.answer import coverage
from assistant.config import ABSTAIN_BANK_WEIGHT, ABSTAIN_BELOW, ABSTAIN_LEXICAL_WEIGHT, Backend, Settings, load_settings
from assistant.embeddings import offline_environment
from assistant.errors import AssistantError
from assistant.evals import TRAIN_SETS, Case, gated_cases, load_cases
from assistant.models import Passage

RIDGE = 1e-2  # keeps the fit finite when the training cases happen to be separable
NEWTON_STEPS = 100  # a three-feature fit converges in well under ten; the bound only guards the loop


@dataclass(frozen=True)
class Scored:
    case_id: str
    in_scope: bool
    relevance: float  # the best dense relevance among the passages
    lexical: float = 0.0  # the best BM25 score among the passages
    bank: float = 0.0  # the question's nearness to its nearest bank question

    def coverage(self, lexical_weight: float, bank_weight: float = 0.0) -> float:
        """The score the composer abstains on (answer.coverage)."""
        return coverage(self.relevance, self.lexical, lexical_weight, self.bank, bank_weight)


@dataclass(frozen=True)
class Threshold:
    value: float
    errors: int  # out-of-scope cases at or above it + in-scope cases under it
    balanced_accuracy: float
    gap: tuple[float, float]  # the neighbouring scores it sits between
    lexical_weight: float = 0.0
    bank_weight: float = 0.0


def calibration_cases(cases: list[Case]) -> list[tuple[Case, bool]]:
    """(case, in scope?) for the cases whose scope the trainer stated."""
    picked = []
    for case in cases:
        if case.expect.abstain is True:
            picked.append((case, False))
        elif case.expect.sources_any:
            picked.append((case, True))
    return picked


def training_cases() -> list[Case]:
    """The gated set and the training sets: never the held-out ones."""
    train = sorted(TRAIN_SETS.glob("*.yaml"))
    return gated_cases() + (load_cases(train) if train else [])


def errors(scored: list[Scored], threshold: float, lexical_weight: float = 0.0, bank_weight: float = 0.0) -> int:
    return sum((s.coverage(lexical_weight, bank_weight) < threshold) == s.in_scope for s in scored)


def balanced_accuracy(scored: list[Scored], threshold: float, lexical_weight: float = 0.0,
                      bank_weight: float = 0.0) -> float:
    inside = [s.coverage(lexical_weight, bank_weight) for s in scored if s.in_scope]
    outside = [s.coverage(lexical_weight, bank_weight) for s in scored if not s.in_scope]
    return (sum(r >= threshold for r in inside) / len(inside) + sum(r < threshold for r in outside) / len(outside)) / 2


def fit_weights(scored: list[Scored], bank: bool = True) -> tuple[float, float]:
    """Step 4: the weights of log(1 + BM25) and (with `bank`) of the bank nearness next to the
    dense relevance, from a logistic regression.

    Never negative: a question's own words standing in a passage, or a trainer having asked
    something like it, can only be evidence of coverage; a signal the fit weighs against (too few
    cases) is dropped and the rest refitted; a fit against the dense relevance itself falls back
    to the dense relevance alone.
    """
    _need_both_classes(scored)
    y = np.array([1.0 if s.in_scope else 0.0 for s in scored])
    columns = [[s.relevance for s in scored], [math.log1p(max(s.lexical, 0.0)) for s in scored]]
    if bank:
        columns.append([s.bank for s in scored])
    raw = np.array(columns).T
    spread = raw.std(axis=0)
    spread[spread == 0] = 1.0
    x = np.c_[np.ones(len(y)), (raw - raw.mean(axis=0)) / spread]
    weight = np.where(y == 1, 0.5 / y.sum(), 0.5 / (1 - y).sum()) * len(y)  # both classes count equally
    penalty = RIDGE * np.diag([0.0] + [1.0] * raw.shape[1])
    beta = np.zeros(x.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1 / (1 + np.exp(-x @ beta))
        gradient = x.T @ (weight * (p - y)) + penalty @ beta
        hessian = (x * (weight * p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    coefficients = beta[1:] / spread
    if coefficients[0] <= 0:
        return 0.0, 0.0
    if bank and coefficients[2] <= 0:
        return fit_weights(scored, bank=False)
    lexical = round(float(coefficients[1] / coefficients[0]), 4) if coefficients[1] > 0 else 0.0
    nearness = round(float(coefficients[2] / coefficients[0]), 4) if bank else 0.0
    return lexical, nearness


def pick_threshold(scored: list[Scored], balanced: bool = False, lexical_weight: float = 0.0,
                   bank_weight: float = 0.0) -> Threshold:
    """Step 5, on `coverage(lexical_weight, bank_weight)`: the fewest wrong calls (with `balanced`,
    the best balanced accuracy instead); among equally good thresholds, the midpoint of the widest
    gap between neighbouring scores, rounded to as few decimals as keep it inside that gap."""
    _need_both_classes(scored)
    values = sorted({s.coverage(lexical_weight, bank_weight) for s in scored})
    gaps = list(zip(values, values[1:], strict=False))

    def goodness(gap: tuple[float, float]) -> tuple[float, float]:
        mid = (gap[0] + gap[1]) / 2
        quality = (round(balanced_accuracy(scored, mid, lexical_weight, bank_weight), 9) if balanced
                   else -errors(scored, mid, lexical_weight, bank_weight))
        return quality, gap[1] - gap[0]

    low, high = max(gaps, key=goodness)
    value = next((r for r in (round((low + high) / 2, d) for d in (2, 3, 4)) if low < r <= high), (low + high) / 2)
    return Threshold(value=value, errors=errors(scored, value, lexical_weight, bank_weight), gap=(low, high),
                     balanced_accuracy=round(balanced_accuracy(scored, value, lexical_weight, bank_weight), 4),
                     lexical_weight=lexical_weight, bank_weight=bank_weight)


def fit(scored: list[Scored], bank: bool = True) -> Threshold:
    """Steps 4 and 5: the weights, then the threshold on the score they make."""
    lexical, nearness = fit_weights(scored, bank)
    return pick_threshold(scored, lexical_weight=lexical, bank_weight=nearness)


def _need_both_classes(scored: list[Scored]) -> None:
    if not any(s.in_scope for s in scored) or all(s.in_scope for s in scored):
        raise ValueError("calibration needs both in-scope and out-of-scope cases")


def score_cases(settings: Settings, cases: list[tuple[Case, bool]], bank: bool = False) -> list[Scored]:
    """Each case's best dense relevance and best BM25 score, retrieved as `Chain.ask` retrieves
    (same question, same search); with `bank`, also every question-bank question, each asked with
    itself left out of the bank."""
    from assistant.chain import Chain
    from assistant.question import make_question
    from assistant.question_bank import BankIndex

    chain = Chain(settings)
    search = chain.search
    scored = []
    for case, in_scope in cases:
        try:
            question = make_question(case.question, case.history, settings.business, settings.max_question_chars,
                                     settings.max_history_turns)
        except AssistantError:
            continue  # invalid input never reaches the threshold
        scored.append(_scored(case.id, in_scope, search.retrieve(question)))
    if bank:
        snapshot = search.snapshot
        full = snapshot.bank
        try:
            for n, entry in enumerate(full.entries):
                keep = [i for i in range(len(full.entries)) if i != n]
                search.use_snapshot(dataclasses.replace(
                    snapshot, bank=BankIndex([full.entries[i] for i in keep], full.vectors[keep])))
                question = make_question(entry.question, [], settings.business, settings.max_question_chars)
                scored.append(_scored(f"bank-{n + 1}", True, search.retrieve(question)))
        finally:
            search.use_snapshot(snapshot)
    return scored


def _scored(case_id: str, in_scope: bool, passages: list[Passage]) -> Scored:
    return Scored(case_id, in_scope, max((p.relevance for p in passages), default=0.0),
                  max((p.lexical for p in passages), default=0.0),
                  passages[0].bank_nearness if passages else 0.0)


def calibrate(backend: str, data_dir: Path) -> tuple[list[Scored], Threshold]:
    from assistant.embeddings import get_embedder
    from assistant.ingest import ingest

    settings = load_settings(embedding_backend=backend, data_dir=data_dir)
    ingest(settings, get_embedder(settings))
    scored = score_cases(settings, calibration_cases(training_cases()), bank=True)
    return scored, fit(scored)


def _report(backend: str, scored: list[Scored], chosen: Threshold) -> list[str]:
    w, b = chosen.lexical_weight, chosen.bank_weight
    inside = sorted((s for s in scored if s.in_scope), key=lambda s: s.coverage(w, b))
    outside = sorted((s for s in scored if not s.in_scope), key=lambda s: -s.coverage(w, b))
    alternative = pick_threshold(scored, balanced=True, lexical_weight=w, bank_weight=b)
    two_signal = fit(scored, bank=False)
    dense_only = pick_threshold(scored)
    configured = (ABSTAIN_BELOW[backend], ABSTAIN_LEXICAL_WEIGHT[backend], ABSTAIN_BANK_WEIGHT[backend])

    def line(name: str, t: Threshold) -> str:
        caught = sum(s.coverage(t.lexical_weight, t.bank_weight) < t.value for s in outside)
        wrong = sum(s.coverage(t.lexical_weight, t.bank_weight) < t.value for s in inside)
        return (f"{name} w={t.lexical_weight} b={t.bank_weight} threshold {t.value} (between {t.gap[0]:.4f} and "
                f"{t.gap[1]:.4f}): {t.errors} wrong calls (abstains on {caught}/{len(outside)} out of scope, "
                f"{wrong}/{len(inside)} in scope), balanced accuracy {t.balanced_accuracy}")

    def scores(items: list[Scored]) -> str:
        return ", ".join(f"{s.case_id} {s.coverage(w, b):.3f}" for s in items[:5])

    return [f"== {backend}: {len(inside)} in-scope, {len(outside)} out-of-scope training cases",
            f"in scope:     min {inside[0].coverage(w, b):.3f}, median {median(s.coverage(w, b) for s in inside):.3f}; "
            f"lowest: {scores(inside)}",
            f"out of scope: max {outside[0].coverage(w, b):.3f}, "
            f"median {median(s.coverage(w, b) for s in outside):.3f}; highest: {scores(outside)}",
            line("chosen: fitted weights, fewest wrong calls, widest gap:", chosen),
            line("for comparison, best balanced accuracy:", alternative),
            line("for comparison, two signals (no bank nearness):", two_signal),
            line("for comparison, dense relevance alone:", dense_only),
            f"configured default w={configured[1]} b={configured[2]} threshold {configured[0]}: "
            f"{errors(scored, configured[0], configured[1], configured[2])} wrong calls, "
            f"balanced accuracy {balanced_accuracy(scored, *configured):.4f}"]


def main(argv: list[str] | None = None) -> int:
    offline_environment()
    parser = argparse.ArgumentParser(prog="python -m assistant.calibration", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=get_args(Backend), action="append",
                        help="calibrate only this backend (repeatable); default: every backend")
    args = parser.parse_args(argv)
    for backend in args.backend or list(get_args(Backend)):
        with tempfile.TemporaryDirectory(prefix=f"calibrate-{backend}-") as tmp:
            scored, chosen = calibrate(backend, Path(tmp))
        print("\n".join(_report(backend, scored, chosen)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
