"""The ask log, on SQLite and PostgreSQL: every answer with its sections, abstentions with the
closest ones, filters, and per-section usage joined with the feedback ratings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from assistant.asklog import AskLog, SectionUsage
from assistant.database import Database
from assistant.fakes import fake_answer
from assistant.feedback import FeedbackStore
from assistant.models import Answer, Citation, CitationSource


def cite(page: str, anchor: str, n: int = 1) -> Citation:
    return Citation(n=n, page=page, section=anchor.title(), anchor=anchor, url=f"u/{page}#{anchor}", quote="q")


def answered(question: str, *citations: Citation) -> Answer:
    return Answer(question=question, answer="a [1]", abstained=False, citations=list(citations))


def abstained(question: str, *closest: tuple[str, str]) -> Answer:
    return Answer(question=question, answer="not covered", abstained=True,
                  see_also=[CitationSource(page=p, section=a.title(), anchor=a, url="u") for p, a in closest])


@pytest.fixture
def log(db: Database) -> AskLog:
    return AskLog(db)


def test_an_answer_is_logged_with_its_citations_then_see_also(log: AskLog) -> None:
    answer = answered("credit cap?", cite("credits", "cap"), cite("credits", "wv", 2)).model_copy(
        update={"see_also": [CitationSource(page="fees", section="Reset", anchor="reset", url="u")]})
    ask_id = log.record(answer, ["earlier"], "chat")
    [row] = log.rows()
    assert (row.id, row.question, row.history, row.abstained, row.channel) == (ask_id, "credit cap?", ["earlier"],
                                                                               False, "chat")
    assert row.sections == [{"page": "credits", "section": "Cap", "anchor": "cap"},
                            {"page": "credits", "section": "Wv", "anchor": "wv"},
                            {"page": "fees", "section": "Reset", "anchor": "reset"}]
    assert datetime.fromisoformat(row.created).tzinfo is not None


def test_an_abstention_is_logged_with_the_closest_sections(log: AskLog) -> None:
    log.record(abstained("lasagna recipe?", ("kitchen", "pasta"), ("credits", "cap")), [], "api")
    [row] = log.rows(abstained=True)
    assert row.abstained and row.channel == "api"
    assert [s["anchor"] for s in row.sections] == ["pasta", "cap"]


def test_rows_filter_by_abstention_time_and_limit_newest_first(log: AskLog) -> None:
    first = log.record(answered("one", cite("p", "a")), [], "cli")
    second = log.record(abstained("two"), [], "chat")
    third = log.record(answered("three"), [], "api")
    assert [r.id for r in log.rows()] == [third, second, first]
    assert [r.id for r in log.rows(abstained=True)] == [second]
    assert [r.id for r in log.rows(abstained=False)] == [third, first]
    assert [r.id for r in log.rows(limit=2)] == [third, second]
    assert log.rows(limit=0) == []
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert len(log.rows(since=hour_ago)) == 3
    assert log.rows(since=(datetime.now(UTC) + timedelta(hours=1)).isoformat()) == []
    # a time without a zone is UTC; one with a zone is converted
    assert len(log.rows(since=(datetime.now(UTC) - timedelta(minutes=5)).replace(tzinfo=None).isoformat())) == 3
    in_tokyo = (datetime.now(UTC) + timedelta(minutes=5)).astimezone(ZoneInfo("Asia/Tokyo")).isoformat()
    assert log.rows(since=in_tokyo) == []


def test_bad_arguments_are_refused(log: AskLog) -> None:
    with pytest.raises(ValueError, match="channel"):
        log.record(answered("x"), [], "email")
    with pytest.raises(ValueError, match="ISO"):
        log.rows(since="yesterday")
    with pytest.raises(ValueError, match="limit"):
        log.rows(limit=-1)
    assert log.rows() == []


def test_whatever_was_asked_is_logged_cleaned_and_bounded(log: AskLog) -> None:
    limit = log.db.settings.max_question_chars
    log.record(answered("nul\x00 and \ud800 surrogate"), ["x" * (limit + 50), "\x00"], "chat")
    [row] = log.rows()
    assert row.question == "nul and \ufffd surrogate"
    assert row.history == ["x" * limit, ""]


def test_history_is_kept_newest_first_within_the_record_budget(log: AskLog) -> None:
    per_turn = log.db.settings.max_question_chars
    turns = [str(i) * per_turn for i in range(10)] * 20  # 200 turns of the longest kind
    log.record(answered("q"), turns, "chat")
    [row] = log.rows()
    assert 0 < len(row.history) < len(turns) and row.history[-1] == turns[-1]
    assert sum(map(len, row.history)) <= log.db.settings.max_record_chars


def test_usage_counts_citations_per_answer_and_joins_feedback_ratings(db: Database, log: AskLog) -> None:
    cap, wv, reset = cite("credits", "cap"), cite("credits", "wv", 2), cite("fees", "reset")
    log.record(answered("q1", cap, wv), [], "chat")
    log.record(answered("q2", cap, cap.model_copy(update={"n": 2})), [], "chat")  # cited twice: counts once
    log.record(abstained("q3", ("fees", "reset")), [], "chat")  # see_also is not a citation
    store = FeedbackStore(db)
    store.record(answered("q1", cap, wv), [], 1)
    store.record(answered("q2", cap), [], 0)
    down = store.record(answered("q4", reset), [], 1)
    store.update(down, rating=0)  # a changed mind counts as its last click
    usage = {(u.page, u.anchor): u for u in log.usage()}
    assert usage[("credits", "cap")] == SectionUsage("credits", "Cap", "cap", cited=2, up=1, down=1)
    assert usage[("credits", "wv")] == SectionUsage("credits", "Wv", "wv", cited=1, up=1, down=0)
    assert usage[("fees", "reset")] == SectionUsage("fees", "Reset", "reset", cited=0, up=0, down=1)
    assert [u.anchor for u in log.usage()] == ["cap", "wv", "reset"]  # most cited first
    assert len(usage) == 3


def test_usage_of_an_empty_database_is_empty(log: AskLog) -> None:
    assert log.usage() == []


def test_feedback_on_fake_answers_counts_in_usage(db: Database, log: AskLog) -> None:
    FeedbackStore(db).record(fake_answer("x", ["q1"]), [], 1)
    assert [(u.page, u.section, u.up) for u in log.usage()] == [("p", "S", 1)]
