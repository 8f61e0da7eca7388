"""Typed facts stated in a page section: e-mail addresses, phone and fax numbers, money amounts,
day/week/month counts and team names, each with the sentence it stands in (verbatim, for quoting).

Parsing uses the well-kept libraries where they exist: `email-validator` decides what an e-mail
address is, `phonenumbers` finds and normalizes phone numbers. Money and durations are read by
small patterns over page text (the rules' slot parser reads agents' questions, where a bare
"credit them 40" is an amount; on a page that reading would invent amounts). Team names are taken
conservatively: a capitalised name right before "department" or "team". A missed fact costs a
missed warning; an invented one costs the owner's trust in the report.

Pure functions of text; never alters the quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from assistant.markup import GAP_MARKER, plain, split_sentences
from assistant.text import undot_initials

FactKind = Literal["email", "phone", "fax", "money", "duration", "team"]
KINDS: tuple[FactKind, ...] = ("email", "phone", "fax", "money", "duration", "team")
# Values that are identifiers: a near-spelling of one is a probable typo, not another value.
IDENTIFIER_KINDS: frozenset[str] = frozenset({"email", "phone", "fax", "team"})

EMAIL_CANDIDATE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
MONEY = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)")
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "twelve": 12, "fourteen": 14, "fifteen": 15, "thirty": 30, "sixty": 60,
                "ninety": 90}
_COUNT = r"(\d+|" + "|".join(NUMBER_WORDS) + r")"
DURATION = re.compile(_COUNT + r"(?:\s*[-–]\s*(\d+))?\s+(business\s+|calendar\s+|working\s+)?(day|week|month|year)s?\b",
                      re.IGNORECASE)
# "the A.R.T. department", "our CSG department", "the Service team": one to three capitalised words.
TEAM = re.compile(r"\b((?:[A-Z][\w.&]*\s){0,2}[A-Z][\w.&]*)\s+(department|team|dept)\b")
PHONE_MIN_DIGITS = 7
NON_DIGITS = re.compile(r"\D+")
DURATION_UNIT = re.compile(r"(?:day|week|month|year)s?\b", re.IGNORECASE)  # cheap pre-check of DURATION
FAX_CUE = re.compile(r"\bfax\b", re.IGNORECASE)
FAX_CUE_CHARS = 30  # how far before a number "fax" makes it a fax number ("CSG Fax: 844-...")
NOT_TEAM_WORDS = frozenset({"the", "our", "your", "a", "an", "this", "that", "each", "every", "any"})


@dataclass(frozen=True)
class Fact:
    kind: FactKind
    value: str  # normalized: the comparable form ("collection@lmgholdings.com", "+18449589931", "$35", "7-10 business days")
    written: str  # as the page writes it
    sentence: str  # the sentence it stands in, as written (Markdown markup off)


def sentences_of(body: str) -> list[str]:
    """The section's sentences as written, list dashes and emphasis off; gap markers skipped."""
    out: list[str] = []
    for line in body.splitlines():
        if not line.strip() or line.lstrip().startswith(GAP_MARKER):
            continue
        out += [s for s in split_sentences(plain(line)) if s.strip()]
    return out


def _emails(sentence: str) -> list[Fact]:
    found: list[Fact] = []
    if "@" not in sentence:
        return found
    for m in EMAIL_CANDIDATE.finditer(sentence):
        written = m.group().rstrip(".")
        try:
            checked = validate_email(written, check_deliverability=False)
        except EmailNotValidError:
            continue
        found.append(Fact("email", checked.normalized.lower(), written, sentence))
    return found


def _phones(sentence: str) -> list[Fact]:
    found: list[Fact] = []
    if len(NON_DIGITS.sub("", sentence)) < PHONE_MIN_DIGITS:  # the matcher is slow; most sentences have no number
        return found
    for m in phonenumbers.PhoneNumberMatcher(sentence, "US", leniency=phonenumbers.Leniency.VALID):
        before = sentence[max(0, m.start - FAX_CUE_CHARS):m.start]
        kind: FactKind = "fax" if FAX_CUE.search(before) else "phone"
        found.append(Fact(kind, phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164),
                          m.raw_string, sentence))
    return found


def _money(sentence: str) -> list[Fact]:
    found = []
    for m in MONEY.finditer(sentence):
        amount = float(m.group(1).replace(",", ""))
        value = f"${amount:,.2f}".removesuffix(".00")
        found.append(Fact("money", value, m.group().strip(), sentence))
    return found


def _durations(sentence: str) -> list[Fact]:
    found: list[Fact] = []
    if not DURATION_UNIT.search(sentence):
        return found
    for m in DURATION.finditer(sentence):
        low = m.group(1).lower()
        count = str(NUMBER_WORDS.get(low, low))
        span = f"{count}-{m.group(2)}" if m.group(2) else count
        qualifier = (m.group(3) or "").strip().lower()
        unit = m.group(4).lower()
        value = " ".join(p for p in (span, qualifier, unit + "s") if p)
        found.append(Fact("duration", value, m.group(), sentence))
    return found


def _teams(sentence: str) -> list[Fact]:
    found = []
    for m in TEAM.finditer(sentence):
        name = m.group(1)
        words = [w for w in name.split() if w.lower() not in NOT_TEAM_WORDS]
        # Only names that look like names: not a sentence's first word standing alone ("Our team").
        if not words or (m.start() == 0 and len(words) == 1 and not words[0].isupper() and "." not in words[0]):
            continue
        value = undot_initials(" ".join(words)).rstrip(".").upper() if all(
            w.isupper() or "." in w for w in words) else " ".join(words).lower()
        found.append(Fact("team", value, m.group(), sentence))
    return found


def extract(body: str) -> list[Fact]:
    """Every typed fact of one section body, in reading order per kind."""
    facts: list[Fact] = []
    for sentence in sentences_of(body):
        facts += _emails(sentence) + _phones(sentence) + _money(sentence) + _durations(sentence) + _teams(sentence)
    return facts
