"""Browse every corpus page; deep links open a section with the cited passage highlighted."""

from __future__ import annotations

import re

import streamlit as st
from common import md, settings

from assistant.corpus import load_pages, sections
from assistant.markup import HEADING, slugify

pages, problems = load_pages(settings().corpus_dir, settings().max_page_bytes)
by_slug = {p.slug: p for p in pages}
params = st.query_params
wanted = params.get("page", "")
slugs = list(by_slug)
choice = st.selectbox("Page", slugs, index=slugs.index(wanted) if wanted in by_slug else 0,
                      format_func=lambda s: by_slug[s].title)
page = by_slug[choice]
if choice != wanted:
    params.clear()
    params["page"] = choice
# Only slug characters reach the page (the anchor goes into a script): a crafted link can't inject.
section = slugify(params.get("section", "")) if choice == wanted and params.get("section") else ""
highlight = params.get("hl", "") if choice == wanted else ""

st.title(page.title)
meta = [f"Business: {page.business}", f"Source: {page.source}"]
if page.updated:
    meta.insert(0, f"Updated: {page.updated}")
st.caption(" · ".join(meta))
if page.source_url:
    st.markdown(f"[Original page]({page.source_url})")


def _mark(body: str, quote: str) -> tuple[str, bool]:
    """Wrap each line of the verbatim quote in <mark>; list markers stay outside so lists render."""
    start = body.find(quote) if quote else -1
    if start < 0:
        return body, False
    pieces = []
    for line in quote.split("\n"):
        match = re.match(r"^(\s*-\s+|\s*)(.*)$", line)
        prefix, text = (match.group(1), match.group(2)) if match else ("", line)
        pieces.append(f"{prefix}<mark>{text}</mark>" if text.strip() else line)
    return body[:start] + "\n".join(pieces) + body[start + len(quote):], True


def render(body: str) -> str:
    lines = []
    for line in body.splitlines():
        match = HEADING.match(line)
        if match and len(match.group(1)) == 1:
            continue  # the page title is already shown
        if match:
            lines.append(f'<a id="{slugify(match.group(2))}"></a>\n')
        lines.append(line)
    escaped = "\n".join(lines).replace("$", "\\$")
    return escaped


body, found = _mark(page.body, highlight)
if section:
    titles = {s.anchor: s.label for s in sections(page)}
    st.info(f"Cited section: **{md(titles.get(section, section.replace('-', ' ')))}**"
            + ("" if found or not highlight else " (the quoted passage is no longer on this page)"))
st.markdown(render(body), unsafe_allow_html=True)
if section:
    # Scroll the app (our parent frame, same origin) to the section's anchor.
    st.iframe(f"<script>const el = window.parent.document.getElementById('{section}');"
              "if (el) el.scrollIntoView({block: 'start'});</script>", height=1)
if problems:
    st.caption("Pages skipped: " + "; ".join(md(p) for p in problems))
