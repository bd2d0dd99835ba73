"""Nodes that follow up on graded work: due reviews, explaining gaps, and asides taken while a
question is pending (a dispute or a gap explanation must not throw away the pending question)."""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime

from agents import router
from agents.check import day_start, reviews_left
from agents.nodes import _emit, regrade
from agents.state import TurnContext, TutorState
from knowledge.chunking import FRONT_MATTER_HEADINGS


async def review_gate(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """/review: quiz the most overdue topic, or say when the next review is."""
    deps, learner_id = runtime.context.deps, runtime.context.learner_id
    now = deps.clock()
    due = [c for c in deps.store.due_cards(learner_id, now, limit=20)
           if c.note_id in deps.catalog.by_id]
    if not due:
        upcoming = sorted(deps.store.cards(learner_id), key=lambda c: c.due_at)
        when = (f" The next one is {deps.catalog.by_id[upcoming[0].note_id].title} on "
                f"{upcoming[0].due_at.date().isoformat()}."
                if upcoming and upcoming[0].note_id in deps.catalog.by_id else "")
        _emit(runtime, "notice", f"Nothing is due for review right now.{when} "
              "Say \"quiz me\" for a new question.")
        return {"intent": "", "topic_text": ""}
    answered = deps.store.review_attempts_since(learner_id, day_start(now))
    if reviews_left(deps.daily_review_cap, answered) == 0:
        _emit(runtime, "notice", f"That's today's {deps.daily_review_cap} review questions — "
              f"the {len(due)} due topic(s) wait until tomorrow, when they'll stick better "
              "anyway. Say \"quiz me\" for a new topic.")
        return {"intent": "", "topic_text": ""}
    _emit(runtime, "notice", f"{len(due)} topic(s) due for review; here's the first.",
          due=[c.note_id for c in due])
    return {"intent": "review", "topic_text": ""}  # pick_question: a review, whatever the mix


def after_review_gate(state: TutorState) -> Literal["pick_question", "__end__"]:
    """On to a question when something was due."""
    return "pick_question" if state.intent == "review" else "__end__"


async def explain_gaps(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Explain the key points the last graded answer missed, from the note's passages."""
    await _explain_last_gaps(runtime, state.last_attempt_id)
    return {}


async def _explain_last_gaps(runtime: Runtime[TurnContext], attempt_id: int | None) -> None:
    deps = runtime.context.deps
    if attempt_id is None:
        _emit(runtime, "notice", "There's no graded answer yet — answer a question first.")
        return
    attempt = deps.store.attempt(attempt_id)
    note = deps.catalog.by_id.get(attempt.note_id)
    if attempt.score is None or note is None:
        _emit(runtime, "notice", "That answer isn't graded yet, so I can't say what it missed.")
        return
    if not attempt.gaps:
        _emit(runtime, "notice", f"Your last answer on {note.title} covered every key point — "
              "nothing to explain. Say \"quiz me\" for the next question.")
        return
    passages = []
    for gap in attempt.gaps:  # the note's best passage for each missed point, in order
        hits = deps.retriever.search(gap, k=3, note_ids=[note.id])
        # Overview and alias chunks help retrieval but explain nothing: prefer body sections.
        body = [h for h in hits if h.chunk.heading not in FRONT_MATTER_HEADINGS]
        passages.extend((body or hits)[:1])
    async for piece in deps.engine.explain_gaps(note, attempt.gaps, attempt.answer, passages):
        _emit(runtime, "text", piece)
    _emit(runtime, "notice", "", sources=[note.id], end_of_text=True)


# Commands that may interrupt a pending question without abandoning it.
ASIDE_COMMANDS = ("/dispute", "/gaps")


def is_aside(answer: str) -> bool:
    """True for a dispute or a gap explanation typed while a question is pending."""
    text = answer.strip()
    if any(text.lower().startswith(c) for c in ASIDE_COMMANDS):
        return True
    return router.parse(text).kind == "gaps"


async def aside(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Handle the aside about the previous grade, then ask the pending question again."""
    intent = router.parse(state.answer)
    if intent.kind == "dispute":
        await regrade(runtime, state.last_attempt_id, intent.topic)
    else:
        await _explain_last_gaps(runtime, state.last_attempt_id)
    _emit(runtime, "notice", "Back to the pending question:")
    return {"answer": ""}


async def progress(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Readiness by domain from the graded history (fronts may add the chart)."""
    from state.report import progress_overview, render_progress_text

    deps, learner_id = runtime.context.deps, runtime.context.learner_id
    overview = progress_overview(deps.store, deps.catalog, learner_id, deps.clock())
    _emit(runtime, "progress", render_progress_text(overview),
          overview=overview.model_dump(mode="json"))
    return {}
