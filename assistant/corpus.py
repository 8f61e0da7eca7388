"""Read the Markdown corpus: front matter into `Page`, headings into sections.

Must never alter page wording: sections carry the body text exactly as written in the file.
A bad file (unreadable, no text, broken front matter) is reported by name and skipped.
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


@dataclass(frozen=True)
class Section:
    path: tuple[str, ...]  # heading path below the page title
    anchor: str
    body: str

    @property
    def label(self) -> str:
        """The section's name in citations and chunks: its heading path below the page title."""
        return section_label(self.path)


def parse_page(path: Path) -> Page:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path.name}: unreadable ({exc})") from None
    match = FRONT_MATTER.match(text)
    if not match:
        raise CorpusError(f"{path.name}: no front matter (a '---' block with title, slug, ...)")
    try:
        front = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path.name}: broken front matter ({exc.__class__.__name__})") from None
    if not isinstance(front, dict):
        raise CorpusError(f"{path.name}: front matter is not a mapping")
    body = text[match.end():].strip()
    if not body:
        raise CorpusError(f"{path.name}: no text")
    front = {k: (str(v) if v is not None else None) for k, v in front.items()}
    try:
        return Page(**front, body=body + "\n", path=str(path))  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        raise CorpusError(f"{path.name}: front matter field {err['loc'][0]!r}: {err['msg']}") from None


def load_pages(corpus_dir: Path) -> tuple[list[Page], list[str]]:
    """All parseable pages, sorted by slug, and one problem line per skipped file."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    pages: list[Page] = []
    problems: list[str] = []
    for path in sorted(corpus_dir.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        try:
            pages.append(parse_page(path))
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

