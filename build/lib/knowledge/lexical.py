"""BM25 keyword search over chunks, the lexical half of hybrid retrieval."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
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
        self.vocabulary = {w for c in self.chunks
                           for w in re.findall(r"[a-z0-9]+", f"{c.title} {c.text}".lower())}
        # Candidates for spelling correction, bucketed by first letter to keep look-ups fast.
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for word in self.vocabulary:
            if len(word) >= 4 and word.isalpha():
                self._by_initial[word[0]].append(word)

    def correct(self, query: str) -> str:
        """Replace words that appear nowhere in the notes by the closest word that does.

        Learners type fast ("gradiant boosting", "adaptaion"); a misspelt word matches nothing
        in BM25 and drifts in embedding space. Only words of 5+ letters are touched, and only
        when a close match (similarity ≥ 0.8) exists, so real rare words survive.
        """
        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            low = word.lower()
            if len(low) < 5 or low in self.vocabulary or not low.isalpha():
                return word
            close = difflib.get_close_matches(low, self._by_initial.get(low[0], []), n=1,
                                              cutoff=0.8)
            return close[0] if close else word
        return re.sub(r"[A-Za-z]+", fix, query)

    def search(self, query: str, k: int,
               allowed: set[str] | None = None) -> list[tuple[Chunk, float]]:
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
