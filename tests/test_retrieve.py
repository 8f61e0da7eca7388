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


def test_a_new_topic_after_history_finds_its_own_passage(search: HybridSearch) -> None:
    question = make_question("where do clients send their tow receipts", ["can I give a WV client a $20 credit?"])
    assert question.search_text != question.text  # searched in context too; the evidence decides
    assert "tow receipt" in search.retrieve(question)[0].chunk.text.lower()


def _tiny(tmp_path, bank: str = "") -> tuple[Settings, FakeEmbeddings]:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "tiny"
    corpus.mkdir(parents=True)
    for slug, section, body in (("fees", "Late Fees", "A late fee is added after ten days."),
                                ("tow", "Tow Receipts", "Receipts go to the review team by fax."),
                                ("misc", "Other", "Opening hours are nine to five.")):
        (corpus / f"{slug}.md").write_text(f"---\ntitle: {slug}\nslug: {slug}\nsource: {slug}.txt\n"
                                           f"business: b\n---\n\n# {slug}\n\n## {section}\n\n{body}\n")
    if bank:
        (corpus / "questions.yaml").write_text(bank)
    settings = load_settings(data_dir=tmp_path / "tiny-data", corpus_dir=corpus)
    embedder = FakeEmbeddings()
    ingest(settings, embedder)
    return settings, embedder


def test_a_bank_question_points_at_its_section_whatever_the_section_says(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # "car got hauled away" shares no word with the tow section; the bank knows where it is answered.
    question = make_question("car got hauled away, what paperwork do I need")
    without = HybridSearch(*_tiny(tmp_path / "a"))
    assert without.snapshot.bank.entries == []
    bank = "- question: car got hauled away, what paperwork do I need?\n  page: tow\n  section: Tow Receipts\n"
    with_bank = HybridSearch(*_tiny(tmp_path / "b", bank))
    assert [p.chunk.page for p in with_bank.retrieve(question)][0] == "tow"
    assert [p.chunk.page for p in without.retrieve(question)][0] != "tow"


@pytest.mark.parametrize(("floor", "votes"), [(0.0, True), (0.5, True), (0.9, False)])
def test_a_bank_question_votes_only_when_it_is_at_least_the_floor_similar(tmp_path, floor: float,  # type: ignore[no-untyped-def]
                                                                         votes: bool) -> None:
    # Five of the question's seven words (fake embedder: cosine ~0.85): near, not the same question.
    bank = "- question: car got hauled away, what paperwork\n  page: tow\n  section: Tow Receipts\n"
    settings, embedder = _tiny(tmp_path, bank)
    search = HybridSearch(settings.model_copy(update={"bank_floor": floor}), embedder)
    first = search.retrieve(make_question("car got hauled away, what paperwork do I need"))[0]
    assert (first.chunk.page == "tow") is votes


def test_a_bank_label_whose_section_is_gone_is_left_out(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bank = ("- question: where do receipts go\n  page: tow\n  section: Tow Receipts\n"
            "- question: where do receipts go now\n  page: tow\n  section: Renamed Heading\n")
    search = HybridSearch(*_tiny(tmp_path, bank))
    assert [(e.page, e.section) for e in search.snapshot.bank.entries] == [("tow", "Tow Receipts")]


def test_the_earlier_turns_read_alone_vote_for_the_conversations_topic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.retrieve import Fusion

    settings, embedder = _tiny(tmp_path)
    with_topic, without = (HybridSearch(settings, embedder, fusion=Fusion(topic=share)) for share in (0.25, 0.0))
    follow_up = make_question("how long until it is added", ["where do the tow receipts go, by fax?"])

    def scores(search: HybridSearch) -> dict[str, float]:
        return {p.chunk.page: p.score for p in search.retrieve(follow_up)}

    assert scores(with_topic)["tow"] > scores(without)["tow"]
    assert scores(with_topic)["tow"] - scores(without)["tow"] > scores(with_topic)["fees"] - scores(without)["fees"]
    alone = make_question("how long until it is added")  # no history: no topic reading, nothing changes
    assert with_topic.retrieve(alone) == without.retrieve(alone)
