"""Links that open a source page at the cited section (the `url` of the answer contract)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

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
