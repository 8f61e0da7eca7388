"""The start-up check: every rule's quotes must still stand on its page section in the index."""

from __future__ import annotations

import pytest

from assistant.chunking import chunk_page
from assistant.corpus import load_pages
from assistant.errors import RuleSourceMissing
from assistant.rules import DEFAULT_FOLDER, check_sources, default_book, section_texts
from assistant.rules.sources import money

SPECS = [r.spec for r in default_book().rules]


def indexed(replace: tuple[str, str] | None = None) -> dict[tuple[str, str], list[str]]:
    pages, _ = load_pages(DEFAULT_FOLDER)
    chunks = [c for p in pages for c in chunk_page(p)]
    return section_texts((c.page, c.section, c.text.replace(*replace) if replace else c.text) for c in chunks)


def test_every_quote_stands_on_its_page() -> None:
    check_sources(SPECS, indexed())


def test_a_page_that_no_longer_says_the_cap_stops_the_start_naming_the_rule() -> None:
    with pytest.raises(RuleSourceMissing, match=r"credit-cap: client-courtesy-credits / Providing .* no longer says") as err:
        check_sources(SPECS, indexed(("up to $35", "up to $50")))
    assert "wv-no-credit" not in str(err.value)  # one rule named: the one whose quote changed


def test_a_missing_section_names_the_rule() -> None:
    sections = indexed()
    del sections[("client-courtesy-credits", "Reset Fee Refund")]
    with pytest.raises(RuleSourceMissing, match="reset-refund: section client-courtesy-credits / Reset Fee Refund"):
        check_sources(SPECS, sections)


def test_quotes_compare_with_whitespace_folded_but_otherwise_exact() -> None:
    check_sources(SPECS, {k: [" \n".join(t.split(" ")) for t in v] for k, v in indexed().items()})
    with pytest.raises(RuleSourceMissing, match="art-no-disputes"):
        check_sources(SPECS, indexed(("doesn’t dispute", "doesn't dispute")))


@pytest.mark.parametrize("value,shown", [(35.0, "$35"), (1000.0, "$1,000"), (35.5, "$35.50"), (1e6, "$1,000,000")])
def test_amounts_are_written_as_the_pages_write_them(value: float, shown: str) -> None:
    assert money(value) == shown
