"""The knowledge-gap queue: questions the assistant abstained on and answers agents rated 👎,
grouped by similarity of the question, ranked by how often the gap was hit.

Each group carries its example questions, the section the assistant found closest (its most
frequent top section), and the agents' comments. A trainer resolves a group as "covered by page X
§ Y" (the questions go into the question bank, so retrieval finds the section next time) or
"needs a page" (it stays listed for the owner). Grouping is a pure function of the signals and
their vectors: the stores and the embedder are the caller's business.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

SignalKind = Literal["abstained", "thumbs_down"]
MAX_EXAMPLES = 5
# Question-to-question cosine at which two questions ask the same thing, per embedding model.
# e5 cosines sit high for any two questions; MiniLM's and the bag of words' spread lower.
GROUP_SIMILARITY = {"e5": 0.9, "sentence-transformers": 0.75}
FALLBACK_GROUP_SIMILARITY = 0.6


@dataclass(frozen=True)
class SectionRef:
    page: str
    section: str
    anchor: str = ""


@dataclass(frozen=True)
class GapSignal:
    """One abstention or one 👎 answer."""

    question: str
    kind: SignalKind
    created: str = ""
    comment: str = ""
    sections: tuple[SectionRef, ...] = ()  # cited or closest sections, best first


@dataclass(frozen=True)
class GapGroup:
    id: str  # stable for the same first question: what a resolution refers to
    count: int
    abstained: int
    thumbs_down: int
    questions: tuple[str, ...]  # every distinct question, most asked first
    closest: SectionRef | None
    comments: tuple[str, ...]
    last_seen: str
    resolution: dict[str, str] = field(default_factory=dict)  # kind, page, section, note (when resolved)

    @property
    def examples(self) -> tuple[str, ...]:
        return self.questions[:MAX_EXAMPLES]


def group_id(question: str) -> str:
    return hashlib.sha256(question.strip().lower().encode()).hexdigest()[:12]


def group_signals(signals: Sequence[GapSignal], vectors: np.ndarray, threshold: float) -> list[GapGroup]:
    """Signals joined to the nearest group whose centroid is within `threshold` (cosine), in the
    order they came; groups ranked by count, then most recent. `vectors`: one unit row per signal."""
    if not signals:
        return []
    members: list[list[int]] = []
    sums: list[np.ndarray] = []
    for i in range(len(signals)):
        best, best_sim = -1, threshold
        if sums:
            centroids = np.vstack(sums)
            centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
            sims = centroids @ vectors[i]
            j = int(np.argmax(sims))
            if sims[j] >= best_sim:
                best = j
        if best < 0:
            members.append([i])
            sums.append(vectors[i].astype(np.float64).copy())
        else:
            members[best].append(i)
            sums[best] += vectors[i]
    groups = [_group([signals[i] for i in idx]) for idx in members]
    return sorted(groups, key=lambda g: (-g.count, _negated(g.last_seen), g.id))


def _negated(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)  # sorts the latest timestamp first


def _group(signals: list[GapSignal]) -> GapGroup:
    asked = Counter(s.question.strip() for s in signals)
    questions = tuple(q for q, _ in sorted(asked.items(), key=lambda kv: (-kv[1], kv[0])))
    tops = Counter(s.sections[0] for s in signals if s.sections)
    closest = sorted(tops.items(), key=lambda kv: (-kv[1], kv[0].page, kv[0].section))[0][0] if tops else None
    comments = tuple(dict.fromkeys(s.comment.strip() for s in signals if s.comment.strip()))
    first = min(signals, key=lambda s: (s.created, s.question)).question
    return GapGroup(id=group_id(first), count=len(signals), abstained=sum(s.kind == "abstained" for s in signals),
                    thumbs_down=sum(s.kind == "thumbs_down" for s in signals), questions=questions,
                    closest=closest, comments=comments, last_seen=max(s.created for s in signals))


def threshold_for(embedder_name: str, backend: str) -> float:
    """The grouping cosine for the model that embedded the questions."""
    if embedder_name.startswith("fake"):
        return FALLBACK_GROUP_SIMILARITY
    return GROUP_SIMILARITY.get(backend, FALLBACK_GROUP_SIMILARITY)
