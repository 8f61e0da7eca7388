"""Browse every corpus page; deep links open a section with the cited passage highlighted.

The page is shown as written (it is the source, not the assistant speaking), but as data: its
text can't open an HTML tag or a script: link. Links from answers carry the banned term redacted
(assistant/output_filter.py); the page, section and passage they name are found all the same.
"""

from __future__ import annotations

import re

import streamlit as st
from common import md, settings

from assistant.corpus import load_pages, sections
from assistant.markup import HEADING, slugify
from assistant.output_filter import REDACTED, redacted_pattern

pages, problems = load_pages(settings().corpus_dir, settings().max_page_bytes)
by_slug = {p.slug: p for p in pages}
params = st.query_params
MARK_START, MARK_END = "\x01", "\x02"  # placeholders: pages never hold control characters (corpus.py)
SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:", "#", "/")
# A Markdown link or image destination, inline "](...)" or a reference definition "[x]: ...".
LINK_TARGET = re.compile(r"(\]\(\s*<?|^\s{0,3}\[[^\]]+\]:\s*<?)([^\s)>]*)", re.MULTILINE)


def resolve(given: str, known: list[str]) -> str:
    """A slug or anchor from a link; one with the term redacted is matched against the real ones."""
    if REDACTED not in given:
        return given
    pattern = redacted_pattern(given)
    return next((k for k in known if pattern.fullmatch(k)), given)


wanted = resolve(params.get("page", ""), list(by_slug))
slugs = list(by_slug)
choice = st.selectbox("Page", slugs, index=slugs.index(wanted) if wanted in by_slug else 0,
                      format_func=lambda s: by_slug[s].title)
page = by_slug[choice]
if choice != wanted:
    params.clear()
    params["page"] = choice
# Only slug characters reach the page (the anchor goes into a script): a crafted link can't inject.
section = (slugify(resolve(params.get("section", ""), [s.anchor for s in sections(page)]))
           if choice == wanted and params.get("section") else "")
highlight = params.get("hl", "") if choice == wanted else ""

st.title(page.title)
meta = [f"Business: {page.business}", f"Source: {page.source}"]
if page.updated:
    meta.insert(0, f"Updated: {page.updated}")
st.caption(md(" · ".join(meta)))
if page.source_url and page.source_url.startswith(("http://", "https://")):
    st.markdown(f"[Original page](<{page.source_url.replace('>', '%3E')}>)")


def _find(body: str, quote: str) -> tuple[int, int] | None:
    """Where the cited passage stands; a quote with the term redacted is matched around it."""
    if not quote:
        return None
    if REDACTED in quote:
        found = redacted_pattern(quote).search(body)
        return found.span() if found else None
    start = body.find(quote)
    return (start, start + len(quote)) if start >= 0 else None


def _mark(body: str, quote: str) -> tuple[str, bool]:
    """Wrap each line of the cited passage in a mark; list markers stay outside so lists render."""
    span = _find(body, quote)
    if span is None:
        return body, False
    start, end = span
    pieces = []
    for line in body[start:end].split("\n"):
        match = re.match(r"^(\s*-\s+|\s*)(.*)$", line)
        prefix, text = (match.group(1), match.group(2)) if match else ("", line)
        pieces.append(f"{prefix}{MARK_START}{text}{MARK_END}" if text.strip() else line)
    return body[:start] + "\n".join(pieces) + body[end:], True


def _safe_target(match: re.Match[str]) -> str:
    target = match.group(2)
    bare = re.sub(r"[\s\x00-\x1f]", "", target).lower()
    return match.group(1) + (target if not bare or bare.startswith(SAFE_SCHEMES) or ":" not in bare else "#")


def as_data(text: str) -> str:
    """Page text that renders as Markdown but can't add HTML (no "<" opens a tag), run a script:
    link or start LaTeX ("$")."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace("$", "\\$")
    return LINK_TARGET.sub(_safe_target, text)


def render(body: str) -> str:
    lines = []
    for line in body.splitlines():
        match = HEADING.match(line)
        if match and len(match.group(1)) == 1:
            continue  # the page title is already shown
        if match:
            lines.append(f'<a id="{slugify(match.group(2))}"></a>\n')
        lines.append(as_data(line))
    return "\n".join(lines).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


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
