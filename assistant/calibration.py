"""`python -m assistant.calibration [--backend NAME]`: each backend's abstention threshold, from the gated set only.

The procedure behind `config.ABSTAIN_BELOW` (docs/metrics.md), rerun whenever the model, the
corpus, retrieval or the gated cases change:

1. ingest the corpus with the backend's embedder into a temporary data directory;
2. for every case of the gated set (`evals/*.yaml`, top level) that expects an abstention
   (`abstain: true`: out of scope) or names evidence (`sources_any`: in scope), retrieve its
   passages exactly as `ask` does and take the best dense relevance, the number the composer
   compares with `ASSISTANT_ABSTAIN_BELOW`;
3. pick the threshold with the fewest wrong calls (out-of-scope cases at or above it plus
   in-scope cases under it); among equally good ones, the midpoint of the widest gap between
   neighbouring scores, the largest margin on both sides, rounded to as few decimals as keep it
   inside that gap. Balanced accuracy is printed for comparison, not used: with 10 out-of-scope
   cases against 60 in-scope ones it weighs each out-of-scope case six times, so one outlier
   decides (docs/metrics.md shows where that would put each threshold).

It must never read `evals/held-out/`: those sets estimate how the chosen value does on unseen
questions, and would stop doing so once used to choose it.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import get_args

from assistant.config import ABSTAIN_BELOW, Backend, Settings, load_settings
from assistant.embeddings import offline_environment
from assistant.errors import AssistantError
from assistant.evals import Case, gated_cases


@dataclass(frozen=True)
class Scored:
    case_id: str
    in_scope: bool
    relevance: float


@dataclass(frozen=True)
class Threshold:
    value: float
    errors: int  # out-of-scope cases at or above it + in-scope cases under it
    balanced_accuracy: float
    gap: tuple[float, float]  # the neighbouring scores it sits between


def calibration_cases(cases: list[Case]) -> list[tuple[Case, bool]]:
    """(case, in scope?) for the cases whose scope the trainer stated."""
    picked = []
    for case in cases:
        if case.expect.abstain is True:
            picked.append((case, False))
        elif case.expect.sources_any:
            picked.append((case, True))
    return picked


def errors(scored: list[Scored], threshold: float) -> int:
    return sum((s.relevance < threshold) == s.in_scope for s in scored)


def balanced_accuracy(scored: list[Scored], threshold: float) -> float:
    inside = [s.relevance for s in scored if s.in_scope]
    outside = [s.relevance for s in scored if not s.in_scope]
    return (sum(r >= threshold for r in inside) / len(inside) + sum(r < threshold for r in outside) / len(outside)) / 2


def pick_threshold(scored: list[Scored], balanced: bool = False) -> Threshold:
    """The fewest wrong calls (with `balanced`, the best balanced accuracy instead); among equally
    good thresholds, the midpoint of the widest gap between neighbouring scores, rounded to as few
    decimals as keep it inside that gap."""
    if not any(s.in_scope for s in scored) or all(s.in_scope for s in scored):
        raise ValueError("calibration needs both in-scope and out-of-scope cases")
    values = sorted({s.relevance for s in scored})
    gaps = list(zip(values, values[1:], strict=False))

    def goodness(gap: tuple[float, float]) -> tuple[float, float]:
        mid = (gap[0] + gap[1]) / 2
        quality = round(balanced_accuracy(scored, mid), 9) if balanced else -errors(scored, mid)
        return quality, gap[1] - gap[0]

    low, high = max(gaps, key=goodness)
    value = next((r for r in (round((low + high) / 2, d) for d in (2, 3, 4)) if low < r <= high), (low + high) / 2)
    return Threshold(value=value, errors=errors(scored, value), gap=(low, high),
                     balanced_accuracy=round(balanced_accuracy(scored, value), 4))


def score_cases(settings: Settings, cases: list[tuple[Case, bool]]) -> list[Scored]:
    """Each case's best dense relevance, retrieved as `Chain.ask` retrieves it (same question, same search)."""
    from assistant.chain import Chain
    from assistant.question import make_question

    chain = Chain(settings)
    scored = []
    for case, in_scope in cases:
        try:
            question = make_question(case.question, case.history, settings.business, settings.max_question_chars,
                                     settings.max_history_turns)
        except AssistantError:
            continue  # invalid input never reaches the threshold
        passages = chain.search.retrieve(question)
        scored.append(Scored(case.id, in_scope, max((p.relevance for p in passages), default=0.0)))
    return scored


def calibrate(backend: str, data_dir: Path) -> tuple[list[Scored], Threshold]:
    from assistant.embeddings import get_embedder
    from assistant.ingest import ingest

    settings = load_settings(embedding_backend=backend, data_dir=data_dir)
    ingest(settings, get_embedder(settings))
    scored = score_cases(settings, calibration_cases(gated_cases()))
    return scored, pick_threshold(scored)


def _report(backend: str, scored: list[Scored], chosen: Threshold) -> list[str]:
    inside = sorted((s for s in scored if s.in_scope), key=lambda s: s.relevance)
    outside = sorted((s for s in scored if not s.in_scope), key=lambda s: -s.relevance)
    alternative = pick_threshold(scored, balanced=True)
    configured = ABSTAIN_BELOW[backend]

    def line(name: str, t: Threshold) -> str:
        return (f"{name} {t.value} (between {t.gap[0]:.4f} and {t.gap[1]:.4f}): {t.errors} wrong calls, "
                f"balanced accuracy {t.balanced_accuracy}")

    return [f"== {backend}: {len(inside)} in-scope, {len(outside)} out-of-scope gated cases",
            f"in scope:     min {inside[0].relevance:.3f}, median {median(s.relevance for s in inside):.3f}; lowest: "
            + ", ".join(f"{s.case_id} {s.relevance:.3f}" for s in inside[:5]),
            f"out of scope: max {outside[0].relevance:.3f}, median {median(s.relevance for s in outside):.3f}; highest: "
            + ", ".join(f"{s.case_id} {s.relevance:.3f}" for s in outside[:5]),
            line("chosen: fewest wrong calls, widest gap:", chosen),
            line("for comparison, best balanced accuracy:", alternative),
            f"configured default {configured}: {errors(scored, configured)} wrong calls, "
            f"balanced accuracy {balanced_accuracy(scored, configured):.4f}"]


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
