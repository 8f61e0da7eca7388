"""Chat for agents: the answer, the rule that applies and the sources in one glance."""

from __future__ import annotations

import streamlit as st
from common import BANNER, ICON, chain_or_stop, feedback_store, local_link, md, not_ready, record_ask

from assistant.errors import AssistantError, DatabaseUnavailable, InvalidFeedback, InvalidQuestion
from assistant.models import Answer

st.title("SOP assistant")
st.caption("Answers come only from the procedure pages, quoted verbatim. Hard rules are shown first.")
assistant = chain_or_stop()
messages: list[dict] = st.session_state.setdefault("messages", [])  # type: ignore[type-arg]
ANY_BUSINESS = "Decided per question"
try:
    businesses = [ANY_BUSINESS] + assistant.search.snapshot.businesses
except AssistantError as exc:  # the index went away after the app loaded (server down, store removed)
    not_ready(exc)
business_choice = st.sidebar.selectbox(
    "Line of business", businesses, key="business",
    index=businesses.index(assistant.settings.business) if assistant.settings.business in businesses else 0,
    help="Answers come only from this business's pages. 'Decided per question' follows the best match.")
business = None if business_choice == ANY_BUSINESS else business_choice


def save_rating(i: int) -> None:
    rating = st.session_state.get(f"rating-{i}")
    if rating is None:
        return
    msg = messages[i]
    try:
        store = feedback_store()
        if msg.get("feedback_id"):
            store.update(msg["feedback_id"], rating=rating)
        else:  # the rating is kept even if the comment typed before it can't be
            msg["feedback_id"] = store.record(Answer(**msg["answer"]), msg["history"], rating)
            if comment := st.session_state.get(f"comment-{i}", ""):
                store.update(msg["feedback_id"], comment=comment)
        msg.pop("feedback_error", None)
    except (InvalidFeedback, DatabaseUnavailable) as exc:
        msg["feedback_error"] = str(exc)


def save_comment(i: int) -> None:
    msg = messages[i]
    comment = st.session_state.get(f"comment-{i}", "")
    if msg.get("feedback_id"):
        try:
            feedback_store().update(msg["feedback_id"], comment=comment)
            msg.pop("feedback_error", None)
        except (InvalidFeedback, DatabaseUnavailable) as exc:
            msg["feedback_error"] = str(exc)


def render_answer(i: int, msg: dict) -> None:  # type: ignore[type-arg]
    answer = msg["answer"]
    for v in answer["guardrails"]:
        BANNER[v["action"]](f"**{v['action'].upper()} · {md(v['rule'])}** — {md(v['message'])} "
                            f"[Rule source]({local_link(v['citation']['url'])})", icon=ICON[v["action"]])
    body = answer["answer"]  # the banners above carry the verdicts; the body never repeats them
    if answer["abstained"]:
        st.info(md(body), icon=":material/search_off:")
        for s in answer.get("see_also", []):
            st.markdown(f"- See also: [{md(s['page'])} — {md(s['section'])}]({local_link(s['url'])})")
    else:
        st.markdown(md(body))
    for c in answer["citations"]:
        updated = f" · updated {c['updated']}" if c.get("updated") else ""
        # The page is past its review date: the agent should know the text may be out of date.
        overdue = " :orange-badge[:material/schedule: Review overdue]" if c.get("review_overdue") else ""
        with st.container(border=True):
            st.markdown(f"**[{c['n']}] {md(c.get('page_title') or c['page'])}** — {md(c['section'])}{updated}{overdue}")
            st.markdown("> " + md(c["quote"]).replace("\n", "\n> "))
            st.markdown(f"[Open the source section]({local_link(c['url'])})")
            for other in c.get("also_in", []):
                st.caption(f"Same text also on: [{md(other['page'])} — {md(other['section'])}]"
                           f"({local_link(other['url'])})")
    cols = st.columns([1, 4])
    with cols[0]:
        st.feedback("thumbs", key=f"rating-{i}", on_change=save_rating, args=(i,))
    with cols[1]:
        st.text_input("Comment (optional)", key=f"comment-{i}", on_change=save_comment, args=(i,),
                      placeholder="What was wrong or missing?", label_visibility="collapsed",
                      max_chars=assistant.settings.max_comment_chars)
    if msg.get("feedback_error"):
        st.warning(f"Feedback not saved: {md(msg['feedback_error'])}")
    elif msg.get("feedback_id"):
        st.caption("Feedback saved. Thank you.")


for i, msg in enumerate(messages):
    with st.chat_message(msg["role"]):
        if msg["role"] == "user":
            st.markdown(md(msg["content"]))
        elif "error" in msg:
            st.error(msg["error"])
        else:
            render_answer(i, msg)

if question := st.chat_input("Ask about a procedure, e.g. “Can I give a West Virginia client a $20 credit?”"):
    history = [m["content"] for m in messages if m["role"] == "user"]
    messages.append({"role": "user", "content": question})
    try:
        result = assistant.ask(question, history, business)
        messages.append({"role": "assistant", "answer": result.model_dump(mode="json"), "history": history,
                         "ask_id": record_ask(result, history)})
    except InvalidQuestion as exc:
        messages.append({"role": "assistant", "error": f"Can't ask that: {exc}"})
    except AssistantError as exc:  # the index or its server failed: one line, and the chat goes on
        messages.append({"role": "assistant", "error": f"The assistant could not answer: {exc}"})
    st.rerun()
