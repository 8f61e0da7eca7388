"""One presenter: the answer as text, for the CLI, the chat and anyone reading the contract.

The `Answer` keeps its body and its rule verdicts apart; here they are put together the way an
agent reads them: verdicts first (deny before escalate before caution before wording), then
the quoted body, then the sources. Renders only what the `Answer` holds; decides nothing.
"""

from __future__ import annotations

from assistant.models import Answer, Verdict

ACTION_LABEL = {"deny": "Not allowed", "escalate": "Escalate", "caution": "Caution", "rewrite": "Wording"}


def answer_json(answer: Answer, indent: int | None = None) -> str:
    """The answer contract as JSON: what `ask --json` prints and `POST /v1/ask` returns, byte for byte
    the same fields (the HTTP API sends it compact, the CLI indented)."""
    return answer.model_dump_json(indent=indent)


def verdict_line(verdict: Verdict) -> str:
    return f"{ACTION_LABEL[verdict.action]}: {verdict.message}"


def answer_text(answer: Answer) -> str:
    """Verdict lines first, then the body: what the agent reads as the answer."""
    return "\n\n".join([*(verdict_line(v) for v in answer.guardrails), answer.answer])


def terminal_text(answer: Answer) -> str:
    """The answer, then every citation with its quote and link (the CLI's `ask`)."""
    lines = [answer_text(answer)]
    for c in answer.citations:
        also = "".join(f"\n    also on: {a.page} ({a.section})" for a in c.also_in)
        updated = f", updated {c.updated}" if c.updated else ""
        lines.append(f"\n[{c.n}] {c.page_title} \u2014 {c.section}{updated}\n    \u201c{c.quote}\u201d\n    {c.url}{also}")
    lines += [f"\nsee also: {s.page} ({s.section}) {s.url}" for s in answer.see_also]
    return "\n".join(lines)
