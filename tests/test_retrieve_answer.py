"""Retrieval, composition and the chain with the fake embedder over the real corpus pages."""

from __future__ import annotations

import pytest

from assistant.answer import ABSTAIN_TEXT, compose, units
from assistant.chain import Chain, retrieval_query
from assistant.config import Settings, load_settings
from assistant.corpus import load_pages
from assistant.errors import ConfigError, InvalidQuestion
from assistant.ingest import ingest
from assistant.models import Chunk, Passage, Source
from tests.fakes import FakeEmbeddings


@pytest.fixture
def chain(settings: Settings) -> Chain:
    embedder = FakeEmbeddings()
    ingest(settings, embedder)
    # The abstention threshold is calibrated for the real model; bag-of-words cosines run lower.
    return Chain(settings.model_copy(update={"abstain_below": 0.15}), embedder=embedder)


def page_bodies(settings: Settings) -> dict[str, str]:
    pages, _ = load_pages(settings.corpus_dir)
    return {p.slug: p.body for p in pages}


def test_lexical_and_dense_find_the_rule(chain: Chain) -> None:
    passages = chain.search.search("reset fee refund after a violation")
    assert passages[0].chunk.section == "Reset Fee Refund"


def test_duplicate_policy_text_is_one_passage_citing_both_pages(chain: Chain) -> None:
    passages = chain.search.search("courtesy credits West Virginia state regulations")
    top = passages[0]
    assert {s.page for s in top.sources} == {"credits-key-points", "client-courtesy-credits"}
    assert sum("West Virginia" in p.chunk.text for p in passages) == 1


def test_quotes_are_verbatim_page_text(chain: Chain, settings: Settings) -> None:
    bodies = page_bodies(settings)
    for q in ["reset fee refund", "tow receipt fax", "unused days reimburse", "payment plan ART ticket",
              "NTO lien 15 days", "courtesy credit scenarios"]:
        result = chain.ask(q)
        assert result.citations, q
        for c in result.citations:
            assert c.quote and c.quote in bodies[c.page], (q, c.quote)
            assert f"[{c.n}]" in result.answer


def test_a_phrase_finds_the_acronym_the_page_uses(tmp_path, fake_embedder: FakeEmbeddings) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "tiny"
    corpus.mkdir()
    for slug, body in (("quote", "Check under Update Info whether the client is opted into LPP."),
                       ("fees", "Add Daily Loss Protection Plan to the invoice to get the amount owed."),
                       ("tow", "Tow receipts go to the review team by fax.")):
        (corpus / f"{slug}.md").write_text(f"---\ntitle: {slug}\nslug: {slug}\nsource: {slug}.txt\n"
                                           f"business: b\n---\n\n# {slug}\n\n## Step\n\n{body}\n")
    settings = load_settings(data_dir=tmp_path / "tiny-data", corpus_dir=corpus)
    ingest(settings, fake_embedder)
    search = Chain(settings, embedder=fake_embedder).search
    assert search.snapshot.acronyms == {"lpp": ("loss", "protection", "plan")}
    lexical = {p.chunk.page: p.lexical for p in search.search("is loss protection turned on?")}
    assert lexical["quote"] > 0 and lexical["tow"] == 0  # "LPP" matched through the spelled-out phrase


def test_the_best_passage_decides_the_business() -> None:
    # Two middling passages of business b outscore the best one of a together; a still decides.
    passages = [_passage("Email collections after a payment.", "a", 0.8, score=0.17),
                _passage("Verify the email the invoice went to.", "b", 0.7, score=0.16),
                _passage("Notes after the payment call.", "b", 0.7, score=0.15)]
    draft = compose("who do I email after a payment", passages, "http://ui", 0.4)
    assert {c.page for c in draft.citations} == {"p-a"}


@pytest.mark.parametrize("business,page", [
    ("ignition-interlock", "delinquent-past-due-clients-in-collections"),
    ("field-service-contractor", "collections-call-procedure"),
], ids=["interlock-desk", "contractor-desk"])
def test_a_business_scopes_retrieval_and_answer(chain: Chain, business: str, page: str) -> None:
    question = "who do I email after I take a payment on a collections account?"
    passages = chain.search.search(question, 5, business)
    assert passages and {p.chunk.business for p in passages} == {business}
    result = chain.ask(question, business=business)
    assert result.citations and {c.page for c in result.citations} <= {
        c.page for c in chain.search.snapshot.chunks if c.business == business}
    assert page in {c.page for c in result.citations}


def test_an_unknown_business_is_bad_input_and_a_bad_setting_fails_at_start(chain: Chain) -> None:
    with pytest.raises(InvalidQuestion, match="field-service-contractor, ignition-interlock"):
        chain.ask("can I give a credit?", business="plumbing")
    scoped = Chain(chain.settings.model_copy(update={"business": "plumbing"}), embedder=chain.search.embedder)
    with pytest.raises(ConfigError, match="ASSISTANT_BUSINESS"):
        scoped.ask("can I give a credit?")


def test_answer_never_mixes_businesses(chain: Chain) -> None:
    result = chain.ask("when do I send an NTO and put a lien on a customer with NET 30")
    pages = {c.page for c in result.citations}
    assert pages == {"collections-call-procedure"}


def test_abstains_with_closest_pages(chain: Chain) -> None:
    result = chain.ask("what is the capital of France")
    assert result.abstained and result.answer.startswith(ABSTAIN_TEXT)
    assert result.citations == []


def test_lost_content_is_flagged_not_filled(chain: Chain) -> None:
    result = chain.ask("when should agents only refund a missed appointment")
    assert "incomplete" in result.answer and not result.abstained


def test_follow_up_uses_the_earlier_turn() -> None:
    assert retrieval_query("and in West Virginia?", ["what is the credit limit?"]) == \
        "and in West Virginia? what is the credit limit? and in West Virginia?"
    assert retrieval_query("How do I read a CNG invoice?", ["earlier"]) == "How do I read a CNG invoice?"


@pytest.mark.parametrize("question,problem", [
    ("", "empty"), ("   \n\t ", "empty"), ("x" * 2001, "2001 characters"), ("credit\x00\x01", "control"),
    ("bad \ufffd bytes", "control"),
], ids=["empty", "whitespace", "too-long", "nul", "replacement-char"])
def test_bad_questions_are_rejected(chain: Chain, question: str, problem: str) -> None:
    with pytest.raises(InvalidQuestion, match=problem):
        chain.ask(question)


def test_guardrail_verdict_leads_the_answer(chain: Chain) -> None:
    result = chain.ask("Can I give a West Virginia client a $20 credit?")
    assert result.guardrails[0].rule == "wv-no-credit"
    assert result.answer.startswith("Not allowed:")
    assert result.timings_ms.total >= result.timings_ms.retrieve > 0


def test_units_are_exact_spans() -> None:
    text = "First rule. Second rule!\n\nIntro:\n\n- item one\n- item two"
    for unit in units(text):
        assert text[unit.start:unit.end] == unit.text
    assert [u.intro for u in units(text)] == [False, False, True, False, False]


def _passage(text: str, business: str, relevance: float, score: float = 1.0) -> Passage:
    chunk = Chunk(id=text[:8], page="p-" + business, page_title="T", business=business, section="S", anchor="s",
                  text=text)
    return Passage(chunk=chunk, sources=(Source(page=chunk.page, page_title="T", section="S", anchor="s"),),
                   score=score, relevance=relevance)


def test_compose_abstains_below_threshold_and_keeps_one_business() -> None:
    low = [_passage("Credits are fine.", "a", 0.1)]
    assert compose("credit", low, "http://ui", 0.4).abstained
    mixed = [_passage("Credits up to $35 are fine.", "a", 0.8), _passage("Credits go to Ana.", "b", 0.79)]
    draft = compose("credits", mixed, "http://ui", 0.4)
    assert [c.page for c in draft.citations] == ["p-a"]


def test_a_rule_whose_source_section_disappeared_fails_loudly(settings: Settings, corpus_copy) -> None:  # type: ignore[no-untyped-def]
    from assistant.errors import RuleSourceMissing

    page = corpus_copy / "client-courtesy-credits.md"
    page.write_text(page.read_text().replace("## Reset Fee Refund", "## Reset Fees"))
    embedder = FakeEmbeddings()
    ingest(settings, embedder)
    with pytest.raises(RuleSourceMissing, match="reset-refund"):
        Chain(settings, embedder=embedder).ask("can I refund a reset fee?")
