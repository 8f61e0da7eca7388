from __future__ import annotations

from pathlib import Path

import pytest

from assistant.corpus import parse_page
from assistant.errors import CorpusError
from assistant.importer import GAP_MARKER, import_file

RAW = Path(__file__).resolve().parent.parent.parent / "shared" / "sop-pages"

EXPORT = """top of page
  • JaneDoe42

Returns FAQ

Updated: Mar 5, 2024

Here is what agents should know.

  • First point

  • Second point \ufffd

Agents should ONLY do this if there was:

Next Section Title
Some text here.

Recent Posts

See All

Teaser Post

Comments
Commenting has been turned off.
bottom of page"""


def test_strips_chrome_recovers_structure_and_marks_gaps(tmp_path: Path) -> None:
    src = tmp_path / "export.txt"
    src.write_text(EXPORT, encoding="utf-8")
    page = parse_page(import_file(src, tmp_path / "out", "ignition-interlock"))
    assert (page.title, page.slug, page.updated, page.source) == ("Returns FAQ", "returns-faq", "2024-03-05",
                                                                  "export.txt")
    for chrome in ("top of page", "JaneDoe42", "Recent Posts", "Teaser", "Commenting", "bottom of page", "\ufffd"):
        assert chrome not in page.body
    assert "- First point\n- Second point" in page.body
    assert "## Next Section Title" in page.body
    gap = page.body.index(GAP_MARKER)
    assert page.body.index("if there was:") < gap < page.body.index("## Next Section Title")


def test_html_export(tmp_path: Path) -> None:
    src = tmp_path / "page.html"
    src.write_text("<html><head><style>x{}</style></head><body><nav>Home</nav><h1>Tow Policy</h1>"
                   "<p>Tow receipts go to CSG.</p><h2>Time Frame</h2><ul><li>7- 10 Business Days</li></ul>"
                   "<footer>bottom</footer></body></html>", encoding="utf-8")
    page = parse_page(import_file(src, tmp_path / "out", "ignition-interlock", source_url="https://x/tow"))
    assert page.title == "Tow Policy" and page.source_url == "https://x/tow"
    assert "Tow receipts go to CSG." in page.body and "## Time Frame" in page.body
    assert "- 7- 10 Business Days" in page.body and "Home" not in page.body and "bottom" not in page.body


@pytest.mark.parametrize("content,problem", [
    (b"", "no text"), (b"   \n\n", "no text"), (b"\x00\x01\x02binary", "binary"),
    (b"top of page\nbottom of page\n", "no text left"),
], ids=["empty", "whitespace", "binary", "only-chrome"])
def test_bad_exports_are_named(tmp_path: Path, content: bytes, problem: str) -> None:
    src = tmp_path / "bad.txt"
    src.write_bytes(content)
    with pytest.raises(CorpusError, match=problem):
        import_file(src, tmp_path / "out", "ignition-interlock")


@pytest.mark.skipif(not RAW.is_dir(), reason="shared/sop-pages not beside the repo")
def test_real_exports_keep_policy_wording_verbatim(tmp_path: Path) -> None:
    page = parse_page(import_file(RAW / "002_2a70f3712ce24453.txt", tmp_path, "ignition-interlock"))
    assert "IMPORTANT NOTE: We cannot provide any courtesy credits for West Virginia per state regulations." in page.body
    assert "Reset fees should NEVER be refunded." in page.body
    lost = page.body.index("Agents should ONLY refund a missed appointment if there was:")
    assert page.body.index(GAP_MARKER, lost) - lost < 120
