"""The persistent vector index: chunks embedded locally and stored in Chroma."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

import chromadb
from tqdm import tqdm

from knowledge.chunking import Chunk
from knowledge.embeddings import Embedder

log = logging.getLogger(__name__)
CURRICULUM_COLLECTION = "curriculum"
LEARNER_COLLECTION = "learner-notes"


@dataclass
class SyncReport:
    """What an ingestion changed."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        """True when anything was written."""
        return bool(self.added or self.updated or self.removed)

    def __str__(self) -> str:
        return (f"{self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{self.unchanged} unchanged")


def make_client(location: str) -> chromadb.ClientAPI:
    """An on-disk Chroma for a path, or a Chroma server client for an http(s) URL."""
    settings = chromadb.Settings(anonymized_telemetry=False)
    if location.startswith(("http://", "https://")):
        url = urlparse(location)
        return chromadb.HttpClient(host=url.hostname or "localhost",
                                   port=url.port or (443 if url.scheme == "https" else 8000),
                                   ssl=url.scheme == "https", settings=settings)
    return chromadb.PersistentClient(path=location, settings=settings)


class VectorIndex:
    """One Chroma collection whose vectors we compute ourselves (Chroma never downloads a model)."""

    def __init__(self, client: chromadb.ClientAPI, embedder: Embedder, name: str) -> None:
        self.embedder = embedder
        self.collection = client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": embedder.name})

    def count(self) -> int:
        """Number of stored chunks."""
        return self.collection.count()

    def stored_hashes(self, where: dict | None = None) -> dict[str, str]:
        """Chunk id → content hash of what is stored."""
        got = self.collection.get(where=where, include=["metadatas"])
        return {i: (m or {}).get("hash", "") for i, m in zip(got["ids"], got["metadatas"] or [],
                                                               strict=False)}

    def sync(self, chunks: Sequence[Chunk], extra_metadata: dict | None = None,
             scope: dict | None = None, progress: bool = True, batch: int = 64) -> SyncReport:
        """Make the collection hold exactly `chunks` (within `scope`), embedding only changes.

        Unchanged chunks (same content hash) cost nothing: re-ingesting is a no-op.
        """
        stored = self.stored_hashes(where=scope)
        wanted = {c.id: c for c in chunks}
        todo = [c for c in chunks if stored.get(c.id) != c.content_hash]
        stale = [i for i in stored if i not in wanted]
        report = SyncReport(added=sum(1 for c in todo if c.id not in stored),
                            updated=sum(1 for c in todo if c.id in stored),
                            removed=len(stale), unchanged=len(chunks) - len(todo))
        if stale:
            self.collection.delete(ids=stale)
        bar = tqdm(total=len(todo), desc="Embedding notes", unit="chunk",
                   disable=not progress or not todo)
        for start in range(0, len(todo), batch):
            part = todo[start:start + batch]
            vectors = self.embedder.embed([c.embed_text for c in part])
            self.collection.upsert(
                ids=[c.id for c in part], embeddings=vectors.tolist(),
                documents=[c.text for c in part],
                metadatas=[{"note_id": c.note_id, "title": c.title, "domain": c.domain,
                            "heading": c.heading, "source": c.source, "hash": c.content_hash,
                            **(extra_metadata or {})} for c in part])
            bar.update(len(part))
        bar.close()
        return report

    def search(self, query_vector: Sequence[float], k: int,
               where: dict | None = None) -> list[tuple[str, float]]:
        """Nearest chunks as (id, cosine similarity), best first."""
        count = self.count()
        if count == 0:
            return []
        res = self.collection.query(query_embeddings=[[float(x) for x in query_vector]],
                                    n_results=min(k, count), where=where, include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]
