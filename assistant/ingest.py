"""Ingest: corpus pages -> chunks -> vectors -> a Chroma generation, then flip the pointer.

Incremental by content hash: a chunk whose id (hash of page + section + text) is already in the
active generation is copied with its stored vector, never re-embedded, but only when that
generation was built by the same embedder: after a model change every chunk is re-embedded, as
with `--rebuild` (another model's vectors are not comparable with this one's). Chunks of changed or
deleted pages simply do not make it into the new generation. If nothing changed, nothing is
written at all. A failed run leaves the pointer on the last complete generation.

One writer at a time (writer_lock.py). A replaced generation stays readable for
`generation_grace_seconds`, so an app still reading it moves to the new one on its next pointer
check instead of failing; the next ingest removes it, and any generation a killed ingest left.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant import instructions, store, writer_lock
from assistant.chunking import chunk_page, embedding_text
from assistant.config import Settings
from assistant.corpus import load_pages
from assistant.embeddings import Embedder
from assistant.errors import CorpusError, GenerationGone, StoreCorrupt, StoreUnusable
from assistant.models import Chunk, Page

log = logging.getLogger(__name__)
BATCH = 256


@dataclass
class IngestReport:
    pages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("added", "updated", "removed", "unchanged"), 0))
    chunks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("added", "removed", "unchanged"), 0))
    embedded: int = 0
    problems: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # pages held back for instruction-like text
    seconds: float = 0.0
    generation: str = ""
    changed: bool = False
    model_changed: str = ""  # why every chunk was re-embedded, when the model changed
    notes: list[str] = field(default_factory=list)  # what was repaired on the way (a corrupt store, a lost generation)


    def lines(self) -> list[str]:
        p, c = self.pages, self.chunks
        out = [f"skipped: {problem}" for problem in self.problems]
        out += [f"flagged, not indexed: {flag}" for flag in self.flagged]
        out += [f"repaired: {note}" for note in self.notes]
        if self.model_changed:
            out.append(f"re-embedding everything: {self.model_changed}")
        out.append("pages:  " + ", ".join(f"{v} {k}" for k, v in p.items()))
        out.append("chunks: " + ", ".join(f"{v} {k}" for k, v in c.items()) + f" ({self.embedded} embedded)")
        out.append(f"index:  {self.generation or 'unchanged'} in {self.seconds:.1f} s")
        return out


def page_hash(page: Page) -> str:
    return hashlib.sha256(page.model_dump_json(exclude={"path", "reviewed_instructions"}).encode()).hexdigest()[:16]


def _batches(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _progress(iterable: Iterable[Any], total: int, enabled: bool, desc: str) -> Iterable[Any]:
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="batch", leave=False)


def ingest(settings: Settings, embedder: Embedder, corpus_dir: Path | None = None,
           rebuild: bool = False, progress: bool = False, client: store.ChromaClient | None = None) -> IngestReport:
    """Bring the index up to date with the pages; one writer at a time (`IngestRunning` otherwise).

    With `rebuild`, an embedded store too damaged to open is rebuilt in a fresh folder beside it,
    which then takes its place (the damaged one is kept as `chroma.corrupt-<stamp>`)."""
    started = time.perf_counter()
    report = IngestReport()
    pages, report.problems = load_pages(corpus_dir or settings.corpus_dir, settings.max_page_bytes)
    pages, flags = instructions.hold_back(pages, corpus_dir or settings.corpus_dir)
    report.flagged = [f.line() for f in flags]
    if not pages:
        raise CorpusError(f"no usable pages in {corpus_dir or settings.corpus_dir}")
    if client is None:
        try:
            client = store.make_client(settings)
        except StoreCorrupt as corrupt:
            if not rebuild or settings.chroma_url:
                raise
            return _rebuild_beside(settings, embedder, pages, report, progress, started, corrupt)
    with writer_lock.hold(settings, client) as lease:
        _write(settings, embedder, pages, rebuild, progress, client, lease, report)
    report.seconds = time.perf_counter() - started
    return report


def _write(settings: Settings, embedder: Embedder, pages: list[Page], rebuild: bool, progress: bool,
           client: store.ChromaClient, lease: writer_lock.Lease, report: IngestReport) -> None:
    digests = {p.slug: page_hash(p) for p in pages}
    chunks = {c.id: c for p in pages for c in chunk_page(p)}
    old_info = store.active_index(client, settings)
    old_ids: set[str] = set()
    old_pages: dict[str, str] = {}
    old = None
    if old_info and old_info.embedder != embedder.name:
        report.model_changed = f"the index was built with {old_info.describe()}, this run embeds with {embedder.name}"
        rebuild = True
    if old_info:
        try:
            with store.reaching_server(settings):
                old = store.collection(client, old_info.generation)
                got = store.read_all(old, ["metadatas"])
            old_ids = set(got["ids"])
            old_pages = {m["page"]: m["page_hash"] for m in got["metadatas"]}
        except GenerationGone:  # the pointer names a generation someone removed: build from scratch
            report.notes.append(f"the index named generation {old_info.generation}, which no longer exists; "
                                   "rebuilding it")
            old, rebuild = None, True

    for slug, digest in digests.items():
        state = "added" if slug not in old_pages else "unchanged" if old_pages[slug] == digest else "updated"
        report.pages[state] += 1
    report.pages["removed"] = len(set(old_pages) - set(digests))
    keep = set() if rebuild else old_ids & set(chunks)
    report.chunks = {"added": len(set(chunks) - keep), "removed": len(old_ids - set(chunks)),
                     "unchanged": len(keep)}

    if old is not None and not rebuild and set(chunks) == old_ids and not report.pages["updated"]:
        _drop_orphans(client, settings)  # nothing changed: nothing embedded, nothing written
        return

    name = store.new_generation_name(settings)
    lease.generation = name
    lease.renew()  # the lease now names the generation this run fills
    dimension = 0  # of the vectors actually stored, recorded with the embedder's name
    try:
        # Store calls only: an embedder's own failure must not read as a store problem.
        with store.reaching_server(settings):
            new = store.collection(client, name, create=True, embedder=embedder)
            if keep and old is not None:
                for ids in _batches(sorted(keep)):
                    got = old.get(ids=ids, include=["embeddings"])
                    stored = dict(zip(got["ids"], got["embeddings"], strict=True))
                    dimension = _add(new, [chunks[i] for i in ids], [stored[i] for i in ids], digests)
        fresh = [chunks[i] for i in sorted(set(chunks) - keep)]
        for batch in _progress(_batches(fresh), -(-len(fresh) // BATCH), progress, "embedding"):
            vectors = embedder.embed_documents([embedding_text(c) for c in batch])
            report.embedded += len(batch)
            with store.reaching_server(settings):
                dimension = _add(new, batch, vectors, digests)
        lease.confirm()
        with store.reaching_server(settings):
            store.set_active_generation(client, settings, name, embedder.name, dimension,
                                        {"chunks": len(chunks), "pages": len(pages)}, replaced=old_info)
    except BaseException:
        _drop(client, name)  # readers never saw it; the pointer still names the old generation
        raise
    # The replaced generation stays for the grace period (apps still on it move within seconds);
    # a later ingest removes it, with any generation a killed ingest left behind.
    _drop_orphans(client, settings, writing=name)
    report.generation, report.changed = name, True


def _rebuild_beside(settings: Settings, embedder: Embedder, pages: list[Page], report: IngestReport,
                    progress: bool, started: float, corrupt: StoreCorrupt) -> IngestReport:
    """Build a fresh embedded store next to a corrupt one, then swap the folders."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    fresh_dir = settings.data_dir / f"chroma.fresh-{stamp}"
    kept_dir = settings.data_dir / f"chroma.corrupt-{stamp}"
    with writer_lock.hold(settings, None) as lease:  # embedded: a file lock, which needs no client
        try:  # still corrupt? Another ingest may have replaced it before this one got the lock
            client = store.make_client(settings, fresh=True)
        except StoreCorrupt:
            pass
        else:
            _write(settings, embedder, pages, True, progress, client, lease, report)
            report.seconds = time.perf_counter() - started
            return report
        client = store.make_client(settings, path=fresh_dir, fresh=True)
        _write(settings, embedder, pages, True, progress, client, lease, report)
        store.forget_client(fresh_dir)
        try:
            settings.index_dir.rename(kept_dir)
            fresh_dir.rename(settings.index_dir)
            store.forget_client(settings.index_dir)  # this process's failed client of the corrupt files
        except OSError as exc:
            raise StoreUnusable(f"built a fresh index in {fresh_dir} but could not put it in place of the corrupt "
                                f"{settings.index_dir} ({exc.strerror or exc}); move it there by hand") from None
    report.notes.append(f"{corrupt}; rebuilt it, and kept the damaged store as {kept_dir}")
    report.seconds = time.perf_counter() - started
    return report


def _add(col: store.Collection, chunks: list[Chunk], vectors: list[Any], digests: dict[str, str]) -> int:
    """Store the chunks with their vectors; returns the vectors' dimension."""
    col.add(ids=[c.id for c in chunks], documents=[c.text for c in chunks], embeddings=list(vectors),
            metadatas=[store.chunk_metadata(c, digests[c.page]) for c in chunks])
    return len(vectors[0]) if len(vectors) else 0


def _drop(client: store.ChromaClient, name: str) -> None:
    try:
        client.delete_collection(name)
    except Exception as exc:  # a leftover collection is harmless; the next ingest retries
        log.warning("could not delete collection %s: %s", name, exc)


def _drop_orphans(client: store.ChromaClient, settings: Settings, writing: str | None = None) -> None:
    """Generations no reader needs any more: replaced ones past the grace period, and those killed
    ingests left behind (never pointed to). Only the lock holder runs this."""
    try:
        removable = store.removable_generations(client, settings, writing)
    except Exception as exc:  # noqa: BLE001 - clean-up is best effort; the next ingest retries
        log.warning("could not list old generations: %s", exc)
        return
    for name in removable:
        _drop(client, name)
