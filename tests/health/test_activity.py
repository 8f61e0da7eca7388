"""The health report reads the database: abstentions, 👎 answers, usage and resolutions."""

from __future__ import annotations

from datetime import date

from assistant.asklog import AskLog
from assistant.config import Settings
from assistant.corpus import load_pages
from assistant.database import open_database
from assistant.fakes import FakeEmbeddings
from assistant.feedback import FeedbackStore
from assistant.gap_resolutions import GapResolutions
from assistant.health import build_report
from assistant.health.activity import read_activity
from assistant.models import Answer, Citation, CitationSource

TOW = {"page": "client-courtesy-credits", "section": "Tow Reimbursements", "anchor": "tow-reimbursements"}


def test_report_reads_asks_feedback_and_resolutions(settings: Settings) -> None:
    db = open_database(settings)
    log, feedback = AskLog(db), FeedbackStore(db)
    for q in ("refund the tow bill for a client", "client wants a tow bill refund"):
        log.record(Answer(question=q, answer="not covered", abstained=True,
                          see_also=[CitationSource(page=TOW["page"], section=TOW["section"], anchor=TOW["anchor"])]),
                   [], "chat")
    cited = Answer(question="where does the tow receipt go", answer="a [1]", abstained=False,
                   citations=[Citation(n=1, quote="x", **TOW)])
    log.record(cited, [], "chat")
    feedback.update(feedback.record(cited, [], 0), comment="fax number missing")
    GapResolutions(db).resolve(["where does the tow receipt go"], "needs_page", note="owner to write it")

    activity = read_activity(settings)
    assert sorted(s.kind for s in activity.signals) == ["abstained", "abstained", "thumbs_down"]
    pages, _ = load_pages(settings.corpus_dir)
    report = build_report(pages, FakeEmbeddings(), date(2026, 11, 26), 365, signals=activity.signals,
                          counted_usage=activity.usage, resolutions=activity.resolutions)
    groups = {g.questions[0]: g for g in report.gap_groups}
    tow_refund = next(g for g in report.gap_groups if g.count == 2)
    assert tow_refund.closest is not None and tow_refund.closest.section == "Tow Reimbursements"
    assert groups["where does the tow receipt go"].resolution["kind"] == "needs_page"
    assert groups["where does the tow receipt go"].comments == ("fax number missing",)
    usage = {(u.page, u.section): u for u in report.usage}
    assert (usage[(TOW["page"], TOW["section"])].cited, usage[(TOW["page"], TOW["section"])].down) == (1, 1)
