"""BM25 keyword search over chunks, the lexical half of hybrid retrieval."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rank_bm25 import BM25Okapi

from knowledge.chunking import Chunk
from knowledge.text import tokens


class LexicalIndex:
    """In-memory BM25 over chunk texts (titles and headings weigh in as extra text)."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = list(chunks)
        corpus = [tokens(f"{c.title} {c.title} {c.heading} {c.text}") for c in self.chunks]
        self._bm25 = BM25Okapi(corpus) if corpus else None

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[Chunk, float]]:
        """Top-k chunks by BM25 score; `allowed` restricts to those chunk ids."""
        q = tokens(query)
        if not q or self._bm25 is None:
            return []
        scores = self._bm25.get_scores(q)
        order = np.argsort(-scores)
        out: list[tuple[Chunk, float]] = []
        for i in order:
            if scores[i] <= 0:
                break
            chunk = self.chunks[i]
            if allowed is None or chunk.id in allowed:
                out.append((chunk, float(scores[i])))
                if len(out) == k:
                    break
        return out
