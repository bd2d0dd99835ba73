"""Hybrid retrieval: dense (Chroma + MiniLM) and BM25, fused by reciprocal rank fusion."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from knowledge.chunking import Chunk
from knowledge.index import VectorIndex
from knowledge.lexical import LexicalIndex

Mode = Literal["hybrid", "dense", "lexical"]
RRF_K = 60  # the constant from Cormack et al.; damps the influence of any single list's top ranks


class Passage(BaseModel):
    """A retrieved chunk and its fused score."""

    chunk: Chunk
    score: float


class Retriever:
    """Searches the curriculum chunks by meaning and by keywords, with topic/domain filters."""

    def __init__(self, chunks: Sequence[Chunk], index: VectorIndex, candidates: int = 30) -> None:
        self.chunks = {c.id: c for c in chunks}
        self.index = index
        self.lexical = LexicalIndex(chunks)
        self.candidates = candidates

    def _allowed(self, note_ids: Sequence[str] | None, domain: str | None) -> set[str] | None:
        if note_ids is None and domain is None:
            return None
        return {cid for cid, c in self.chunks.items()
                if (note_ids is None or c.note_id in note_ids)
                and (domain is None or c.domain == domain)}

    def dense(self, query: str, k: int, note_ids: Sequence[str] | None = None,
              domain: str | None = None) -> list[tuple[Chunk, float]]:
        """Nearest chunks by cosine similarity of MiniLM embeddings."""
        where: dict | None = None
        conditions = []
        if note_ids is not None:
            conditions.append({"note_id": {"$in": list(note_ids)}})
        if domain is not None:
            conditions.append({"domain": domain})
        if len(conditions) == 1:
            where = conditions[0]
        elif conditions:
            where = {"$and": conditions}
        vector = self.index.embedder.embed([query])[0]
        hits = self.index.search(vector, k, where=where)
        return [(self.chunks[i], score) for i, score, _, _ in hits if i in self.chunks]

    def search(self, query: str, k: int = 5, *, note_ids: Sequence[str] | None = None,
               domain: str | None = None, mode: Mode = "hybrid") -> list[Passage]:
        """Top-k passages for a query; `note_ids`/`domain` restrict the search."""
        query = query.strip()
        if not query:
            return []
        n = max(k, self.candidates)
        lists: list[list[tuple[Chunk, float]]] = []
        if mode in ("hybrid", "dense"):
            lists.append(self.dense(query, n, note_ids, domain))
        if mode in ("hybrid", "lexical"):
            lists.append(self.lexical.search(query, n, self._allowed(note_ids, domain)))
        if mode != "hybrid":
            return [Passage(chunk=c, score=s) for c, s in lists[0][:k]]
        fused: dict[str, float] = defaultdict(float)
        for ranked in lists:
            for rank, (chunk, _) in enumerate(ranked):
                fused[chunk.id] += 1.0 / (RRF_K + rank + 1)
        best = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
        return [Passage(chunk=self.chunks[cid], score=score) for cid, score in best]

    def rank_notes(self, query: str, k: int = 3, mode: Mode = "hybrid",
                   domain: str | None = None) -> list[tuple[str, float]]:
        """Notes ranked for a query: each note scored by its best chunk."""
        best: dict[str, float] = {}
        for p in self.search(query, k=max(10, 4 * k), mode=mode, domain=domain):
            best.setdefault(p.chunk.note_id, p.score)
        return sorted(best.items(), key=lambda kv: -kv[1])[:k]
