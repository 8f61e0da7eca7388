"""Pages that talk to the assistant instead of the agent are held back until an owner reviews them.

Two checks, both at ingest, both over the page's own text:

- instruction-like text: a page that tells its reader to ignore its instructions or rules, poses
  as a system or assistant message ("SYSTEM: ..."), or tells "the assistant" what it now is or
  may do. Procedure pages address agents about clients; none of them needs to say that.
- a contradiction of a rule's parameters: a clause that *permits* something (allowed, may, can,
  up to, ...; no negation in the clause) which a rule with parameters (a cap, a list of states)
  denies or escalates, read by the same rule engine that reads agents' questions. So "credits up
  to $500 are allowed in West Virginia" is caught through the rules' own data, not a phrase list
  here. Rules without parameters are left out: what they forbid is an act of the agent (a
  transfer, a word), which a page may well permit in another situation.

A flagged page is not indexed (so it is never quoted) and `assistant ingest` lists it with the
reason. After checking it, its owner sets `reviewed_instructions: true` in its front matter.
Must never change a page or decide anything at question time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import RuleBookError
from assistant.markup import plain
from assistant.models import Page
from assistant.rules import Engine, load_book
from assistant.text import HOMOGLYPHS, ZERO_WIDTH

REVIEWED_FIELD = "reviewed_instructions"
FLAGGED_ACTIONS = frozenset({"deny", "escalate"})
CLAUSE_CHARS = 400  # a clause longer than this is read in its first part only (the engine is per turn)
MAX_CLAUSES = 5000  # per page; pages are capped in size, so this only bounds a pathological one

# Each: a pattern over the page text (look-alike letters and zero-width characters undone), and
# what it means. Case matters only where a label is the signal ("SYSTEM:", not "system:").
INSTRUCTION_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:ignore|disregard|forget|override|bypass)\b[^.\n]{0,60}?\b(?:instructions?|rules?|prompts?|"
                r"guidelines?|guardrails?|polic(?:y|ies))\b", re.I), "tells its reader to ignore instructions or rules"),
    (re.compile(r"(?:^|[\s>*_\[(])(?:SYSTEM|ASSISTANT|DEVELOPER)\s*(?:PROMPT|MESSAGE)?\s*\]?:"),
     "poses as a system or assistant message"),
    (re.compile(r"\bsystem\s+(?:prompt|message|override|instructions?)\b|<\|?\s*(?:system|im_start)\b|\[/?INST\]",
                re.I), "poses as a system or assistant message"),
    (re.compile(r"\byou are now\b|\bfrom now on,?\s+(?:you|the assistant)\b|\bpretend (?:to be|you are)\b", re.I),
     "tells the assistant what it is"),
    (re.compile(r"\b(?:the|this)\s+(?:assistant|AI|chat ?bot|language model|LLM|model)\s+(?:must|should|shall|will|"
                r"may|can|is (?:allowed|permitted))\b", re.I), "tells the assistant what to do"),
    (re.compile(r"\bnew instructions?\b|\bdo not (?:tell|inform|show) the (?:agent|user)\b", re.I),
     "tells the assistant what to do"),
)
PERMITS = re.compile(r"\b(?:allowed|permitted|may|can|approved|authori[sz]ed|ok|okay|fine|up to|eligible)\b", re.I)
NEGATION = re.compile(r"\b(?:not|never|no|cannot|nor|unable|prohibited|forbidden)\b|n['’]t\b", re.I)
CLAUSE_END = re.compile(r"[.;:!?\n]+|\s+but\s+", re.I)


@dataclass(frozen=True)
class Flag:
    page: Page
    reasons: tuple[str, ...]

    def line(self) -> str:
        return (f"{Path(self.page.path).name or self.page.slug}: {'; '.join(self.reasons)}. Not indexed until its "
                f"owner checks it and sets `{REVIEWED_FIELD}: true` in its front matter")


def _shape(text: str) -> str:
    """Look-alike letters and invisible characters undone, case kept (a label's case is a signal)."""
    text = unicodedata.normalize("NFKC", text).translate(ZERO_WIDTH)
    return "".join(ch.translate(HOMOGLYPHS) if ch.islower() else ch for ch in text)


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= 80 else text[:77] + "...")


def instruction_reasons(text: str) -> list[str]:
    shaped = _shape(text)
    found: list[str] = []
    for pattern, meaning in INSTRUCTION_PATTERNS:
        match = pattern.search(shaped)
        if match and meaning not in " ".join(found):
            found.append(f"{meaning} ({_quoted(match.group())})")
    return found


def permissive_clauses(text: str) -> list[str]:
    clauses = (c.strip() for c in CLAUSE_END.split(plain(_shape(text))))
    kept = [c[:CLAUSE_CHARS] for c in clauses if c and PERMITS.search(c) and not NEGATION.search(c)]
    return kept[:MAX_CLAUSES]


def contradiction_reasons(text: str, engine: Engine) -> list[str]:
    found: list[str] = []
    for clause in permissive_clauses(text):
        fired = engine.decide([clause])
        for rule_id, outcome in sorted(fired.items()):
            if outcome is not None and outcome.action in FLAGGED_ACTIONS and rule_id in engine_parametered(engine):
                found.append(f"permits what rule {rule_id} would {outcome.action} ({_quoted(clause)})")
    return found


def engine_parametered(engine: Engine) -> frozenset[str]:
    return frozenset(r.id for r in engine.book.rules if r.spec.parameters)


def rule_engine(corpus_dir: Path) -> Engine | None:
    """The lexicon-only engine over the rule book next to the pages; None for a folder without one."""
    try:
        return Engine(load_book(corpus_dir))
    except RuleBookError:
        return None  # no (or no usable) rule book: only the instruction patterns apply


def flag(page: Page, engine: Engine | None) -> Flag | None:
    if page.reviewed_instructions:
        return None
    text = f"{page.title}\n{page.body}"
    reasons = instruction_reasons(text) + (contradiction_reasons(text, engine) if engine else [])
    return Flag(page, tuple(reasons)) if reasons else None


def hold_back(pages: list[Page], corpus_dir: Path) -> tuple[list[Page], list[Flag]]:
    """The pages to index, and the flagged ones held back."""
    engine = rule_engine(corpus_dir)
    kept: list[Page] = []
    flags: list[Flag] = []
    for page in pages:
        if (found := flag(page, engine)) is not None:
            flags.append(found)
        else:
            kept.append(page)
    return kept, flags
