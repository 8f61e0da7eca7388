"""Slots filled by code rather than phrase lists: money amounts, fractions, states, the banned term.

Amounts: "$50", "50 dollars", "fifty bucks", "credit them 40", "a couple twenties", "forty-ish",
"bump it to 60", "split it into two $25 coupons" (50). Fractions: "70 percent", "70%",
"half", "two thirds". States: the US state names, every way agents write West Virginia, and
two-letter codes written in capitals. The banned term: any spelling output_filter.py would catch,
and a word within two typing errors of it (the corrector allows one below ten letters: "setelment").
Pure functions of one turn's text; carrying slots across turns is conversation.py's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rapidfuzz.distance import OSA

from assistant.output_filter import BANNED, contains_banned

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
MONEY_UNIT = r"(?:dol+[aeo]rs?|bucks?|usd)"  # dollars, dollar, dolars, dollers
_NUMBER_WORD = "|".join(list(NUMBER_WORDS) + ["hundred", "thousand"])
SPELLED_NUMBER = rf"(?:(?:a|an|and|{_NUMBER_WORD})[\s-]+)*(?:{_NUMBER_WORD})"
# Shares written in words: "half", "a third", "two thirds", "three fourths", "a fifth", "nine tenths".
DENOMINATORS = {"third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "sixth": 6, "eighth": 8, "tenth": 10}
NUMERATORS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "nine": 9}
CREDIT_NOUN = r"(?:coupon|credit|courtesy|refund|comp|off|back)"
BILL_WORD = "five|ten|twenty|fifty|hundred"  # banknotes: "a twenty" is $20
AFTER_BILL = "for|as|to|off|back|on|if|since|because|credit|coupon|courtesy|ok|okay|fine|enough|good|too|instead"
FRACTION_WORDS = {"half": 0.5, **{f"{n} {d}{'' if v == 1 else 's'}": v / dv for n, v in NUMERATORS.items()
                                  for d, dv in DENOMINATORS.items() if v < dv}}
WEST_VIRGINIA = re.compile(
    r"\bwest[\s-]*virgin\w*|\bw\.?\s?virgin\w*|\bwest[\s.-]*va\b\.?|\bmountain state\b|"
    r"\bw\.?\s?va\b\.?|\bw\.\s?v\.?(?=[\s,;:?!)]|$)|\bwv\b|\bwestvirginia\b")
STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID",
    "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY", "north carolina": "NC",
    "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN", "texas": "TX",
    "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA", "west virginia": "WV",
    "wisconsin": "WI", "wyoming": "WY",
}
STATE_NAMES = {code: name.title() for name, code in STATES.items()}
STATE_WORDS = frozenset(w for name in STATES for w in name.split())  # part of the typo vocabulary
_STATE_NAME = re.compile(r"\b(" + "|".join(sorted((n for n in STATES if n != "west virginia"), key=len, reverse=True))
                         + r")\b")
# Two-letter codes count only in capitals ("TX", "NY"). Those that are also words or titles when
# shouted ("CLIENT IS IN COLLECTION", "OK", "HI", "ME", "PA") count only in a state-like place:
# after "in", "from", "to" or "of" ("client in PA", "moved to OH") or before a word for a person
# or an account ("PA client", "OK resident"), and never in a shouted run of capitals.
AMBIGUOUS_CODES = frozenset("AL AR CO DE GA HI ID IN LA MA MD ME MO MS OH OK OR PA".split())
_STATE_CODE = re.compile(r"\b(" + "|".join(sorted(set(STATES.values()) - AMBIGUOUS_CODES)) + r")\b")
_AMBIGUOUS = "|".join(sorted(AMBIGUOUS_CODES))
STATE_NOUNS = "client|clients|cx|customer|customers|resident|residents|account|accounts|address|state|office|law"
_AMBIGUOUS_IN_CONTEXT = re.compile(
    rf"(?:\b(?:in|from|to|of|lives|living|located|state)\s+({_AMBIGUOUS})\b(?!\s+[A-Z]{{2}}))"
    rf"|(?:(?<![A-Z]\s)\b({_AMBIGUOUS})\s+(?:{STATE_NOUNS})\b)")


# What a number counts when it is not money: durations and shares ("credit for 10 days"), and
# counts of things ("2 more appointments", "3 not 2 violations").
DURATIONS = r"days?|weeks?|months?|years?|minutes?|hours?|times?|%|percent"
NOT_MONEY = rf"(?:{DURATIONS}|violations?|resets?|appointments?|appts?|payments?|visits?|calls?|devices?)\b"
# A bare number after a credit word or an ask ("credit them 40", "she's asking for 60", "can I do forty?").
# Who gets it and "another" / "an extra", between the ask and the number ("credit her another 20",
# "give the WV lady the 25").
# "the" before the number only after a recipient: "wants the 800 number" is no amount.
_RECIPIENT = (r"(?:(?:them|him|her|the client|the (?:\w+\s+)?(?:lady|guy|man|woman|customer|caller|client))\s+(?:the\s+)?)?"
              r"(?:another\s+|an extra\s+|extra\s+|additional\s+)?")
_NOT_A_BILL = rf"(?!an?\s+(?:{BILL_WORD})\b)"  # "a twenty" is banknote slang: _BANKNOTE reads it
_AFTER_AN_ASK = re.compile(
    r"\b(?:(?:credit|refund|coupon|comp|waive)\w*|asking for|asks for|asked for|wants|requesting|demanding|do)\s+"
    rf"{_RECIPIENT}(?:of\s+|for\s+)?"
    rf"{_NOT_A_BILL}(\d+(?:\.\d{{1,2}})?|{SPELLED_NUMBER}(?=\s*(?:$|[,.;:?!)]|(?:{AFTER_BILL})\b)))\b"
    rf"(?!\s*(?:{DURATIONS}|of\b))"
    rf"(?!\s*more\s+{NOT_MONEY})")
AFTER_A_GIVE = "now|today|tonight|later|next|then|and|more|total|max|dollars?|bucks?|toward|towards"  # "give him 35 now and ..."
# A number handed over or added ("give her 20?", "another 15 on top"): these verbs take any object
# ("give her 2 options"), so digits count here only where a money word could stand after them.
_AFTER_A_GIVE = re.compile(
    r"\b(?:give|giving|add|adding|another|an extra|an additional)\s+"
    rf"{_RECIPIENT}"
    rf"{_NOT_A_BILL}(\d+(?:\.\d{{1,2}})?|{SPELLED_NUMBER})(?=\s*(?:$|[,.;:?!)]|(?:{AFTER_BILL}|{AFTER_A_GIVE})\b))"
    rf"(?!\s*more\s+{NOT_MONEY})")
# A number right before what a credit is or does ("a 50 coupon", "take seventy off", "20 back").
_BEFORE_A_CREDIT = re.compile(rf"(?<![$\d.,])\b(\d+(?:\.\d{{1,2}})?|{SPELLED_NUMBER})\s+(?:{CREDIT_NOUN})\b")
# Banknote slang, judged by what follows: "give her a ten as an apology", "is a twenty ok".
_BANKNOTE = re.compile(rf"\b(?:a|an)\s+({BILL_WORD})\b(?=\s*(?:$|[,.;:?!)]|(?:{AFTER_BILL})\b))")
# Several banknotes: "a couple twenties", "two tens as a courtesy".
BILLS = {"fives": 5, "tens": 10, "twenties": 20, "fifties": 50, "hundreds": 100}
COUNTS = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}
BILL_COUNTS = {"a couple of": 2, "a couple": 2, "couple of": 2, "couple": 2, **COUNTS}
_BANKNOTES = re.compile(rf"\b({'|'.join(BILL_COUNTS)})\s+({'|'.join(BILLS)})\b")
# Raising a credit to a number: "bump it to 60", "up it to forty?"; the number ends the ask (not
# "up it to 150 total on the plan", "bump it up to 3 more days").
_RAISED_TO = re.compile(rf"\b(?:bump|bumping|raise|raising|up|upping|increase|increasing)\s+(?:it|that|the credit|the coupon)\s+"
                        rf"(?:up\s+)?to\s+{_NOT_A_BILL}(\d+(?:\.\d{{1,2}})?|{SPELLED_NUMBER})"
                        r"(?=\s*(?:$|[,.;:?!)]|(?:dollars?|bucks?|without|instead|then|ok|okay|for)\b))")
# Several credits of one amount asked for or offered: "split it into two $25 coupons", "what if i do
# two $20 coupons" are their total; "she has two 20 dollar coupons on the account" holds them already.
_SEVERAL_CREDITS = re.compile(
    r"\b(?:do|give|giving|issue|send|offer|into|wants|asking for|asks for|instead)\s+"
    rf"({'|'.join(COUNTS)})\s+(?:\$\s*)?(\d+(?:\.\d{{1,2}})?)"
    r"(?:\s*(?:dollars?|bucks?))?\s+(?:coupons|credits|courtesy credits|courtesies|vouchers|refunds)\b")
# An amount judged fair: "he says 60 is fair", "40 would be reasonable".
_JUDGED = re.compile(r"(?<![\d.,$])\b(\d+(?:\.\d{1,2})?)\s+(?:is|would be|sounds|seems)\s+(?:fair|enough|reasonable)\b")
# A corrected amount, said as a correction: "sorry, 25 not 45", "i meant 50 not 15", "typo, 30 not 300".
_CORRECTED = re.compile(
    r"\b(?:sorry|meant|actually|oops|correction|typo|my bad|mistake)\b[\s,.:;-]*(?:\w+\s+){0,3}?"
    r"\$?(\d{1,3}(?:\.\d{1,2})?)\s*(?:dollars?|bucks?)?\s*,?\s+not\s+\$?(\d{1,3}(?:\.\d{1,2})?)\b"
    rf"(?!\s*{NOT_MONEY})")
# "fifty-ish", "40ish": an approximate amount is still that amount.
_APPROXIMATE = re.compile(rf"\b(\d+(?:\.\d{{1,2}})?|{SPELLED_NUMBER})[\s-]?ish\b")


def _number(text: str) -> float | None:
    return float(text) if text[0].isdigit() else _words_to_number(re.split(r"[\s-]+", text))


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
    # Each mention of a number counts once, however many of the patterns read it ("give her another
    # 20 dollars" is one $20): two mentions are two amounts, which a turn that adds them up sums.
    found: list[float] = []
    taken: list[tuple[int, int]] = []
    text = _APPROXIMATE.sub(lambda m: m.group(1) + " " * (len(m.group(0)) - len(m.group(1))), text)

    def mention(span: tuple[int, int], value: float | None) -> None:
        if value is not None and not any(span[0] < end and start < span[1] for start, end in taken):
            taken.append(span)
            found.append(value)

    for m in _CORRECTED.finditer(text):  # "25 not 45": 25 is the amount, 45 is no mention at all
        mention(m.span(1), float(m.group(1)))
        taken.append(m.span(2))
    for m in _SEVERAL_CREDITS.finditer(text):  # before the single amounts: "two $25 coupons" is one mention of 50
        mention((m.start(1), m.end(2)), COUNTS[m.group(1)] * float(m.group(2)))
    for m in re.finditer(r"(?:\$|usd\s?)\s*(\d[\d,]*(?:\.\d{1,2})?)", text):
        mention(m.span(1), float(m.group(1).replace(",", "")))
    for m in re.finditer(rf"(?<![$\d.,])(\d[\d,]*(?:\.\d{{1,2}})?)\s*{MONEY_UNIT}\b", text):
        mention(m.span(1), float(m.group(1).replace(",", "")))
    for m in re.finditer(rf"\b({SPELLED_NUMBER})[\s-]+{MONEY_UNIT}\b", text):
        mention(m.span(1), _words_to_number(re.split(r"[\s-]+", m.group(1))))
    # Bare numbers read as money by what is around them.
    for pattern in (_AFTER_AN_ASK, _AFTER_A_GIVE, _BEFORE_A_CREDIT, _BANKNOTE, _RAISED_TO, _JUDGED):
        for m in pattern.finditer(text):
            number = m.group(1)
            if number in ("one", "a", "an"):  # "a one-off credit"
                continue
            mention(m.span(1), 100.0 if number == "hundred" else _number(number))
    for m in _BANKNOTES.finditer(text):
        mention(m.span(), float(BILL_COUNTS[m.group(1)] * BILLS[m.group(2)]))
    # A turn that is only a number ("sixty", "45?") answers an earlier "how much": it is an amount.
    if not found and (alone := re.fullmatch(rf"\s*\$?(\d+(?:\.\d{{1,2}})?|{SPELLED_NUMBER})\s*[?.!]*\s*", text)):
        value = float(alone.group(1)) if alone.group(1)[0].isdigit() else _words_to_number(
            re.split(r"[\s-]+", alone.group(1)))
        if value is not None:
            found.append(value)
    return tuple(found)


def fractions(text: str) -> tuple[float, ...]:
    """Shares of a whole in folded text: "70 percent", "70%", "seventy percent", "half", "two thirds"."""
    found: list[float] = []
    for m in re.finditer(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|pct\b|per cent\b)", text):
        found.append(float(m.group(1)) / 100)
    for m in re.finditer(rf"\b({SPELLED_NUMBER})[\s-]+(?:percent|per cent)\b", text):
        value = _words_to_number(re.split(r"[\s-]+", m.group(1)))
        if value is not None:
            found.append(value / 100)
    for m in re.finditer(rf"\b(\d+|{SPELLED_NUMBER})\s+cents on the dollar\b", text):
        value = _number(m.group(1))
        if value is not None:
            found.append(value / 100)
    for words, value in FRACTION_WORDS.items():
        if re.search(rf"\b{words}\b", text):
            found.append(value)
    return tuple(found)


# A state the turn says the client is NOT in: "she's in ohio not wv", "no longer in west virginia",
# "not from WV". Not "is not WV excluded?" (folded "isn't"): a question about the state, which names it.
_NOT_IN = r"(?:\b(?:not|no longer)\s+(?:in|from|living in)\s+|(?<!\bis\s)(?<!\bare\s)(?<!\bwas\s)\b(?:not|no longer)\s+)"


def _without_negated(text: str, state: re.Pattern[str], flags: int = 0) -> str:
    return re.sub(_NOT_IN + f"(?:{state.pattern})", " ", text, flags=flags)


def states(folded: str, raw: str = "") -> frozenset[str]:
    """Postal codes of the states named: full names (typo-corrected text), West Virginia's
    many spellings, and codes written in capitals in the raw text; a state named after "not"
    ("in ohio not wv") is not one of them."""
    folded = _without_negated(_without_negated(folded, WEST_VIRGINIA), _STATE_NAME)
    raw = _without_negated(raw, WEST_VIRGINIA, re.IGNORECASE)  # "Not in WV": no code left to read
    found = set()
    if WEST_VIRGINIA.search(folded):
        found.add("WV")
        folded = WEST_VIRGINIA.sub(" ", folded)
    found |= {STATES[m.group(1)] for m in _STATE_NAME.finditer(folded)}
    found |= {m.group(1) for m in _STATE_CODE.finditer(raw)}
    found |= {m.group(1) or m.group(2) for m in _AMBIGUOUS_IN_CONTEXT.finditer(raw)}
    return frozenset(found)


@dataclass(frozen=True)
class Slots:
    amounts: tuple[float, ...] = ()
    fractions: tuple[float, ...] = ()
    states: frozenset[str] = field(default_factory=frozenset)
    banned_term: bool = False

    def filled(self) -> frozenset[str]:
        """The built-in slot names this turn fills (the names conditions use)."""
        names = {"amount": bool(self.amounts), "fraction": bool(self.fractions), "state": bool(self.states),
                 "banned-term": self.banned_term}
        return frozenset(n for n, filled in names.items() if filled)

    def updated(self, newer: Slots) -> Slots:
        """These slots with every slot `newer` fills replaced by its value ("and what about Ohio?")."""
        return replace(self, **{k: v for k, v in vars(newer).items() if v})


BANNED_TYPOS = 2  # edits a misspelt banned term may carry ("resettlement" is as close, but its first letter differs)
MIN_BANNED_TYPO_CHARS = 7


def misspelt_banned(words: str) -> bool:
    """A word within `BANNED_TYPOS` edits of the banned term or its plural, same first letter."""
    return any(len(w) >= MIN_BANNED_TYPO_CHARS and w[0] == BANNED[0]
               and min(OSA.distance(w, BANNED), OSA.distance(w, BANNED + "s")) <= BANNED_TYPOS
               for w in re.findall(r"[a-z]+", words))


def read_slots(raw: str, prepared: str, corrected: str) -> Slots:
    """`prepared`: folded text (typos.prepare); `corrected`: its typo-corrected words joined."""
    return Slots(amounts=amounts(prepared), fractions=fractions(prepared),
                 states=states(corrected + " " + prepared, raw),
                 banned_term=contains_banned(raw) or contains_banned(corrected) or misspelt_banned(corrected))
