"""The assistant's small error tree.

    AssistantError               anything the CLI turns into one line and an exit status (cli.EXIT_CODES)
     ├── ConfigError             a setting has an unusable value (names the setting)
     ├── CorpusError             a corpus or raw page file cannot be read or parsed
     ├── IndexNotBuilt           no complete index yet (says how to build it)
     ├── IndexUnavailable        the index is there but can't be reached (Chroma server down, slow, not Chroma)
     │    └── GenerationGone     the generation being read was removed (another ingest replaced it)
     ├── StoreUnusable           the embedded store can't be written or read (read-only, full, uncreatable)
     │    └── StoreCorrupt       the embedded store's files are damaged (`ingest --rebuild` builds a fresh one)
     ├── IngestRunning           another ingest holds the writer lock (or the server's writer lease)
     ├── EmbedderMismatch        the index was built by another embedding model than the one asking
     ├── InvalidQuestion         empty or invisible-only, too long, control or direction characters, not UTF-8
     ├── RuleBookError           corpus/rules.yaml or concepts.yaml is malformed or contradicts itself
     ├── RuleSourceMissing       a rule's page section or quote is no longer in the index (names the rule)
     ├── EvalSetError            an eval case file is malformed (names file, case and key)
     ├── InvalidFeedback         feedback or a trainer's resolution can't be stored as given (names the field)
     └── DatabaseUnavailable     the database can't be reached or brought up to date (names the URL, no password)

A guardrail override is never an exception: it is a `Verdict` inside the `Answer`.
"""


class AssistantError(Exception):
    """Base class: an error the user can act on, shown as one line."""


class ConfigError(AssistantError):
    pass


class CorpusError(AssistantError):
    pass


class IndexNotBuilt(AssistantError):
    def __init__(self, detail: str = "") -> None:
        hint = "no index has been built yet; run `assistant ingest` (or `make run`) first"
        super().__init__(f"{hint} ({detail})" if detail else hint)


class IndexUnavailable(AssistantError):
    pass


class GenerationGone(IndexUnavailable):
    """Readers reload the pointer and retry once on this; only a second miss reaches the user."""


class StoreUnusable(AssistantError):
    pass


class StoreCorrupt(StoreUnusable):
    pass


class IngestRunning(AssistantError):
    pass


class EmbedderMismatch(AssistantError):
    """Vectors of two models are not comparable (and may even share a dimension): never query across."""

    def __init__(self, index_embedder: str, query_embedder: str) -> None:
        super().__init__(f"the index was built with {index_embedder}, but questions are embedded with "
                         f"{query_embedder}; run `assistant ingest --rebuild` with the embedding settings "
                         "you mean to use")
        self.index_embedder, self.query_embedder = index_embedder, query_embedder


class InvalidQuestion(AssistantError):
    pass


class RuleBookError(AssistantError):
    pass


class RuleSourceMissing(AssistantError):
    pass


class EvalSetError(AssistantError):
    pass


class InvalidFeedback(AssistantError):
    """Raised before anything is written: bad rating, over-long or unencodable text, unknown id."""


class DatabaseUnavailable(AssistantError):
    pass
