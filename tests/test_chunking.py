"""Chunks: never cross a heading, keep lists with their intro, ids content-addressed and stable."""

from __future__ import annotations

import subprocess
import sys

from assistant.chunking import chunk_id, chunk_page
from assistant.corpus import load_pages
from tests.conftest import CORPUS


def test_chunks_keep_lists_with_their_intro_and_never_cross_headings() -> None:
    pages, _ = load_pages(CORPUS)
    for page in pages:
        for chunk in chunk_page(page):
            assert chunk.text in page.body
            assert "\n#" not in chunk.text and not chunk.text.startswith("#")
    key = next(p for p in pages if p.slug == "credits-key-points")
    scenario = next(c for c in chunk_page(key) if "scenarios we can provide" in c.text)
    assert "- Missed Appointment Fees (Support Channel)" in scenario.text
    assert "- Opted out of Loss Protection Plan" in scenario.text


def test_a_chunk_id_is_the_hash_of_page_section_and_text() -> None:
    # A fixed value: if the id scheme changes, every stored vector is re-embedded; that must be a decision.
    assert chunk_id("p", "S", "text") == "1db9e889d85ba6494350b618"
    assert chunk_id("p", "S", "text!") != chunk_id("p", "S", "text") != chunk_id("q", "S", "text")


def test_chunk_ids_are_the_same_in_another_process() -> None:
    pages, _ = load_pages(CORPUS)
    here = [c.id for p in pages for c in chunk_page(p)]
    assert len(set(here)) == len(here)
    script = ("from assistant.chunking import chunk_page; from assistant.corpus import load_pages; "
              f"from pathlib import Path; pages, _ = load_pages(Path({str(CORPUS)!r})); "
              "print(' '.join(c.id for p in pages for c in chunk_page(p)))")
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345", "PATH": ""}).stdout.split()
    assert other == here
