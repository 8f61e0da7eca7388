"""Command line: thin. Parse arguments, call the library, print. Errors: one line, exit 2."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.embeddings import offline_environment
from assistant.errors import AssistantError

EXIT_USAGE = 2


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

    sub.add_parser("status", help="is the index built? prints its generation and the embedder that built it")

    db = sub.add_parser("db", help="the app's database (ASSISTANT_DATABASE_URL; default an SQLite file in the data dir)")
    db.add_argument("action", choices=["upgrade", "current"],
                    help="upgrade: migrate to the newest schema (the app also does this when it opens the database); "
                         "current: print the schema revision without changing anything")
    return p


def main(argv: list[str] | None = None) -> int:
    offline_environment()  # before anything imports transformers
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except AssistantError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; the last complete index is still in use", file=sys.stderr)
        return 130


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
    from assistant.embeddings import get_embedder
    from assistant.ingest import ingest
    from assistant.present import terminal_safe

    settings = _settings()
    report = ingest(settings, get_embedder(settings), args.corpus, args.rebuild,
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

    result = Chain(settings).ask(args.question, args.history, args.business)
    print(json_text(result) if args.json else terminal_text(result))
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
            "serve": cmd_serve, "db": cmd_db}

if __name__ == "__main__":
    sys.exit(main())
