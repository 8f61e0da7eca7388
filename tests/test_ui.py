"""Streamlit AppTest: the chat, citations, banners, abstention, feedback and the trainer page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from assistant.asklog import AskLog
from assistant.config import PROJECT_ROOT, Settings
from assistant.database import open_database
from assistant.feedback import FeedbackStore

pytestmark = pytest.mark.integration
APP = str(PROJECT_ROOT / "ui" / "app.py")
TIMEOUT = 180


@pytest.fixture
def app(real_index: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(real_index.data_dir))
    st.cache_resource.clear()  # each test builds its cached resources from its own settings
    st.cache_data.clear()  # and its own health report (cached per corpus and day)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    yield at
    st.cache_resource.clear()


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    return at


def texts(elements) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(e.value for e in elements)


def test_guardrail_banner_answer_and_citation(app: AppTest) -> None:
    ask(app, "Can I give a West Virginia client a $20 credit?")
    assert "wv-no-credit" in texts(app.error) and "West Virginia" in texts(app.error)
    shown = texts(app.markdown)
    assert "IMPORTANT NOTE: We cannot provide any courtesy credits for West Virginia" in shown
    assert "[Open the source section](/page_viewer?page=" in shown
    assert "Not allowed:" not in shown  # the banner carries the verdict; the body is the quote


def test_follow_up_uses_the_conversation(app: AppTest) -> None:
    ask(app, "what's the most I can credit for an inconvenience?")
    ask(app, "and if the client lives in West Virginia?")
    assert "wv-no-credit" in texts(app.error)


def test_line_of_business_scopes_the_answers(app: AppTest) -> None:
    app.sidebar.selectbox(key="business").select("ignition-interlock").run()
    ask(app, "who do I email after I take a payment on a collections account?")
    shown = texts(app.markdown)
    assert "collection@" in shown and "Collections Call Procedure" not in shown


def test_abstention_reads_as_such(app: AppTest) -> None:
    ask(app, "give me a good lasagna recipe")
    assert "not covered by the procedures" in texts(app.info)
    assert "See also" in texts(app.markdown)


def test_feedback_is_stored_at_the_click(app: AppTest, real_index: Settings) -> None:
    ask(app, "where does the client send the tow receipt?")
    app.feedback[0].set_value(0).run()  # the thumbs-down click: stored at once
    assert FeedbackStore(open_database(real_index)).rows(text="tow receipt")
    app.text_input(key="comment-1").set_value("needs the fax number first").run()
    assert not app.exception
    rows = FeedbackStore(open_database(real_index)).rows(text="tow receipt")
    assert rows and rows[0].rating == 0 and rows[0].comment == "needs the fax number first"
    assert rows[0].citations and rows[0].citations[0]["page"] == "client-courtesy-credits"


def test_every_chat_answer_is_logged_abstentions_with_their_closest_sections(app: AppTest, real_index: Settings) -> None:
    log = AskLog(open_database(real_index))
    before = {r.id for r in log.rows()}
    ask(app, "give me a good lasagna recipe")
    [logged] = [r for r in log.rows() if r.id not in before]
    assert (logged.question, logged.channel, logged.abstained) == ("give me a good lasagna recipe", "chat", True)
    assert logged.sections and set(logged.sections[0]) == {"page", "section", "anchor"}


def test_page_viewer_highlights_the_cited_passage(app: AppTest) -> None:
    app.switch_page("page_viewer.py")
    app.query_params.update({"page": "client-courtesy-credits", "section": "reset-fee-refund",
                             "hl": "Reset fees should NEVER be refunded."})
    app.run()
    assert [t.value for t in app.title] == ["Client Courtesy Credits"]
    assert "<mark>Reset fees should NEVER be refunded.</mark>" in texts(app.markdown)
    assert '<a id="reset-fee-refund"></a>' in texts(app.markdown)


def test_trainer_runs_a_set_and_lists_feedback(app: AppTest, real_index: Settings) -> None:
    from assistant.models import Answer

    FeedbackStore(open_database(real_index)).record(Answer(question="trainer-visible question", answer="a",
                                                        abstained=False), [], 1, "listed on the trainer page")
    app.switch_page("trainer.py").run()
    listed = [df.value for df in app.dataframe]
    assert any("listed on the trainer page" in df.to_string() for df in listed)
    app.multiselect[0].set_value(["guardrails.yaml"])
    logged_before = len(AskLog(open_database(real_index)).rows())
    app.button[0].click().run()
    assert not app.exception
    assert len(AskLog(open_database(real_index)).rows()) == logged_before  # evals never fill the ask log
    labels = [m.label for m in app.metric]
    assert "Pass rate" in labels and "hit@1" in labels
    assert app.metric[1].value == "100.0%"  # every rule expectation in guardrails.yaml held
    assert len(app.get("download_button")) >= 3


def test_citation_from_an_overdue_page_shows_the_badge(app: AppTest) -> None:
    app.sidebar.selectbox(key="business").select("ignition-interlock").run()
    ask(app, "who do I email after I take a payment on a collections account?")
    headers = [m.value for m in app.markdown if m.value.startswith("**[")]
    overdue = [h for h in headers if "Review overdue" in h]
    assert overdue and all("Delinquent" in h for h in overdue)


def test_knowledge_health_page_shows_the_findings(app: AppTest) -> None:
    app.switch_page("health.py").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Conflicting facts"] == "1" and metrics["Probable typos"] == "1"
    assert metrics["Overdue pages"] == "1" and int(metrics["Duplicated sections"]) >= 2
    shown = texts(app.markdown)
    assert "collection@scramsystems.com" in shown and "collection@lmgholdings.com" in shown
    assert "collection@lmgholdigns.com" in texts(app.warning)
    assert len(app.get("download_button")) == 3


def test_trainer_resolves_a_gap_group_on_the_health_page(app: AppTest, real_index: Settings) -> None:
    from assistant.gap_resolutions import GapResolutions
    from assistant.models import Answer

    log = AskLog(open_database(real_index))
    for q in ("how do I book a fleet vehicle discount", "fleet vehicle discount booking"):
        log.record(Answer(question=q, answer="not covered", abstained=True), [], "chat")
    app.switch_page("health.py").run()
    assert not app.exception
    group = next(e for e in app.expander if "fleet vehicle discount" in e.label)
    assert "open" in group.label
    group.radio[0].set_value("needs_page")
    group.text_input[0].set_value("owner: write the fleet page")
    group.button[0].click().run()
    assert not app.exception
    decided = [r for r in GapResolutions(open_database(real_index)).rows() if "fleet vehicle discount booking" in r.questions]
    assert decided and decided[0].kind == "needs_page" and decided[0].note == "owner: write the fleet page"
    assert any("fleet vehicle discount" in e.label and "needs a page" in e.label for e in app.expander)

def test_with_the_database_down_the_chat_still_answers_and_the_trainer_page_says_why(
        real_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.servers import free_port

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(real_index.data_dir))
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", f"postgresql://app:secret@127.0.0.1:{free_port()}/assistant")
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()
        ask(at, "where does the client send the tow receipt?")  # logging it fails quietly
        assert at.get("chat_message")[-1].markdown and "tow" in texts(at.markdown).lower()
        at.feedback[0].set_value(1).run()
        assert not at.exception and "Feedback not saved: cannot open the database" in texts(at.warning)
        at.switch_page("trainer.py").run()
        assert not at.exception and "Feedback can't be read right now" in texts(at.error)
        assert "secret" not in texts(at.error) + texts(at.warning)
    finally:
        st.cache_resource.clear()
