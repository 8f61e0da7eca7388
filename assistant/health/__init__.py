"""Knowledge health for SOP owners: conflicting facts, duplicated content, gaps, freshness, the
knowledge-gap queue and usage, over the corpus pages (and, when given, the ask log and feedback).

    sections.py   the pages' sections, their typed facts (facts.py) and vectors
    similarity.py same-business, same-topic section pairs (top-k neighbours, numpy batches)
    conflicts.py  different values of one fact kind in similar sections; probable typos
    duplicates.py sections copied across pages
    gaps.py       content lost in export; pages with no owner
    freshness.py  review due dates, overdue pages, the citation badge
    gap_queue.py  abstentions and 👎 answers grouped and ranked
    usage.py      per-section citations and ratings
    report.py     HealthReport -> JSON, Markdown, HTML

Reads pages, never writes them: the owner fixes the page, the report only points.
"""

from assistant.health.report import HealthReport, build_report, report_html, report_json, report_markdown

__all__ = ["HealthReport", "build_report", "report_html", "report_json", "report_markdown"]
