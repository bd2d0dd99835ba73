"""Grading answers that were saved but never graded.

An answer is stored before it is graded (`nodes.record`), so when grading fails — a bug, a
broken index, an engine error the Claude fallback did not catch — the answer survives as
"ungraded". This module grades such answers on the learner's next turn, records the grade and
schedules the topic as if it had been graded on time, and tells the learner. Each answer gets
one try per process run: a failure that repeats is not retried on every message (it is tried
again after a restart, e.g. once the fault is fixed and deployed).
"""

from __future__ import annotations

import logging

from agents.events import Event
from agents.schemas import QuizQuestion
from agents.state import Deps

log = logging.getLogger(__name__)

PER_TURN = 3
"""Saved answers graded before one message is handled, oldest first (keeps a turn short)."""


async def grade_saved_answers(deps: Deps, learner_id: int, tried: set[int]) -> list[Event]:
    """Grade up to PER_TURN of the learner's ungraded answers not in `tried`.

    Args:
        deps: the tutor's dependencies (engine, retriever, catalog, store, clock).
        learner_id: whose answers.
        tried: attempt ids already tried in this process; updated in place.

    Returns:
        One notice per answer graded now (its question, score and main gaps); nothing for an
        answer that failed again — it stays saved and ungraded, with the error noted.
    """
    events: list[Event] = []
    pending = sorted((a for a in deps.store.ungraded_attempts(learner_id) if a.id not in tried),
                     key=lambda a: a.id)
    for attempt in pending[:PER_TURN]:
        tried.add(attempt.id)
        note = deps.catalog.by_id.get(attempt.note_id)
        question = QuizQuestion(note_id=attempt.note_id, question_id=attempt.question_id,
                                prompt=attempt.question, reference_answer=attempt.reference_answer,
                                key_points=attempt.key_points, is_review=attempt.is_review)
        try:
            passages = deps.retriever.search(question.prompt, k=3, note_ids=[attempt.note_id])
            result = await deps.engine.grade(question, attempt.answer, note, passages)
        except Exception as exc:  # still saved; noted for whoever looks at the store
            log.exception("late grading failed for attempt %s", attempt.id)
            deps.store.record_grading_error(attempt.id, f"{type(exc).__name__}: {exc}")
            continue
        now = deps.clock()
        deps.store.record_grade(attempt.id, result.model_dump(), now)
        deps.store.review(learner_id, attempt.note_id, result.score, now,
                          confidence=result.confidence)
        gaps = f" Gaps: {'; '.join(result.gaps[:2])}." if result.gaps else ""
        events.append(Event(
            kind="notice",
            text=f"Your earlier answer to \"{_short(attempt.question)}\" could not be graded at "
                 f"the time; it is now: {result.score:.0f}/100.{gaps}",
            data={"attempt_id": attempt.id, "grade": result.model_dump()}))
    return events


def _short(text: str, limit: int = 80) -> str:
    """The question cut to `limit` characters at a word boundary."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
