from __future__ import annotations

import pytest

from assistant.fakes import FakeEmbeddings
from assistant.rules import Engine, default_book


@pytest.fixture(scope="session")
def voting() -> Engine:
    """The project's rules voting with the fake embedder, warmed up once (embedding every example
    takes a few seconds with the fake's 8,192 dimensions)."""
    engine = Engine(default_book(), FakeEmbeddings())
    engine.warm_up()
    return engine
