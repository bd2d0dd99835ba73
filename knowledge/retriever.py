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
# Dense counts half as much as BM25 in the fusion: on this technical vocabulary keyword matches
# are the stronger signal, and MiniLM mainly rescues paraphrases that share no words with a note.
DENSE_WEIGHT = 0.5


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
        query = self.lexical.correct(query.strip())
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
        for weight, ranked in zip((DENSE_WEIGHT, 1.0), lists, strict=True):
            for rank, (chunk, _) in enumerate(ranked):
                fused[chunk.id] += weight / (RRF_K + rank + 1)
        best = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
        return [Passage(chunk=self.chunks[cid], score=score) for cid, score in best]

    def rank_notes(self, query: str, k: int = 3, mode: Mode = "hybrid",
                   domain: str | None = None) -> list[tuple[str, float]]:
        """Notes ranked for a query.

        Each retriever first ranks notes by their best chunk; hybrid then fuses the two note
        rankings with RRF. Fusing at note level lets a note that both retrievers like win even
        when they liked different chunks of it.
        """
        query = self.lexical.correct(query.strip())
        if not query:
            return []
        n = max(4 * k, self.candidates)
        rankings: list[tuple[float, list[str]]] = []
        if mode in ("hybrid", "dense"):
            rankings.append((DENSE_WEIGHT, _notes_in_order(self.dense(query, n, domain=domain))))
        if mode in ("hybrid", "lexical"):
            rankings.append((1.0, _notes_in_order(
                self.lexical.search(query, n, self._allowed(None, domain)))))
        fused: dict[str, float] = defaultdict(float)
        for weight, ranking in rankings:
            for rank, note_id in enumerate(ranking):
                fused[note_id] += weight / (RRF_K + rank + 1)
        return sorted(fused.items(), key=lambda kv: -kv[1])[:k]


def _notes_in_order(hits: list[tuple[Chunk, float]]) -> list[str]:
    """Note ids in the order of their best chunk."""
    return list(dict.fromkeys(chunk.note_id for chunk, _ in hits))
