"""Hybrid retrieval with the fake embedder over the real corpus pages (indexed once per module)."""

from __future__ import annotations

import pytest

from assistant.config import Settings, load_settings
from assistant.fakes import FakeEmbeddings
from assistant.ingest import ingest
from assistant.question import make_question
from assistant.retrieve import HybridSearch


@pytest.fixture(scope="module")
def search(fake_index: tuple[Settings, FakeEmbeddings]) -> HybridSearch:
    settings, embedder = fake_index
    return HybridSearch(settings, embedder)


def test_lexical_and_dense_find_the_rule(search: HybridSearch) -> None:
    passages = search.search("reset fee refund after a violation")
    assert passages[0].chunk.section == "Reset Fee Refund"


def test_duplicate_policy_text_is_one_passage_citing_both_pages(search: HybridSearch) -> None:
    passages = search.search("courtesy credits West Virginia state regulations")
    top = passages[0]
    assert {s.page for s in top.sources} == {"credits-key-points", "client-courtesy-credits"}
    assert sum("West Virginia" in p.chunk.text for p in passages) == 1


@pytest.mark.parametrize("business", ["ignition-interlock", "field-service-contractor"])
def test_a_question_with_a_business_searches_only_its_pages(search: HybridSearch, business: str) -> None:
    question = make_question("who do I email after I take a payment on a collections account?", business=business)
    passages = search.retrieve(question)
    assert passages and {p.chunk.business for p in passages} == {business}


def test_a_follow_up_searches_with_the_turn_before(search: HybridSearch) -> None:
    alone = search.retrieve(make_question("and in West Virginia?"))
    follow_up = search.retrieve(make_question("and in West Virginia?", ["what is the most I can credit?"]))
    assert [p.chunk.id for p in alone] != [p.chunk.id for p in follow_up]
    assert "West Virginia" in follow_up[0].chunk.text


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
    search = HybridSearch(settings, fake_embedder)
    assert search.snapshot.acronyms == {"lpp": ("loss", "protection", "plan")}
    lexical = {p.chunk.page: p.lexical for p in search.search("is loss protection turned on?")}
    assert lexical["quote"] > 0 and lexical["tow"] == 0  # "LPP" matched through the spelled-out phrase


def test_the_langchain_retriever_returns_the_same_passages(search: HybridSearch) -> None:
    from assistant.retrieve import SopRetriever

    documents = SopRetriever(search=search, k=3).invoke("tow receipt fax")
    assert [d.metadata["passage"] for d in documents] == search.search("tow receipt fax", 3)
