"""End-of-session summary, modelled on the learner's daily knowledge-check reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from statistics import mean

from pydantic import BaseModel

from knowledge.catalog import Catalog
from state.store import AttemptView, CardView

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


def _avg(values: Sequence[float]) -> float | None:
    return round(mean(values), 1) if values else None


def build_summary(attempts: Sequence[AttemptView], catalog: Catalog,
                  cards: Sequence[CardView], now: datetime) -> SessionSummary:
    """Summarise a session's attempts; `cards` tell when weak topics come back."""
    def title(note_id: str) -> str:
        return catalog.by_id[note_id].title if note_id in catalog.by_id else note_id

    rows = [SummaryRow(number=i, note_id=a.note_id, topic=title(a.note_id), question=a.question,
                       is_review=a.is_review, score=a.score, confidence=a.confidence,
                       gaps=a.gaps, feedback=a.feedback)
            for i, a in enumerate(attempts, 1)]
    graded = [r for r in rows if r.score is not None]
    due = {c.note_id: c.due_at for c in cards}
    strengths = sorted({r.topic for r in graded if r.score >= 90})
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
        recommendation=recommendation, ungraded=len(rows) - len(graded))


def _when(due: datetime, now: datetime) -> str:
    days = (due.date() - now.date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days ({due.date().isoformat()})"
