"""Typed fact extraction, table-driven: what each kind reads and what it must leave alone."""

from __future__ import annotations

import pytest

from assistant.health.facts import extract


def kinds_values(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.value) for f in extract(text)]


@pytest.mark.parametrize("text,expected", [
    pytest.param("send an email to collection@scramsystems.com.", [("email", "collection@scramsystems.com")], id="email"),
    pytest.param("EMAIL COLLECTION@LMGHOLDINGS.COM ***", [("email", "collection@lmgholdings.com")], id="email-shouted"),
    pytest.param("write to someone@localhost or a@b", [], id="not-an-address"),
    pytest.param("PLEASE ADVISE THEM TO CALL 888-958-8138 OR", [("phone", "+18889588138")], id="phone"),
    pytest.param("CSG Fax: 844-663-9931", [("fax", "+18446639931")], id="fax"),
    pytest.param("ticket 12345 and invoice 03/13", [], id="not-a-phone"),
    pytest.param("a credit of up to $35 as a means", [("money", "$35")], id="money"),
    pytest.param("owe an additional $100.00 collection unit recovery fee", [("money", "$100")], id="money-cents-00"),
    pytest.param("value: $1,200-$2000+", [("money", "$1,200"), ("money", "$2,000")], id="money-range"),
    pytest.param("$10, $15, $20", [("money", "$10"), ("money", "$15"), ("money", "$20")], id="money-list-commas"),
    pytest.param("Time Frame: 7- 10 Business Days", [("duration", "7-10 business days")], id="duration-range"),
    pytest.param("give him 5 days before you call", [("duration", "5 days")], id="duration"),
    pytest.param("not followed after 2 months will", [("duration", "2 months")], id="months"),
    pytest.param("allow two weeks for the refund", [("duration", "2 weeks")], id="spelled-count"),
    pytest.param("on day 31 Ana needs to be notified", [], id="day-number-is-not-a-count"),
    pytest.param("reach out to the A.R.T. department they", [("team", "ART")], id="team-dotted"),
    pytest.param("send in their tow receipt to our CSG department to review", [("team", "CSG")], id="team"),
    pytest.param("Our team will call back", [], id="not-a-team-name"),
    pytest.param("> **[Content missing in export: 555-123-4567 $5]**", [], id="gap-marker-skipped"),
])
def test_extract(text: str, expected: list[tuple[str, str]]) -> None:
    assert sorted(kinds_values(text)) == sorted(expected)


def test_fact_keeps_the_sentence_as_written() -> None:
    fact = extract("Answer: Yes. After the payment is taken the agent should send an email to a.b@c.com. Next.")[0]
    assert fact.sentence == "After the payment is taken the agent should send an email to a.b@c.com."
    assert fact.written == "a.b@c.com"
