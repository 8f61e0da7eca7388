"""Knowledge health for SOP owners: the `assistant health` report, section by section, with the
knowledge-gap queue a trainer works through. Renders a `HealthReport`; computes nothing itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import streamlit as st
from common import chain, database, md, settings

from assistant.corpus import load_pages
from assistant.embeddings import get_embedder
from assistant.errors import AssistantError, InvalidFeedback
from assistant.gap_resolutions import GapResolutions
from assistant.health import HealthReport, build_report, report_html, report_json, report_markdown
from assistant.health.activity import read_activity
from assistant.health.gap_queue import threshold_for
from assistant.health.sections import index_section_vectors


@st.cache_data(show_spinner="Checking the pages…", ttl=300)
def health_report(corpus_dir: str, today: str) -> HealthReport:
    s = settings()
    pages, _ = load_pages(s.corpus_dir)
    embedder = get_embedder(s)
    activity = read_activity(s)
    return build_report(pages, embedder, datetime.fromisoformat(today).date(), s.review_every_days,
                        signals=activity.signals, counted_usage=activity.usage, resolutions=activity.resolutions,
                        group_threshold=threshold_for(embedder.name, s.embedding_backend),
                        cache_dir=s.data_dir / "vectors", ui_base_url=s.ui_base_url,
                        index_vectors=index_section_vectors(s, embedder))


def local(url: str) -> str:
    base = settings().ui_base_url.rstrip("/")
    return url[len(base):] if url.startswith(base + "/") else url


def where(page_title: str, section: str, url: str) -> str:
    label = page_title if section == page_title else f"{page_title} § {section}"
    return f"[{md(label)}]({local(url)})"


def resolve_form(group: str, questions: list[str], closest) -> None:  # type: ignore[no-untyped-def]
    """Covered by an existing section (its questions join the question bank) or needs a page."""
    sections = [(u.page, u.section, u.anchor) for u in report.usage if u.anchor]
    default = next((n for n, s in enumerate(sections) if closest and (s[0], s[1]) == (closest.page, closest.section)), 0)
    with st.form(f"resolve-{group}"):
        kind = st.radio("Resolution", ["covered", "needs_page"], key=f"kind-{group}", horizontal=True,
                        format_func=lambda k: "Covered by a section" if k == "covered" else "Needs a page")
        chosen = st.selectbox("Section that covers it", sections, index=default, key=f"section-{group}",
                              format_func=lambda s: f"{s[0]} § {s[1]}")
        note = st.text_input("Note for the owner", key=f"note-{group}")
        if st.form_submit_button("Resolve"):
            try:
                GapResolutions(database()).resolve(questions, kind, page=chosen[0] if kind == "covered" else None,
                                                   anchor=chosen[2] if kind == "covered" else None,
                                                   section=chosen[1] if kind == "covered" else None, note=note,
                                                   by="trainer")
            except InvalidFeedback as exc:
                st.error(f"Not saved: {exc}")
                return
            if kind == "covered":
                try:  # the running assistant retrieves with the new bank entries at once
                    chain().search.refresh_bank()
                except AssistantError:
                    pass  # no index yet: the bank reads the resolution when the index loads
            health_report.clear()
            st.rerun()


st.title("Knowledge health")
if st.button("Refresh", icon=":material/refresh:"):
    health_report.clear()
report = health_report(str(settings().corpus_dir), datetime.now(UTC).date().isoformat())
cols = st.columns(6)
cols[0].metric("Conflicting facts", len(report.conflicts))
cols[1].metric("Probable typos", len(report.typos))
cols[2].metric("Duplicated sections", len(report.duplicates))
cols[3].metric("Lost content", len(report.lost_content))
cols[4].metric("Overdue pages", len(report.overdue))
cols[5].metric("Open gaps", sum(1 for g in report.gap_groups if not g.resolution))

tabs = st.tabs(["Conflicts", "Duplicates", "Gaps", "Freshness", "Gap queue", "Usage"])
with tabs[0]:
    st.caption("Same business, same topic, different values: which page is right? Fix the other.")
    for c in report.conflicts:
        with st.container(border=True):
            st.markdown(f"**{md(c.kind)}**: {md(' / '.join(c.a_values))} vs {md(' / '.join(c.b_values))}")
            left, right = st.columns(2)
            for col, ref, values, quotes in ((left, c.a, c.a_values, c.a_quotes), (right, c.b, c.b_values, c.b_quotes)):
                col.markdown(f"{where(ref.page_title, ref.section, report.link(ref.page, ref.anchor))}: "
                             f"**{md(', '.join(values))}**")
                col.markdown("\n".join(f"> {md(q)}\n" for q in quotes))
    if not report.conflicts:
        st.success("No conflicting facts.")
    st.subheader("Probable typos")
    for t in report.typos:
        st.warning(f"{md(t.kind)} **{md(t.value)}** is probably **{md(t.likely)}** — "
                   f"{where(t.where.page_title, t.where.section, report.link(t.where.page, t.where.anchor))}: "
                   f"“{md(t.where.sentence)}”", icon=":material/spellcheck:")
with tabs[1]:
    st.caption("The same text on two pages: keep one source, link the other to it.")
    for d in report.duplicates:
        st.markdown(f"- [{md(d.page_a)} § {md(d.section_a)}]({local(report.link(d.page_a, d.anchor_a))}) and "
                    f"[{md(d.page_b)} § {md(d.section_b)}]({local(report.link(d.page_b, d.anchor_b))}): "
                    f"{d.contained:.0%} shared")
with tabs[2]:
    st.subheader("Content lost in export")
    for g in report.lost_content:
        st.markdown(f"- {where(g.page_title, g.section, report.link(g.page, g.anchor))}"
                    f"{' — nothing else left' if g.nothing_left else ''}")
    st.subheader("Pages without an owner")
    for u in report.unowned:
        st.markdown(f"- {md(u.page_title)} ({md(u.business)})")
with tabs[3]:
    st.dataframe([{"page": f.page_title, "owner": f.owner or "—", "updated": f.updated or "—",
                   "review every (days)": f.review_every_days, "due": f.due or "—",
                   "status": f"overdue {f.overdue_days} days" if f.overdue else "never reviewed" if f.due is None
                   else "ok"} for f in report.freshness], hide_index=True, width="stretch")
with tabs[4]:
    st.caption("Questions the assistant could not answer and answers agents rated 👎, grouped, most asked first.")
    if not report.gap_groups:
        st.info("No abstentions or 👎 answers recorded yet.")
    for g in report.gap_groups:
        status = ("covered by " + g.resolution.get("page", "") + " § " + g.resolution.get("section", "")
                  if g.resolution.get("kind") == "covered" else "needs a page" if g.resolution else "open")
        with st.expander(f"{g.count}× — {g.questions[0]} ({status})", expanded=not g.resolution):
            st.markdown("\n".join(f"- {md(q)}" for q in g.examples))
            if g.closest:
                st.markdown(f"Closest section: {md(g.closest.page)} § {md(g.closest.section)}")
            for comment in g.comments:
                st.caption(f"💬 {md(comment)}")
            resolve_form(g.id, list(g.questions), g.closest)
with tabs[5]:
    st.dataframe([{"page": u.page, "section": u.section, "cited": u.cited, "👍": u.up, "👎": u.down}
                  for u in report.usage], hide_index=True, width="stretch")

dl = st.columns(3)
dl[0].download_button("health.html", report_html(report), "health.html", "text/html")
dl[1].download_button("health.md", report_markdown(report), "health.md", "text/markdown")
dl[2].download_button("health.json", json.dumps(report_json(report), indent=2), "health.json", "application/json")
