"""Trainers: run eval sets (the same report as `assistant eval`), and review agents' feedback."""

from __future__ import annotations

import hashlib
import json

import streamlit as st
from common import chain_or_stop, feedback_store, settings

from assistant.errors import DatabaseUnavailable, EvalSetError
from assistant.evals import PROJECT_SETS, load_cases, run_cases
from assistant.feedback import to_csv
from assistant.present import answer_text
from assistant.report import report_html, report_json, report_markdown

st.title("Trainer")
eval_tab, feedback_tab = st.tabs(["Eval sets", "Feedback"])

with eval_tab:
    eval_dir = PROJECT_SETS
    files = sorted(str(p.relative_to(eval_dir)) for p in eval_dir.rglob("*") if p.suffix in {".yaml", ".yml", ".jsonl"})
    chosen = st.multiselect("Eval sets from evals/", files, default=files)
    upload = st.file_uploader("…or upload a YAML / JSONL case file", type=["yaml", "yml", "jsonl"])
    if st.button("Run eval", type="primary"):
        paths = [eval_dir / name for name in chosen]
        if upload is not None:
            uploads = settings().data_dir / "uploads"
            uploads.mkdir(parents=True, exist_ok=True)
            data = upload.getvalue()
            target = uploads / f"{hashlib.sha256(data).hexdigest()[:12]}-{upload.name}"
            target.write_bytes(data)
            paths.append(target)
        try:
            cases = load_cases(paths)
        except EvalSetError as exc:
            st.error(f"Eval set not valid: {exc}")
        else:
            bar = st.progress(0.0, text=f"Running {len(cases)} cases…")
            run = run_cases(chain_or_stop(), cases,
                            on_progress=lambda done, total: bar.progress(done / total, text=f"{done}/{total} cases"))
            st.session_state["eval_run"] = run
    run = st.session_state.get("eval_run")
    if run is not None:
        s = run.summary
        cols = st.columns(5)
        cols[0].metric("Pass rate", f"{s['pass_rate']:.1%}", f"{s['passed']}/{s['cases']}", delta_color="off")
        cols[1].metric("Guardrail cases", f"{s['guardrail_case_pass_rate']:.1%}")
        cols[2].metric("hit@1", f"{s['retrieval']['hit@1'] or 0:.2f}")
        cols[3].metric("hit@3", f"{s['retrieval']['hit@3'] or 0:.2f}")
        cols[4].metric("Latency p50 / p95", f"{s['latency_ms']['p50']} / {s['latency_ms']['p95']} ms")
        failing = [r for r in run.results if not r.passed]
        st.subheader(f"Failing cases ({len(failing)})")
        if failing:
            st.dataframe([{"id": r.case.id, "question": r.case.question, "what failed": " | ".join(r.failures),
                           "answer": answer_text(r.answer)[:200] if r.answer else ""} for r in failing],
                         hide_index=True, width="stretch")
        else:
            st.success("Every case passed.")
        html_report = report_html(run)
        dl = st.columns(3)
        dl[0].download_button("report.html", html_report, "report.html", "text/html")
        dl[1].download_button("report.md", report_markdown(run), "report.md", "text/markdown")
        dl[2].download_button("report.json", json.dumps(report_json(run), indent=2), "report.json",
                              "application/json")
        with st.expander("Full report (charts and every case)", expanded=False):
            st.iframe(html_report, height=900)  # our own escaped report, not user HTML

with feedback_tab:
    cols = st.columns([1, 3])
    rating = cols[0].selectbox("Rating", ["all", "up", "down"])
    text = cols[1].text_input("Search question, answer or comment")
    try:
        rows = feedback_store().rows(rating=None if rating == "all" else int(rating == "up"), text=text)
    except DatabaseUnavailable as exc:
        st.error(f"Feedback can't be read right now: {exc}")
        rows = []
    st.caption(f"{len(rows)} feedback entries")
    if rows:
        st.dataframe([{"id": r.id, "when": r.created, "rating": "up" if r.rating else "down", "comment": r.comment,
                       "question": r.question, "rules": ", ".join(v["rule"] for v in r.verdicts),
                       "answer": r.answer[:200]} for r in rows], hide_index=True, width="stretch")
    st.download_button("Export CSV", to_csv(rows), "feedback.csv", "text/csv", disabled=not rows)
