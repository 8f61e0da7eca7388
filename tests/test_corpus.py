from __future__ import annotations

from pathlib import Path

from assistant.corpus import load_pages, sections
from assistant.markup import GAP_MARKER
from tests.conftest import CORPUS


def test_committed_corpus_pages_are_complete() -> None:
    pages, problems = load_pages(CORPUS)
    assert problems == []
    assert len(pages) == 5
    businesses = {p.slug: p.business for p in pages}
    assert businesses["collections-call-procedure"] == "field-service-contractor"
    assert {b for s, b in businesses.items() if s != "collections-call-procedure"} == {"ignition-interlock"}
    assert {p.slug: p.updated for p in pages}["delinquent-past-due-clients-in-collections"] == "2023-12-11"
    courtesy = next(p for p in pages if p.slug == "client-courtesy-credits")
    lost = courtesy.body.index("if there was:")
    assert courtesy.body.index(GAP_MARKER, lost) - lost < 120


def test_bad_files_are_reported_by_name_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("---\ntitle: Good\nslug: good\nsource: g.txt\nbusiness: b\n---\n\n# Good\n\nText.\n")
    (tmp_path / "nofront.md").write_text("# No front matter\n\nText.\n")
    (tmp_path / "broken.md").write_text("---\ntitle: [unclosed\n---\n\nText.\n")
    (tmp_path / "empty.md").write_text("---\ntitle: E\nslug: e\nsource: e\nbusiness: b\n---\n\n")
    (tmp_path / "missing.md").write_text("---\ntitle: M\n---\n\nText.\n")
    (tmp_path / "latin1.md").write_bytes("---\ntitle: L\n---\n\ncaf\xe9".encode("latin-1"))
    pages, problems = load_pages(tmp_path)
    assert [p.slug for p in pages] == ["good"]
    text = "\n".join(problems)
    for name in ("nofront.md", "broken.md", "empty.md", "missing.md", "latin1.md"):
        assert name in text


def test_sections_follow_headings() -> None:
    pages, _ = load_pages(CORPUS)
    page = next(p for p in pages if p.slug == "client-courtesy-credits")
    titles = [" > ".join(s.path) for s in sections(page)]
    assert "Client Courtesy Credits > Reset Fee Refund" in titles
    assert "Client Courtesy Credits > Tips to navigate certain call scenarios > Invoices" in titles
