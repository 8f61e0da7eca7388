"""`python -m tests.fake_cli ARGS…`: the real CLI in a real process, embedding with `FakeEmbeddings`.

For tests that need several real processes (concurrent ingests, an ingest under a serving app)
without loading the real model in each. `FAKE_EMBED_DELAY` (seconds) slows every embedding batch,
so a test can kill an ingest while it writes.
"""

from __future__ import annotations

import os
import sys
import time

from assistant import cli
from assistant.fakes import FakeEmbeddings


class SlowFakeEmbeddings(FakeEmbeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        time.sleep(float(os.environ.get("FAKE_EMBED_DELAY", "0")))
        return super().embed_documents(texts)


if __name__ == "__main__":
    sys.exit(cli.main(make_embedder=lambda settings: SlowFakeEmbeddings()))
