"""`python -m benchmarks [--quick]`: one run, one table, one JSON file.

Quick mode (CI smoke test): 50 and 200 synthetic pages. Full mode: 1,000 and 10,000 pages.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from assistant.baseline import RAW_PAGES
from assistant.config import PROJECT_ROOT, load_settings
from assistant.embeddings import get_embedder
from assistant.evals import measured_cases
from benchmarks import synth, tasks

OUT = PROJECT_ROOT / "benchmarks" / "out"
class Mode(NamedTuple):
    sizes: list[int]
    runs: int
    questions: int
    ceiling: int  # most chunks embedded for the raw-throughput ceiling


MODES = {"quick": Mode(sizes=[50, 200], runs=3, questions=20, ceiling=300),
         "full": Mode(sizes=[1000, 10000], runs=5, questions=60, ceiling=2000)}


def in_process(fn: Any, *args: Any) -> Any:
    """Run a task in a fresh process: its memory and caches are its own."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def cold_start(data: Path, repeats: int = 3) -> float:
    exe = Path(sys.executable).parent / "assistant"
    env = {"ASSISTANT_DATA_DIR": str(data), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([str(exe), "ask", "Can I give a West Virginia client a $20 credit?"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke test)")
    args = parser.parse_args(argv)
    mode = MODES["quick" if args.quick else "full"]
    started = time.perf_counter()
    cases = [c for c in measured_cases() if c.expect.sources_any]
    questions = [[c.question, c.history] for c in cases][: mode.questions]
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "machine": f"{platform.machine()}, {multiprocessing.cpu_count()} cores, "
                                          f"Python {platform.python_version()}",
                               "mode": "quick" if args.quick else "full", "sizes": {},
                               "embedder": get_embedder(load_settings()).name}  # named, not loaded, here
    with tempfile.TemporaryDirectory(prefix="sop-bench-") as tmp:
        root = Path(tmp)
        real_data = root / "real-data"
        print("real pages: ingest, query, quality vs naive baseline, cold start", flush=True)
        results["real"] = {"ingest": in_process(tasks.ingest_task, str(_copy_real(root)), str(real_data),
                                                mode.ceiling)}
        results["real"]["query"] = in_process(tasks.query_task, str(root / "real"), str(real_data), questions,
                                              mode.runs)
        if RAW_PAGES.is_dir():
            phrases = [{"question": c.question, "history": c.history, "phrases": c.expect.sources_any} for c in cases]
            results["quality"] = in_process(tasks.quality_task, str(root / "real"), str(real_data),
                                            str(RAW_PAGES), phrases, mode.runs)
        results["cold_start_s"] = cold_start(real_data)
        for size in mode.sizes:
            print(f"{size} synthetic pages: generate, ingest, re-ingest, query", flush=True)
            corpus = synth.generate(PROJECT_ROOT / "corpus", root / f"corpus-{size}", size)
            data = root / f"data-{size}"
            ingest = in_process(tasks.ingest_task, str(corpus), str(data), mode.ceiling)
            query = in_process(tasks.query_task, str(corpus), str(data), questions, mode.runs)
            results["sizes"][str(size)] = {"ingest": ingest, "query": query}
    results["wall_s"] = round(time.perf_counter() - started, 1)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"results-{results['mode']}.json"
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(table(results))
    print(f"\nwritten: {path} ({results['wall_s']} s)")
    return 0


def _copy_real(root: Path) -> Path:
    import shutil

    target = root / "real"
    shutil.copytree(PROJECT_ROOT / "corpus", target)
    return target


def table(r: dict[str, Any]) -> str:
    rows = [("real (5)", r["real"])] + [(f"{k} + 5", v) for k, v in r["sizes"].items()]
    # Runs before the e5 backend recorded no embedder: they all measured MiniLM.
    embedder = r.get("embedder", "sentence-transformers/all-MiniLM-L6-v2")
    lines = [f"Benchmarks ({r['mode']}) {r['date']} on {r['machine']}, embedder {embedder}", "",
             "| pages | chunks | ingest s | chunks/s | raw embed chunks/s | ingest/raw | no-change re-ingest s "
             "(embedded) | 1% pages changed s (embedded) | warm ask p50 / p95 ms | retrieve / answer / guard p50 ms "
             "| peak RSS ingest / query MB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, v in rows:
        i, q = v["ingest"], v["query"]
        lines.append(f"| {name} | {i['chunks']} | {i['ingest_s']} | {i['ingest_chunks_per_s']} | "
                     f"{i['raw_embed_chunks_per_s']} | {i['ingest_vs_raw']} | {i['reingest_unchanged_s']} "
                     f"({i['reingest_unchanged_embedded']}) | {i['reingest_1pct_s']} ({i['reingest_1pct_embedded']}) | "
                     f"{q['total_p50']} / {q['total_p95']} | {q['retrieve_p50']} / {q['answer_p50']} / "
                     f"{q['guard_p50']} | {i['peak_rss_mb']} / {q['peak_rss_mb']} |")
    lines.append(f"\nCold start of a one-shot `assistant ask` (real pages): {r['cold_start_s']} s")
    if "quality" in r:
        qa = r["quality"]
        lines += ["", f"Retrieval quality on {qa['questions']} eval questions with evidence phrases:", "",
                  "| pipeline | hit@1 | hit@3 | MRR | query p50 ms |", "| --- | --- | --- | --- | --- |"]
        for label, key, ms in (("ours: cited quotes (what the agent sees)", "ours_citations", qa["ours_ask_p50_ms"]),
                               ("ours: top-4 passages", "ours_passages_top4", qa["ours_ask_p50_ms"]),
                               ("naive: 1000/200 splitter + Chroma top-4", "naive_top4", qa["naive_search_p50_ms"])):
            m = qa[key]
            lines.append(f"| {label} | {m['hit@1']} | {m['hit@3']} | {m['mrr']} | {ms} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
