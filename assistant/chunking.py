"""Cut page sections into quotable chunks.

Rules: a chunk never crosses a heading; a list stays with the line that introduces it (and with
its heading, through the chunk's `section`); short paragraphs join their neighbour; a lost-content
marker stays with the text it interrupts, so answers touching it can say the page is incomplete.
Chunk ids are a hash of page + section + text, so unchanged text keeps its id across ingests.
"""

from __future__ import annotations

import hashlib
import re

from assistant.corpus import sections
from assistant.markup import LIST_ITEM, has_gap, split_sentences
from assistant.models import Chunk, Page

MAX_CHARS = 900
MIN_CHARS = 160


def chunk_id(page: str, section: str, text: str) -> str:
    return hashlib.sha256(f"{page}\x1f{section}\x1f{text}".encode()).hexdigest()[:24]


def _blocks(body: str) -> list[str]:
    """Paragraphs and lists; a list absorbs the paragraph just before it and nested items."""
    raw = [b.strip("\n") for b in re.split(r"\n\s*\n", body) if b.strip()]
    blocks: list[str] = []
    for block in raw:
        starts_list = bool(LIST_ITEM.match(block))
        if blocks and (starts_list or block.startswith("> **[Content missing")):
            prev = blocks[-1]
            if prev.rstrip().endswith(":") or LIST_ITEM.match(prev.splitlines()[-1]) or not starts_list:
                blocks[-1] = prev + "\n\n" + block
                continue
        blocks.append(block)
    return blocks


def _split_long(block: str) -> list[str]:
    if len(block) <= MAX_CHARS:
        return [block]
    lines = block.split("\n")
    pieces: list[str] = []
    current: list[str] = []
    for line in lines:
        # Only cut before a top-level list item or paragraph, never inside one.
        if current and sum(len(c) for c in current) + len(line) > MAX_CHARS and not line.startswith("  "):
            pieces.append("\n".join(current).strip())
            current = []
        current.append(line)
    if current:
        pieces.append("\n".join(current).strip())
    out = []
    for piece in pieces:  # a single over-long paragraph: cut at sentence ends
        if len(piece) <= MAX_CHARS:
            out.append(piece)
            continue
        sentences = split_sentences(piece)
        buf = ""
        for sentence in sentences:
            if buf and len(buf) + len(sentence) > MAX_CHARS:
                out.append(buf.strip())
                buf = ""
            buf += sentence + " "
        if buf.strip():
            out.append(buf.strip())
    return [p for p in out if p]


def chunk_page(page: Page) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in sections(page):
        label = section.label
        pieces: list[str] = []
        for block in _blocks(section.body):
            for piece in _split_long(block):
                if pieces and (len(pieces[-1]) < MIN_CHARS or len(piece) < MIN_CHARS // 2) \
                        and len(pieces[-1]) + len(piece) <= MAX_CHARS:
                    pieces[-1] += "\n\n" + piece
                else:
                    pieces.append(piece)
        for text in pieces:
            chunks.append(Chunk(
                id=chunk_id(page.slug, label, text), page=page.slug, page_title=page.title,
                business=page.business, section=label, anchor=section.anchor, text=text,
                updated=page.updated, source_url=page.source_url, has_gap=has_gap(text),
            ))
    return chunks


def embedding_text(chunk: Chunk) -> str:
    """What is embedded and indexed: the heading path gives short pieces their topic."""
    return f"{chunk.page_title} > {chunk.section}\n{chunk.text}"
