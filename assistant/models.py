"""Values that cross stage boundaries. All frozen: a stage returns new values, never mutates.

The `Answer` JSON (`Answer.model_dump_json()`) is the contract the CLI, UI and evals rely on;
keep its field names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.markup import review_days


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Page(Frozen):
    """One corpus page: front matter plus its Markdown body."""

    slug: str
    title: str
    business: str
    source: str
    updated: str | None = None
    source_url: str | None = None
    owner: str | None = None  # who keeps the page right; none is a gap the health report lists
    review_every: str | None = None  # "90 days", "12 weeks", "6 months" or a day count
    body: str
    path: str = ""
    # Set by the page's owner after checking a page flagged at ingest for instruction-like text or
    # text contradicting a rule (assistant/instructions.py); until then it is not indexed.
    reviewed_instructions: bool = False

    @field_validator("review_every")
    @classmethod
    def _review_interval(cls, value: str | None) -> str | None:
        if value is not None:
            review_days(value)  # raises ValueError naming the accepted shapes
        return value

    @property
    def review_every_days(self) -> int | None:
        return review_days(self.review_every) if self.review_every else None


class Chunk(Frozen):
    """A quotable piece of one page section; `id` is a hash of location + content."""

    id: str
    page: str  # page slug
    page_title: str
    business: str
    section: str  # heading path, " > "-joined
    anchor: str  # slug of the innermost heading, for deep links
    text: str  # verbatim Markdown of the piece
    updated: str | None = None
    source_url: str | None = None
    has_gap: bool = False  # the piece carries an "export lost content" marker


class Source(Frozen):
    """Where a passage's text stands: one page section."""

    page: str
    page_title: str
    section: str
    anchor: str
    updated: str | None = None
    source_url: str | None = None


class Passage(Frozen):
    """A retrieved, fused passage; near-duplicates are merged so `sources` may list several pages."""

    chunk: Chunk
    sources: tuple[Source, ...]
    score: float  # fused rank score, for ordering only
    relevance: float  # dense cosine similarity of the query to the passage, 0..1
    lexical: float = 0.0  # BM25 score; with `relevance`, what the composer abstains on (answer.coverage)
    # The question's cosine to its nearest trainers' bank question (the same on every passage of one
    # retrieval; 0 without a bank): the third signal the composer abstains on.
    bank_nearness: float = 0.0


class CitationSource(Frozen):
    """A page section an answer points to. `url` is filled by the chain's last steps (links.py)
    from `anchor` and `source_url`: the stages that pick sections never need to know the UI."""

    page: str
    section: str
    url: str = ""
    anchor: str = ""
    source_url: str | None = None


class Citation(CitationSource):
    n: int
    quote: str  # verbatim page text
    updated: str | None = None
    page_title: str = ""
    also_in: list[CitationSource] = Field(default_factory=list)  # merged near-duplicates
    review_overdue: bool = False  # the page is past its review date (updated + review interval)


class Verdict(Frozen):
    rule: str
    action: Literal["deny", "escalate", "rewrite", "caution"]
    message: str
    citation: CitationSource


class Timings(Frozen):
    retrieve: float = 0.0
    answer: float = 0.0
    guard: float = 0.0
    total: float = 0.0


class Question(Frozen):
    """One agent question, made once per ask by `question.make_question`; every stage reads it."""

    text: str  # as asked, whitespace folded
    history: tuple[str, ...] = ()  # the agent's earlier turns, oldest first
    business: str | None = None  # the line of business the answer must come from; None = decided per question
    search_text: str  # what retrieval and sentence choice look for


class Answer(Frozen):
    """The answer contract. `answer` is the composed body only; rule verdicts stay in
    `guardrails` and are put first by the presenter (present.py), never written into the body."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    guardrails: list[Verdict] = Field(default_factory=list)
    timings_ms: Timings = Field(default_factory=Timings)
    see_also: list[CitationSource] = Field(default_factory=list)  # closest pages when abstaining


class Draft(Frozen):
    """The composer's output before the rules: what `answer.compose` hands on."""

    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    see_also: list[CitationSource] = Field(default_factory=list)
