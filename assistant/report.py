"""Eval reports: report.json (machine), report.md (review), report.html (one self-contained page).

The HTML page has no external scripts, styles or fonts: charts are inline SVG, so a trainer can
open or e-mail it anywhere.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from assistant.evals import CaseResult, EvalRun
from assistant.present import answer_text
from assistant.release import CHANGES

BAR_W, ROW_H = 360, 22


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _rate(rate: float | None, count: int, cases: int) -> str:
    """A rate with the counts it comes from; a dash when no case counts."""
    return f"{_fmt(rate)} ({count}/{cases})" if cases else "\u2014"


def set_table(run: EvalRun) -> list[list[str]]:
    """One row per set plus the whole run: header first. Naive and change columns only when measured."""
    naive = "naive" in run.summary
    changed = "changes" in run.summary
    header = ["set", "cases", "pass", "hit@1", "hit@3", "MRR", "follow-up pass", "abstention P / R",
              "must-fire", "wrong-firing"]
    header += ["naive hit@1", "naive hit@3", "naive MRR"] if naive else []
    header += ["fixed", "broken", "hit@1 fixed", "hit@1 broken", "new"] if changed else []
    rows = [header]
    for name, s in [*run.sets.items(), (run.label, run.summary)]:
        r, g = s["retrieval"], s["guardrail"]
        f, must, wrong = s["follow_up"], g["must_fire"], g["wrong_firing"]
        row = [name, str(s["cases"]), _rate(s["pass_rate"], s["passed"], s["cases"]),
               *(_fmt(r[k]) if r["cases"] else "\u2014" for k in ("hit@1", "hit@3", "mrr")),
               _rate(f["pass_rate"], f["passed"], f["cases"]),
               f"{_fmt(s['abstention']['precision'])} / {_fmt(s['abstention']['recall'])}",
               _rate(must["rate"], must["held"], must["cases"]), _rate(wrong["rate"], wrong["fired"], wrong["cases"])]
        if naive:
            n = s["naive"]
            row += ["n/a"] * 3 if "unavailable" in n else [_fmt(n[k]) if n["cases"] else "\u2014"
                                                             for k in ("hit@1", "hit@3", "mrr")]
        if changed:
            row += [str(len(s["changes"][k])) for k in CHANGES]
        rows.append(row)
    return rows


def set_table_markdown(run: EvalRun) -> list[str]:
    """The per-set table, plus one line when the naive baseline could not run."""
    rows = set_table(run)
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "| " + " | ".join("---" for _ in rows[0]) + " |")
    if "unavailable" in run.summary.get("naive", {}):
        lines += ["", f"Naive baseline unavailable: {run.summary['naive']['unavailable']}."]
    return lines


def changes_by_set(run: EvalRun) -> list[tuple[str, int, list[tuple[str, list[str]]]]]:
    """Per kind of change (fixed, broken, ...): its total and its case ids grouped by set."""
    if "changes" not in run.summary:
        return []
    return [(kind, len(run.summary["changes"][kind]),
             [(name, s["changes"][kind]) for name, s in run.sets.items() if s["changes"][kind]])
            for kind in CHANGES]


def changes_markdown(run: EvalRun) -> list[str]:
    if "changes" not in run.summary:
        return []
    c = run.summary["changes"]
    lines = [f"## Against the previous release ({c['against']})", "",
             f"Paired by case id: {c['compared']} cases compared; cases the old file lacks are new.", ""]
    for kind, total, groups in changes_by_set(run):
        ids = "; ".join(f"{name}: {', '.join(ids)}" for name, ids in groups)
        lines.append(f"- {kind.replace('_', ' ')} ({total}){': ' + ids if ids else ''}")
    return lines


def summary_json(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary without its per-ask latency list (the HTML histogram's input, noise in JSON)."""
    return {**summary, "latency_ms": {k: v for k, v in summary["latency_ms"].items() if k != "all"}}


def report_json(run: EvalRun) -> dict[str, Any]:
    return {"label": run.label, "summary": summary_json(run.summary),
            "sets": {name: summary_json(s) for name, s in run.sets.items()},
            "cases": [r.to_json() for r in run.results]}


def report_markdown(run: EvalRun) -> str:
    s = run.summary
    act = s["guardrail"]["right_action"]  # cases whose `actions` say which action each rule must give
    lines = ["# Eval report", "", "| metric | value |", "| --- | --- |",
             f"| cases | {s['cases']} |", f"| pass rate | {_fmt(s['pass_rate'])} ({s['passed']}/{s['cases']}) |",
             f"| guardrail cases pass rate | {_fmt(s['guardrail_case_pass_rate'])} ({s['guardrail_cases']} cases) |",
             f"| retrieval hit@1 / hit@3 / MRR | {_fmt(s['retrieval']['hit@1'])} / {_fmt(s['retrieval']['hit@3'])}"
             f" / {_fmt(s['retrieval']['mrr'])} ({s['retrieval']['cases']} cases) |",
             f"| abstention precision / recall | {_fmt(s['abstention']['precision'])} / "
             f"{_fmt(s['abstention']['recall'])} |",
             f"| guardrail precision / recall | {_fmt(s['guardrail']['precision'])} / "
             f"{_fmt(s['guardrail']['recall'])} |",
             f"| guardrails firing with the expected action | {_rate(act['rate'], act['held'], act['cases'])} |",
             f"| latency p50 / p95 (ms) | {_fmt(s['latency_ms']['p50'])} / {_fmt(s['latency_ms']['p95'])} |", "",
             "## By set", "", *set_table_markdown(run), ""]
    changes = changes_markdown(run)
    lines += [*changes, ""] if changes else []
    lines += ["## Pass rate by tag", "", "| tag | cases | pass rate |", "| --- | --- | --- |"]
    lines += [f"| {t} | {v['cases']} | {_fmt(v['pass_rate'])} |" for t, v in s["by_tag"].items()]
    lines += ["", "## Pass rate by rule", "", "| rule | cases | pass rate |", "| --- | --- | --- |"]
    lines += [f"| {t} | {v['cases']} | {_fmt(v['pass_rate'])} |" for t, v in s["by_rule"].items()]
    failing = [r for r in run.results if not r.passed]
    lines += ["", f"## Failing cases ({len(failing)})", ""]
    for r in failing:
        lines += [f"### {r.case.id}", "", f"- question: {r.case.question}"]
        if r.case.history:
            lines.append(f"- history: {r.case.history}")
        lines.append(f"- expected: `{json.dumps(r.case.expect.model_dump(exclude_defaults=True))}`")
        lines += [f"- failed: {f}" for f in r.failures]
        if r.answer:
            lines.append(f"- seen: {answer_text(r.answer)[:400]!r}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _bars(title: str, rows: list[tuple[str, float | None, str]]) -> str:
    """A horizontal bar chart of 0..1 values as inline SVG."""
    height = ROW_H * len(rows) + 30
    parts = [f'<figure><figcaption>{html.escape(title)}</figcaption>'
             f'<svg role="img" aria-label="{html.escape(title)}" width="{BAR_W + 260}" height="{height}">']
    for i, (label, value, note) in enumerate(rows):
        y = 10 + i * ROW_H
        width = int(BAR_W * (value or 0))
        color = "#2e7d32" if (value or 0) >= 0.95 else "#f9a825" if (value or 0) >= 0.8 else "#c62828"
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label[:28])}</text>'
                     f'<rect x="180" y="{y}" width="{BAR_W}" height="16" fill="#eee"/>'
                     f'<rect x="180" y="{y}" width="{width}" height="16" fill="{color}"/>'
                     f'<text x="{190 + BAR_W}" y="{y + 14}" font-size="12">{_fmt(value)} {html.escape(note)}</text>')
    parts.append("</svg></figure>")
    return "".join(parts)


def _histogram(values: list[float]) -> str:
    if not values:
        return "<p>No latencies recorded.</p>"
    top = max(values) or 1.0
    bins = 12
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v / top * bins))] += 1
    peak = max(counts)
    width, height = 480, 140
    bar = width // bins
    parts = [f'<figure><figcaption>Latency distribution (ms, total per ask)</figcaption>'
             f'<svg role="img" aria-label="latency histogram" width="{width + 40}" height="{height + 30}">']
    for i, c in enumerate(counts):
        h = int(height * c / peak)
        parts.append(f'<rect x="{i * bar}" y="{height - h}" width="{bar - 2}" height="{h}" fill="#1565c0">'
                     f'<title>{top * i / bins:.0f}-{top * (i + 1) / bins:.0f} ms: {c}</title></rect>')
    parts.append(f'<text x="0" y="{height + 15}" font-size="11">0</text>'
                 f'<text x="{width - 40}" y="{height + 15}" font-size="11">{top:.0f} ms</text></svg></figure>')
    return "".join(parts)


def _case_row(r: CaseResult) -> str:
    status = "pass" if r.passed else "FAIL"
    answer = html.escape(answer_text(r.answer)[:300]) if r.answer else ""
    fired = ", ".join(f"{v.rule}:{v.action}" for v in r.answer.guardrails) if r.answer else ""
    failures = "<br>".join(html.escape(f) for f in r.failures)
    return (f'<tr class="{status.lower()}"><td>{html.escape(r.case.id)}</td><td>{status}</td>'
            f'<td>{html.escape(", ".join(r.case.tags))}</td><td>{html.escape(r.case.question)}</td>'
            f'<td>{failures}</td><td>{html.escape(fired)}</td><td>{answer}</td></tr>')


def _set_table_html(run: EvalRun) -> str:
    header, *rows = set_table(run)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    note = ""
    if "unavailable" in run.summary.get("naive", {}):
        note = f"<p>Naive baseline unavailable: {html.escape(run.summary['naive']['unavailable'])}.</p>"
    return f"<h2>By set</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


def _changes_html(run: EvalRun) -> str:
    if "changes" not in run.summary:
        return ""
    c = run.summary["changes"]
    items = []
    for kind, total, groups in changes_by_set(run):
        ids = "; ".join(f"<b>{html.escape(name)}</b>: {html.escape(', '.join(ids))}" for name, ids in groups)
        items.append(f"<li>{html.escape(kind.replace('_', ' '))} ({total}){': ' + ids if ids else ''}</li>")
    return (f"<h2>Against the previous release ({html.escape(c['against'])})</h2>"
            f"<p>Paired by case id: {c['compared']} cases compared; cases the old file lacks are new.</p>"
            f"<ul>{''.join(items)}</ul>")


def report_html(run: EvalRun) -> str:
    s = run.summary
    charts = [
        _bars("Pass rate by tag", [(t, v["pass_rate"], f"({v['cases']})") for t, v in s["by_tag"].items()]),
        _bars("Pass rate by rule", [(t, v["pass_rate"], f"({v['cases']})") for t, v in s["by_rule"].items()]),
        _bars("Retrieval", [("hit@1", s["retrieval"]["hit@1"], ""), ("hit@3", s["retrieval"]["hit@3"], ""),
                            ("MRR", s["retrieval"]["mrr"], "")]),
        _bars("Abstention and guardrails", [
            ("abstention precision", s["abstention"]["precision"], ""),
            ("abstention recall", s["abstention"]["recall"], ""),
            ("guardrail precision", s["guardrail"]["precision"], ""),
            ("guardrail recall", s["guardrail"]["recall"], "")]),
        _histogram(s["latency_ms"]["all"]),
    ]
    failing = sorted(run.results, key=lambda r: r.passed)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Eval report</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ddd;padding:4px;font-size:13px;vertical-align:top}} tr.fail{{background:#fdecea}}
.kpi{{display:inline-block;margin:0 2em 1em 0}} .kpi b{{font-size:1.6em;display:block}}
figure{{display:inline-block;margin:1em 2em 1em 0}} figcaption{{font-weight:600;margin-bottom:4px}}</style>
</head><body><h1>Eval report</h1>
<div class="kpi"><b>{_fmt(s['pass_rate'])}</b>pass rate ({s['passed']}/{s['cases']})</div>
<div class="kpi"><b>{_fmt(s['guardrail_case_pass_rate'])}</b>guardrail cases ({s['guardrail_cases']})</div>
<div class="kpi"><b>{_fmt(s['retrieval']['hit@1'])}</b>hit@1</div>
<div class="kpi"><b>{_fmt(s['latency_ms']['p50'])} / {_fmt(s['latency_ms']['p95'])}</b>latency p50 / p95 ms</div>
{_set_table_html(run)}
{_changes_html(run)}
<div>{''.join(charts)}</div>
<h2>Cases (failing first)</h2>
<table><thead><tr><th>id</th><th>result</th><th>tags</th><th>question</th><th>what failed</th>
<th>rules fired</th><th>answer</th></tr></thead><tbody>{''.join(_case_row(r) for r in failing)}</tbody></table>
</body></html>
"""


def write_reports(run: EvalRun, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in (("report.json", json.dumps(report_json(run), indent=2)),
                          ("report.md", report_markdown(run)), ("report.html", report_html(run))):
        path = out_dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
