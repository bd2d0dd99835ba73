"""Build the whole tutor from Settings: knowledge index, engine, store, graph."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agents.claude import ClaudeEngine
from agents.grading.offline import OfflineGrader
from agents.graph import build_graph
from agents.llm import TutorEngine
from agents.offline_engine import OfflineEngine
from agents.service import Tutor
from agents.state import Deps
from bot.settings import Settings
from knowledge.catalog import Catalog, load_catalog
from knowledge.chunking import chunk_note
from knowledge.embeddings import Embedder, MiniLMEmbedder
from knowledge.index import (
    CURRICULUM_COLLECTION,
    LEARNER_COLLECTION,
    SyncReport,
    VectorIndex,
    make_client,
)
from knowledge.learner_notes import LearnerNotes
from knowledge.retriever import Retriever
from knowledge.topics import TopicResolver
from state.store import Store


def utcnow() -> datetime:
    """The real clock (UTC, timezone-aware)."""
    return datetime.now(UTC)


@dataclass
class Knowledge:
    """The curriculum and the means to search it."""

    catalog: Catalog
    retriever: Retriever
    resolver: TopicResolver
    report: SyncReport


def build_knowledge(settings: Settings, embedder: Embedder, progress: bool = True) -> Knowledge:
    """Load the notes and bring the vector index up to date (only changed chunks are embedded)."""
    catalog = load_catalog(settings.notes_dir) if settings.notes_dir else load_catalog()
    chunks = [c for note in catalog.notes for c in chunk_note(note)]
    client = make_client(settings.chroma_location)
    index = VectorIndex(client, embedder, CURRICULUM_COLLECTION)
    report = index.sync(chunks, progress=progress)
    learner_notes = LearnerNotes(VectorIndex(client, embedder, LEARNER_COLLECTION))
    retriever = Retriever(chunks, index, learner_notes=learner_notes)
    return Knowledge(catalog, retriever, TopicResolver(catalog, retriever), report)


def build_engine(settings: Settings, embedder: Embedder) -> TutorEngine:
    """Claude when an API key is set, otherwise the offline engine."""
    offline = OfflineEngine(OfflineGrader(embedder))
    if not settings.claude_enabled:
        return offline
    import anthropic

    client = anthropic.AsyncAnthropic(
        api_key=settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url, timeout=settings.llm_timeout_s, max_retries=2)
    return ClaudeEngine(client, settings.claude_model, settings.claude_grader_model, offline)


@asynccontextmanager
async def open_tutor(settings: Settings, *, clock: Callable[[], datetime] = utcnow,
                     embedder: Embedder | None = None, engine: TutorEngine | None = None,
                     progress: bool = True) -> AsyncIterator[Tutor]:
    """A ready Tutor; closes the checkpointer on exit."""
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    settings.ensure_dirs()
    if embedder is None:
        embedder = MiniLMEmbedder()
        # Load the model while the learner reads the banner, not on their first message.
        threading.Thread(target=embedder.load, name="model-warm-up", daemon=True).start()
    knowledge = build_knowledge(settings, embedder, progress=progress)
    store = Store(settings.resolved_database_url,
                  session_idle=timedelta(minutes=settings.session_idle_minutes),
                  scheduler=settings.scheduler)
    deps = Deps(engine=engine or build_engine(settings, embedder), retriever=knowledge.retriever,
                resolver=knowledge.resolver, catalog=knowledge.catalog, store=store, clock=clock,
                daily_review_cap=settings.daily_review_cap)
    async with AsyncSqliteSaver.from_conn_string(str(settings.checkpoint_path)) as saver:
        yield Tutor(deps, build_graph(saver), max_chars=settings.max_message_chars)
    store.engine.dispose()
