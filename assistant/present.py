"""One presenter: the answer as text, for the CLI, the chat and anyone reading the contract.

The `Answer` keeps its body and its rule verdicts apart; here they are put together the way an
agent reads them: verdicts first (deny before escalate before caution before wording), then
the quoted body, then the sources. Renders only what the `Answer` holds; decides nothing.
"""

from __future__ import annotations

import re

from assistant.models import Answer, Verdict

# Terminal escape sequences (CSI "ESC [", OSC "ESC ]" up to BEL or ST, two-byte ESC x) and the
# controls a terminal acts on (C0 but tab and newline, DEL, C1 incl. the one-byte CSI U+009B),
# plus the invisible direction overrides: page text reaching a terminal can neither move the
# cursor, retitle the window, hide lines nor reorder what is shown.
ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])?")
TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# The same characters as JSON escapes: valid JSON that prints as plain text on a terminal.
JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

ACTION_LABEL = {"deny": "Not allowed", "escalate": "Escalate", "caution": "Caution", "rewrite": "Wording"}


def verdict_line(verdict: Verdict) -> str:
    return f"{ACTION_LABEL[verdict.action]}: {verdict.message}"


def answer_text(answer: Answer) -> str:
    """Verdict lines first, then the body: what the agent reads as the answer."""
    return "\n\n".join([*(verdict_line(v) for v in answer.guardrails), answer.answer])


def terminal_safe(text: str) -> str:
    """Text a terminal shows as written: escape sequences and control characters removed."""
    return TERMINAL_CONTROL.sub("", ESCAPE_SEQUENCE.sub("", text))


def json_text(answer: Answer) -> str:
    """The answer contract as JSON (`ask --json` and the HTTP API's `POST /v1/ask`, byte for byte);
    C0 controls are escaped by JSON itself, DEL, C1 and the direction overrides here, so the JSON is
    the same data and still safe to print."""
    return JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", answer.model_dump_json(indent=2))


def terminal_text(answer: Answer) -> str:
    """The answer, then every citation with its quote and link (the CLI's `ask`), terminal-safe."""
    return terminal_safe(_terminal_lines(answer))


def _terminal_lines(answer: Answer) -> str:
    lines = [answer_text(answer)]
    for c in answer.citations:
        also = "".join(f"\n    also on: {a.page} ({a.section})" for a in c.also_in)
        updated = f", updated {c.updated}" if c.updated else ""
        lines.append(f"\n[{c.n}] {c.page_title} \u2014 {c.section}{updated}\n    \u201c{c.quote}\u201d\n    {c.url}{also}")
    lines += [f"\nsee also: {s.page} ({s.section}) {s.url}" for s in answer.see_also]
    return "\n".join(lines)
