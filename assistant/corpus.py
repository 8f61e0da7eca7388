"""Read the Markdown corpus: front matter into `Page`, headings into sections.

Must never alter page wording: sections carry the body text exactly as written in the file.
A bad file (unreadable, too large, no text, broken front matter, control characters) is reported
by name and skipped. Pages are data from anyone who can edit the folder: the front matter is read
without YAML anchors and aliases (a few hundred bytes of aliases expand to gigabytes) and with a
size limit, a page over `max_page_bytes` is never read, and a UTF-8 byte-order mark is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from assistant.errors import CorpusError
from assistant.markup import HEADING, section_label, slugify
from assistant.models import Page

FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
MAX_FRONT_MATTER_CHARS = 4000  # a page's front matter is a handful of short fields
DEFAULT_MAX_PAGE_BYTES = 1_000_000  # Settings.max_page_bytes
BYTE_ORDER_MARK = "\ufeff"
# Characters a text page never holds but binary data and terminal escape sequences do: C0
# controls except tab and line breaks, DEL, C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Section:
    path: tuple[str, ...]  # heading path below the page title
    anchor: str
    body: str

    @property
    def label(self) -> str:
        """The section's name in citations and chunks: its heading path below the page title."""
        return section_label(self.path)


def _front_matter(name: str, raw: str) -> object:
    if len(raw) > MAX_FRONT_MATTER_CHARS:
        raise CorpusError(f"{name}: front matter is {len(raw):,} characters; the limit is {MAX_FRONT_MATTER_CHARS:,}")
    try:
        # Tokens first: an alias is refused before anything is built from it.
        if any(isinstance(t, yaml.AliasToken | yaml.AnchorToken) for t in yaml.scan(raw, Loader=yaml.SafeLoader)):
            raise CorpusError(f"{name}: front matter uses YAML anchors or aliases (& or *); write the values out")
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise CorpusError(f"{name}: broken front matter ({exc.__class__.__name__})") from None


def parse_page(path: Path, max_bytes: int = DEFAULT_MAX_PAGE_BYTES) -> Page:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise CorpusError(f"{path.name}: {size:,} bytes, over the page size limit of {max_bytes:,} "
                              "(ASSISTANT_MAX_PAGE_BYTES); split the page")
        text = path.read_text(encoding="utf-8").removeprefix(BYTE_ORDER_MARK).replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path.name}: unreadable ({exc})") from None
    if bad := CONTROL.search(text):
        line = text.count("\n", 0, bad.start()) + 1
        raise CorpusError(f"{path.name}: control character U+{ord(bad.group()):04X} on line {line} (binary data or "
                          "a terminal escape sequence); remove it")
    match = FRONT_MATTER.match(text)
    if not match:
        raise CorpusError(f"{path.name}: no front matter (a '---' block with title, slug, ...)")
    front = _front_matter(path.name, match.group(1)) or {}
    if not isinstance(front, dict):
        raise CorpusError(f"{path.name}: front matter is not a mapping")
    body = text[match.end():].strip()
    if not body:
        raise CorpusError(f"{path.name}: no text")
    front = {str(k): (str(v) if v is not None else None) for k, v in front.items()}
    if front.get("source_url") and not str(front["source_url"]).startswith(("http://", "https://")):
        raise CorpusError(f"{path.name}: source_url must be an http:// or https:// address")
    try:
        return Page(**front, body=body + "\n", path=str(path))  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        raise CorpusError(f"{path.name}: front matter field {err['loc'][0]!r}: {err['msg']}") from None


def load_pages(corpus_dir: Path, max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES) -> tuple[list[Page], list[str]]:
    """All parseable pages, sorted by slug, and one problem line per skipped file."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    pages: list[Page] = []
    problems: list[str] = []
    for path in sorted(corpus_dir.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        try:
            pages.append(parse_page(path, max_page_bytes))
        except CorpusError as exc:
            problems.append(str(exc))
    seen: set[str] = set()
    unique = []
    for page in sorted(pages, key=lambda p: p.slug):
        if page.slug in seen:
            problems.append(f"{Path(page.path).name}: duplicate slug {page.slug!r}; skipped")
            continue
        seen.add(page.slug)
        unique.append(page)
    return unique, problems


def sections(page: Page) -> list[Section]:
    """Split a page body at its headings; the page title (#) is the root of every path."""
    out: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            path = tuple(t for _, t in stack) or (page.title,)
            out.append(Section(path=path, anchor=slugify(path[-1]), body=body))
        lines.clear()

    for line in page.body.splitlines():
        match = HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, match.group(2)))
        else:
            lines.append(line)
    flush()
    return out

