"""The store: record format round trip, generation names, and narrow errors (down is not missing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import cli, store
from assistant.config import load_settings
from assistant.errors import IndexNotBuilt, IndexUnavailable
from assistant.fakes import FakeEmbeddings
from assistant.models import Chunk
from tests.servers import free_port


def test_a_chunk_survives_the_record_format() -> None:
    chunk = Chunk(id="c1", page="p", page_title="P", business="b", section="A > B", anchor="b", text="Text.",
                  updated=None, source_url=None, has_gap=True)
    meta = store.chunk_metadata(chunk, "digest")
    assert meta["page_hash"] == "digest" and meta["updated"] == ""  # Chroma stores no None
    assert store.chunk_from_record("c1", "Text.", meta) == chunk


@pytest.mark.parametrize("name,ours", [
    ("sop-20261126195827-e6e65a", True), ("sop-pointer", False), ("sop-2026-x", False),
    ("other-20261126195827-e6e65a", False), ("sop-20261126195827-e6e65a-copy", False),
])
def test_only_our_generations_are_generations(tmp_path: Path, name: str, ours: bool) -> None:
    assert store.is_generation(load_settings(data_dir=tmp_path), name) is ours


def test_an_empty_data_dir_is_not_built(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    with pytest.raises(IndexNotBuilt, match="assistant ingest"):
        store.open_active(store.make_client(settings), settings, FakeEmbeddings())


def test_a_server_that_is_down_is_unavailable_not_missing(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(IndexUnavailable, match="can't be reached"):
        store.make_client(settings)


def test_the_cli_says_the_server_is_down_in_one_line(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    assert cli.main(["ask", "can I give a credit?"]) == cli.exit_code(IndexUnavailable("")) == 69
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "can't be reached" in err and "no index" not in err


def test_an_embedded_store_error_is_never_called_a_server_outage(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Could not connect to tenant"):
        with store.reaching_server(load_settings(data_dir=tmp_path)):
            raise ValueError("Could not connect to tenant default_tenant")
