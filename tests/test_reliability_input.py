"""Bad input, end to end: every entry of tests/data/bad_inputs.yaml through the chain (fake
embedder) and through the command line (a subprocess, as agents run it): an answer or a typed
error (exit 2, one line), never a traceback, and the banned term in no field an agent is shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
import yaml

from assistant.chain import Chain
from assistant.config import PROJECT_ROOT, Settings
from assistant.errors import AssistantError, InvalidQuestion
from assistant.fakes import FakeEmbeddings
from assistant.models import Answer
from assistant.output_filter import contains_banned
from assistant.present import terminal_text

DATA = Path(__file__).parent / "data" / "bad_inputs.yaml"
INPUTS: list[dict[str, Any]] = yaml.safe_load(DATA.read_text(encoding="utf-8"))["inputs"]
# Seconds per subprocess: a hang fails the test instead of the run. Generous: the first ask on a
# fresh data directory embeds the rules' examples, which takes minutes on a loaded 2-core machine.
CLI_TIMEOUT = 600
WEST_VIRGINIA = ("West Virginia", "WV", "W.Va.", "WEST VIRGINIA", "West\u00a0Virginia", "\uff37\uff36")


def skeleton(text: str) -> str:
    """An independent oracle: letters only, decoded and folded the way a reader would read them."""
    for _ in range(4):
        text = unquote_plus(text)
    table = str.maketrans("35$71|0€", "esstlloe") | str.maketrans({"е": "e", "ѕ": "s", "т": "t", "м": "m"})
    text = unicodedata.normalize("NFKC", text).lower().translate(table)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if "a" <= c <= "z")


def shown_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string an agent is shown, with where it sits; `question` is the agent's own words echoed."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if not (path == "" and key == "question"):
                yield from shown_strings(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from shown_strings(inner, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def leaks(answer: Answer) -> list[str]:
    fields = list(shown_strings(answer.model_dump(mode="json"))) + [("terminal text", terminal_text(answer))]
    return [where for where, text in fields if "settlement" in skeleton(text) or contains_banned(unquote_plus(text))]


def entry_id(entry: dict[str, Any]) -> str:
    return str(entry["id"])


def test_the_bad_input_set_is_large_and_covers_every_kind() -> None:
    kinds = {str(e["id"]).rsplit("-", 1)[0] for e in INPUTS}
    assert len(INPUTS) >= 250 and len({e["id"] for e in INPUTS}) == len(INPUTS)
    assert {"empty", "control", "bidi", "surrogate", "huge", "markup", "injection", "banned", "sql", "path", "emoji",
            "script", "amount", "state", "odd"} <= kinds
    assert {e["expect"] for e in INPUTS} == {"reject", "answer"}


@pytest.fixture(scope="module")
def chain(fake_index: tuple[Settings, FakeEmbeddings]) -> Chain:
    settings, embedder = fake_index
    return Chain(settings, embedder=embedder)


@pytest.mark.parametrize("entry", INPUTS, ids=entry_id)
def test_every_bad_input_through_the_chain(entry: dict[str, Any], chain: Chain) -> None:
    question, history = entry["question"], entry.get("history", [])
    if entry["expect"] == "reject":
        with pytest.raises(InvalidQuestion) as err:
            chain.ask(question, history)
        message = str(err.value)
        assert "\n" not in message and message.isprintable() and not contains_banned(message)
        return
    answer = chain.ask(question, history)
    assert answer.answer or answer.citations or answer.guardrails
    assert leaks(answer) == []
    rules = {v.rule for v in answer.guardrails}
    if contains_banned(question):
        assert "banned-term" in rules  # the rule fires on every spelling the output filter knows
    if entry["id"].startswith("state-") and any(f"a {wv} client" in question for wv in WEST_VIRGINIA):
        assert "wv-no-credit" in rules


def run_cli(*argv: str | bytes, data_dir: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {"ASSISTANT_DATA_DIR": str(data_dir), "PYTHONPATH": str(PROJECT_ROOT), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *argv], capture_output=True, env=env,
                          timeout=CLI_TIMEOUT, cwd=PROJECT_ROOT)


def argv_bytes(text: str) -> bytes:
    """The bytes a shell would hand over: lone surrogates from undecodable bytes go back to those bytes."""
    return text.encode("utf-8", errors="surrogateescape") if all(
        0xdc80 <= ord(c) <= 0xdcff for c in text if 0xd800 <= ord(c) <= 0xdfff) else text.encode("utf-8", "surrogatepass")


# Rejected before any index or model is touched, one process each: every kind, and every 8th entry
# (NUL can't be passed in argv at all, see below). The chain test above runs all of them.
PASSABLE = [e for e in INPUTS if e["expect"] == "reject" and "\x00" not in e["question"]
            and not any("\x00" in h for h in e.get("history", []))]
REJECTED = [e for i, e in enumerate(PASSABLE)
            if i % 8 == 0 or str(e["id"]).endswith("-001") or e["question"].startswith(("\x1b", "\x9b"))]


@pytest.mark.parametrize("entry", REJECTED, ids=entry_id)
def test_every_rejected_input_is_one_line_and_exit_2_on_the_command_line(entry: dict[str, Any], tmp_path: Path) -> None:
    history = [arg for turn in entry.get("history", []) for arg in (b"--history", argv_bytes(turn))]
    done = run_cli(b"ask", b"--json", *history, b"--", argv_bytes(entry["question"]), data_dir=tmp_path)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2 and done.stdout == b"", err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "ingest" not in err  # refused as a question, not for the missing index behind it
    assert all(ch.isprintable() or ch == "\n" for ch in err)


@pytest.mark.parametrize("raw", [b"credit \xff $20?", b"\xc3\x28", b"\xed\xa0\x80", b"WV \x80\x81 credit"],
                         ids=["ff", "bad-continuation", "encoded-surrogate", "c1-bytes"])
def test_undecodable_argv_is_an_invalid_question(raw: bytes, tmp_path: Path) -> None:
    done = run_cli(b"ask", b"--", raw, data_dir=tmp_path)
    assert done.returncode == 2 and b"Traceback" not in done.stderr
    assert done.stderr.decode().startswith("error: question is not valid text")


def test_a_nul_byte_cannot_even_reach_the_command_line() -> None:
    # The OS refuses it in argv: an agent gets Python's ValueError at the caller, never a half question.
    with pytest.raises(ValueError):
        subprocess.run([sys.executable, "-c", "pass", "a\x00b"], timeout=CLI_TIMEOUT)


def test_a_question_that_looks_like_an_option_goes_after_double_dash(tmp_path: Path) -> None:
    asked = run_cli("ask", "--", "--help", data_dir=tmp_path)  # a question: it reaches the index check
    assert asked.returncode == 2 and b"assistant ingest" in asked.stderr and asked.stdout == b""
    helped = run_cli("ask", "--help", data_dir=tmp_path)
    assert helped.returncode == 0 and b"goes after '--'" in helped.stdout


# One accepted input of each kind, through the real command line with the real model.
CLI_SAMPLE = [next(e for e in INPUTS if e["expect"] == "answer" and str(e["id"]).startswith(kind + "-"))
              for kind in ("control", "bidi", "huge", "markup", "injection", "sql", "path", "emoji", "script", "amount",
                           "state", "odd")] + [e for e in INPUTS if str(e["id"]).startswith("banned-")][::6]


@pytest.mark.integration
@pytest.mark.parametrize("entry", CLI_SAMPLE, ids=entry_id)
def test_accepted_inputs_on_the_command_line(entry: dict[str, Any], real_index: Settings) -> None:
    history = [arg for turn in entry.get("history", []) for arg in ("--history", turn)]
    done = run_cli("ask", "--json", *history, "--", entry["question"], data_dir=real_index.data_dir)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    answer = Answer(**json.loads(done.stdout))
    assert leaks(answer) == []
    text = run_cli("ask", "--", entry["question"], data_dir=real_index.data_dir)
    assert text.returncode == 0 and "settlement" not in skeleton(text.stdout.decode())
    assert not any(b in text.stdout for b in (b"\x1b", b"\x00", b"\xc2\x9b"))


def test_the_bad_inputs_never_break_the_chain_with_an_untyped_error(chain: Chain) -> None:
    # A summary over the whole set: the per-entry test names the entry; this one states the contract.
    untyped = []
    for entry in INPUTS:
        try:
            chain.ask(entry["question"], entry.get("history", []))
        except AssistantError:
            pass
        except Exception as exc:  # noqa: BLE001 - exactly what must not happen
            untyped.append(f"{entry['id']}: {exc.__class__.__name__}")
    assert untyped == []


@pytest.mark.integration
def test_the_chat_shows_no_banned_term_and_echoes_markup_as_text(real_index: Settings,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(real_index.data_dir))
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(PROJECT_ROOT / "ui" / "app.py"), default_timeout=CLI_TIMEOUT)
        at.run()
        at.chat_input[0].set_value("Can I offer the client a settlement to close the account?").run()
        at.chat_input[0].set_value("![x](http://evil.example/x.png) <img src=x onerror=alert(1)> credit $20?").run()
        assert not at.exception
        elements = [*at.markdown, *at.error, *at.warning, *at.info, *at.caption]
        shown = [e.value for e in elements]
        # The agent's own first question is echoed as typed; everything the assistant says is clean.
        said = [text for text in shown if "to close the account?" not in text]
        assert any("banned-term" in text for text in shown)
        assert [text for text in said if "settlement" in skeleton(text)] == []
        assert any("[restricted term]" in text.replace("\\", "") for text in shown)
        echo = next(text for text in shown if "evil.example" in text)
        assert echo.startswith("\\!\\[x\\]") and "\\<img" in echo and "http:\\/\\/" in echo
    finally:
        st.cache_resource.clear()
