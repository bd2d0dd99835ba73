"""The offline engine: a real tutor without an LLM, built from the notes themselves."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator, Collection, Sequence

from agents.grading.offline import OfflineGrader
from agents.schemas import Grade, QuizQuestion
from knowledge.catalog import Note
from knowledge.chunking import FRONT_MATTER_HEADINGS
from knowledge.retriever import Passage

_DIFFICULTY_ORDER = {"easy": 0, "medium": 1, "hard": 2}


class OfflineEngine:
    """Teaches from the note's sections, asks bank questions, grades with the rubric grader."""

    mode = "offline"

    def __init__(self, grader: OfflineGrader, rng: random.Random | None = None) -> None:
        self.grader = grader
        self.rng = rng or random.Random(7)

    def describe(self) -> str:
        """One line for the learner."""
        return ("Offline mode: teaching from the curriculum notes and grading with the local "
                "rubric grader (set ANTHROPIC_API_KEY to use Claude).")

    async def teach(self, note: Note, passages: Sequence[Passage],
                    request: str) -> AsyncIterator[str]:
        """The note's intuition and mechanism, its key points, and where it came from."""
        intuition = note.section("Intuition")
        how = note.section("How it works")
        parts = [f"{note.title}\n"]
        if intuition:
            parts.append(intuition + "\n")
        if how:
            parts.append("How it works\n" + how + "\n")
        if not intuition and not how:  # a note without the usual sections: use the best passages
            parts.extend(p.chunk.text + "\n" for p in passages[:3])
        parts.append("Key points\n" + "\n".join(f"• {k}" for k in note.key_points) + "\n")
        if note.misconceptions:
            parts.append("Watch out for\n" + "\n".join(f"• {m}" for m in note.misconceptions[:3])
                         + "\n")
        parts.append(f"Source: {note.title} [{note.id}]. Say \"quiz me\" to test yourself.")
        for part in parts:
            yield part + "\n"

    async def answer(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]:
        """The passages that best answer the question, each with its source."""
        if not passages:
            yield ("I couldn't find that in the notes. Try \"topics\" to see what I cover, or "
                   "ask about a specific concept.")
            return
        # Overview chunks (key-point lists) help retrieval but read badly as an answer.
        body = [p for p in passages if p.chunk.heading not in FRONT_MATTER_HEADINGS] or list(
            passages)
        best = body[0]
        yield f"From the notes — {best.chunk.title}:\n\n{best.chunk.text}\n\n"
        more = (f" Say \"teach me {best.chunk.note_id}\" for the lesson."
                if best.chunk.source == "curriculum" else "")
        yield f"(Source: {best.chunk.label}.{more})"

    async def explain_gaps(self, note: Note, gaps: Sequence[str], answer: str,
                           passages: Sequence[Passage]) -> AsyncIterator[str]:
        """Each missed point with the note's passage that best explains it."""
        yield f"What your answer missed on {note.title}:\n\n"
        for i, gap in enumerate(gaps):
            yield f"**{gap}**\n"
            if i < len(passages):
                # A chunk holds several paragraphs: show the one that speaks to this gap.
                paragraphs = [p.strip() for p in passages[i].chunk.text.split("\n\n") if p.strip()]
                words = _content_words(gap)
                text = max(paragraphs, key=lambda p: len(words & _content_words(p)))
                yield (text if len(text) <= 700 else text[:700].rsplit(" ", 1)[0] + " …") + "\n"
            yield "\n"
        yield f"(Source: {note.title}. Say \"quiz me on {note.title}\" to try again.)"

    async def make_question(self, note: Note, passages: Sequence[Passage],
                            asked: Collection[str], about: str = "") -> QuizQuestion:
        """The easiest bank question not yet asked — among them, those about `about` first
        ("quiz me on dropout" lands on the regularization note: ask its dropout question).
        Once all were asked, the least recently asked comes back when `asked` is a sequence
        ordered least recent first; a set says nothing about recency, so then one is drawn at
        random."""
        fresh = [q for q in note.questions if q.id not in asked]
        if fresh:
            words = _content_words(about)
            q = min(fresh, key=lambda q: (-len(words & _content_words(
                q.prompt + " " + " ".join(q.key_points))), _DIFFICULTY_ORDER[q.difficulty]))
        elif isinstance(asked, Sequence):
            rank = {qid: i for i, qid in enumerate(asked)}
            q = min(note.questions, key=lambda q: rank.get(q.id, -1))
        else:
            q = self.rng.choice(note.questions)
        return QuizQuestion(note_id=note.id, question_id=q.id, prompt=q.prompt,
                            reference_answer=q.reference_answer, key_points=q.key_points,
                            difficulty=q.difficulty)

    async def grade(self, question: QuizQuestion, answer: str, note: Note | None,
                    passages: Sequence[Passage]) -> Grade:
        """Rubric grade of the answer."""
        return self.grader.grade(question.prompt, question.reference_answer, question.key_points,
                                 answer, note.misconceptions if note else ())

    async def dispute(self, question: QuizQuestion, answer: str, note: Note | None,
                      passages: Sequence[Passage], previous: Grade, argument: str) -> Grade:
        """Reconsider a grade in the light of the learner's argument."""
        return self.grader.reconsider(question.prompt, question.reference_answer,
                                      question.key_points, answer, previous, argument)


_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "a", "an", "of", "in", "on", "and", "or", "to", "for", "is", "me", "vs"}


def _content_words(text: str) -> set[str]:
    """Lower-case words of 3+ letters (a crude stem: the first six), minus filler words."""
    return {w[:6] for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _STOP}
