"""Command line: thin. Parse arguments, call the library, print.

Every failure is one line on stderr and an exit status, mapped from the error's class in one place
(`EXIT_CODES`; the statuses follow sysexits.h where one fits). A reader that goes away (`ask … |
head`) ends the command quietly, as it would any Unix filter.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.embeddings import offline_environment
from assistant.errors import AssistantError, IndexUnavailable, IngestRunning, StoreUnusable

EXIT_USAGE = 2
# The most specific class wins (checked in this order); anything else of ours is EXIT_USAGE.
EXIT_CODES: list[tuple[type[AssistantError], int]] = [
    (IngestRunning, 75),     # EX_TEMPFAIL: another ingest holds the index; try again when it is done
    (IndexUnavailable, 69),  # EX_UNAVAILABLE: the Chroma server is down, slow or not Chroma
    (StoreUnusable, 74),     # EX_IOERR: the data dir is read-only, full, uncreatable, or the store corrupt
]
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what the shell reports for any filter whose reader went away


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistant", description="SOP assistant for call-center agents")
    sub = p.add_subparsers(dest="command", required=True)

    imp = sub.add_parser("import", help="turn raw page exports (text or HTML) into corpus Markdown pages")
    imp.add_argument("files", nargs="+", type=Path)
    imp.add_argument("--to", type=Path, required=True, help="corpus folder to write into")
    imp.add_argument("--business", default="ignition-interlock", help="business the pages belong to")
    imp.add_argument("--source-url", default=None, help="URL of the original page (one file only)")

    ing = sub.add_parser("ingest", help="build or update the index from the corpus")
    ing.add_argument("--corpus", type=Path, default=None)
    ing.add_argument("--rebuild", action="store_true", help="re-embed everything")

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question", help="the question; one that starts with '-' goes after '--' "
                                       "(`ask -- \"--help\"` asks it, `ask --help` shows this help)")
    ask.add_argument("--history", action="append", default=[], help="an earlier user turn (repeatable)")
    ask.add_argument("--json", action="store_true", help="print the answer contract as JSON")
    ask.add_argument("--business", help="answer only from this line of business's pages "
                                        "(default: the ASSISTANT_BUSINESS setting, else decided per question)")

    ev = sub.add_parser("eval", help="run eval sets and write reports")
    ev.add_argument("paths", nargs="+", type=Path)
    ev.add_argument("--out", type=Path, default=Path("eval-report"))
    ev.add_argument("--min-pass-rate", type=float, default=0.0)
    ev.add_argument("--min-guardrail-pass-rate", type=float, default=0.0)
    ev.add_argument("--naive-baseline", action="store_true",
                    help="also rank the same questions with the naive LangChain pipeline over ../shared/sop-pages")
    ev.add_argument("--compare", type=Path, metavar="RESULTS",
                    help="list the cases fixed and broken since this results file (from --save-results)")
    ev.add_argument("--save-results", type=Path, metavar="RESULTS",
                    help="write every case's outcome here, for a later --compare")

    srv = sub.add_parser("serve", help="start the HTTP API for agent desktops (OpenAPI schema at /docs)")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument("--workers", type=int, default=1,
                     help="processes sharing the port, each with its own loaded index and model")
    health = sub.add_parser("health", help="knowledge health for page owners: conflicting facts, duplicates, gaps, "
                                           "overdue reviews, the knowledge-gap queue, usage")
    health.add_argument("--format", choices=["json", "md", "html"], default="md")
    health.add_argument("--out", type=Path, default=None, help="write the report here (default: print it)")
    health.add_argument("--corpus", type=Path, default=None, help="the pages (default: ASSISTANT_CORPUS_DIR)")
    health.add_argument("--today", default=None, help="the day to judge freshness on, YYYY-MM-DD (default: today, UTC)")

    tune = sub.add_parser("tune", help="fine-tune the sentence-transformers model on the question bank (saved under "
                                       "the data dir; a no-op while the bank, the pages and the base model are unchanged)")
    tune.add_argument("--with-cases", action="store_true",
                      help="also train on the gated and training eval cases' evidence (they then stop checking it)")
    tune.add_argument("--epochs", type=int, default=None, help="passes over the pairs (default: the recipe's)")

    sub.add_parser("status", help="is the index built? prints its generation and the embedder that built it")

    db = sub.add_parser("db", help="the app's database (ASSISTANT_DATABASE_URL; default an SQLite file in the data dir)")
    db.add_argument("action", choices=["upgrade", "current"],
                    help="upgrade: migrate to the newest schema (the app also does this when it opens the database); "
                         "current: print the schema revision without changing anything")
    return p


def exit_code(error: AssistantError) -> int:
    return next((code for kind, code in EXIT_CODES if isinstance(error, kind)), EXIT_USAGE)


def main(argv: list[str] | None = None, make_embedder: Callable[[Any], Any] | None = None) -> int:
    """`make_embedder(settings)` is the embedding model's factory (default: the configured model);
    tests pass one that returns `FakeEmbeddings`, to run the real CLI in a real process cheaply."""
    offline_environment()  # before anything imports transformers
    args = _parser().parse_args(argv)
    args.make_embedder = make_embedder
    try:
        return COMMANDS[args.command](args)
    except AssistantError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted; the last complete index is still in use", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Nobody reads any more; Python would still try to flush stdout at exit and print a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _embedder(args: argparse.Namespace, settings: Any) -> Any:
    from assistant.embeddings import get_embedder

    return (args.make_embedder or get_embedder)(settings)


def _one_line(text: str) -> str:
    """An error as one terminal-safe line (messages may name page files or quote page text)."""
    from assistant.present import terminal_safe

    return " ".join(terminal_safe(text).split())


def _settings():  # type: ignore[no-untyped-def]
    from assistant.config import load_settings

    return load_settings()


def cmd_import(args: argparse.Namespace) -> int:
    from assistant.errors import CorpusError
    from assistant.importer import import_file

    if args.source_url and len(args.files) > 1:
        raise AssistantError("--source-url names one page; give one file with it")
    failed = 0
    for path in args.files:
        try:
            print(f"{path} -> {import_file(path, args.to, args.business, args.source_url)}")
        except CorpusError as exc:
            failed += 1
            print(f"skipped: {_one_line(str(exc))}", file=sys.stderr)
    return EXIT_USAGE if failed == len(args.files) else 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from assistant.ingest import ingest
    from assistant.present import terminal_safe

    settings = _settings()
    report = ingest(settings, _embedder(args, settings), args.corpus, args.rebuild,
                    progress=sys.stderr.isatty())
    print(terminal_safe("\n".join(report.lines())))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.present import json_text, terminal_text
    from assistant.question import validate

    settings = _settings()
    # Bad input is refused before the index, the model and the store's libraries load.
    validate(args.question, args.history, settings.max_question_chars, settings.max_history_turns)
    from assistant.chain import Chain

    result = Chain(settings, embedder=_embedder(args, settings)).ask(args.question, args.history, args.business)
    print(json_text(result) if args.json else terminal_text(result), flush=True)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant import release
    from assistant.chain import Chain
    from assistant.evals import evidence_of, load_cases, run_cases
    from assistant.report import changes_markdown, set_table_markdown, summary_json, write_reports

    settings = _settings()
    cases = load_cases(args.paths)
    previous = release.load(args.compare) if args.compare else None  # a bad file fails before the long run
    naive = None
    if args.naive_baseline:
        from assistant.baseline import naive_ranks
        from assistant.embeddings import get_embedder

        # The same embedder as ours: the pipelines differ, not the model.
        naive = naive_ranks(evidence_of(cases), get_embedder(settings))
    run = run_cases(Chain(settings), cases, progress=True, naive=naive, previous=previous,
                    label=_run_label(args.paths))
    paths = write_reports(run, args.out)
    s = run.summary
    print(json.dumps(summary_json(s), indent=2))
    print("\n".join(["", *set_table_markdown(run), "", *changes_markdown(run)]))
    print("reports: " + ", ".join(str(p) for p in paths))
    if args.save_results:
        release.save(args.save_results, run.records(), summary_json(s), {k: summary_json(v) for k, v in run.sets.items()})
        print(f"results: {args.save_results}")
    ok = s["pass_rate"] >= args.min_pass_rate and s["guardrail_case_pass_rate"] >= args.min_guardrail_pass_rate
    if not ok:
        print(f"FAILED: pass rate {s['pass_rate']:.3f} (min {args.min_pass_rate}), guardrail cases "
              f"{s['guardrail_case_pass_rate']:.3f} (min {args.min_guardrail_pass_rate})", file=sys.stderr)
    return 0 if ok else 1


def _run_label(paths: list[Path]) -> str:
    """The whole run's row in the per-set table: "all held-out" for `eval evals/held-out`."""
    return f"all {paths[0].name}" if len(paths) == 1 and paths[0].is_dir() else "all"


def cmd_tune(args: argparse.Namespace) -> int:
    from assistant.tune import Recipe, tune

    settings = _settings()
    if args.epochs is not None and args.epochs < 1:
        raise AssistantError("--epochs must be at least 1")
    recipe = Recipe() if args.epochs is None else Recipe(epochs=args.epochs)
    result = tune(settings, with_cases=args.with_cases, recipe=recipe, progress=sys.stderr.isatty())
    print("\n".join(result.lines()))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from assistant import store

    settings = _settings()
    info = store.active_index(store.make_client(settings), settings)
    if info is None:
        print("no index built; run `assistant ingest`")
        return 1
    print(f"index: {info.generation}, built with {info.describe()}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    settings = _settings()  # a bad setting fails here, as one line, before any worker starts
    # A server embeds several agents' questions at once, next to other instances, Chroma and the
    # database: OpenMP threads that spin while they wait stall each other there (e5's query p90 goes
    # to seconds on busy cores; docs/metrics.md). Set before the model loads; an explicit value wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if args.workers < 1:
        raise AssistantError("--workers must be at least 1")
    if args.host not in ("127.0.0.1", "localhost", "::1") and not settings.api_key.get_secret_value():
        print("warning: serving beyond loopback without ASSISTANT_API_KEY: anyone who reaches the port can ask",
              file=sys.stderr)
    uvicorn.run("assistant.api:app_from_environment", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=settings.log_level.lower())
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from datetime import UTC, date, datetime

    from assistant.corpus import load_pages
    from assistant.embeddings import get_embedder
    from assistant.health import build_report, report_html, report_json, report_markdown
    from assistant.health.activity import read_activity
    from assistant.health.gap_queue import threshold_for
    from assistant.health.sections import index_section_vectors

    settings = _settings()
    try:
        today = date.fromisoformat(args.today) if args.today else datetime.now(UTC).date()
    except ValueError:
        raise AssistantError(f"--today: {args.today!r} is not a YYYY-MM-DD date") from None
    pages, problems = load_pages(args.corpus or settings.corpus_dir)
    for problem in problems:
        print(f"skipped: {problem}", file=sys.stderr)
    embedder = get_embedder(settings)
    activity = read_activity(settings)
    report = build_report(pages, embedder, today, settings.review_every_days, signals=activity.signals,
                          counted_usage=activity.usage, resolutions=activity.resolutions,
                          group_threshold=threshold_for(embedder.name, settings.embedding_backend),
                          cache_dir=settings.data_dir / "vectors", ui_base_url=settings.ui_base_url,
                          index_vectors=index_section_vectors(settings, embedder))
    text = {"json": lambda: json.dumps(report_json(report), indent=2, ensure_ascii=False),
            "md": lambda: report_markdown(report), "html": lambda: report_html(report)}[args.format]()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"report: {args.out}")
    else:
        print(text)
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from assistant import database

    settings = _settings()
    if args.action == "upgrade":
        db = database.open_database(settings)
        print(f"{db.url}: at revision {database.current_revision(db.engine)} (the newest)")
        return 0
    engine = database.make_engine(database.database_url(settings))
    try:
        current, head = database.current_revision(engine), database.head_revision()
    finally:
        engine.dispose()
    state = "the newest" if current == head else f"behind {head}; run `assistant db upgrade`"
    print(f"{database.safe_url(engine.url)}: at revision {current or 'none (empty database)'} ({state})")
    return 0 if current == head else 1


COMMANDS = {"import": cmd_import, "ingest": cmd_ingest, "ask": cmd_ask, "eval": cmd_eval, "status": cmd_status,
            "serve": cmd_serve, "db": cmd_db, "health": cmd_health, "tune": cmd_tune}

if __name__ == "__main__":
    sys.exit(main())
