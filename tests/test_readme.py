"""The README's usage examples run as written (against a temporary index and output folders)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from assistant import cli
from assistant.config import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration


def readme_commands() -> list[list[str]]:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    usage = text.split("## Usage", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = []
    for line in usage.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line.startswith(".venv/bin/assistant "):
            commands.append(shlex.split(line)[1:])
    return commands


def test_readme_lists_the_commands() -> None:
    assert {c[0] for c in readme_commands()} == {"ask", "ingest", "import", "eval", "health"}
    assert "make run" in (PROJECT_ROOT / "README.md").read_text() and "make test" in (PROJECT_ROOT / "README.md").read_text()


@pytest.mark.parametrize("argv", readme_commands(), ids=lambda argv: " ".join(argv)[:40])
def test_readme_example_runs(argv: list[str], real_index: Settings, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(real_index.data_dir))
    monkeypatch.chdir(PROJECT_ROOT)
    expanded: list[str] = []
    for a in argv:  # what the shell would do: globs expand; the outputs go to tmp_path
        if "*" in a:
            expanded += sorted(str(p) for p in PROJECT_ROOT.glob(a))
        else:
            expanded.append({"corpus/": str(tmp_path / "corpus"), "eval-report": str(tmp_path / "report")}.get(a, a))
    argv = expanded
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip()
