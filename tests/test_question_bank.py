"""The question bank: valid entries whose labels exist, and never an eval question or a near-duplicate of one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.corpus import load_pages, sections
from assistant.errors import CorpusError
from assistant.evals import measured_cases
from assistant.fakes import FakeEmbeddings
from assistant.question_bank import BankEntry, BankIndex, load_bank, near_duplicate, split_stale
from tests.conftest import CORPUS

P = pytest.param


def test_the_committed_bank_labels_sections_that_exist() -> None:
    bank = load_bank(CORPUS)
    assert len(bank) >= 100
    pages, _ = load_pages(CORPUS)
    kept, stale = split_stale(bank, {(p.slug, s.label) for p in pages for s in sections(p)})
    assert stale == [] and kept == bank


def test_no_eval_question_or_near_duplicate_is_in_the_bank() -> None:
    # The bank is training data; every eval and held-out question (each turn) is test data.
    asked = [q for c in measured_cases() for q in (c.question, *c.history)]
    clashes = [(b.question, q) for b in load_bank(CORPUS) for q in asked if near_duplicate(b.question, q)]
    assert not clashes


@pytest.mark.parametrize("a,b,dup", [
    P("what format do i type the coupon amount in", "What format do I type the coupon amount in?", True, id="case"),
    P("How long does the tow credit review take", "how long does it take to review a tow credit request", True,
      id="same-words"),
    P("can i give a courtesy credit to a client in West Virginia", "Can I give a West Virginia client a $20 credit?",
      True, id="reordered"),
    P("where does the client send the tow receipt?", "what is the deductible for a lost device", False, id="other"),
    P("when do resets happen", "can I refund a reset fee after a failed test", False, id="shares-a-word"),
])
def test_near_duplicate(a: str, b: str, dup: bool) -> None:
    assert near_duplicate(a, b) is dup


def test_a_label_the_index_lacks_is_reported_by_name_and_left_out() -> None:
    stale = BankEntry(question="where is the tow fax", page="client-courtesy-credits", section="Tow Receipts")
    fine = BankEntry(question="how long is a tow review", page="client-courtesy-credits", section="Tow Reimbursements")
    kept, lines = split_stale([stale, fine], {("client-courtesy-credits", "Tow Reimbursements")})
    assert kept == [fine] and len(lines) == 1 and "Tow Receipts" in lines[0]


@pytest.mark.parametrize("text,problem", [
    P("- question: only\n", "page", id="missing-keys"), P("not: a list\n", "list", id="not-a-list"),
    P("- [unclosed\n", "unreadable", id="bad-yaml"),
])
def test_a_malformed_bank_is_one_clear_error(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "questions.yaml").write_text(text)
    with pytest.raises(CorpusError, match=problem):
        load_bank(tmp_path)


def test_nearest_sections_rank_by_the_closest_question_and_cache_vectors(tmp_path: Path) -> None:
    entries = [BankEntry(question="tow receipt fax number", page="a", section="Tow"),
               BankEntry(question="reset fee refund after a failed test", page="b", section="Reset"),
               BankEntry(question="where do I fax the tow receipt", page="a", section="Tow")]
    embedder = FakeEmbeddings()
    index = BankIndex.build(entries, embedder, cache_dir=tmp_path)
    found = index.nearest_sections(embedder.embed_query("fax a tow receipt"), k=2)
    assert [key for key, _ in found] == [("a", "Tow"), ("b", "Reset")] and found[0][1] > found[1][1]
    assert embedder.queries == 4  # three bank questions and the question asked
    fresh = FakeEmbeddings()
    again = BankIndex.build(entries, fresh, cache_dir=tmp_path)
    assert fresh.queries == 0 and np.array_equal(again.vectors, index.vectors)  # read from the cache


def test_a_bad_cache_is_re_embedded_and_an_unwritable_one_only_costs_time(tmp_path: Path) -> None:
    entries = [BankEntry(question="tow receipt fax number", page="a", section="Tow")]
    BankIndex.build(entries, FakeEmbeddings(), cache_dir=tmp_path)
    [cached] = list(tmp_path.glob("bank-*.npy"))
    cached.write_bytes(b"not an array")
    fresh = FakeEmbeddings()
    assert BankIndex.build(entries, fresh, cache_dir=tmp_path).vectors.shape[0] == 1 and fresh.queries == 1
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    assert BankIndex.build(entries, FakeEmbeddings(), cache_dir=blocked).vectors.shape[0] == 1


def test_resolved_gaps_join_the_bank_unless_stale_or_an_eval_question() -> None:
    from assistant.question_bank import resolved_entries

    section_of = {("client-courtesy-credits", "tow-reimbursements"): "Tow Reimbursements"}
    covered = [("where do agents send the tow receipts for review", "client-courtesy-credits", "tow-reimbursements"),
               ("what is the lasagna policy", "client-courtesy-credits", "gone-section"),
               ("Can I give a West Virginia client a $20 credit", "client-courtesy-credits", "tow-reimbursements")]
    entries, skipped = resolved_entries(covered, section_of, ["Can I give a West Virginia client a $20 credit?"])
    assert [(e.question, e.section) for e in entries] == [
        ("where do agents send the tow receipts for review", "Tow Reimbursements")]
    assert len(skipped) == 2 and "no longer exists" in skipped[0] and "eval question" in skipped[1]


def test_a_covered_resolution_reaches_retrieval_after_refresh(settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.database import open_database
    from assistant.gap_resolutions import GapResolutions
    from assistant.ingest import ingest
    from assistant.retrieve import HybridSearch

    ingest(settings, fake_embedder)
    search = HybridSearch(settings, fake_embedder)
    before = len(search.snapshot.bank.entries)

    def tow_rank() -> int:
        """Its place among every passage retrieval returns; past the end when no ranked list holds it."""
        sections = [p.chunk.section for p in search.search("zebra zeppelin quokka", k=len(search.snapshot.chunks))]
        return sections.index("Tow Reimbursements") if "Tow Reimbursements" in sections else len(sections)

    rank_before = tow_rank()
    GapResolutions(open_database(settings)).resolve(
        ["zebra zeppelin quokka"], "covered", page="client-courtesy-credits", anchor="tow-reimbursements",
        section="Tow Reimbursements")
    search.refresh_bank()
    bank = search.snapshot.bank
    assert len(bank.entries) == before + 1 and bank.entries[-1].section == "Tow Reimbursements"
    # a question with no word on any page now reaches the section through the resolved bank entry and
    # ranks it higher (one vote among the ranked lists, at the bank's share: `retrieve.Fusion.bank`)
    assert tow_rank() < rank_before
    assert HybridSearch(settings, fake_embedder).snapshot.bank.entries[-1].question == "zebra zeppelin quokka"
