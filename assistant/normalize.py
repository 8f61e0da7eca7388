"""Question normalization for the guardrails: typos, state names, money, follow-ups.

Everything here is a pure function of its input; the guardrails match on what it returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text import fold, undot_initials

# Words the rules key on; a misspelling within a small edit distance is read as the word.
VOCABULARY = frozenset("""
settlement settlements settle settled refund refunded refunds refunding reset resets credit credits
credited crediting courtesy coupon failed failure fails refusal refusals refused tamper tampering
tampered disconnect disconnected violation violations retest supervisor dispute disputes disputed
disputing double charge charged charges assessed billed collection collections contact virginia
dollars waive waived reimburse reimbursed malfunction malfunctioning defective device negotiate
negotiating payment appointment missed escalate discount
""".split())
# Real words within the corrector's edit distance of a vocabulary word: never "corrected"
# (a test checks each one is near a vocabulary word, so the list can't collect dead entries).
PROTECTED = frozenset("""
assessor change changed changes contract contracts devise filed filled payments reseat resent
rests settler temper
""".split())
NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
MONEY_UNIT = r"(?:dollars?|bucks?|usd|dolars?)"
WEST_VIRGINIA = re.compile(
    r"\bwest[\s-]*virgin\w*|\bw\.?\s?virgin\w*|\bwest[\s.-]*va\b\.?|\bmountain state\b|"
    r"\bw\.?\s?va\b\.?|\bw\.\s?v\.?(?=[\s,;:?!)]|$)|\bwv\b")


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Damerau-Levenshtein (optimal string alignment), cut off above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


MIN_CORRECTED_CHARS = 5  # shorter words are too often other real words ("cap", "fee", "art")
LONG_WORD_CHARS = 8  # from this length two typos are allowed, below it one


def typo_limit(word: str) -> int:
    return 2 if len(word) >= LONG_WORD_CHARS else 1


def correct(word: str) -> str:
    if word in VOCABULARY or word in PROTECTED or len(word) < MIN_CORRECTED_CHARS or not word.isalpha():
        return word
    limit = typo_limit(word)
    best = min(VOCABULARY, key=lambda v: (edit_distance(word, v, limit), v))
    return best if edit_distance(word, best, limit) <= limit else word


def _words_to_number(words: list[str]) -> float | None:
    total, current, seen = 0, 0, False
    for w in words:
        if w in ("a", "an") and not seen:
            current = 1
        elif w in NUMBER_WORDS:
            current += NUMBER_WORDS[w]
            seen = True
        elif w == "hundred":
            current = max(current, 1) * 100
            seen = True
        elif w == "thousand":
            total += max(current, 1) * 1000
            current, seen = 0, True
        elif w == "and":
            continue
        else:
            return None
    return float(total + current) if seen else None


def amounts(text: str) -> tuple[float, ...]:
    """Money amounts in folded text: "$50", "50 dollars", "fifty bucks", "seventy five dollars"."""
    found: list[float] = []
    for m in re.finditer(r"(?:\$|usd\s?)\s*(\d[\d,]*(?:\.\d{1,2})?)", text):
        found.append(float(m.group(1).replace(",", "")))
    for m in re.finditer(rf"(?<![$\d.,])(\d[\d,]*(?:\.\d{{1,2}})?)\s*{MONEY_UNIT}\b", text):
        found.append(float(m.group(1).replace(",", "")))
    number_word = "|".join(list(NUMBER_WORDS) + ["hundred", "thousand"])
    for m in re.finditer(rf"\b((?:(?:a|an|and|{number_word})[\s-]+)*(?:{number_word}))[\s-]+{MONEY_UNIT}\b", text):
        value = _words_to_number(re.split(r"[\s-]+", m.group(1)))
        if value is not None:
            found.append(value)
    for m in re.finditer(r"\b(?:credit|refund|coupon|comp|waive)\w*\s+(?:them\s+|him\s+|her\s+|the client\s+)?"
                         r"(?:of\s+|for\s+)?(\d+(?:\.\d{1,2})?)\b"
                         r"(?!\s*(?:days?|weeks?|months?|years?|%|percent|times?))", text):
        found.append(float(m.group(1)))
    return tuple(found)


US_STATES = re.compile(r"\b(alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|"
                       r"georgia|hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|"
                       r"massachusetts|michigan|minnesota|mississippi|missouri|montana|nebraska|nevada|"
                       r"new hampshire|new jersey|new mexico|new york|north carolina|north dakota|ohio|oklahoma|"
                       r"oregon|pennsylvania|rhode island|south carolina|south dakota|tennessee|texas|utah|"
                       r"vermont|virginia|washington|westvirginia|wisconsin|wyoming)\b")


def names_a_state(normalized_text: str) -> bool:
    return US_STATES.search(normalized_text) is not None


@dataclass(frozen=True)
class Normalized:
    text: str  # folded, typo-corrected, "west virginia" forms made "westvirginia"
    amounts: tuple[float, ...]


def normalize(text: str) -> Normalized:
    folded = undot_initials(fold(text))  # a.r.t. -> art
    money = amounts(folded)
    folded = WEST_VIRGINIA.sub(" westvirginia ", folded)
    words = re.findall(r"[a-z0-9$.']+(?:-[a-z0-9$.']+)*|[^\sa-z0-9$.']", folded)
    fixed = " ".join(correct(w) for w in words)
    return Normalized(text=" ".join(fixed.split()), amounts=money)
