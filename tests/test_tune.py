"""`assistant tune`: training pairs, the model folder's key, the no-op, the errors; one short real tune."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from assistant.chunking import chunk_id, embedding_text
from assistant.cli import main
from assistant.config import Settings, load_settings
from assistant.errors import ConfigError, CorpusError
from assistant.evals import Case
from assistant.models import Chunk
from assistant.question_bank import BankEntry
from assistant.tune import (
    DONE_FILE,
    Pair,
    Recipe,
    bank_pairs,
    base_model_path,
    case_pairs,
    model_identity,
    training_pairs,
    tune,
    tune_key,
)


def chunk(page: str, section: str, text: str) -> Chunk:
    return Chunk(id=chunk_id(page, section, text), page=page, page_title=page.title(), business="b",
                 section=section, anchor=section.lower(), text=text)


CHUNKS = [
    chunk("credits", "Limits", "Agents may credit up to $20 per call."),
    chunk("credits", "Limits", "Supervisors approve anything above that."),
    chunk("credits", "Waivers", "A removal fee waiver needs a manager."),
    chunk("collections", "Payments", "Take payments for clients in Collections; email collection@example.com."),
]


@pytest.mark.parametrize(("entry", "expected", "skipped"), [
    pytest.param(BankEntry(question="how much can I credit", page="credits", section="Limits"),
                 [CHUNKS[0], CHUNKS[1]], 0, id="every-chunk-of-the-section"),
    pytest.param(BankEntry(question="who waives the removal fee", page="credits", section="Waivers"),
                 [CHUNKS[2]], 0, id="one-chunk-section"),
    pytest.param(BankEntry(question="where is the old policy", page="credits", section="Gone"),
                 [], 1, id="stale-section-reported"),
    pytest.param(BankEntry(question="payments in collections", page="credits", section="Payments"),
                 [], 1, id="same-label-other-page-is-not-it"),
])
def test_bank_pairs(entry: BankEntry, expected: list[Chunk], skipped: int) -> None:
    pairs, lines = bank_pairs([entry], CHUNKS)
    assert [p.passage for p in pairs] == [embedding_text(c) for c in expected]
    assert all(p.question == entry.question and p.section == (entry.page, entry.section) for p in pairs)
    assert len(lines) == skipped


def case(case_id: str, phrases: list[str], history: list[str] | None = None, abstain: bool | None = None) -> Case:
    return Case(id=case_id, question=f"question {case_id}", history=history or [],
                expect={"sources_any": phrases, "abstain": abstain})


@pytest.mark.parametrize(("given", "expected", "skipped"), [
    pytest.param(case("one", ["up to $20"]), [CHUNKS[0]], 0, id="chunk-holding-the-phrase"),
    pytest.param(case("fold", ["UP   TO $20 PER CALL"]), [CHUNKS[0]], 0, id="case-and-whitespace-folded"),
    pytest.param(case("two", ["removal fee waiver", "collection@example.com"]), [CHUNKS[2], CHUNKS[3]], 0,
                 id="any-phrase-each-chunk"),
    pytest.param(case("heading", ["Waivers"]), [CHUNKS[2]], 0, id="heading-path-counts"),
    pytest.param(case("none", ["no such phrase"]), [], 1, id="phrase-nowhere-reported"),
    pytest.param(case("hist", ["up to $20"], history=["earlier turn"]), [], 0, id="history-left-out"),
    pytest.param(case("oos", [], abstain=True), [], 0, id="out-of-scope-left-out"),
])
def test_case_pairs(given: Case, expected: list[Chunk], skipped: int) -> None:
    pairs, lines = case_pairs([given], CHUNKS)
    assert [p.passage for p in pairs] == [embedding_text(c) for c in expected]
    assert all(p.source == f"case:{given.id}" for p in pairs)
    assert len(lines) == skipped


def test_training_pairs_from_the_real_bank(settings: Settings) -> None:
    bank_only, skipped = training_pairs(settings)
    assert not skipped and {p.source for p in bank_only} == {"bank"}
    with_cases, _ = training_pairs(settings, with_cases=True, cases=lambda: [case("c", ["$"])])
    assert with_cases[:len(bank_only)] == bank_only and len(with_cases) > len(bank_only)


def test_no_bank_is_a_clear_error(settings: Settings) -> None:
    (settings.corpus_dir / "questions.yaml").unlink()
    with pytest.raises(CorpusError, match="no question bank"):
        training_pairs(settings)


def fake_model(folder: Path, weights: bytes = b"w") -> Path:
    folder.mkdir(parents=True)
    (folder / "modules.json").write_text("[]", encoding="utf-8")
    (folder / "model.safetensors").write_bytes(weights)
    return folder


PAIRS = [Pair("q1", "p1", ("a", "s"), "bank"), Pair("q2", "p2", ("a", "t"), "bank")]


def test_the_key_changes_with_the_pairs_the_base_model_and_the_recipe(tmp_path: Path) -> None:
    base = model_identity(fake_model(tmp_path / "base"))
    key = tune_key(PAIRS, base, Recipe())
    assert key == tune_key(list(PAIRS), base, Recipe())  # stable
    assert key != tune_key(PAIRS[:1], base, Recipe())  # the bank changed
    assert key != tune_key([PAIRS[0], Pair("q2", "p2 edited", ("a", "t"), "bank")], base, Recipe())  # a page changed
    assert key != tune_key(PAIRS, model_identity(fake_model(tmp_path / "other", b"ww")), Recipe())
    assert key != tune_key(PAIRS, base, Recipe(epochs=4)) != tune_key(PAIRS, base, Recipe(seed=1))


def test_tune_is_a_no_op_when_the_folder_exists(settings: Settings, tmp_path: Path) -> None:
    base = fake_model(tmp_path / "base")
    folder = settings.data_dir / "tuned" / tune_key(PAIRS, model_identity(base), Recipe())
    folder.mkdir(parents=True)
    (folder / DONE_FILE).write_text("{}", encoding="utf-8")
    # Model loading is forbidden in unit tests: training would raise.
    result = tune(settings, base=base, pairs=PAIRS)
    assert not result.trained and result.folder == folder
    assert "nothing to do" in result.lines()[0]


def test_an_interrupted_folder_is_trained_again(settings: Settings, tmp_path: Path) -> None:
    base = fake_model(tmp_path / "base")
    (settings.data_dir / "tuned" / tune_key(PAIRS, model_identity(base), Recipe())).mkdir(parents=True)
    with pytest.raises(RuntimeError, match="forbidden"):  # it tries to train: no tuned.json there
        tune(settings, base=base, pairs=PAIRS)


@pytest.mark.parametrize(("env", "message"), [
    pytest.param({"embedding_backend": "sentence-transformers", "embedding_model": "/nonexistent/model"},
                 "is not a folder", id="missing-folder"),
])
def test_bad_base_folder(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        base_model_path(load_settings(**env))


def test_a_folder_that_is_no_model(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="not a sentence-transformers folder"):
        model_identity(tmp_path / "empty")


def test_cli_reports_a_missing_bank_in_one_line(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (settings.corpus_dir / "questions.yaml").unlink()
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(settings.corpus_dir))
    assert main(["tune"]) == 2
    assert "no question bank" in capsys.readouterr().err


@pytest.mark.integration
def test_tuning_ranks_a_bank_questions_section_higher(tmp_path: Path, corpus_copy: Path) -> None:
    """A tiny bank, one epoch: the tuned model puts a trained question nearer its section's passage
    (relative to the other sections' passages) than the base model did; a second run is a no-op."""
    import numpy as np

    from assistant.embeddings import SentenceTransformerEmbeddings

    bank = yaml.safe_load((corpus_copy / "questions.yaml").read_text(encoding="utf-8"))
    by_section: dict[str, dict[str, str]] = {}
    for entry in bank:
        by_section.setdefault(entry["section"], entry)
    tiny = list(by_section.values())[:8]
    (corpus_copy / "questions.yaml").write_text(yaml.safe_dump(tiny), encoding="utf-8")
    settings = load_settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy,
                             embedding_backend="sentence-transformers")
    pairs, _ = training_pairs(settings)
    recipe = Recipe(epochs=1, batch_size=8, learning_rate=1e-4)
    result = tune(settings, recipe=recipe)
    assert result.trained and (result.folder / DONE_FILE).exists()
    assert json.loads((result.folder / DONE_FILE).read_text())["pairs"] == len(pairs)

    def margin(embedder: SentenceTransformerEmbeddings) -> float:
        """Mean over the bank: cosine to its own section's passages minus the best other section's."""
        passages = sorted({(p.section, p.passage) for p in pairs})
        vectors = np.asarray(embedder.embed_documents([text for _, text in passages]))
        margins = []
        for entry in tiny:
            sims = vectors @ np.asarray(embedder.embed_query(entry["question"]))
            own = [s for (sec, _), s in zip(passages, sims, strict=True) if sec == (entry["page"], entry["section"])]
            other = [s for (sec, _), s in zip(passages, sims, strict=True) if sec != (entry["page"], entry["section"])]
            margins.append(max(own) - max(other))
        return float(np.mean(margins))

    tuned = SentenceTransformerEmbeddings(str(result.folder))
    assert tuned.name != SentenceTransformerEmbeddings().name
    assert margin(tuned) > margin(SentenceTransformerEmbeddings())
    assert not tune(settings, recipe=recipe).trained
