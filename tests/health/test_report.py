"""The health report on the seed pages (fake embedder): the required findings and non-findings."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from assistant.corpus import load_pages, parse_page
from assistant.fakes import FakeEmbeddings
from assistant.health import HealthReport, build_report, report_html, report_json, report_markdown
from tests.conftest import CORPUS

FAQ, DELINQUENT = "a-r-t-and-collections-faqs", "delinquent-past-due-clients-in-collections"
CREDITS, KEY_POINTS, CONTRACTOR = "client-courtesy-credits", "credits-key-points", "collections-call-procedure"
TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def report() -> HealthReport:
    pages, problems = load_pages(CORPUS)
    assert not problems
    return build_report(pages, FakeEmbeddings(), TODAY, 365)


def test_collections_email_conflict_shows_both_pages_and_quotes(report: HealthReport) -> None:
    emails = [c for c in report.conflicts if c.kind == "email"]
    assert len(emails) == 1
    c = emails[0]
    assert (c.a.page, c.b.page) == (FAQ, DELINQUENT)
    assert c.a_values == ("collection@scramsystems.com",) and c.b_values == ("collection@lmgholdings.com",)
    assert "send an email to collection@scramsystems.com" in c.a.sentence
    assert "please email notification to collection@lmgholdings.com" in c.b.sentence
    assert c.a.section == "Are agents able to take payments for clients in Collections?" and c.b.section == "Collections"


def test_misspelled_address_is_a_probable_typo_not_another_conflict(report: HealthReport) -> None:
    assert [(t.value, t.likely, t.where.page) for t in report.typos] == [
        ("collection@lmgholdigns.com", "collection@lmgholdings.com", DELINQUENT)]
    assert "collection@lmgholdigns.com" in report.typos[0].where.sentence
    assert all("collection@lmgholdigns.com" not in c.a_values + c.b_values for c in report.conflicts)


def test_no_conflict_across_businesses_nor_with_the_contractor_page(report: HealthReport) -> None:
    assert all(c.a.page != CONTRACTOR and c.b.page != CONTRACTOR for c in report.conflicts)
    assert {c.business for c in report.conflicts} == {"ignition-interlock"}
    # the deductible and the recovery fee are different subjects: no money conflict on the seed pages
    assert [c.kind for c in report.conflicts] == ["email"]


def test_the_two_credits_pages_are_reported_as_duplicated(report: HealthReport) -> None:
    pairs = {(d.page_a, d.section_a, d.page_b) for d in report.duplicates}
    assert (CREDITS, "Providing Exceptional Support by Driving First Call Resolution", KEY_POINTS) in pairs
    assert (CREDITS, "Coupon Credit Parameters", KEY_POINTS) in pairs
    assert all({d.page_a, d.page_b} == {CREDITS, KEY_POINTS} for d in report.duplicates)


def test_gaps_lost_content_and_pages_without_owner(report: HealthReport) -> None:
    lost = {(g.page, g.section) for g in report.lost_content}
    assert (CREDITS, "Missed Appointments") in lost and (KEY_POINTS, "Credits in M9") in lost
    assert (CREDITS, "Scenarios when a credit can be granted") in lost
    assert len(lost) == 7
    whole = {g.section for g in report.lost_content if g.nothing_left}
    assert "Credits in M9" in whole and "Missed Appointments" not in whole
    assert {u.page for u in report.unowned} == {FAQ, DELINQUENT, CREDITS, KEY_POINTS, CONTRACTOR}


def test_freshness_lists_the_overdue_page(report: HealthReport) -> None:
    assert [f.page for f in report.overdue] == [DELINQUENT]
    assert report.overdue[0].due == "2024-12-10"
    assert {f.page for f in report.never_reviewed} == {FAQ, CREDITS, KEY_POINTS, CONTRACTOR}


def test_outputs_carry_the_findings(report: HealthReport) -> None:
    data = json.loads(json.dumps(report_json(report)))
    assert data["summary"]["conflicts"] == 1 and data["summary"]["probable_typos"] == 1
    assert data["conflicts"][0]["a"]["url"].endswith("section=are-agents-able-to-take-payments-for-clients-in-collections")
    md = report_markdown(report)
    assert "collection@scramsystems.com" in md and "collection@lmgholdigns.com" in md and "overdue" in md
    assert "collection@lmgholdings.com" in report_html(report)


def test_page_text_is_escaped_in_html(tmp_path: Path) -> None:
    page = tmp_path / "evil.md"
    page.write_text("---\ntitle: <b>Evil</b>\nslug: evil\nsource: x\nbusiness: b\nowner: <img src=x onerror=alert(1)>\n---\n"
                    "# <b>Evil</b>\n\n## <script>alert(1)</script>\n\n> **[Content missing in export: <script>x</script>]**\n",
                    encoding="utf-8")
    html = report_html(build_report([parse_page(page)], FakeEmbeddings(), TODAY, 365))
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html


def test_a_conflict_needs_the_same_subject(tmp_path: Path) -> None:
    """Same business, similar sections: a different cap is a conflict, an unrelated amount is not."""
    def page(slug: str, text: str, business: str = "b"):  # type: ignore[no-untyped-def]
        path = tmp_path / f"{slug}.md"
        path.write_text(f"---\ntitle: {slug}\nslug: {slug}\nsource: x\nbusiness: {business}\n---\n# {slug}\n\n"
                        f"## Courtesy credits\n\n{text}\n", encoding="utf-8")
        return parse_page(path)

    pages = [page("one", "Agents may give a one-time courtesy credit of up to $35 to a client."),
             page("two", "Agents may give a one-time courtesy credit of up to $50 to a client."),
             page("three", "Courtesy credits for clients: the device shipping fee is $12."),
             page("four", "Agents may give a one-time courtesy credit of up to $75 to a client.", business="other")]
    found = build_report(pages, FakeEmbeddings(), TODAY, 365).conflicts
    assert [(c.a.page, c.b.page, c.a_values, c.b_values) for c in found] == [("one", "two", ("$35",), ("$50",))]


def test_section_vectors_come_from_the_index_when_it_is_built(fake_index) -> None:  # type: ignore[no-untyped-def]
    from assistant.health.sections import collect, index_section_vectors, section_vectors

    settings, _ = fake_index
    embedder = FakeEmbeddings()  # same model name as the index's: its vectors are usable
    known = index_section_vectors(settings, embedder)
    pages, _ = load_pages(CORPUS)
    items = collect(pages)
    assert all(s.key in known for s in items)
    vectors = section_vectors(items, embedder, known=known)
    assert embedder.calls == 0 and vectors.shape[0] == len(items)
    report = build_report(pages, embedder, TODAY, 365, index_vectors=known)
    assert [(c.a.page, c.b.page) for c in report.conflicts] == [(FAQ, DELINQUENT)]
    assert {(d.page_a, d.page_b) for d in report.duplicates} == {(CREDITS, KEY_POINTS)}
    assert report.timings_s["sections_from_index"] == len(items)


def test_no_index_means_no_index_vectors(settings) -> None:  # type: ignore[no-untyped-def]
    from assistant.health.sections import index_section_vectors

    assert index_section_vectors(settings, FakeEmbeddings()) == {}
