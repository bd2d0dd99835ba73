"""Hybrid retrieval: dense (Chroma + MiniLM) and BM25, fused by reciprocal rank fusion."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from knowledge.chunking import Chunk
from knowledge.index import VectorIndex
from knowledge.learner_notes import LearnerNotes
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

    def __init__(self, chunks: Sequence[Chunk], index: VectorIndex, candidates: int = 30,
                 learner_notes: LearnerNotes | None = None) -> None:
        self.chunks = {c.id: c for c in chunks}
        self.index = index
        self.learner_notes = learner_notes
        # Per learner: (version of their notes, their chunks by id, BM25 over curriculum + them)
        self._mine: dict[str, tuple[frozenset, dict[str, Chunk], LexicalIndex]] = {}
        self.lexical = LexicalIndex(chunks)
        self.candidates = candidates

    def _allowed(self, note_ids: Sequence[str] | None, domain: str | None) -> set[str] | None:
        if note_ids is None and domain is None:
            return None
        return {cid for cid, c in self.chunks.items()
                if (note_ids is None or c.note_id in note_ids)
                and (domain is None or c.domain == domain)}

    def _with_learner(self, learner: str) -> tuple[dict[str, Chunk], LexicalIndex] | None:
        """The learner's chunks and a BM25 index over the curriculum plus them (cached).

        One index over both keeps BM25 scores comparable (shared IDF), so the learner's notes
        compete with the curriculum on relevance instead of each corpus's top hit tying.
        """
        if self.learner_notes is None:
            return None
        version = self.learner_notes.version(learner)
        if not version:
            return None
        cached = self._mine.get(learner)
        if cached is None or cached[0] != version:
            mine = {c.id: c for c in self.learner_notes.chunks(learner)}
            cached = (version, mine, LexicalIndex([*self.chunks.values(), *mine.values()]))
            self._mine[learner] = cached
        return cached[1], cached[2]

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
                    domain: str | None, learner: str | None = None,
                    ) -> list[tuple[float, list[tuple[Chunk, float]]]]:
        """(fusion weight, ranked chunks) from each retriever the mode asks for.

        With `learner` (and no filter), both rankings also cover that learner's own notes.
        """
        mine = self._with_learner(learner) if learner and not note_ids and not domain else None
        lists = []
        if mode in ("hybrid", "dense"):
            hits = self.dense(query, n, note_ids, domain)
            if mine:  # same embedder in both collections: cosine scores compare directly
                vector = self.index.embedder.embed([query])[0]
                hits += [(mine[0][i], s) for i, s in self.learner_notes.dense(vector, learner, n)
                         if i in mine[0]]
                hits = sorted(hits, key=lambda h: -h[1])[:n]
            lists.append((DENSE_WEIGHT, hits))
        if mode in ("hybrid", "lexical"):
            lexical = mine[1] if mine else self.lexical
            lists.append((1.0, lexical.search(query, n, self._allowed(note_ids, domain))))
        return lists

    def search(self, query: str, k: int = 5, *, note_ids: Sequence[str] | None = None,
               domain: str | None = None, mode: Mode = "hybrid",
               learner: str | None = None) -> list[Passage]:
        """Top-k passages for a query; `note_ids`/`domain` restrict the search.

        With `learner`, an unrestricted hybrid search also covers that learner's own notes.
        """
        query = self.lexical.correct(query.strip())
        if not query:
            return []
        lists = self._candidates(query, max(k, self.candidates), mode, note_ids, domain, learner)
        found = {c.id: c for _, ranked in lists for c, _ in ranked}
        fused = _rrf([(w, [c.id for c, _ in ranked]) for w, ranked in lists])
        return [Passage(chunk=found[cid], score=score) for cid, score in fused[:k]]

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
