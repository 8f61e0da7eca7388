"""The rule engine: the agent's turns in, the verdicts of every rule that fires out.

Two signals decide whether a rule fires, in this order:

1. The lexicon (concepts.yaml phrase lists + slots) decides alone when it is certain: the rule's
   `when` and one of its outcomes hold on the topic -> it fires with that outcome.
2. Otherwise, when the rule has a `vote` and the topic is borderline for it (the rule *would* fire
   if its vote concept were present, e.g. a West Virginia question with no credit word the
   phrase lists know), the nearest-example vote (vote.py) decides: the rule fires when the
   question's margin clears the rule's leave-one-out threshold. The outcome is still chosen by
   the rule's conditions, so slots and parameters decide the action (an amount must still exceed
   the cap to escalate). Without an embedder (pure-lexicon mode) step 2 never fires.

On a turn that continues an earlier topic, a rule is evaluated only if the new turn supplies
something the rule needs present (a state, an amount, a cause, an intent...; not what it only
reads under a `not`): an unrelated new question does not inherit the earlier turn's verdicts.
A rule whose `suppressed_by` rule denies is moot. Verdicts are values in the `Answer`, never
exceptions and never written into its body.

Must never consult retrieval, the pages or a draft answer, and never take a parameter from the
question: the rules hold whatever the pages, the question or a draft says.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.embeddings import Embedder
from assistant.models import Question, Verdict
from assistant.rules.book import Rule, RuleBook
from assistant.rules.conditions import holds
from assistant.rules.conversation import Topic, fold_turns, read
from assistant.rules.schema import ACTIONS, ExampleSpec, OutcomeSpec
from assistant.rules.vote import Calibration, ExampleVote, loo_margins, threshold_from, unit_rows
from assistant.vector_cache import cached_vectors

ACTION_ORDER = {a: n for n, a in enumerate(ACTIONS)}
QUESTION_VECTORS = 512  # recent questions' vectors kept (a follow-up re-reads its topic text)


@dataclass(frozen=True)
class Labelled:
    """One example as a rule's vote sees it."""

    text: str  # the topic text the engine would embed for it
    anchored: bool  # the vote could be asked about it


class Engine:
    def __init__(self, book: RuleBook, embedder: Embedder | None = None, cache_dir: Path | None = None) -> None:
        self.book = book
        self.embedder = embedder
        self.cache_dir = cache_dir  # where the examples' vectors are kept between runs (None: not kept)
        self.votes: dict[str, ExampleVote] = {}
        self.calibration: dict[str, Calibration] = {}
        self._warm = embedder is None
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._example_vectors: dict[str, np.ndarray] = {}

    # -- the lexicon ---------------------------------------------------------------------------------------
    def topic(self, turns: Sequence[str]) -> Topic:
        lexicon = self.book.lexicon
        return fold_turns([read(t, lexicon) for t in turns], lexicon)

    def applies(self, rule: Rule, topic: Topic) -> bool:
        """A continued topic is read by a rule only when the new turn supplied something it reads."""
        return not topic.continued or bool(topic.supplied & rule.reads)

    def lexical(self, rule: Rule, topic: Topic, assume: frozenset[str] = frozenset()) -> OutcomeSpec | None:
        concepts = topic.concepts | assume
        params = rule.spec.parameters
        if not holds(rule.spec.when, concepts, topic.slots, params):
            return None
        return next((o for o in rule.spec.outcomes if o.when is None or holds(o.when, concepts, topic.slots, params)),
                    None)

    def borderline(self, rule: Rule, topic: Topic) -> OutcomeSpec | None:
        """The outcome the rule would give if its vote concept were present, when the vote may ask."""
        vote = rule.spec.vote
        if vote is None or vote.concept in topic.concepts:
            return None
        if vote.when is not None and not holds(vote.when, topic.concepts, topic.slots, rule.spec.parameters):
            return None
        return self.lexical(rule, topic, frozenset({vote.concept}))

    # -- the vote ------------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Embed every rule's examples once and set each rule's threshold (leave-one-out)."""
        with self._lock:
            if self._warm or self.embedder is None:
                return
            prepared = {r.id: self._examples(r) for r in self.book.rules}
            texts = sorted({e.text for firing, near in prepared.values() for e in firing + near})
            embedder = self.embedder
            rows = cached_vectors(self.cache_dir, "rule-examples", embedder.name, texts,
                                  lambda: unit_rows(embedder.embed_documents(texts)))
            vectors = dict(zip(texts, rows, strict=True))
            self._example_vectors = vectors  # a question worded like an example needs no new vector
            for rule in self.book.rules:
                firing, near = prepared[rule.id]
                self._calibrate(rule, firing, near, vectors)
            self._warm = True

    def _examples(self, rule: Rule) -> tuple[list[Labelled], list[Labelled]]:
        """The vote's training examples for `rule`, as (topic text, anchored): its firing examples;
        as near-misses its own plus every other rule's example on which its lexicon does not fire
        (a phrasing agents use where this rule does not apply). Anchored: the vote could be asked
        about it (the lexicon fires on it, or would with the vote concept)."""
        def one(example: ExampleSpec) -> tuple[Labelled, bool]:
            topic = self.topic([*example.history, example.q])
            fires = self.applies(rule, topic) and self.lexical(rule, topic) is not None
            anchored = fires or self.applies(rule, topic) and self.borderline(rule, topic) is not None
            return Labelled(topic.text, anchored), fires

        own = rule.spec.examples
        firing = [one(e)[0] for e in own.fire]
        near = [one(e)[0] for e in own.near_misses]
        others = [e for r in self.book.rules if r.id != rule.id for e in r.spec.examples.fire + r.spec.examples.near_misses]
        taken = {e.text for e in firing + near}
        for example in others:
            labelled, fires = one(example)
            if not fires and labelled.text not in taken:
                near.append(labelled)
                taken.add(labelled.text)
        return firing, near

    def _calibrate(self, rule: Rule, firing: list[Labelled], near: list[Labelled],
                   vectors: dict[str, np.ndarray]) -> None:
        if rule.spec.vote is None:
            return
        f_texts, n_texts = [e.text for e in firing], [e.text for e in near]
        f_vecs, n_vecs = np.array([vectors[t] for t in f_texts]), np.array([vectors[t] for t in n_texts])
        f_margin, n_margin = loo_margins(f_vecs, n_vecs, f_texts, n_texts)
        f_anchored = np.array([e.anchored for e in firing], dtype=bool)
        n_anchored = np.array([e.anchored for e in near], dtype=bool)
        threshold = threshold_from(n_margin[n_anchored])
        self.votes[rule.id] = ExampleVote(firing=f_vecs, near=n_vecs, threshold=threshold)
        self.calibration[rule.id] = Calibration(
            threshold=threshold, firing=len(firing), near=len(near), anchored_firing=int(f_anchored.sum()),
            anchored_near=int(n_anchored.sum()), caught=int((f_margin[f_anchored] >= threshold).sum()))

    def _vector(self, text: str) -> np.ndarray:
        # Same function as the examples (embed_documents), so the similarity is symmetric whatever
        # query/passage prefixes a model adds.
        if text in self._example_vectors:
            return self._example_vectors[text]
        with self._lock:
            if text in self._vectors:
                self._vectors.move_to_end(text)
                return self._vectors[text]
        assert self.embedder is not None
        vector = unit_rows(self.embedder.embed_documents([text]))[0]
        with self._lock:
            self._vectors[text] = vector
            while len(self._vectors) > QUESTION_VECTORS:
                self._vectors.popitem(last=False)
        return vector

    # -- verdicts ------------------------------------------------------------------------------------------
    def decide(self, turns: Sequence[str]) -> dict[str, OutcomeSpec]:
        """Every rule that fires on the newest turn (given the earlier ones), before suppression."""
        if not self._warm:
            self.warm_up()
        topic = self.topic(turns)
        fired: dict[str, OutcomeSpec] = {}
        for rule in self.book.rules:
            if not self.applies(rule, topic):
                continue
            outcome = self.lexical(rule, topic)
            if outcome is None and rule.id in self.votes and (candidate := self.borderline(rule, topic)):
                if self.votes[rule.id].fires(self._vector(topic.text)):
                    outcome = candidate
            if outcome is not None:
                fired[rule.id] = outcome
        return fired

    def verdicts(self, turns: Sequence[str]) -> list[Verdict]:
        """Every rule that fires, deny first; a rule made moot by a denying one is dropped."""
        fired = self.decide(turns)
        out = []
        for rule in self.book.rules:
            outcome = fired.get(rule.id)
            if outcome is None or any(fired.get(o) is not None and fired[o].action == "deny"
                                      for o in rule.spec.suppressed_by):
                continue
            out.append(Verdict(rule=rule.id, action=outcome.action, message=rule.message(outcome),
                               citation=rule.citation))
        return sorted(out, key=lambda v: ACTION_ORDER[v.action])

    def evaluate(self, question: Question) -> list[Verdict]:
        """The verdicts for a question: its text read after the agent's earlier turns."""
        return self.verdicts([*question.history, question.text])
