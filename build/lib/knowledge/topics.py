"""Resolve the loose topic names learners type ("batchnorm", "adam vs sgd") to note ids."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from knowledge.catalog import Catalog
from knowledge.retriever import Retriever

_FILLER = re.compile(r"\b(the|a|an|about|on|of|me|some|basics|topic|please|concept|"
                     r"concepts|how|works?|what|is|are)\b")


def normalize(name: str) -> str:
    """Lower-case, strip punctuation and filler words, collapse spaces."""
    name = name.lower().replace("&", " and ")
    name = re.sub(r"[^a-z0-9+]+", " ", name)
    name = _FILLER.sub(" ", name)
    return re.sub(r"\s+", " ", name).strip()


@dataclass
class Resolution:
    """The outcome of resolving a topic name."""

    note_id: str | None
    confidence: float
    suggestions: list[str] = field(default_factory=list)


class TopicResolver:
    """Exact names first, then fuzzy spelling, then retrieval over the notes."""

    def __init__(self, catalog: Catalog, retriever: Retriever) -> None:
        self.catalog = catalog
        self.retriever = retriever
        self.names: dict[str, str] = {}
        for note in catalog.notes:
            title = note.title.split(":")[0]
            for name in [note.id, note.id.replace("-", " "), note.title, title, *note.aliases]:
                key = normalize(name)
                if key:
                    self.names.setdefault(key, note.id)
                    self.names.setdefault(key.replace(" ", ""), note.id)

    def resolve(self, text: str) -> Resolution:
        """Best note for `text`, with up to three suggestions when unsure."""
        key = normalize(text)
        if not key:
            return Resolution(None, 0.0)
        for candidate in (key, key.replace(" ", "")):
            if candidate in self.names:
                return Resolution(self.names[candidate], 1.0)
        close = difflib.get_close_matches(key, list(self.names), n=1, cutoff=0.88)
        if close:
            return Resolution(self.names[close[0]], 0.9)
        ranked = self.retriever.rank_notes(text, k=3)
        if not ranked:
            return Resolution(None, 0.0)
        top_id, top = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        # RRF scores are rank-based: a clear margin means both retrievers agree on the top note.
        margin = (top - runner_up) / top if top else 0.0
        confident = margin > 0.12 or (len(key.split()) >= 2 and margin > 0.04)
        suggestions = [n for n, _ in ranked]
        return Resolution(top_id if confident else None, round(0.5 + margin, 2), suggestions)
