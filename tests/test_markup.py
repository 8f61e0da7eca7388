"""The pages' Markdown conventions: anchors, labels, gap markers, sentences, plain text."""

from __future__ import annotations

import pytest

from assistant.markup import GAP_MARKER, has_gap, innermost_heading, plain, section_label, slugify, split_sentences


@pytest.mark.parametrize("text,slug", [
    ("Reset Fee Refund", "reset-fee-refund"), ("A.R.T and Collections FAQs", "a-r-t-and-collections-faqs"),
    ("Credits – Key Points", "credits-key-points"), ("!!!", "section"),
])
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_section_label_is_the_path_below_the_page_title() -> None:
    assert section_label(("Page", "Tips", "Invoices")) == "Tips > Invoices"
    assert section_label(("Page",)) == "Page"
    assert innermost_heading("Tips > Invoices") == "Invoices"


def test_gap_marker() -> None:
    assert has_gap(f"text\n\n{GAP_MARKER} the list was lost.]**") and not has_gap("> **Note:** fine")


@pytest.mark.parametrize("text,sentences", [
    ("Start low. Up to $35 is fine.", ["Start low.", "Up to $35 is fine."]),
    ("Call A.R.T. They help.", ["Call A.R.T.", "They help."]),
    ("It costs 3.5 dollars. e.g. the fee", ["It costs 3.5 dollars. e.g. the fee"]),
    ("Done! **Note:** next", ["Done!", "**Note:** next"]),
    ("Wait? 2 days.", ["Wait?", "2 days."]),
])
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_plain_drops_markup_not_words() -> None:
    assert plain("- **Do not** refund the   reset") == "Do not refund the reset"
