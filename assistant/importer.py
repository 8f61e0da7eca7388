"""Import raw page exports (plain-text or HTML) into clean Markdown corpus pages.

What it does: strips site chrome (page edges, author bylines, "Recent Posts" teasers, comment
boxes), repairs broken characters, turns bullets into Markdown lists, recovers headings, and
marks places where the export lost content (a list announced by a trailing colon that never
comes, a section whose body was a screenshot).

Exports are data from anywhere: active HTML (script, iframe, object, embed and similar elements,
on* event handlers, script: URLs) is removed, whether the export is HTML or text that carries
tags, so an imported page can never run anything where it is shown.

What it must never do: reword policy text. Every kept line is the export's own wording; only
whitespace, bullet glyphs and broken characters change. Heuristics fall short on some pages, so
the committed `corpus/*.md` may carry hand corrections on top of this output.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import yaml

from assistant.errors import CorpusError
from assistant.markup import GAP_MARKER, slugify

CHROME_LINES = {"top of page", "bottom of page", "see all", "comments", "recent posts"}
CHROME_TAIL_START = "recent posts"  # everything from here on is the blog's teaser block
BULLET = re.compile(r"^\s*(?:[•·▪●◦\-\*]|\d+[.)])\s+")
UPDATED = re.compile(r"^Updated:\s*(.+)$", re.IGNORECASE)
BROKEN_CHARS = {
    "\ufffd": "",
    "\u00a0": " ",
    "\u200b": "",
    "â€™": "’",
    "â€œ": "“",
    "â€\x9d": "”",
    "â€“": "–",
}


ACTIVE = r"(?:script|iframe|frame|frameset|object|embed|applet|style|noscript|template|svg|math|base|meta|link|form)"
ACTIVE_ELEMENT = re.compile(rf"<\s*({ACTIVE})\b[^>]*>.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
ACTIVE_TAG = re.compile(rf"<\s*/?\s*{ACTIVE}\b[^>]*>?", re.IGNORECASE)  # one left unclosed or unopened
TAG = re.compile(r"<\s*[a-zA-Z][^>]*>")
EVENT_HANDLER = re.compile(r"""\s+on[a-z]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
SCRIPT_URL = re.compile(r"\b(?:java|vb|live)script\s*:|\bdata\s*:\s*text/html", re.IGNORECASE)
STRIP_ROUNDS = 5  # nested or re-formed tags ("<scr<script>ipt>") are peeled in a few rounds


def strip_active_html(text: str) -> str:
    """The text without anything a browser would run; ordinary tags and all words stay."""
    for _ in range(STRIP_ROUNDS):
        stripped = ACTIVE_TAG.sub("", ACTIVE_ELEMENT.sub("", text))
        stripped = TAG.sub(lambda m: EVENT_HANDLER.sub("", m.group()), stripped)
        stripped = SCRIPT_URL.sub("blocked:", stripped)
        if stripped == text:
            break
        text = stripped
    return text


def repair(text: str) -> str:
    for broken, fixed in BROKEN_CHARS.items():
        text = text.replace(broken, fixed)
    return text


class _HtmlToLines(HTMLParser):
    """Block-level HTML to the same line shapes a plain-text export has."""

    SKIP = {"script", "style", "nav", "header", "footer", "noscript", "svg"}
    BLOCK = {"p", "div", "br", "tr", "section", "article", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.prefix = ""

    def _flush(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            self.lines.append(self.prefix + text)
        self.current, self.prefix = [], ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip_depth += 1
        elif tag in self.BLOCK or tag == "li" or re.fullmatch(r"h[1-6]", tag):
            self._flush()
            if tag == "li":
                self.prefix = "• "
            elif re.fullmatch(r"h[1-6]", tag):
                self.prefix = "#" * int(tag[1]) + " "

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in self.BLOCK or tag == "li" or re.fullmatch(r"h[1-6]", tag):
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.current.append(data)


def read_export(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc.strerror})") from None
    text = raw.decode("utf-8", errors="replace")
    if "\x00" in text:
        raise CorpusError(f"{path}: binary file, not a page export")
    if path.suffix.lower() in {".html", ".htm"} or text.lstrip().lower().startswith(("<!doctype", "<html")):
        parser = _HtmlToLines()
        parser.feed(text)
        parser.close()
        parser._flush()
        lines = parser.lines
    else:
        lines = strip_active_html(text).splitlines()
    lines = [strip_active_html(repair(html.unescape(line))).rstrip() for line in lines]
    if not any(line.strip() for line in lines):
        raise CorpusError(f"{path}: no text")
    return lines


def _strip_chrome(lines: list[str]) -> list[str]:
    kept: list[str] = []
    for line in lines:
        bare = BULLET.sub("", line).strip()
        if bare.lower() == CHROME_TAIL_START:
            break  # teaser blocks, comments and the page bottom follow
        if bare.lower() in CHROME_LINES:
            continue
        # An author byline: a lone bullet holding one handle-like word right at the top.
        if not kept and BULLET.match(line) and re.fullmatch(r"[A-Za-z][\w.]*\d*", bare):
            continue
        kept.append(line)
    return kept


def _looks_like_heading(line: str, next_line: str | None) -> bool:
    text = line.strip()
    words = text.split()
    if not text or BULLET.match(line) or len(words) > 10 or len(text) > 80:
        return False
    if text[-1] in ".:;,!?)" and not text.endswith(("…", "..")):
        return False
    if text.startswith(("(", "*", "Answer:")) or ":" in text:
        return False
    # Title-case-ish (most words capitalised) or ALL CAPS; a following line must exist.
    caps = sum(1 for w in words if w[:1].isupper() or not w[:1].isalpha())
    return caps >= max(1, int(len(words) * 0.6))


def to_markdown_body(lines: list[str]) -> tuple[str, str | None, str]:
    """Return (title, updated ISO date or None, Markdown body) for chrome-free lines."""
    content = [ln for ln in _strip_chrome(lines) if ln.strip()]
    if not content:
        raise CorpusError("no text left after removing site chrome")
    title = content[0].strip().lstrip("# ").strip()
    if title.isupper():
        title = title.title()
    rest = content[1:]
    updated = None
    out: list[str] = []
    for i, line in enumerate(rest):
        nxt = rest[i + 1] if i + 1 < len(rest) else None
        match = UPDATED.match(line.strip())
        if match and updated is None:
            updated = _iso_date(match.group(1))
            if updated:
                continue
        if line.startswith("#"):
            out.append(("\n" if out else "") + "#" + line.strip() + "\n")
        elif BULLET.match(line):
            indent = "  " if len(line) - len(line.lstrip()) >= 4 else ""
            out.append(f"{indent}- {BULLET.sub('', line).strip()}")
        elif _looks_like_heading(line, nxt):
            out.append(("\n" if out else "") + f"## {line.strip().rstrip('.…').strip()}\n")
        else:
            out.append(line.strip() + "\n")
        if "example below" in line and (nxt is None or _is_heading_like(nxt)):
            out.append(f"\n{GAP_MARKER} the example (a screenshot) was lost.]**\n")
        if line.strip().endswith(":") and (nxt is None or _looks_like_heading(nxt, None) or
                                           (nxt and not BULLET.match(nxt) and nxt.strip()[:1].isupper()
                                            and not nxt.strip().endswith(":") and _is_heading_like(nxt))):
            out.append(f"\n{GAP_MARKER} the list that followed this line was lost.]**\n")
    body = "\n".join(out)
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
    return title, updated, _mark_empty_sections(body)


def _is_heading_like(line: str) -> bool:
    return _looks_like_heading(line, "")


def _mark_empty_sections(body: str) -> str:
    """A heading followed directly by another heading (or the end) lost its body in export."""
    lines = body.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        if line.startswith("#"):
            following = [ln for ln in lines[i + 1:] if ln.strip()]
            if not following or following[0].startswith("#"):
                out.append(f"\n{GAP_MARKER} this section's body (likely a screenshot) was lost.]**\n")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))


def _iso_date(text: str) -> str | None:
    for fmt in ("%b %d, %Y", "%B %d, %Y", "%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def render_page(front: Mapping[str, object], body: str) -> str:
    header = yaml.safe_dump({k: v for k, v in front.items() if v is not None}, sort_keys=False,
                            allow_unicode=True)
    return f"---\n{header}---\n\n# {front['title']}\n\n{body}"


def import_file(path: Path, out_dir: Path, business: str, source_url: str | None = None) -> Path:
    """Import one raw export into `out_dir/<slug>.md`; returns the written path."""
    title, updated, body = to_markdown_body(read_export(path))
    slug = slugify(title)
    front = {"title": title, "slug": slug, "updated": updated, "source": path.name,
             "source_url": source_url, "business": business}
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{slug}.md"
    tmp = target.with_suffix(".md.tmp")
    tmp.write_text(render_page(front, body), encoding="utf-8")
    tmp.replace(target)  # never leave a half-written page
    return target
