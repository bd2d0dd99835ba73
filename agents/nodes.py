"""The workflow's nodes: small async functions over the state, with deps from the runtime."""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime
from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agents import router
from agents.check import (
    PER_TOPIC,
    REASK_BELOW,
    REASK_GAP,
    REVIEW_SHARE,
    STUDY_WINDOW,
    asked_order,
    compose_check,
    day_start,
    failed_last,
    new_topic_order,
    pending_reasks,
    reviews_left,
)
from agents.events import Event
from agents.schemas import Grade, QuizQuestion
from agents.state import Deps, TurnContext, TutorState
from agents.summary import summarize_session
from knowledge.catalog import Note
from state.mastery import learner_weights, topic_mastery

log = logging.getLogger(__name__)

HELP = """I'm your ML interview tutor. Things to say:
• teach me <topic> — an explanation grounded in the notes (e.g. "teach me batch norm")
• quiz me [on <topic>] — a question; answer in your own words and I'll grade it
• check — the daily knowledge check: ~10 questions on what you studied today, new topics and
  due reviews, then a summary
• review — a question on the most overdue topic (or when the next review is)
• hint / skip — while a question is pending
• explain the gaps — what your last answer missed, from the notes
• dispute <why> (or "I think that's wrong because …") — re-grade your last answer
• summary — this session's questions, scores and gaps; progress — readiness by domain
• topics — what I cover; weights — domain weights (change them: /weights C=30)
• anything else — a question answered from the notes"""


def _emit(runtime: Runtime[TurnContext], kind: str, text: str = "", **data) -> None:
    runtime.stream_writer(Event(kind=kind, text=text, data=data).model_dump())


def _resolve(deps: Deps, topic_text: str, runtime: Runtime[TurnContext]) -> Note | None:
    """The note for a loose topic name; emits suggestions when unsure."""
    resolution = deps.resolver.resolve(topic_text)
    if resolution.note_id:
        return deps.catalog.note(resolution.note_id)
    if resolution.suggestions:
        names = ", ".join(deps.catalog.note(n).title for n in resolution.suggestions)
        _emit(runtime, "notice", f"I'm not sure which topic \"{topic_text}\" means. "
              f"Closest matches: {names}. Try one of those, or say \"topics\".",
              suggestions=resolution.suggestions)
    else:
        _emit(runtime, "notice", f"I couldn't find a topic matching \"{topic_text}\". "
              "Say \"topics\" to see what I cover.")
    return None


# -- routing --------------------------------------------------------------------------------
async def route(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Decide what the learner's message asks for."""
    intent = router.parse(state.message)
    return {"intent": intent.kind, "topic_text": intent.topic, "question": None}


def after_route(state: TutorState) -> Literal["teach", "pick_question", "summary", "respond",
                                              "help", "topics", "nothing_pending", "dispute",
                                              "weights", "plan_check", "review_gate",
                                              "explain_gaps", "progress"]:
    """Where a routed message goes."""
    if state.intent == "review" and state.topic_text:  # "/review dropout" is a quiz on it
        return "pick_question"
    return {"learn": "teach", "quiz": "pick_question", "summary": "summary",
            "question": "respond", "topics": "topics", "skip": "nothing_pending",
            "hint": "nothing_pending", "dispute": "dispute",
            "weights": "weights", "check": "plan_check", "review": "review_gate",
            "gaps": "explain_gaps", "progress": "progress"}.get(state.intent, "help")


# -- teaching and answering -----------------------------------------------------------------
async def teach(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Explain a topic from its note, streaming the text."""
    deps = runtime.context.deps
    if not state.topic_text:
        if state.current_topic:
            note = deps.catalog.note(state.current_topic)
        else:
            _emit(runtime, "notice", "Which topic? For example: \"teach me dropout\".")
            return {}
    else:
        note = _resolve(deps, state.topic_text, runtime)
        if note is None:
            return {}
    passages = deps.retriever.search(state.message or note.title, k=4, note_ids=[note.id])
    async for piece in deps.engine.teach(note, passages, state.message):
        _emit(runtime, "text", piece)
    _emit(runtime, "notice", "", sources=[note.id], end_of_text=True)
    now = deps.clock()
    recent = set(_studied_recently(state, now)) - {note.id}
    studied = {n: at for n, at in state.studied.items() if n in recent}
    return {"current_topic": note.id, "current_at": now.isoformat(),
            "studied": {**studied, note.id: now.isoformat()}}


def _studied_recently(state: TutorState, now: datetime) -> list[str]:
    """The topics taught within STUDY_WINDOW of `now`, oldest first."""
    return [n for n, at in state.studied.items()
            if now - datetime.fromisoformat(at) <= STUDY_WINDOW]


def _studying(state: TutorState, now: datetime) -> list[str]:
    """What the learner is studying now, oldest first: today's lessons, then the current topic
    if it was taught or asked about within STUDY_WINDOW (yesterday's topic is not today's)."""
    recent = _studied_recently(state, now)
    if state.current_topic and state.current_at \
            and now - datetime.fromisoformat(state.current_at) <= STUDY_WINDOW:
        recent = [n for n in recent if n != state.current_topic] + [state.current_topic]
    return recent


async def respond(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Answer a free question from the notes, naming sources."""
    deps = runtime.context.deps
    passages = deps.retriever.search(state.message, k=4,
                                     learner=str(runtime.context.learner_id))
    async for piece in deps.engine.answer(state.message, passages):
        _emit(runtime, "text", piece)
    _emit(runtime, "notice", "", sources=[p.chunk.label for p in passages[:2]],
          end_of_text=True)
    return {}


async def help_node(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Say what the tutor can do."""
    _emit(runtime, "notice", runtime.context.deps.engine.describe() + "\n\n" + HELP)
    return {}


async def topics(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """List the domains and their topics."""
    catalog = runtime.context.deps.catalog
    lines = []
    for domain in catalog.domains:
        notes = catalog.notes_in(domain.id)
        if notes:
            lines.append(f"{domain.label} ({len(notes)}): " + ", ".join(n.title.split(":")[0]
                                                                       for n in notes))
    _emit(runtime, "topics", "\n".join(lines),
          domains={d.id: [n.id for n in catalog.notes_in(d.id)] for d in catalog.domains})
    return {}


async def nothing_pending(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Hint or skip without a pending question."""
    _emit(runtime, "notice", "There's no question pending. Say \"quiz me\" to get one.")
    return {}


# -- quizzing ---------------------------------------------------------------------------------
def domain_weights(deps: Deps, learner_id: int, *, with_focus: bool = False) -> dict[str, float]:
    """The curriculum's domain weights with the learner's own overrides applied; `with_focus`
    also boosts their focus domains (for choosing what to study, not for display)."""
    return learner_weights(deps.catalog, deps.store.preferences(learner_id),
                           with_focus=with_focus)


_ASSIGNMENT = re.compile(r"([A-Za-z][\w-]*)\s*[=:]\s*(\d+(?:\.\d+)?)")


async def weights(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Show the domain weights, or set the learner's own ("/weights C=30 nlp=15")."""
    deps, learner_id = runtime.context.deps, runtime.context.learner_id
    by_key = {k.lower(): d.id for d in deps.catalog.domains for k in (d.id, d.letter)}
    changes, unknown = {}, []
    for key, value in _ASSIGNMENT.findall(state.topic_text):
        domain = by_key.get(key.lower())
        if domain is None or float(value) > 1000:
            unknown.append(key)
        else:
            changes[domain] = float(value)
    if unknown:
        _emit(runtime, "notice", f"I don't know the domain(s) {', '.join(unknown)}. Use a "
              "letter or id, e.g. \"/weights C=30 nlp=15\".")
        return {}
    if changes:
        current = deps.store.preferences(learner_id).get("weights", {})
        deps.store.set_preferences(learner_id, weights={**current, **changes})
    merged = domain_weights(deps, learner_id)
    total = sum(merged.values()) or 1.0
    lines = [f"{d.label}: {merged[d.id]:g} ({100 * merged[d.id] / total:.0f}%)"
             for d in deps.catalog.domains]
    head = "Weights updated." if changes else "Domain weights (set yours: /weights C=30 nlp=15):"
    _emit(runtime, "notice", head + "\n" + "\n".join(lines), weights=merged)
    return {}


def _choose_topic(state: TutorState, deps: Deps,
                  learner_id: int) -> tuple[str | None, str, bool]:
    """(note id, kind, capped) for a quiz without a named topic.

    A run of "quiz me" follows the knowledge check's proportions, one question at a time. In
    order: a topic failed earlier this session once REASK_GAP other questions were answered
    since ("reask"); the most overdue review when it is a review's turn — about REVIEW_SHARE of
    the session's questions, the first one included, or every time for /review — and today's
    review cap allows ("review"); the topic being studied, then the others taught within
    STUDY_WINDOW, each up to PER_TOPIC questions this session, neither just failed nor reviewed
    ("current");
    the most useful unseen topic ("new"); a due review when nothing new is left. `capped` is
    True when a due review was passed over because of the daily cap.
    """
    now = deps.clock()
    session = deps.store.session_attempts(deps.store.current_session(learner_id, now))
    for note_id, since in pending_reasks(session).items():
        if since >= REASK_GAP and note_id in deps.catalog.by_id and state.intent != "review":
            return note_id, "reask", False
    due = [c for c in deps.store.due_cards(learner_id, now, limit=5) if c.note_id in
           deps.catalog.by_id]
    answered = deps.store.review_attempts_since(learner_id, day_start(now))
    can_review = bool(due) and reviews_left(deps.daily_review_cap, answered) > 0
    reviewed = sum(1 for a in session if a.is_review)
    review_turn = state.intent == "review" or \
        reviewed < math.ceil(REVIEW_SHARE * (len(session) + 1))
    capped = bool(due) and review_turn and not can_review
    if can_review and review_turn:
        return due[0].note_id, "review", False
    # Being studied: the current topic and today's lessons, not a topic just reviewed (the
    # scheduler brings that back) nor one just failed (its re-ask does).
    skip = failed_last(session) | {a.note_id for a in session if a.is_review}
    for note_id in reversed(_studying(state, now)):  # the current topic first
        if note_id not in deps.catalog.by_id:
            continue
        asked = sum(1 for a in session if a.note_id == note_id)
        if note_id not in skip and asked < PER_TOPIC:
            return note_id, "current", capped
    attempts = deps.store.learner_attempts(learner_id)
    fresh = new_topic_order(deps.catalog, domain_weights(deps, learner_id, with_focus=True),
                            {a.note_id for a in attempts}, _mastery(attempts, now))
    if fresh:
        return fresh[0].id, "new", capped
    if can_review:
        return due[0].note_id, "review", False
    return None, "new", capped


def _mastery(attempts, now: datetime) -> dict[str, float]:
    """Note id → the learner model's mastery (0–1) from these attempts."""
    return {n: m.mastery for n, m in topic_mastery(attempts, now).items()}


async def plan_check(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Plan a knowledge check: ~10 questions, ~70% on today's topics and new ones, ~30% reviews."""
    deps, learner_id = runtime.context.deps, runtime.context.learner_id
    attempts = deps.store.learner_attempts(learner_id)
    last_scores = {a.note_id: a.score for a in attempts if a.score is not None}
    now = deps.clock()
    due = [c.note_id for c in deps.store.due_cards(learner_id, now, limit=20)
           if c.note_id in deps.catalog.by_id]
    left = reviews_left(deps.daily_review_cap,
                        deps.store.review_attempts_since(learner_id, day_start(now)))
    weights = domain_weights(deps, learner_id, with_focus=True)
    # The day's content: what was taught today, then the topic being worked on now.
    today = _studying(state, now)
    plan = compose_check(deps.catalog, weights, last_scores, due[:left], today,
                         mastery=_mastery(attempts, now))
    if not plan:
        _emit(runtime, "notice", "Nothing to check yet — say \"teach me <topic>\" first.")
        return {"queue": [], "check_total": 0}
    reviews = sum(1 for _, r in plan if r)
    capped = ""
    if len(due) > reviews and reviews == left:  # the cap, not the plan, held reviews back
        capped = (f" Today's review cap ({deps.daily_review_cap}) is reached, so the other due "
                  "reviews wait until tomorrow and new topics take their place.")
    on_today = sum(1 for n, r in plan if not r and n in today)
    parts = [f"{on_today} on what you're studying"] if on_today else []
    parts += [f"{len(plan) - reviews - on_today} new", f"{reviews} review"]
    _emit(runtime, "notice", f"Knowledge check: {len(plan)} questions — {', '.join(parts)}. "
          f"Answer each in your own words; \"skip\" moves on.{capped}")
    return {"queue": [{"note_id": n, "is_review": r} for n, r in plan],
            "check_total": len(plan), "check_asked": [], "topic_text": ""}


async def pick_question(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Choose the topic and the question to ask."""
    deps, learner_id = runtime.context.deps, runtime.context.learner_id
    is_review = reask = False
    update: dict = {}
    if state.queue and not state.topic_text:  # the next question of a knowledge check
        item, rest = state.queue[0], state.queue[1:]
        note, is_review = deps.catalog.note(item["note_id"]), item["is_review"]
        reask = bool(item.get("reask"))
        update = {"queue": rest}
    elif state.topic_text:
        note = _resolve(deps, state.topic_text, runtime)
        if note is None:
            return {"question": None}
    else:
        note_id, kind, capped = _choose_topic(state, deps, learner_id)
        if capped:
            _emit(runtime, "notice", f"That's today's {deps.daily_review_cap} review questions "
                  "done; the other due reviews wait until tomorrow, so here's "
                  + ("more of your current topic." if kind == "current" else "a new topic."))
        if note_id is None:
            _emit(runtime, "notice", "You've covered every topic — say \"quiz me on <topic>\".")
            return {"question": None}
        note = deps.catalog.note(note_id)
        is_review, reask = kind == "review", kind == "reask"
    if reask:
        _emit(runtime, "notice", f"Back to {note.title.split(':')[0]}: you missed it earlier "
              "this session, so here's another go.")
    # Least recently asked first, across sessions: a question comes back only once every
    # question of its topic has been asked.
    asked = asked_order(deps.store.learner_attempts(learner_id, note.id))
    in_check = "queue" in update
    if in_check:  # this check's earlier questions, even skipped ones, count as the most recent
        earlier = [k.split(":", 1)[1] for k in state.check_asked if k.startswith(f"{note.id}:")]
        asked = [q for q in asked if q not in earlier] + earlier
    passages = deps.retriever.search(note.title, k=3, note_ids=[note.id])
    question = await deps.engine.make_question(note, passages, asked, about=state.topic_text)
    if in_check:
        update["check_asked"] = [*state.check_asked, f"{note.id}:{question.question_id}"]
    question = question.model_copy(update={"is_review": is_review})
    payload = question.model_dump()
    if reask:
        payload["reask"] = True
    if state.check_total:
        payload["position"] = f"{state.check_total - len(update.get('queue', state.queue))}"\
                              f"/{state.check_total}"
    # A review or a re-ask is a visit, not what the learner is studying now: "quiz me" goes
    # on with the topic they were on.
    if (is_review or reask) and state.current_topic:
        return {**update, "question": payload}
    return {**update, "question": payload, "current_topic": note.id,
            "current_at": deps.clock().isoformat()}


def after_pick(state: TutorState) -> Literal["ask", "__end__"]:
    """Ask if a question was chosen."""
    return "ask" if state.question else "__end__"


async def ask(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Wait for the learner's answer. Only this runs again on resume, so it does nothing else."""
    answer = interrupt(state.question)
    return {"answer": answer if isinstance(answer, str) else str(answer)}


_SWITCHES = ("teach me ", "quiz me on ", "quiz me about ")  # lower case; no answer starts so
_PENDING_COMMANDS = {"skip": "skip", "/skip": "skip", "hint": "hint", "/hint": "hint",
                     "next": "skip", "pass": "skip"}


def after_answer(state: TutorState) -> Literal["record", "skip", "hint", "empty_answer",
                                              "abandon", "aside"]:
    """An answer, or a command typed while a question was pending."""
    from agents.followups import is_aside  # followups builds on this module

    text = state.answer.strip()
    lowered = text.lower().rstrip(".!")
    if lowered in _PENDING_COMMANDS:
        return _PENDING_COMMANDS[lowered]  # type: ignore[return-value]
    if not text:
        return "empty_answer"
    if is_aside(text):  # about the previous grade: handle it, keep the question pending
        return "aside"
    # Only explicit commands leave a pending question: "explain…" may be the start of an answer,
    # "teach me …" or "quiz me on …" never is.
    if text.startswith("/") or lowered in {"summary", "help", "topics", "quiz me"} \
            or lowered.startswith(_SWITCHES):
        return "abandon"
    return "record"


async def empty_answer(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """An empty answer: say so and keep waiting."""
    _emit(runtime, "notice", "Your answer was empty. Type your answer, or \"skip\".")
    return {}


async def hint(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """A nudge towards the first key point without giving it away."""
    points = (state.question or {}).get("key_points") or []
    if points:
        words = points[0].split()
        _emit(runtime, "notice", "Hint: one thing a full answer covers starts with \""
              + " ".join(words[: max(3, len(words) // 3)]) + " …\"")
    return {}


async def skip(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Drop the pending question."""
    more = "" if state.check_total else " Say \"quiz me\" for another question."
    _emit(runtime, "notice", "Skipped." + more)
    return {"question": None, "answer": ""}


def after_question(state: TutorState) -> Literal["pick_question", "summary", "__end__"]:
    """After a grade or a skip: the check's next question, its closing summary, or done."""
    if state.queue:
        return "pick_question"
    return "summary" if state.check_total else "__end__"


async def abandon(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Leave the pending question to handle a command instead."""
    left = " and the knowledge check" if state.check_total else ""
    _emit(runtime, "notice", f"(Leaving the pending question{left} unanswered.)")
    return {"message": state.answer, "question": None, "answer": "", "queue": [],
            "check_total": 0}


async def record(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Store the answer before grading, so a failed grade never loses it."""
    deps, learner_id = runtime.context.deps, runtime.context.learner_id
    question = QuizQuestion(**state.question)
    now = deps.clock()
    session_id = deps.store.current_session(learner_id, now)
    attempt_id = deps.store.record_answer(
        learner_id=learner_id, session_id=session_id, note_id=question.note_id,
        question_id=question.question_id, question=question.prompt,
        reference_answer=question.reference_answer, key_points=question.key_points,
        answer=state.answer, is_review=question.is_review, now=now)
    return {"attempt_id": attempt_id}


async def grade(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Grade the stored answer, save the grade, schedule the topic's next review."""
    deps, learner_id = runtime.context.deps, runtime.context.learner_id
    question = QuizQuestion(**state.question)
    note = deps.catalog.by_id.get(question.note_id)
    passages = deps.retriever.search(question.prompt, k=3, note_ids=[question.note_id])
    try:
        result = await deps.engine.grade(question, state.answer, note, passages)
    except Exception as exc:  # the answer is already stored; tell the learner, keep going
        log.exception("grading failed for attempt %s", state.attempt_id)
        deps.store.record_grading_error(state.attempt_id, f"{type(exc).__name__}: {exc}")
        _emit(runtime, "error", "I couldn't grade that just now, but your answer is saved; it "
              "shows as ungraded in your summary.", attempt_id=state.attempt_id)
        return {"question": None, "answer": ""}
    now = deps.clock()
    deps.store.record_grade(state.attempt_id, result.model_dump(), now)
    card = deps.store.review(learner_id, question.note_id, result.score, now,
                             confidence=result.confidence)
    _emit(runtime, "grade", result.feedback, grade=result.model_dump(),
          question=question.model_dump(), attempt_id=state.attempt_id,
          next_review=card.due_at.isoformat())
    update = {"question": None, "answer": "", "last_attempt_id": state.attempt_id}
    if state.queue and result.score < REASK_BELOW and not state.question.get("reask"):
        # A failed topic of a knowledge check comes back at the end of the check: after the
        # questions still planned (never straight away), and only once per session. A topic
        # the check still has a question on gets that one as its second go, not an extra.
        session = deps.store.session_attempts(deps.store.attempt(state.attempt_id).session_id)
        queued = {item["note_id"] for item in state.queue}
        if question.note_id in pending_reasks(session) and question.note_id not in queued:
            update["queue"] = [*state.queue, {"note_id": question.note_id, "is_review": False,
                                              "reask": True}]
            update["check_total"] = state.check_total + 1  # so "11/11" stays true
            title = note.title.split(":")[0] if note else question.note_id
            _emit(runtime, "notice", f"I'll come back to {title} before the end of this check.")
    return update


async def dispute(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """Re-grade the last answer in the light of the learner's argument; keep both grades."""
    argument = state.topic_text if state.message.startswith("/") else state.message
    await regrade(runtime, state.last_attempt_id, argument)
    return {}


async def regrade(runtime: Runtime[TurnContext], attempt_id: int | None, argument: str) -> None:
    """The dispute itself: re-grade attempt `attempt_id` considering `argument`, store the new
    grade beside the old one, and redo the schedule from the final grade."""
    deps, learner_id = runtime.context.deps, runtime.context.learner_id
    if attempt_id is None:
        _emit(runtime, "notice", "There's no grade to dispute yet — answer a question first.")
        return
    if len(argument.split()) < 3:
        _emit(runtime, "notice", "Tell me why the grade is wrong, e.g. \"/dispute my answer "
              "does say that LayerNorm is per example\".")
        return
    attempt = deps.store.attempt(attempt_id)
    history = deps.store.grades(attempt.id)
    if not history:
        _emit(runtime, "notice", "That answer hasn't been graded yet, so there's nothing to "
              "dispute.")
        return
    previous = Grade(**{k: v for k, v in history[-1].items() if k != "kind"})
    question = QuizQuestion(note_id=attempt.note_id, question_id=attempt.question_id,
                            prompt=attempt.question, reference_answer=attempt.reference_answer,
                            key_points=attempt.key_points, is_review=attempt.is_review)
    note = deps.catalog.by_id.get(attempt.note_id)
    passages = deps.retriever.search(question.prompt, k=3, note_ids=[attempt.note_id])
    result = await deps.engine.dispute(question, attempt.answer, note, passages, previous,
                                       argument)
    now = deps.clock()
    deps.store.record_grade(attempt.id, result.model_dump(), now, kind="dispute")
    card = deps.store.review(learner_id, attempt.note_id, result.score, now,
                             confidence=result.confidence, replace_last=True)
    _emit(runtime, "grade", result.feedback, grade=result.model_dump(),
          question=question.model_dump(), attempt_id=attempt.id,
          next_review=card.due_at.isoformat(), previous_score=previous.score)


async def summary(state: TutorState, runtime: Runtime[TurnContext]) -> dict:
    """The session's questions, scores and gaps."""
    deps, learner_id = runtime.context.deps, runtime.context.learner_id
    now = deps.clock()
    session_id = deps.store.current_session(learner_id, now)
    result = summarize_session(deps.store, deps.catalog, learner_id, session_id, now)
    _emit(runtime, "summary", "", summary=result.model_dump())
    return {"check_total": 0}
