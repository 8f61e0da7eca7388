"""The health report: one value (`HealthReport`) built from the stages, written as JSON, Markdown
and HTML. Page text is data: the HTML escapes every string it prints, Markdown cells escape pipes.
"""

from __future__ import annotations

import dataclasses
import html
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embeddings import Embedder
from assistant.health import conflicts as conflict_stage
from assistant.health import duplicates as duplicate_stage
from assistant.health import freshness as freshness_stage
from assistant.health import gap_queue, similarity, usage
from assistant.health import gaps as gap_stage
from assistant.health.sections import collect, section_vectors
from assistant.links import source_link
from assistant.models import Page

USAGE_ROWS_SHOWN = 30  # Markdown/HTML list the most cited; JSON has every section


@dataclass(frozen=True)
class HealthReport:
    today: str
    pages: int
    sections: int
    conflicts: list[conflict_stage.Conflict]
    typos: list[conflict_stage.Typo]
    duplicates: list[duplicate_stage.Duplicate]
    lost_content: list[gap_stage.LostContent]
    unowned: list[gap_stage.Unowned]
    freshness: list[freshness_stage.PageFreshness]
    gap_groups: list[gap_queue.GapGroup] = field(default_factory=list)
    usage: list[usage.SectionUsage] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    ui_base_url: str = "http://localhost:8501"

    @property
    def overdue(self) -> list[freshness_stage.PageFreshness]:
        return [f for f in self.freshness if f.overdue]

    @property
    def never_reviewed(self) -> list[freshness_stage.PageFreshness]:
        return [f for f in self.freshness if f.due is None]

    def link(self, page: str, anchor: str) -> str:
        return source_link(self.ui_base_url, page, anchor)


def build_report(pages: Sequence[Page], embedder: Embedder, today: date, default_review_days: int,
                 signals: Sequence[gap_queue.GapSignal] = (), counted_usage: Sequence[Any] = (),
                 group_threshold: float = gap_queue.FALLBACK_GROUP_SIMILARITY,
                 resolutions: dict[str, dict[str, str]] | None = None, cache_dir: Path | None = None,
                 ui_base_url: str = "http://localhost:8501",
                 index_vectors: dict[tuple[str, str], np.ndarray] | None = None) -> HealthReport:
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = round(now - t, 3)
        t = now

    items = collect(pages)
    lap("sections_and_facts")
    vectors = section_vectors(items, embedder, cache_dir, index_vectors)
    lap("embed")
    timings["sections_from_index"] = float(sum(1 for s in items if s.key in (index_vectors or {})))
    pairs = similarity.similar_pairs(vectors, [s.business for s in items])
    lap("similar_pairs")
    typos, canonical = conflict_stage.find_typos(items)
    found_conflicts = conflict_stage.find_conflicts(items, pairs, canonical)
    lap("conflicts")
    found_duplicates = duplicate_stage.find_duplicates(items, pairs)
    lap("duplicates")
    groups: list[gap_queue.GapGroup] = []
    if signals:
        question_vectors = [embedder.embed_query(s.question) for s in signals]
        groups = gap_queue.group_signals(signals, np.asarray(question_vectors, dtype=np.float32), group_threshold)
        resolved = resolutions or {}
        groups = [dataclasses.replace(g, resolution=resolved[q]) if (q := _resolved_question(g, resolved)) else g
                  for g in groups]
    lap("gap_queue")
    report = HealthReport(
        today=today.isoformat(), pages=len(pages), sections=len(items), conflicts=found_conflicts, typos=typos,
        duplicates=found_duplicates, lost_content=gap_stage.lost_content(items), unowned=gap_stage.unowned(pages),
        freshness=freshness_stage.page_freshness(pages, today, default_review_days), gap_groups=groups,
        usage=usage.section_usage(counted_usage, items), timings_s=timings, ui_base_url=ui_base_url)
    lap("gaps_freshness_usage")
    return report


def _resolved_question(group: gap_queue.GapGroup, resolved: dict[str, dict[str, str]]) -> str | None:
    """A group is resolved when every one of its questions was resolved (new askers reopen it)."""
    if group.questions and all(q in resolved for q in group.questions):
        return group.questions[0]
    return None


# -- JSON ----------------------------------------------------------------------------------------------
def report_json(report: HealthReport) -> dict[str, Any]:
    out = {f.name: _plain(getattr(report, f.name)) for f in dataclasses.fields(report) if f.name != "ui_base_url"}
    out["overdue"] = [f.page for f in report.overdue]
    out["never_reviewed"] = [f.page for f in report.never_reviewed]
    out["summary"] = summary(report)
    for conflict, item in zip(report.conflicts, out["conflicts"], strict=True):
        item["a"]["url"] = report.link(conflict.a.page, conflict.a.anchor)
        item["b"]["url"] = report.link(conflict.b.page, conflict.b.anchor)
    for group, item in zip(report.gap_groups, out["gap_groups"], strict=True):
        item["examples"] = list(group.examples)
    return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def summary(report: HealthReport) -> dict[str, int]:
    return {"pages": report.pages, "sections": report.sections, "conflicts": len(report.conflicts),
            "probable_typos": len(report.typos), "duplicates": len(report.duplicates),
            "lost_content": len(report.lost_content), "pages_without_owner": len(report.unowned),
            "overdue_pages": len(report.overdue), "never_reviewed": len(report.never_reviewed),
            "gap_groups": len(report.gap_groups),
            "open_gap_groups": sum(1 for g in report.gap_groups if not g.resolution)}


# -- Markdown ------------------------------------------------------------------------------------------
def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _where(page_title: str, section: str) -> str:
    return f"{page_title} § {section}" if section != page_title else page_title


def report_markdown(report: HealthReport) -> str:
    s = summary(report)
    out = [f"# Knowledge health — {report.today}", "",
           f"{s['pages']} pages, {s['sections']} sections: {s['conflicts']} conflicting facts, {s['probable_typos']} "
           f"probable typos, {s['duplicates']} duplicated sections, {s['lost_content']} sections with lost content, "
           f"{s['pages_without_owner']} pages without owner, {s['overdue_pages']} pages overdue for review, "
           f"{s['open_gap_groups']} open knowledge gaps.", ""]
    out += ["## Conflicting facts", ""]
    if report.conflicts:
        out += ["| kind | page A | says | page B | says |", "| --- | --- | --- | --- | --- |"]
        for c in report.conflicts:
            out.append(f"| {c.kind} | [{_cell(_where(c.a.page_title, c.a.section))}]({report.link(c.a.page, c.a.anchor)}) "
                       f"| **{_cell(', '.join(c.a_values))}**: “{_cell(' … '.join(c.a_quotes))}” "
                       f"| [{_cell(_where(c.b.page_title, c.b.section))}]({report.link(c.b.page, c.b.anchor)}) "
                       f"| **{_cell(', '.join(c.b_values))}**: “{_cell(' … '.join(c.b_quotes))}” |")
    else:
        out.append("None found.")
    out += ["", "## Probable typos", ""]
    out += [f"- {t.kind} **{t.value}** on [{_where(t.where.page_title, t.where.section)}]"
            f"({report.link(t.where.page, t.where.anchor)}) is probably **{t.likely}** (stated {t.likely_count}× "
            f"elsewhere, {t.edits} edit{'s' if t.edits > 1 else ''} apart): “{_cell(t.where.sentence)}”"
            for t in report.typos] or ["None found."]
    out += ["", "## Duplicated content", ""]
    out += [f"- [{d.page_a} § {d.section_a}]({report.link(d.page_a, d.anchor_a)}) and "
            f"[{d.page_b} § {d.section_b}]({report.link(d.page_b, d.anchor_b)}): {d.contained:.0%} of the shorter "
            f"section's text is in the other. Keep one source. “{_cell(d.excerpt)}…”"
            for d in report.duplicates] or ["None found."]
    out += ["", "## Gaps", "", "### Content lost in export", ""]
    out += [f"- [{_where(g.page_title, g.section)}]({report.link(g.page, g.anchor)})"
            f"{' (nothing else left)' if g.nothing_left else ''}: {_cell(g.marker)}" for g in report.lost_content] \
        or ["None."]
    out += ["", "### Pages without an owner", ""]
    out += [f"- {u.page_title} (`{u.page}`, {u.business})" for u in report.unowned] or ["None."]
    out += ["", "## Freshness", "", "| page | owner | updated | review every | due | status |",
            "| --- | --- | --- | --- | --- | --- |"]
    for f in report.freshness:
        status = (f"**overdue {f.overdue_days} days**" if f.overdue else "never reviewed (no `updated`)"
                  if f.due is None else "ok")
        out.append(f"| {_cell(f.page_title)} | {_cell(f.owner or '—')} | {f.updated or '—'} | {f.review_every_days} days "
                   f"| {f.due or '—'} | {status} |")
    out += ["", "## Knowledge-gap queue", ""]
    if report.gap_groups:
        out += ["| # | asked | abstained / 👎 | example questions | closest section | comments | status |",
                "| --- | --- | --- | --- | --- | --- | --- |"]
        for n, g in enumerate(report.gap_groups, start=1):
            closest = f"{g.closest.page} § {g.closest.section}" if g.closest else "—"
            out.append(f"| {n} | {g.count} | {g.abstained} / {g.thumbs_down} | {_cell(' · '.join(g.examples))} "
                       f"| {_cell(closest)} | {_cell(' · '.join(g.comments) or '—')} | {_cell(_status(g))} |")
    else:
        out.append("No abstentions or 👎 answers recorded.")
    out += ["", "## Usage (most cited sections)", "", "| page § section | cited | 👍 | 👎 |", "| --- | --- | --- | --- |"]
    out += [f"| {_cell(u.page)} § {_cell(u.section)} | {u.cited} | {u.up} | {u.down} |"
            for u in report.usage[:USAGE_ROWS_SHOWN]]
    never = sum(1 for u in report.usage if not u.cited)
    out += ["", f"{never} of {len(report.usage)} sections were never cited.", ""]
    return "\n".join(out)


def _status(group: gap_queue.GapGroup) -> str:
    r = group.resolution
    if not r:
        return "open"
    if r.get("kind") == "covered":
        return f"covered by {r.get('page', '')} § {r.get('section', '')}"
    return "needs a page"


# -- HTML ----------------------------------------------------------------------------------------------
CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;
text-align:left}th{background:#f4f4f4}.value{font-weight:600;color:#a40000}.overdue{color:#a40000;font-weight:600}
blockquote{margin:.2em 0;padding-left:.6em;border-left:3px solid #ccc}"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _a(url: str, text: str) -> str:
    return f'<a href="{_e(url)}">{_e(text)}</a>'


def report_html(report: HealthReport) -> str:
    s = summary(report)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Knowledge health {_e(report.today)}</title>"
             f"<style>{CSS}</style></head><body><h1>Knowledge health — {_e(report.today)}</h1>",
             "<p>" + ", ".join(f"{_e(k.replace('_', ' '))}: <b>{v}</b>" for k, v in s.items()) + "</p>",
             "<h2>Conflicting facts</h2>"]
    if report.conflicts:
        parts.append("<table><tr><th>kind</th><th>page A</th><th>page B</th></tr>")
        for c in report.conflicts:
            side = []
            for ref, values, quotes in ((c.a, c.a_values, c.a_quotes), (c.b, c.b_values, c.b_quotes)):
                side.append(f"<td>{_a(report.link(ref.page, ref.anchor), _where(ref.page_title, ref.section))}<br>"
                            f"<span class='value'>{_e(', '.join(values))}</span>"
                            + "".join(f"<blockquote>{_e(q)}</blockquote>" for q in quotes) + "</td>")
            parts.append(f"<tr><td>{_e(c.kind)}</td>{''.join(side)}</tr>")
        parts.append("</table>")
    else:
        parts.append("<p>None found.</p>")
    parts.append("<h2>Probable typos</h2><ul>")
    parts += [f"<li>{_e(t.kind)} <span class='value'>{_e(t.value)}</span> on "
              f"{_a(report.link(t.where.page, t.where.anchor), _where(t.where.page_title, t.where.section))} is probably "
              f"<b>{_e(t.likely)}</b>: <blockquote>{_e(t.where.sentence)}</blockquote></li>" for t in report.typos]
    parts.append("</ul><h2>Duplicated content</h2><ul>")
    parts += [f"<li>{_a(report.link(d.page_a, d.anchor_a), d.page_a + ' § ' + d.section_a)} and "
              f"{_a(report.link(d.page_b, d.anchor_b), d.page_b + ' § ' + d.section_b)}: {d.contained:.0%} shared. "
              f"<blockquote>{_e(d.excerpt)}…</blockquote></li>" for d in report.duplicates]
    parts.append("</ul><h2>Gaps</h2><h3>Content lost in export</h3><ul>")
    parts += [f"<li>{_a(report.link(g.page, g.anchor), _where(g.page_title, g.section))}: {_e(g.marker)}</li>"
              for g in report.lost_content]
    parts.append("</ul><h3>Pages without an owner</h3><ul>")
    parts += [f"<li>{_e(u.page_title)} ({_e(u.business)})</li>" for u in report.unowned]
    parts.append("</ul><h2>Freshness</h2><table><tr><th>page</th><th>owner</th><th>updated</th><th>due</th>"
                 "<th>status</th></tr>")
    for f in report.freshness:
        status = (f"<span class='overdue'>review overdue ({f.overdue_days} days)</span>" if f.overdue
                  else "never reviewed" if f.due is None else "ok")
        parts.append(f"<tr><td>{_e(f.page_title)}</td><td>{_e(f.owner or '—')}</td><td>{_e(f.updated or '—')}</td>"
                     f"<td>{_e(f.due or '—')}</td><td>{status}</td></tr>")
    parts.append("</table><h2>Knowledge-gap queue</h2>")
    if report.gap_groups:
        parts.append("<table><tr><th>asked</th><th>questions</th><th>closest section</th><th>comments</th>"
                     "<th>status</th></tr>")
        for g in report.gap_groups:
            closest = _a(report.link(g.closest.page, g.closest.anchor), f"{g.closest.page} § {g.closest.section}") \
                if g.closest else "—"
            parts.append(f"<tr><td>{g.count}</td><td>{'<br>'.join(_e(q) for q in g.examples)}</td><td>{closest}</td>"
                         f"<td>{'<br>'.join(_e(c) for c in g.comments)}</td><td>{_e(_status(g))}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No abstentions or 👎 answers recorded.</p>")
    parts.append("<h2>Usage</h2><table><tr><th>section</th><th>cited</th><th>👍</th><th>👎</th></tr>")
    parts += [f"<tr><td>{_e(u.page)} § {_e(u.section)}</td><td>{u.cited}</td><td>{u.up}</td><td>{u.down}</td></tr>"
              for u in report.usage[:USAGE_ROWS_SHOWN]]
    parts.append("</table></body></html>")
    return "\n".join(parts)
