"""The naive LangChain baseline: ranks with fake embeddings, unavailability, and once for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.baseline import RAW_PAGES, NaiveBaseline, naive_ranks
from assistant.evals import evidence_of, load_cases, measured_cases
from assistant.fakes import FakeEmbeddings
from tests.test_evals import write


def raw_pages(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "000_tow.txt").write_text("Towing\nThe client faxes the tow receipt to CSG for review.\n")
    (folder / "001_credit.txt").write_text("Credits\nAn agent may give a courtesy credit up to $35.\n")
    (folder / "README.md").write_text("tow receipt courtesy credit: not a page, never indexed\n")
    return folder


def test_ranks_come_from_the_raw_pages_top_four(tmp_path: Path) -> None:
    cases = load_cases([write(tmp_path, "s.yaml", """
- id: tow
  question: where does the tow receipt go
  expect: {sources_any: [TOW RECEIPT  to csg]}
- id: credit
  question: how big a courtesy credit can an agent give
  expect: {sources_any: [up to $35]}
- id: nowhere
  question: how big a courtesy credit can an agent give
  expect: {sources_any: [on no page]}
- id: rule-only
  question: settle for half?
  expect: {guardrails: [banned-term]}
""")])
    ranks = naive_ranks(evidence_of(cases), FakeEmbeddings(), raw_pages(tmp_path))
    assert ranks.unavailable == "" and ranks.chunks == 2
    # Both pages come back (k=4 > 2 chunks); the one sharing the question's words first.
    assert ranks.ranks == {"tow": 1, "credit": 1, "nowhere": None}


def test_missing_raw_pages_make_the_baseline_unavailable(tmp_path: Path) -> None:
    ranks = naive_ranks({}, FakeEmbeddings(), tmp_path / "no-such-folder")
    assert ranks.ranks == {} and ranks.unavailable == f"no raw pages (0*.txt) in {tmp_path / 'no-such-folder'}"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert naive_ranks({}, FakeEmbeddings(), empty).unavailable.startswith("no raw pages")


@pytest.mark.integration
@pytest.mark.skipif(not RAW_PAGES.is_dir(), reason="../shared/sop-pages is not checked out next to the project")
def test_naive_baseline_on_the_real_pages_and_model() -> None:
    from assistant.config import load_settings
    from assistant.embeddings import get_embedder

    cases = [c for c in measured_cases() if c.expect.sources_any]
    embedder = get_embedder(load_settings())
    ranks = naive_ranks(evidence_of(cases), embedder)
    assert ranks.unavailable == "" and 10 <= ranks.chunks <= 60
    assert set(ranks.ranks) == {c.id for c in cases}
    assert all(r is None or 1 <= r <= 4 for r in ranks.ranks.values())
    assert sum(r is not None for r in ranks.ranks.values()) >= len(cases) / 2  # a working pipeline, not noise
    baseline = NaiveBaseline.build(embedder)
    assert baseline.rank("How much of a courtesy credit am I allowed to give on my own?", ["up to $35"]) == 1
