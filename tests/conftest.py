"""Shared fixtures: the real local embedder and curriculum index (built once), a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.wiring import build_knowledge
from knowledge.embeddings import MiniLMEmbedder


class FakeClock:
    """A controllable UTC clock."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        """Move time forward, e.g. advance(days=1)."""
        self.now += timedelta(**kwargs)


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """The real all-MiniLM-L6-v2, loaded once per test run."""
    model = MiniLMEmbedder()
    model.load()
    return model


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    """A Chroma directory holding the curriculum, embedded once per test run."""
    return tmp_path_factory.mktemp("chroma")


@pytest.fixture(scope="session")
def knowledge(embedder, index_dir):
    """Catalog, retriever and topic resolver over the real curriculum."""
    settings = Settings(TUTOR_DATA_DIR=index_dir.parent, TUTOR_CHROMA=str(index_dir))
    return build_knowledge(settings, embedder, progress=False)


@pytest.fixture
def clock() -> FakeClock:
    """A fresh fake clock."""
    return FakeClock()


@pytest.fixture
def settings(tmp_path, index_dir, monkeypatch) -> Settings:
    """Offline settings with a private data dir and the shared curriculum index."""
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "TELEGRAM_BOT_TOKEN",
                "TUTOR_DATABASE_URL", "TUTOR_NOTES_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return Settings(TUTOR_DATA_DIR=tmp_path / "data", TUTOR_CHROMA=str(index_dir))


@pytest.fixture
def open_test_tutor(settings, clock, embedder):
    """Open a Tutor on the test settings, the fake clock and the shared model."""
    from bot.wiring import open_tutor

    return lambda: open_tutor(settings, clock=clock, embedder=embedder, progress=False)
