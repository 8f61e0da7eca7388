"""Hard business rules: data plus small pure matchers, applied after the answer is composed.

Every rule has a fixed id (eval sets and trainers refer to it), the page section it enforces,
a matcher over the normalized `Question` (with the earlier turn when the question is a
follow-up), and the verdict it returns. Verdicts are results inside the `Answer`, never
exceptions and never written into the answer body; the presenter shows them first. The banned
term is filtered afterwards, once, by output_filter.py, the last step of every path.

This module must never consult retrieval or a model: the rules hold whatever the pages, the
question or a draft says.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.errors import RuleSourceMissing
from assistant.markup import innermost_heading, slugify
from assistant.models import CitationSource, Question, Verdict
from assistant.normalize import US_STATES, names_a_state
from assistant.output_filter import contains_banned

Action = str  # "deny" | "escalate" | "rewrite" | "caution"
CREDIT_CAP = 35.0
ACTION_ORDER = {"deny": 0, "escalate": 1, "caution": 2, "rewrite": 3}


@dataclass(frozen=True)
class Context:
    """What the matchers see: the normalized question, widened by the earlier turn on follow-ups."""

    text: str
    amounts: tuple[float, ...]

    def has(self, pattern: str) -> bool:
        return re.search(pattern, self.text) is not None


@dataclass(frozen=True)
class Rule:
    id: str
    page: str
    section: str
    match: Callable[[Context], tuple[Action, str] | None]
    suppressed_by: tuple[str, ...] = ()  # a firing rule here makes this one moot


# -- vocabulary shared by the matchers (regexes over normalized text) -------------------------------
# "credit card" and "credit a payment to the account" are payments, not courtesy credits.
CREDIT_INTENT = (r"\b(credit\w*(?! card)(?!(?: [a-z']+){0,3} payment)|pre-?credit\w*|courtesy|coupon\w*|comp|comped|comping|waiv\w*|discount\w*|goodwill|"
                 r"refund\w*|reimburs\w*|(take|knock|shave)\w* .{0,20}\boff|give (them|him|her|the client) "
                 r"(back|money)|money back|give back|(give|send|pay)\w* .{0,30}\b(dollars?|bucks?) back|reverse\w*|"
                 r"write[- ]?off)\b")
PAYMENT = r"\b(pay|pays|paying|paid|payment\w*|owe\w*|balance|deductible|collect\w*)\b"
VIOLATION = (r"\b(fail\w*|blow\w*|blew|refus\w*|tamper\w*|disconnect\w*|violation\w*|retest\w*|re-test\w*|"
             r"lock ?out\w*|positive|alcohol|skipp?ed|miss(ed)? (a |the )?(re)?test|bypass\w*|drank|drinking|"
             r"high bac|brac)\b")
DEVICE_ISSUE = r"\b(device|unit|interlock|equipment|sensor|machine)\b.{0,25}\b(issue|problem|malfunction\w*|error|fault\w*|defect\w*|broke\w*|glitch\w*)\b|\bmalfunction\w*|\bdefective\b|\bfaulty\b"
NEGATION = r"(?:\bnot|n't|\bnever|\b(?:has|have|is|was|were|are|did|does|had)nt)\b"
NOT_DEVICE = r"(?:\bno\b|" + NEGATION + r").{0,12}\b(device|unit|equipment)\b.{0,15}\b(issue|problem|malfunction\w*|fault)"
SETTLEMENT_WORD = r"settlements?\b"
SETTLE_FOR_LESS = (r"\bsettle\w*\b.{0,40}\b(for less|less than|lower|reduced|discount\w*|part of|partial|"
                   r"half|percent|%|pennies|cheaper|smaller)|\b(reduced|discounted) (payoff|balance)|"
                   r"\baccept\w* (less|half|part|a portion|a fraction)\b|"
                   r"\b(pay|paying|accept\w*|take|taking) (less|part|half|a portion|a fraction|\$?\d+ ?%?)(?!\w).{0,30}"
                   r"\b(close|clear|settle)|\b(reduc\w*|lower\w*|cut\w*|discount\w*) (what|the amount|the balance|"
                   r"their balance|how much) (they |he |she |the client )?(owe|owes|owed)")
OFFER_VERBS = (r"\b(offer\w*|propos\w*|negotiat\w*|suggest\w*|mention\w*|quot\w*|phras\w*|agree\w*|accept\w*|"
               r"give|make|set up|arrang\w*|discuss\w*|deal)\b|\bword(ing)? (a|the|my|an)\b|"
               r"\b(what|how) (should|do|can|would|to) (i |we )?(say|tell|word|phrase|explain|respond|answer)|"
               r"\bwhat to say\b")
DISPUTE = (r"\b(disput\w*|contest\w*|challeng\w*|disagree\w*|argu\w*|fight\w*|investigat\w*|complain\w* about "
           r"(the|a|their) (charge|fee|bill))|\b(is|was|are|were) (wrong|incorrect|unfair|a mistake)\b")
ART = r"\b(art|accounts receivable)\b"
CHARGE_KIND = (r"\b(double[- ]?charg\w*|charged twice|(reset|missed[- ]appointment|maf|late|service|"
               r"removal|monitoring) (fee|charge)\w*|charge\w*|fee\w*|bill\w*|invoice\w*)\b")
NOT_YET_CHARGED = (NEGATION + r".{0,10}\b(on|showing|posted|hit)\b.{0,20}\b(account|bill|invoice)|" + NEGATION + r".{0,15}\b(yet )?(been )?(charg\w*|bill\w*|assess\w*|paid|pay|posted)\b|"
                   r"\bbefore\b.{0,30}\b(charg\w*|bill\w*|assess\w*|post\w*)|\bpre-?credit\w*|"
                   r"\b(might|may|will|could|going to|gonna) (get|be given|receive) (a |an )?[a-z -]{0,30}\b(fee|charge)|\b(in advance|ahead of time|pre-?emptive\w*|"
                   r"upfront|up front)\b|\b(might|may|will|could|going to|gonna|would) (be|get) "
                   r"(charg\w*|bill\w*|assess\w*)|\b(future|upcoming|potential|possible|expected)( [a-z-]+){0,2} "
                   r"(fee|charge)\w*|\bnot (yet )?(been )?(charg|bill|assess)\w*|\byet to be (charg|bill|assess)\w*")
COLLECTIONS_PERSON = (r"\b(james|jame|jim|jimmy) smith\w*|\bmr\.? smith\w*|\b(collection\w*) (person|guy|agent|rep\w*|"
                      r"manager|contact|specialist|officer|lady|team member|department head)\b")
COLLECTIONS_DETAILS = r"\bcollection\w* (phone|number|line|email|e-mail|contact info\w*|contact details|direct line|extension)"
CONTACT_INTENT = (r"\b(contact\w*|call\w*|email\w*|e-mail\w*|reach\w*|transfer\w*|give|giv\w*|provid\w*|"
                  r"share|send|number|phone|info\w*|details|connect\w*|speak|talk|escalat\w*|ping|message|"
                  r"extension|ext|direct line)\b")
NOTE_SAYS_IN_COLLECTION = (r"\b(note|notes|file|account|log)\b.{0,40}\b(is|are|in|says|shows|states)\b.{0,12}"
                           r"\bin collection\w*|\bclient is in collection\w* for missing device")
NOT_IN_COLLECTION = r"\b(not|n't|pending)\b.{0,12}\bcollection"


def _settlement(ctx: Context) -> tuple[Action, str] | None:
    mentioned = ctx.has(SETTLEMENT_WORD) or contains_banned(ctx.text)
    for_less = ctx.has(SETTLE_FOR_LESS)
    if for_less or (mentioned and ctx.has(OFFER_VERBS)):
        return ("deny", "Don't offer, word or negotiate a reduced payoff with the client: that conversation "
                        "belongs to Collections / A.R.T. Tell the client they can work with A.R.T., who will go "
                        "over the available options.")
    if mentioned:
        return ("rewrite", "Don't use that term with clients in the Service department: it is reserved for "
                           "Collections / A.R.T. Tell the client they can work with A.R.T., who will go over "
                           "the available options.")
    return None


def _reset_refund(ctx: Context) -> tuple[Action, str] | None:
    if not (ctx.has(r"\breset\w*|\bre-set\w*") and ctx.has(CREDIT_INTENT)):
        return None
    device = ctx.has(DEVICE_ISSUE) and not ctx.has(NOT_DEVICE)
    if ctx.has(VIOLATION) and not device or ctx.has(NOT_DEVICE):
        return ("deny", "Do not refund the reset fee or give it back as a courtesy credit: a reset caused by a "
                        "violation (fail, refusal, tampering, disconnect, missed retest, ...) is NEVER refunded. "
                        "Educate the client on how to avoid further violations.")
    if device:
        return ("caution", "A reset may be refunded only if it is deemed a device issue after the client was "
                           "serviced at the location and paid for the service; review the client's file notes to "
                           "confirm the device issue first.")
    return ("caution", "Reset fees are never refunded when the reset came from a violation (fail, refusal, "
                       "tampering, disconnect, ...). The only exception is a confirmed device issue after the "
                       "client was serviced and paid; review the client's file notes.")


def _west_virginia(ctx: Context) -> tuple[Action, str] | None:
    # An amount alone is a credit ask ("give a WV client fifty bucks?") unless it is a payment.
    if ctx.has(r"\bwestvirginia\b") and (ctx.has(CREDIT_INTENT) or (ctx.amounts and not ctx.has(PAYMENT))):
        return ("deny", "No courtesy credits of any amount for West Virginia clients (state regulation).")
    return None


def _credit_cap(ctx: Context) -> tuple[Action, str] | None:
    if not (ctx.has(CREDIT_INTENT) or (ctx.amounts and ctx.has(r"\b(inconvenien\w*|for the trouble|make (it|this) right)\b"))):
        return None
    if ctx.amounts and max(ctx.amounts) > CREDIT_CAP:
        return ("escalate", f"Over ${CREDIT_CAP:.0f}: a one-time courtesy credit up to ${CREDIT_CAP:.0f} is your "
                            "call; anything over that amount must be escalated to a lead or supervisor.")
    if not ctx.amounts and ctx.has(r"\b(most|max\w*|limit\w*|cap|caps|capped|highest|how much|up to|largest|"
                                   r"biggest|ceiling|allowed to (give|credit|offer))\b"):
        return ("caution", f"A one-time courtesy credit up to ${CREDIT_CAP:.0f} is your call; anything over that "
                           "amount must be escalated to a lead or supervisor.")
    return None


def _unassessed_fee(ctx: Context) -> tuple[Action, str] | None:
    if ctx.has(CREDIT_INTENT) and ctx.has(NOT_YET_CHARGED):
        return ("deny", "Don't credit a fee the client has not been charged or paid yet (the service center may "
                        "not charge it). Let the client know they can contact us back if they are charged, and "
                        "we can review the account then.")
    return None


def _art_disputes(ctx: Context) -> tuple[Action, str] | None:
    disputing = ctx.has(DISPUTE)
    to_art = ctx.has(ART)
    if (disputing and (to_art or ctx.has(CHARGE_KIND))) or (
            to_art and ctx.has(r"\b(double[- ]?charg\w*|charged twice)\b")):
        return ("deny", "A.R.T doesn't dispute charges: don't transfer disputes of double charges, reset fees, "
                        "missed appointment fees, etc. to A.R.T. For a double charge or invoice adjustment, send "
                        "a UTR ticket to CSG with a detailed explanation.")
    return None


def _collections_contact(ctx: Context) -> tuple[Action, str] | None:
    if not ((ctx.has(COLLECTIONS_PERSON) and ctx.has(CONTACT_INTENT)) or
            (ctx.has(COLLECTIONS_DETAILS) and ctx.has(r"\b(give|giv\w*|provid\w*|share|tell|send|read)\b"))):
        return None
    if ctx.has(NOTE_SAYS_IN_COLLECTION) and not ctx.has(NOT_IN_COLLECTION):
        return ("caution", "Only because the client's file carries the note that the client IS in collection: "
                           "follow that note's instructions. Without that note, don't contact the collections "
                           "person or give out their contact information.")
    return ("deny", "Do not contact James Smith for any reason, or give the client his contact information, "
                    "unless the client's file has the note saying the client is in collection. A pending "
                    "collection note means the client is NOT in collection: provide the past due balance and "
                    "schedule service.")


THINGS_TO_KEEP_IN_MIND = ("Things to keep in mind when speaking to clients who need assistance from A.R.T or have "
                          "accounts in Collections")
RULES: tuple[Rule, ...] = (
    Rule("no-settlement-term", "a-r-t-and-collections-faqs", THINGS_TO_KEEP_IN_MIND, _settlement),
    Rule("reset-refund", "client-courtesy-credits", "Reset Fee Refund", _reset_refund),
    Rule("wv-no-credit", "client-courtesy-credits", "Providing Exceptional Support by Driving First Call Resolution",
         _west_virginia),
    Rule("unassessed-fee", "client-courtesy-credits", "Balances on Account", _unassessed_fee,
         suppressed_by=("wv-no-credit",)),
    Rule("credit-cap", "client-courtesy-credits", "Providing Exceptional Support by Driving First Call Resolution",
         _credit_cap, suppressed_by=("wv-no-credit", "unassessed-fee", "reset-refund")),
    Rule("art-no-disputes", "a-r-t-and-collections-faqs", THINGS_TO_KEEP_IN_MIND, _art_disputes),
    Rule("collections-contact", "delinquent-past-due-clients-in-collections", "Collections", _collections_contact),
)
RULE_IDS = frozenset(r.id for r in RULES)


def context(question: Question) -> Context:
    """The normalized question, widened by the turn before when it is a follow-up."""
    if not question.follow_up:
        return Context(text=question.normalized, amounts=question.amounts)
    earlier = question.context
    if names_a_state(question.normalized):  # "and what about Ohio?" replaces the earlier turn's state
        earlier = US_STATES.sub(" ", earlier)
    return Context(text=f"{earlier} || {question.normalized}", amounts=question.amounts or question.context_amounts)


def evaluate(question: Question, rules: tuple[Rule, ...] = RULES) -> list[Verdict]:
    """Every rule that fires, deny first; a rule made moot by a firing one is dropped."""
    ctx = context(question)
    fired: dict[str, tuple[Rule, Action, str]] = {}
    for rule in rules:
        result = rule.match(ctx)
        if result:
            fired[rule.id] = (rule, *result)
    verdicts = []
    for rule, action, message in fired.values():
        if any(other in fired and fired[other][1] == "deny" for other in rule.suppressed_by):
            continue
        source = CitationSource(page=rule.page, section=rule.section, anchor=slugify(innermost_heading(rule.section)))
        verdicts.append(Verdict(rule=rule.id, action=action, message=message, citation=source))  # type: ignore[arg-type]
    return sorted(verdicts, key=lambda v: ACTION_ORDER[v.action])


def check_rule_sources(available: set[tuple[str, str]], rules: tuple[Rule, ...] = RULES) -> None:
    """Fail loudly when a rule's cited page section is no longer in the index."""
    missing = [f"{r.id} -> {r.page} / {r.section}" for r in rules if (r.page, r.section) not in available]
    if missing:
        raise RuleSourceMissing("guardrail source sections missing from the index: " + "; ".join(missing))
