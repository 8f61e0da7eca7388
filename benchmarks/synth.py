"""Deterministic synthetic corpora built from the real pages' structure and vocabulary.

Each synthetic page copies a real page's shape (front matter, a few headed sections of
paragraphs and lists) with sentences drawn from the real pages and their nouns, numbers and
states shuffled, so chunking, BM25 and embeddings see realistic text. Fixed seed: the same
size always gives the same pages.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

from assistant.corpus import load_pages, sections
from assistant.importer import render_page
from assistant.markup import split_sentences

SEED = 20261123
STATES = ["Texas", "Ohio", "Florida", "Arizona", "Nevada", "Oregon", "Kansas", "Iowa", "Utah", "Maine"]


def _material(corpus: Path) -> tuple[list[str], list[str], list[str], list[tuple[str, str]]]:
    pages, _ = load_pages(corpus)
    sentences, items, headings = [], [], []
    for page in pages:
        for section in sections(page):
            headings.append(section.path[-1])
            for line in section.body.splitlines():
                line = line.strip()
                if line.startswith("- "):
                    items.append(line[2:])
                elif line and not line.startswith(">"):
                    sentences += [s for s in split_sentences(line) if len(s) > 30]
    return sentences, items, headings, [(p.title, p.business) for p in pages]


def _vary(rng: random.Random, text: str) -> str:
    text = re.sub(r"\$\d+", lambda _: f"${rng.randint(5, 500)}", text)
    text = re.sub(r"\b\d{1,2}\b", lambda _: str(rng.randint(1, 60)), text)
    words = text.split()
    if len(words) > 6:  # swap two words: near-duplicates, not copies
        i, j = rng.sample(range(len(words)), 2)
        words[i], words[j] = words[j], words[i]
    return " ".join(words)


def generate(real_corpus: Path, out: Path, pages: int, seed: int = SEED) -> Path:
    """Write `pages` synthetic pages plus the real ones into `out` (emptied first)."""
    rng = random.Random(seed)
    sentences, items, headings, titles = _material(real_corpus)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for real in [*real_corpus.glob("*.md"), *real_corpus.glob("*.yaml")]:  # the pages and the rules next to them
        shutil.copy(real, out / real.name)
    for n in range(pages):
        title, business = rng.choice(titles)
        title = f"{title} – {rng.choice(STATES)} {n:05d}"
        body = []
        for _ in range(rng.randint(3, 6)):
            body.append(f"## {rng.choice(headings)}\n")
            for _ in range(rng.randint(1, 3)):
                body.append(" ".join(_vary(rng, rng.choice(sentences)) for _ in range(rng.randint(1, 3))) + "\n")
            if rng.random() < 0.4:
                body.append(rng.choice(sentences).rstrip(".") + ":\n")
                body += [f"- {_vary(rng, rng.choice(items))}" for _ in range(rng.randint(2, 5))]
                body.append("")
        slug = f"synthetic-{n:05d}"
        front = {"title": title, "slug": slug, "source": f"synthetic-{n:05d}.txt", "business": business}
        (out / f"{slug}.md").write_text(render_page(front, "\n".join(body)), encoding="utf-8")
    return out


def touch_pages(corpus: Path, share: float, seed: int = SEED) -> int:
    """Change `share` of the synthetic pages, at least one (a sentence appended); returns how many."""
    rng = random.Random(seed + 1)
    synthetic = sorted(corpus.glob("synthetic-*.md")) or sorted(corpus.glob("*.md"))
    chosen = rng.sample(synthetic, max(1, int(len(synthetic) * share)))
    for path in chosen:
        path.write_text(path.read_text(encoding="utf-8") + "\nThis page was revised for the benchmark.\n",
                        encoding="utf-8")
    return len(chosen)
