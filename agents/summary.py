"""End-of-session summary, modelled on the learner's daily knowledge-check reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from statistics import mean

from pydantic import BaseModel, Field

from knowledge.catalog import Catalog
from state.store import AttemptView, CardView, Store

WEAK = 80  # the seeds resurface anything under 80% the next day


class SummaryRow(BaseModel):
    """One question of the session."""

    number: int
    note_id: str
    topic: str
    question: str
    is_review: bool
    score: float | None
    confidence: float | None
    gaps: list[str]
    feedback: str
    studied_on: date | None = Field(
        default=None, description="When the topic was first answered (the seeds' Day column)")
    previous_score: float | None = Field(
        default=None, description="The topic's last score before this session")
    first_score: float | None = Field(
        default=None, description="The grade before a dispute changed it")


class RetentionLine(BaseModel):
    """Average score of one group of questions: today's new topics, or reviews by study day."""

    label: str
    average: float
    questions: list[int]


class SessionSummary(BaseModel):
    """The session at a glance: questions, scores, retention, gaps and what to do next."""

    rows: list[SummaryRow]
    overall: float | None
    new_average: float | None
    review_average: float | None
    strengths: list[str]
    gaps: list[str]
    weak_items: list[tuple[str, str]]  # (topic, when it comes back)
    action_items: list[str]
    recommendation: str
    ungraded: int
    retention: list[RetentionLine] = Field(default_factory=list)
    improvements: list[str] = Field(
        default_factory=list, description='Reviews that rose 10+ points, e.g. "Inertia: 70% → 95%"')
    corrections: list[str] = Field(
        default_factory=list, description="Grades changed after a dispute")


def _avg(values: Sequence[float]) -> float | None:
    return round(mean(values), 1) if values else None


def build_summary(attempts: Sequence[AttemptView], catalog: Catalog,
                  cards: Sequence[CardView], now: datetime, *,
                  history: Sequence[AttemptView] = (),
                  grade_history: Mapping[int, Sequence[dict]] | None = None) -> SessionSummary:
    """Summarise a session's attempts; `cards` tell when weak topics come back.

    Args:
        attempts: the session's attempts in order.
        catalog: the curriculum, for topic titles.
        cards: the learner's review cards.
        now: the time of the summary.
        history: optionally all the learner's attempts; with it each row knows when its topic
            was first studied and its score before this session (retention by study day,
            improvements).
        grade_history: optionally {attempt id: every grade, oldest first, as
            `Store.grades` returns}; with it disputed grades are listed as corrections.
    """
    def title(note_id: str) -> str:
        return catalog.by_id[note_id].title if note_id in catalog.by_id else note_id

    in_session = {a.id for a in attempts}
    first_seen: dict[str, date] = {}
    before: dict[str, float] = {}
    for a in sorted(history, key=lambda a: a.id):
        if a.answered_at is not None:
            first_seen.setdefault(a.note_id, a.answered_at.date())
        if a.id not in in_session and a.score is not None and a.id < min(in_session, default=0):
            before[a.note_id] = a.score
    grades = grade_history or {}
    rows = [SummaryRow(number=i, note_id=a.note_id, topic=title(a.note_id), question=a.question,
                       is_review=a.is_review, score=a.score, confidence=a.confidence,
                       gaps=a.gaps, feedback=a.feedback, studied_on=first_seen.get(a.note_id),
                       previous_score=before.get(a.note_id),
                       first_score=(grades[a.id][0]["score"] if len(grades.get(a.id, ())) > 1
                                    else None))
            for i, a in enumerate(attempts, 1)]
    graded = [r for r in rows if r.score is not None]
    due = {c.note_id: c.due_at for c in cards}
    # A strength is a topic answered well every time this session: with two or three questions
    # on a topic, one 95 next to a 50 is a gap in the topic, not a strength.
    by_topic: dict[str, list[float]] = {}
    for r in graded:
        by_topic.setdefault(r.topic, []).append(r.score)
    strengths = sorted(t for t, scores in by_topic.items() if min(scores) >= 90)
    gaps: list[str] = []
    for r in graded:
        for g in r.gaps:
            if g not in gaps:
                gaps.append(g)
    weak: list[tuple[str, str]] = []
    for r in graded:
        if r.score < WEAK and r.topic not in [w[0] for w in weak]:
            when = due.get(r.note_id)
            weak.append((r.topic, _when(when, now) if when else "next session"))
    actions = [f"Review {t}: {r.gaps[0]}" for t, r in
               ((r.topic, r) for r in graded if r.score < WEAK and r.gaps)][:5]
    overall = _avg([r.score for r in graded])
    if overall is None:
        recommendation = "No graded answers yet: say \"quiz me\" to start a check."
    elif overall >= 90:
        recommendation = "Excellent session: move on to new topics and keep the reviews coming."
    elif overall >= 70:
        recommendation = "Solid session: revisit the weak items above before adding new topics."
    else:
        recommendation = "Re-read the weak topics' notes and retry their questions tomorrow."
    return SessionSummary(
        rows=rows, overall=overall,
        new_average=_avg([r.score for r in graded if not r.is_review]),
        review_average=_avg([r.score for r in graded if r.is_review]),
        strengths=strengths, gaps=gaps[:8], weak_items=weak, action_items=actions,
        recommendation=recommendation, ungraded=len(rows) - len(graded),
        retention=_retention(graded, now), improvements=[
            f"{r.topic}: {r.previous_score:.0f}% → {r.score:.0f}%" for r in graded
            if r.is_review and r.previous_score is not None and r.score - r.previous_score >= 10],
        corrections=[f"Q{r.number} {r.topic}: {r.first_score:.0f}% → {r.score:.0f}% after your "
                     "dispute" for r in graded if r.first_score is not None
                     and r.first_score != r.score])


def summarize_session(store: Store, catalog: Catalog, learner_id: int, session_id: int,
                      now: datetime) -> SessionSummary:
    """`build_summary` with everything read from the store: the session, the learner's
    history (study days, earlier scores) and each answer's grades (dispute corrections)."""
    attempts = store.session_attempts(session_id)
    return build_summary(attempts, catalog, store.cards(learner_id), now,
                         history=store.learner_attempts(learner_id),
                         grade_history={a.id: store.grades(a.id) for a in attempts})


def _retention(graded: Sequence[SummaryRow], now: datetime) -> list[RetentionLine]:
    """The seeds' retention analysis: new topics first, then reviews by the day first studied,
    most recent day first."""
    groups: dict[tuple[int, int], tuple[str, list[int], list[float]]] = {}
    for r in graded:
        if not r.is_review:
            key, label = (0, 0), "New topics"
        elif r.studied_on is None:
            key, label = (2, 0), "Reviews"
        else:
            days = (now.date() - r.studied_on).days
            key = (1, days)
            label = f"Reviews of {r.studied_on.isoformat()} ({days} day{'s' * (days != 1)} ago)"
        groups.setdefault(key, (label, [], []))
        groups[key][1].append(r.number)
        groups[key][2].append(r.score)
    return [RetentionLine(label=label, average=round(mean(scores), 1), questions=numbers)
            for _, (label, numbers, scores) in sorted(groups.items())]


def _when(due: datetime, now: datetime) -> str:
    days = (due.date() - now.date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days ({due.date().isoformat()})"
