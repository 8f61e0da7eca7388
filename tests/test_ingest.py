"""Ingest with the fake embedder and a real embedded Chroma under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import store
from assistant.config import Settings
from assistant.errors import CorpusError, EmbedderMismatch, IndexNotBuilt
from assistant.fakes import FakeEmbeddings, SmallSqlClient
from assistant.ingest import ingest
from assistant.retrieve import HybridSearch


def test_first_ingest_then_nothing_changed(settings: Settings, fake_embedder: FakeEmbeddings) -> None:
    first = ingest(settings, fake_embedder)
    assert first.pages["added"] == 5 and first.chunks["added"] == first.embedded > 40
    again = ingest(settings, fake_embedder)
    assert again.embedded == 0 and not again.changed
    assert again.pages == {"added": 0, "updated": 0, "removed": 0, "unchanged": 5}
    assert again.chunks["unchanged"] == first.chunks["added"]


def test_changed_and_deleted_pages(settings: Settings, fake_embedder: FakeEmbeddings, corpus_copy: Path) -> None:
    first = ingest(settings, fake_embedder)
    page = corpus_copy / "credits-key-points.md"
    page.write_text(page.read_text().replace("Start low for those complaints", "Begin low for those complaints"))
    (corpus_copy / "collections-call-procedure.md").unlink()
    fake_embedder.embedded = 0
    report = ingest(settings, fake_embedder)
    assert report.pages == {"added": 0, "updated": 1, "removed": 1, "unchanged": 3}
    assert report.embedded == report.chunks["added"] == 1  # only the edited chunk is re-embedded
    assert report.chunks["removed"] > 1
    snap = HybridSearch(settings, fake_embedder).snapshot
    assert len(snap.chunks) == first.chunks["added"] - report.chunks["removed"] + 1
    assert not any(c.page == "collections-call-procedure" for c in snap.chunks)
    assert any("Begin low" in c.text for c in snap.chunks)


def test_failed_ingest_keeps_the_last_complete_index(settings: Settings, corpus_copy: Path) -> None:
    ingest(settings, FakeEmbeddings())
    client = store.make_client(settings)
    before = store.active_generation(client, settings)
    for page in corpus_copy.glob("*.md"):
        page.write_text(page.read_text() + "\nA new closing line for every page.\n")
    with pytest.raises(RuntimeError, match="fake embedder failure"):
        ingest(settings, FakeEmbeddings(fail_after=1), client=client)
    assert store.active_generation(client, settings) == before
    names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
    assert sorted(n for n in names if n.startswith("sop-2")) == [before]  # the half-written one is gone
    search = HybridSearch(settings, FakeEmbeddings(), client)
    assert not any("A new closing line" in c.text for c in search.snapshot.chunks)


def test_bad_corpus_file_is_skipped_and_named(settings: Settings, fake_embedder: FakeEmbeddings,
                                              corpus_copy: Path) -> None:
    (corpus_copy / "broken.md").write_text("---\ntitle: [oops\n---\nbody\n")
    report = ingest(settings, fake_embedder)
    assert report.pages["added"] == 5
    assert any("broken.md" in p for p in report.problems)
    assert any("broken.md" in line for line in report.lines())


def test_empty_corpus_is_an_error(settings: Settings, fake_embedder: FakeEmbeddings, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="no usable pages"):
        ingest(settings, fake_embedder, corpus_dir=empty)


def test_querying_before_any_ingest_says_how_to_build(settings: Settings, fake_embedder: FakeEmbeddings) -> None:
    with pytest.raises(IndexNotBuilt, match="assistant ingest"):
        HybridSearch(settings, fake_embedder).search("credit")


def test_rebuild_re_embeds_everything(settings: Settings) -> None:
    first = ingest(settings, FakeEmbeddings())
    again = ingest(settings, FakeEmbeddings(), rebuild=True)
    assert again.embedded == first.embedded and again.changed


def test_the_pointer_records_the_embedder_and_the_stored_dimension(settings: Settings) -> None:
    ingest(settings, FakeEmbeddings(dims=384, name="model-a"))
    info = store.active_index(store.make_client(settings), settings)
    assert info is not None and (info.embedder, info.dimension) == ("model-a", 384)


def test_a_question_embedded_by_another_model_fails_naming_both(settings: Settings) -> None:
    # Same dimension on purpose: Chroma would answer, with vectors that mean nothing to each other.
    ingest(settings, FakeEmbeddings(dims=384, name="model-a"))
    with pytest.raises(EmbedderMismatch) as failure:
        HybridSearch(settings, FakeEmbeddings(dims=384, name="model-b")).search("courtesy credit")
    message = str(failure.value)
    assert "\n" not in message and "model-a (384-d)" in message and "model-b" in message
    assert "assistant ingest --rebuild" in message


def test_same_name_but_another_dimension_is_a_mismatch_too(settings: Settings) -> None:
    ingest(settings, FakeEmbeddings(dims=64, name="model"))
    with pytest.raises(EmbedderMismatch, match=r"model \(64-d\).*model \(128-d\)"):
        HybridSearch(settings, FakeEmbeddings(dims=128, name="model")).search("courtesy credit")


def test_ingest_with_another_model_re_embeds_everything(settings: Settings) -> None:
    first = ingest(settings, FakeEmbeddings(dims=64, name="model-a"))
    other = FakeEmbeddings(dims=128, name="model-b")
    switched = ingest(settings, other)  # no --rebuild: the model change alone forces it
    assert other.embedded == switched.embedded == first.embedded and switched.chunks["unchanged"] == 0
    assert any("model-a (64-d)" in line and "model-b" in line for line in switched.lines())
    client = store.make_client(settings)
    info = store.active_index(client, settings)
    assert info is not None and (info.embedder, info.dimension) == ("model-b", 128)
    stored = store.read_all(store.collection(client, info.generation), ["embeddings"])["embeddings"]
    assert {len(v) for v in stored} == {128}  # not one vector copied from model-a
    assert HybridSearch(settings, other).search("courtesy credit")
    assert ingest(settings, other).embedded == 0  # and from then on incremental again


def test_an_index_that_predates_recording_its_embedder_is_rebuilt_not_trusted(settings: Settings) -> None:
    embedder = FakeEmbeddings()
    first = ingest(settings, embedder)
    client = store.make_client(settings)
    info = store.active_index(client, settings)
    assert info is not None
    client.delete_collection(store.pointer_name(settings))  # (an upsert would merge the old keys in)
    pointer = store.collection(client, store.pointer_name(settings), create=True)  # as written before
    pointer.upsert(ids=[store.POINTER_ID], documents=[info.generation], embeddings=[[0.0, 1.0]],
                   metadatas=[{"collection": info.generation, "chunks": 1, "pages": 5}])
    with pytest.raises(EmbedderMismatch, match="an unrecorded model"):
        HybridSearch(settings, embedder).search("courtesy credit")
    again = ingest(settings, embedder)
    assert again.embedded == first.embedded
    assert HybridSearch(settings, embedder).search("courtesy credit")


def test_ingest_and_retrieval_read_the_index_page_by_page(settings: Settings, fake_embedder: FakeEmbeddings,
                                                          corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "READ_PAGE", 7)  # far fewer than the corpus's chunks: many pages
    client = SmallSqlClient(store.make_client(settings), max_rows=10)
    first = ingest(settings, fake_embedder, client=client)
    page = corpus_copy / "credits-key-points.md"
    page.write_text(page.read_text().replace("Start low for those complaints", "Begin low for those complaints"))
    again = ingest(settings, fake_embedder, client=client)
    assert again.chunks["unchanged"] == first.chunks["added"] - 1 and again.embedded == 1
    chunks = HybridSearch(settings, fake_embedder, client=client).snapshot.chunks
    assert len(chunks) == len({c.id for c in chunks}) == first.chunks["added"]


@pytest.mark.integration
def test_read_all_works_past_sqlite_variable_limit(tmp_path: Path) -> None:
    # An unpaged `get` of 32,767+ records fails in Chroma's SQLite ("too many SQL variables"):
    # found by the 10,000-page benchmark (~90,000 chunks).
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(str(tmp_path / "big"), settings=ChromaSettings(anonymized_telemetry=False))
    col = client.create_collection("big-collection", embedding_function=store.ChromaEmbeddingFunction())
    total, step = 33_000, 5_000
    for start in range(0, total, step):
        n = min(step, total - start)
        col.add(ids=[f"r{start + i}" for i in range(n)], embeddings=[[1.0, 0.0]] * n,
                metadatas=[{"page": f"p{(start + i) % 10}"} for i in range(n)])
    got = store.read_all(col, ["metadatas"])
    assert len(got["ids"]) == len(set(got["ids"])) == total
    assert {m["page"] for m in got["metadatas"]} == {f"p{i}" for i in range(10)}
