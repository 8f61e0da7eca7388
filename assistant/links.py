"""Links that open a source page at the cited section (the `url` fields of the answer contract).

Filled in once, near the end of the chain (`attach`), from the anchors the stages recorded:
composing and rule checking never need to know where the UI is served.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from assistant.models import Answer, CitationSource

VIEWER_PATH = "page_viewer"
HIGHLIGHT_CHARS = 300


def source_link(ui_base_url: str, page: str, anchor: str, source_url: str | None = None,
                highlight: str = "") -> str:
    """The page's own `source_url` at the section anchor, else the chat UI's page viewer."""
    if source_url:
        return f"{source_url.split('#')[0]}#{quote(anchor)}"
    params = {"page": page, "section": anchor}
    if highlight:
        params["hl"] = highlight[:HIGHLIGHT_CHARS]
    return f"{ui_base_url.rstrip('/')}/{VIEWER_PATH}?{urlencode(params, quote_via=quote)}"


def _linked(ref: CitationSource, ui_base_url: str, highlight: str = "") -> CitationSource:
    return ref.model_copy(update={"url": source_link(ui_base_url, ref.page, ref.anchor, ref.source_url, highlight)})


def attach(answer: Answer, ui_base_url: str) -> Answer:
    """Every citation, rule source and see-also entry with its link."""
    citations = [c.model_copy(update={
        "url": source_link(ui_base_url, c.page, c.anchor, c.source_url, c.quote),
        "also_in": [_linked(a, ui_base_url, c.quote) for a in c.also_in]}) for c in answer.citations]
    verdicts = [v.model_copy(update={"citation": _linked(v.citation, ui_base_url)}) for v in answer.guardrails]
    return answer.model_copy(update={"citations": citations, "guardrails": verdicts,
                                     "see_also": [_linked(s, ui_base_url) for s in answer.see_also]})
