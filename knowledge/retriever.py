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
        return [(self.chunks[i], score) for i, score in hits if i in self.chunks]

    def _candidates(self, query: str, n: int, mode: Mode, note_ids: Sequence[str] | None,
                    domain: str | None) -> list[tuple[float, list[tuple[Chunk, float]]]]:
        """(fusion weight, ranked chunks) from each retriever the mode asks for."""
        lists = []
        if mode in ("hybrid", "dense"):
            lists.append((DENSE_WEIGHT, self.dense(query, n, note_ids, domain)))
        if mode in ("hybrid", "lexical"):
            lists.append((1.0, self.lexical.search(query, n, self._allowed(note_ids, domain))))
        return lists

    def search(self, query: str, k: int = 5, *, note_ids: Sequence[str] | None = None,
               domain: str | None = None, mode: Mode = "hybrid") -> list[Passage]:
        """Top-k passages for a query; `note_ids`/`domain` restrict the search."""
        query = self.lexical.correct(query.strip())
        if not query:
            return []
        lists = self._candidates(query, max(k, self.candidates), mode, note_ids, domain)
        fused = _rrf([(w, [c.id for c, _ in ranked]) for w, ranked in lists])
        return [Passage(chunk=self.chunks[cid], score=score) for cid, score in fused[:k]]

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
        lists = self._candidates(query, max(4 * k, self.candidates), mode, None, domain)
        return _rrf([(w, _notes_in_order(ranked)) for w, ranked in lists])[:k]


def _rrf(rankings: list[tuple[float, list[str]]]) -> list[tuple[str, float]]:
    """Weighted reciprocal rank fusion of ranked id lists, best first."""
    fused: dict[str, float] = defaultdict(float)
    for weight, ranking in rankings:
        for rank, key in enumerate(ranking):
            fused[key] += weight / (RRF_K + rank + 1)
    return sorted(fused.items(), key=lambda kv: -kv[1])


def _notes_in_order(hits: list[tuple[Chunk, float]]) -> list[str]:
    """Note ids in the order of their best chunk."""
    return list(dict.fromkeys(chunk.note_id for chunk, _ in hits))
