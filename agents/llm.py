"""The one boundary every node talks to: a tutor engine (Claude, or the offline engine)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from typing import Protocol

from agents.schemas import Grade, QuizQuestion
from knowledge.catalog import Note
from knowledge.retriever import Passage


class TutorEngine(Protocol):
    """What the workflow needs from a language model. Two implementations: Claude and offline."""

    mode: str
    """"claude" or "offline"."""

    def describe(self) -> str:
        """One line for the learner saying which engine is active."""
        ...

    def teach(self, note: Note, passages: Sequence[Passage], request: str) -> AsyncIterator[str]:
        """Stream an explanation of the note's topic grounded in the passages."""
        ...

    def answer(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]:
        """Stream an answer to a free question from the passages."""
        ...

    def explain_gaps(self, note: Note, gaps: Sequence[str], answer: str,
                     passages: Sequence[Passage]) -> AsyncIterator[str]:
        """Stream an explanation of the key points an answer missed; `passages[i]` is the
        note's best passage for `gaps[i]` (or fewer passages when none matched)."""
        ...

    async def make_question(self, note: Note, passages: Sequence[Passage],
                            asked: Collection[str], about: str = "") -> QuizQuestion:
        """A quiz question on the note, avoiding question ids in `asked` where possible
        (`asked` is ordered least recently asked first) and preferring questions about
        `about`, the topic as the learner named it."""
        ...

    async def grade(self, question: QuizQuestion, answer: str, note: Note | None,
                    passages: Sequence[Passage]) -> Grade:
        """Grade a free-text answer against the question's key points."""
        ...

    async def dispute(self, question: QuizQuestion, answer: str, note: Note | None,
                      passages: Sequence[Passage], previous: Grade, argument: str) -> Grade:
        """Re-grade after the learner argues `previous` is wrong; the feedback explains why."""
        ...
