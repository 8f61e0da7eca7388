"""`assistant health` at scale: wall time and peak memory on synthetic corpora.

    python -m benchmarks.health --pages 10000 --runs 3

Each run is a fresh process (peak RSS is per process) building the whole report over the
synthetic pages plus the real ones, with the fake bag-of-words embedder at the real model's width
(384): it measures everything but the model. The real e5 model's share is measured apart on a
sample of the same sections (`--e5-sample`) and extrapolated, because embedding ~60k sections
with e5 on 2 cores takes most of an hour and the report caches the vectors after the first run.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from assistant.config import PROJECT_ROOT

OUT = PROJECT_ROOT / "benchmarks" / "out"


def worker(corpus: Path) -> dict[str, object]:
    from assistant.corpus import load_pages
    from assistant.fakes import FakeEmbeddings
    from assistant.health import build_report
    from assistant.health.report import summary

    started = time.perf_counter()
    pages, _ = load_pages(corpus)
    loaded = time.perf_counter()
    report = build_report(pages, FakeEmbeddings(dims=384), date(2026, 11, 26), 365)
    done = time.perf_counter()
    return {"wall_s": round(done - started, 2), "load_pages_s": round(loaded - started, 2),
            "stages_s": report.timings_s, "summary": summary(report),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def e5_rate(corpus: Path, sample: int) -> dict[str, float]:
    from assistant.config import load_settings
    from assistant.corpus import load_pages
    from assistant.embeddings import get_embedder
    from assistant.health.sections import EMBED_CHARS, collect

    pages, _ = load_pages(corpus)
    items = collect(pages[:max(1, sample // 5)])[:sample]
    embedder = get_embedder(load_settings())
    embedder.embed_documents(["warm up"])
    t = time.perf_counter()
    embedder.embed_documents([s.text[:EMBED_CHARS] for s in items])
    elapsed = time.perf_counter() - t
    return {"sections": len(items), "seconds": round(elapsed, 2), "sections_per_s": round(len(items) / elapsed, 1)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pages", type=int, default=10000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--e5-sample", type=int, default=0, help="also time the e5 model on this many sections")
    p.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return
    from benchmarks.synth import generate

    with tempfile.TemporaryDirectory() as tmp:
        corpus = generate(PROJECT_ROOT / "corpus", Path(tmp) / "corpus", args.pages)
        runs = []
        for n in range(args.runs):
            out = subprocess.run([sys.executable, "-m", "benchmarks.health", "--worker", str(corpus)], check=True,
                                 capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=3 * 3600)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"run {n + 1}: {runs[-1]['wall_s']} s, peak RSS {runs[-1]['peak_rss_mb']} MB, "
                  f"stages {runs[-1]['stages_s']}", flush=True)
        result = {"pages": args.pages + 5, "runs": runs, "median_wall_s": statistics.median(r["wall_s"] for r in runs),
                  "median_peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
                  "embedder": "fake bag-of-words, 384 dims"}
        if args.e5_sample:
            rate = e5_rate(corpus, args.e5_sample)
            sections = runs[0]["summary"]["sections"]
            result["e5"] = {**rate, "extrapolated_embed_s_all_sections": round(sections / rate["sections_per_s"], 0)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"health-{args.pages}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
