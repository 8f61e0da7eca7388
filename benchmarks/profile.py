"""`python -m benchmarks.profile [--pages N]`: where the time goes, with pyinstrument.

Two profiles on a synthetic corpus of N pages (default 1,000):
1. a warm `ask` over the eval questions (the bundled model, as in production);
2. a re-ingest after 1% of the pages changed. Its cost is copying unchanged vectors into the new
   generation, which does not depend on the model, so the corpus is embedded with a fast
   deterministic stand-in to keep this run to minutes instead of an hour.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from assistant.config import PROJECT_ROOT, load_settings
from assistant.embeddings import offline_environment
from assistant.evals import gated_cases
from assistant.fakes import FakeEmbeddings
from benchmarks import synth

REAL_MODEL_DIMS = 384  # as the real model's vectors, so Chroma does the same work per vector


def main(argv: list[str] | None = None) -> int:
    offline_environment()
    from pyinstrument import Profiler

    from assistant.chain import Chain
    from assistant.ingest import ingest

    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    parser.add_argument("--pages", type=int, default=1000)
    args = parser.parse_args(argv)
    questions = [(c.question, c.history) for c in gated_cases()]
    with tempfile.TemporaryDirectory(prefix="sop-profile-") as tmp:
        root = Path(tmp)
        corpus = synth.generate(PROJECT_ROOT / "corpus", root / "corpus", args.pages)

        real = load_settings(data_dir=root / "real", corpus_dir=corpus)
        chain = Chain(real)
        ingest(real, chain.search.embedder, progress=True)
        chain.warm_up()
        with Profiler(interval=0.001) as profiler:
            for question, history in questions:
                chain.ask(question, history)
        print(f"\n== warm ask, {len(questions)} questions, {args.pages} pages + 5 real ==")
        print(profiler.output_text(unicode=False, color=False))

        fast = load_settings(data_dir=root / "fast", corpus_dir=corpus)
        ingest(fast, FakeEmbeddings(dims=REAL_MODEL_DIMS))
        synth.touch_pages(corpus, 0.01)
        with Profiler(interval=0.002) as profiler:
            report = ingest(fast, FakeEmbeddings(dims=REAL_MODEL_DIMS))
        print(f"\n== re-ingest after 1% of {args.pages} pages changed ({report.embedded} chunks embedded) ==")
        print(profiler.output_text(unicode=False, color=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
