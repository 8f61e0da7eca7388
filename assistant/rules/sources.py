"""Rules against the pages: every quote a rule enforces must still stand on its page section.

At start-up (`Chain.warm_up`) each rule's section must be in the index and each of its quotes
must be in that section's indexed text (whitespace folded, otherwise exact); when the rules
file is loaded, each parameter must appear in the rule's own quotes (the cap as "$35", each
state by name). A page edited to say "$50" while the rule still enforces "$35" is therefore a
refusal to start, with one error naming the rule, not a silent disagreement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from assistant.errors import RuleSourceMissing
from assistant.rules.schema import RuleSpec
from assistant.rules.slots import STATE_NAMES


def squash(text: str) -> str:
    return " ".join(text.split())


def money(value: float) -> str:
    """As the pages write amounts: "$35", "$1,000", "$35.50"."""
    return f"${value:,.2f}".removesuffix(".00")


def parameter_problems(rule: RuleSpec) -> list[str]:
    """Parameters the rule's quotes do not state (a number as money, a state list by name)."""
    quoted = " ".join(squash(q) for q in rule.source.quotes)
    problems = []
    for name, value in rule.parameters.items():
        if isinstance(value, float):
            if money(value) not in quoted:
                problems.append(f"parameter {name}={value:g} but no quote says {money(value)}")
        else:
            unknown = [v for v in value if v not in STATE_NAMES]
            if unknown:
                problems.append(f"parameter {name}: {unknown[0]!r} is not a US state code")
            for code in value:
                if code in STATE_NAMES and STATE_NAMES[code] not in quoted:
                    problems.append(f"parameter {name} lists {code} but no quote names {STATE_NAMES[code]}")
    return problems


def section_texts(chunks: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str], list[str]]:
    """(page, section) -> the indexed texts of its chunks, from (page, section, text) triples."""
    out: dict[tuple[str, str], list[str]] = {}
    for page, section, text in chunks:
        out.setdefault((page, section), []).append(squash(text))
    return out


def check_sources(rules: Iterable[RuleSpec], sections: Mapping[tuple[str, str], list[str]]) -> None:
    """Raise `RuleSourceMissing` naming every rule whose section or quote is not in the index."""
    problems = []
    for rule in rules:
        where = f"{rule.source.page} / {rule.source.section}"
        texts = sections.get((rule.source.page, rule.source.section))
        if texts is None:
            problems.append(f"{rule.id}: section {where} is not in the index")
            continue
        texts = [squash(t) for t in texts]
        whole = " ".join(texts)
        for quote in rule.source.quotes:
            q = squash(quote)
            if not any(q in t for t in texts) and q not in whole:
                problems.append(f"{rule.id}: {where} no longer says \u201c{quote}\u201d")
    if problems:
        raise RuleSourceMissing("the pages and corpus/rules.yaml disagree (fix the page or the rule, then "
                                "re-ingest): " + "; ".join(problems))
