"""`assistant tune`: fine-tune the sentence-transformers model on (question, passage) pairs.

Training pairs, built from training data only:

- every question-bank entry (corpus/questions.yaml) -> each chunk of its section, as embedded
  (`chunking.embedding_text`: the heading path and the text);
- optionally (`with_cases`), every gated or training eval case (evals/*.yaml, evals/train/*.yaml)
  that names evidence and has no history -> each chunk holding one of its evidence phrases.
  Off by default: the gated sets are CI's regression check, and a model tuned on them is no
  longer checked by them.

The loss is in-batch negatives (MultipleNegativesRankingLoss's ranking: each question against
every passage of its batch, cosine x 20, cross-entropy), written out here because the library's
trainer needs the `datasets` package; passages of the question's own section are masked rather
than counted as negatives. Seeded and single-process, so the same pairs give the same weights.

The model is saved under `<data_dir>/tuned/<key>/`, the key a hash of the base model, the pairs
and the training recipe: a changed bank or page gives a new folder, and `tune` is a no-op when the
folder exists. The embedder's name is the folder's name, so an index built with one tuned model
is re-embedded when another is configured. Must never read `evals/held-out/`: another session
measures the tuned model there.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.chunking import chunk_page, embedding_text
from assistant.config import Settings
from assistant.corpus import load_pages
from assistant.errors import ConfigError, CorpusError
from assistant.evals import Case
from assistant.metrics import first_rank
from assistant.models import Chunk
from assistant.question_bank import BankEntry, load_bank

TUNE_VERSION = 1  # bump when the recipe changes in a way the hyperparameters below don't show
DONE_FILE = "tuned.json"  # written last: a folder without it is an interrupted run, redone


@dataclass(frozen=True)
class Pair:
    question: str
    passage: str  # the chunk's embedding text
    section: tuple[str, str]  # (page, section): passages of the same section are never negatives
    source: str  # "bank" or "case:<id>"


@dataclass(frozen=True)
class Recipe:
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 3e-5
    scale: float = 20.0  # cosine -> logit, as MultipleNegativesRankingLoss
    warmup: float = 0.1  # share of steps with a rising learning rate
    seed: int = 13
    threads: int = 2


def bank_pairs(entries: Iterable[BankEntry], chunks: list[Chunk]) -> tuple[list[Pair], list[str]]:
    """One pair per bank entry and chunk of its section; one line per entry whose section is gone."""
    by_section: dict[tuple[str, str], list[Chunk]] = {}
    for chunk in chunks:
        by_section.setdefault((chunk.page, chunk.section), []).append(chunk)
    pairs, skipped = [], []
    for entry in entries:
        key = (entry.page, entry.section)
        if key not in by_section:
            skipped.append(f"question bank: {entry.page} / {entry.section} no longer exists ({entry.question!r})")
            continue
        pairs += [Pair(entry.question, embedding_text(c), key, "bank") for c in by_section[key]]
    return pairs, skipped


def case_pairs(cases: Iterable[Case], chunks: list[Chunk]) -> tuple[list[Pair], list[str]]:
    """One pair per eval case and chunk holding one of its evidence phrases (heading path included,
    as a citation's section counts for `sources_any`). Cases with history are left out: their
    question alone may not say what it asks."""
    texts = [embedding_text(c) for c in chunks]
    pairs, skipped = [], []
    for case in cases:
        if not case.expect.sources_any or case.history or case.expect.abstain:
            continue
        # The evals' own phrase matching (metrics.first_rank), so a pair is what the eval would count.
        hits = [c for c, text in zip(chunks, texts, strict=True)
                if first_rank([text], case.expect.sources_any) is not None]
        if not hits:
            skipped.append(f"case {case.id}: no chunk holds any of {case.expect.sources_any}")
        pairs += [Pair(case.question, embedding_text(c), (c.page, c.section), f"case:{case.id}") for c in hits]
    return pairs, skipped


def corpus_chunks(corpus_dir: Path) -> list[Chunk]:
    pages, _ = load_pages(corpus_dir)
    if not pages:
        raise CorpusError(f"{corpus_dir}: no pages to tune on")
    return [c for p in pages for c in chunk_page(p)]


def training_pairs(settings: Settings, with_cases: bool = False,
                   cases: Callable[[], list[Case]] | None = None) -> tuple[list[Pair], list[str]]:
    """The pairs `assistant tune` trains on, and one line per bank entry or case left out."""
    entries = load_bank(settings.corpus_dir)
    if not entries:
        raise CorpusError(f"{settings.corpus_dir}: no question bank (questions.yaml) to tune on")
    chunks = corpus_chunks(settings.corpus_dir)
    pairs, skipped = bank_pairs(entries, chunks)
    if with_cases:
        from assistant.calibration import training_cases

        more, skipped_cases = case_pairs((cases or training_cases)(), chunks)
        pairs, skipped = pairs + more, skipped + skipped_cases
    if not pairs:
        raise CorpusError("no training pairs: every bank entry names a section no page has")
    return pairs, skipped


def model_identity(path: Path) -> str:
    """What makes a base model this model: its config files and its weights' sizes (hashing the
    weights themselves would take longer than a small tune)."""
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise ConfigError(f"ASSISTANT_EMBEDDING_MODEL: {path} is not a sentence-transformers folder")
    parts = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        if file.suffix == ".json":
            parts.append(f"{rel}:{hashlib.sha256(file.read_bytes()).hexdigest()}")
        elif file.suffix in (".safetensors", ".bin"):
            parts.append(f"{rel}:{file.stat().st_size}")
    return "\n".join(parts)


def tune_key(pairs: list[Pair], base_identity: str, recipe: Recipe) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([TUNE_VERSION, base_identity, recipe.__dict__], sort_keys=True).encode())
    for pair in pairs:  # in order: the order is part of what is trained (shuffled from it, seeded)
        digest.update(f"\x1e{pair.question}\x1f{pair.passage}\x1f{pair.section}".encode())
    return digest.hexdigest()[:16]


def base_model_path(settings: Settings) -> Path:
    from assistant.embeddings import bundled_model_path

    if settings.embedding_backend != "sentence-transformers" and settings.embedding_model:
        raise ConfigError("ASSISTANT_EMBEDDING_MODEL is only used by the sentence-transformers backend")
    path = Path(settings.embedding_model) if settings.embedding_model else bundled_model_path()
    if not path.is_dir():
        raise ConfigError(f"ASSISTANT_EMBEDDING_MODEL: {path} is not a folder")
    return path


@dataclass(frozen=True)
class TuneResult:
    folder: Path
    trained: bool  # False: the folder already existed
    pairs: int
    seconds: float
    losses: tuple[float, ...] = ()  # mean loss per epoch

    def lines(self) -> list[str]:
        if not self.trained:
            return [f"tuned model up to date: {self.folder} ({self.pairs} pairs); nothing to do"]
        epochs = ", ".join(f"{x:.3f}" for x in self.losses)
        return [f"tuned on {self.pairs} pairs in {self.seconds:.0f} s (mean loss per epoch: {epochs})",
                f"saved: {self.folder}",
                "use it: ASSISTANT_EMBEDDING_BACKEND=sentence-transformers "
                f"ASSISTANT_EMBEDDING_MODEL={self.folder} assistant ingest"]


def tune(settings: Settings, with_cases: bool = False, recipe: Recipe = Recipe(), progress: bool = False,
         base: Path | None = None, pairs: list[Pair] | None = None) -> TuneResult:
    """Train (or find) the tuned model for the current bank, pages and base model."""
    base = base or base_model_path(settings)
    if pairs is None:
        pairs, _ = training_pairs(settings, with_cases)
    folder = settings.data_dir / "tuned" / tune_key(pairs, model_identity(base), recipe)
    if (folder / DONE_FILE).exists():
        return TuneResult(folder, False, len(pairs), 0.0)
    started = time.perf_counter()
    model, losses = train(base, pairs, recipe, progress)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save(str(partial))
    (partial / DONE_FILE).write_text(json.dumps({
        "base": str(base), "pairs": len(pairs), "with_cases": with_cases, "recipe": recipe.__dict__,
        "losses": losses, "version": TUNE_VERSION}, indent=2), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)  # an interrupted earlier save
    partial.rename(folder)
    return TuneResult(folder, True, len(pairs), time.perf_counter() - started, tuple(losses))


def batches(pairs: list[Pair], batch_size: int, rng: random.Random) -> list[list[Pair]]:
    order = list(pairs)
    rng.shuffle(order)
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def train(base: Path, pairs: list[Pair], recipe: Recipe = Recipe(), progress: bool = False):  # type: ignore[no-untyped-def]
    """The fine-tuned SentenceTransformer (in memory) and its mean loss per epoch."""
    from assistant.embeddings import _LOADING_FORBIDDEN, offline_environment

    if _LOADING_FORBIDDEN:
        raise RuntimeError(f"loading the model {base} is forbidden here: {_LOADING_FORBIDDEN[0]}")
    offline_environment()
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.set_num_threads(recipe.threads)
    random.seed(recipe.seed)
    np.random.seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    rng = random.Random(recipe.seed)
    model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate)
    steps = recipe.epochs * -(-len(pairs) // recipe.batch_size)
    warmup = max(1, int(steps * recipe.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))

    def encode(texts: list[str]) -> torch.Tensor:
        features = model.preprocess(texts)
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    losses: list[float] = []
    step = 0
    for epoch in range(recipe.epochs):
        total = 0.0
        epoch_batches = batches(pairs, recipe.batch_size, rng)
        for batch in epoch_batches:
            scores = encode([p.question for p in batch]) @ encode([p.passage for p in batch]).T * recipe.scale
            same = torch.tensor([[a.section == b.section and i != j for j, b in enumerate(batch)]
                                 for i, a in enumerate(batch)])
            loss = torch.nn.functional.cross_entropy(scores.masked_fill(same, float("-inf")),
                                                     torch.arange(len(batch)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
            step += 1
            if progress:
                print(f"\repoch {epoch + 1}/{recipe.epochs} step {step}/{steps} loss {loss.item():.3f}",
                      end="", file=sys.stderr, flush=True)
        losses.append(total / len(epoch_batches))
    if progress:
        print(file=sys.stderr, flush=True)
    model.eval()
    return model, losses
