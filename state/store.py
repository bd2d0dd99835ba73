"""The store: every read and write of learner data goes through here (SQLAlchemy 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, delete, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from state.fsrs_scheduler import fsrs_review
from state.models import Attempt, Base, GradeRecord, Learner, ReviewCard, StudySession
from state.scheduler import Sm2State, schedule

WEAK_SCORE = 80  # the seeds' protocol: anything under 80% comes back the next day


def _sm2(state: dict | None, score: float, confidence: float,
         now: datetime) -> tuple[dict, datetime]:
    new, due = schedule(Sm2State.from_dict(state), score, now)
    return new.to_dict(), due


SCHEDULERS = {"fsrs": fsrs_review, "sm2": _sm2}


@dataclass
class AttemptView:
    """A read-only view of an attempt, safe to use after the DB session closes."""

    id: int
    session_id: int
    note_id: str
    question_id: str
    question: str
    answer: str
    is_review: bool
    status: str
    score: float | None
    confidence: float | None
    gaps: list[str] = field(default_factory=list)
    feedback: str = ""
    grader: str = ""
    answered_at: datetime | None = None
    key_points: list[str] = field(default_factory=list)
    reference_answer: str = ""


@dataclass
class CardView:
    """A review card: which topic is due when."""

    note_id: str
    due_at: datetime
    last_score: float | None
    reviews: int
    state: dict


def _view(a: Attempt) -> AttemptView:
    return AttemptView(id=a.id, session_id=a.session_id, note_id=a.note_id,
                       question_id=a.question_id, question=a.question, answer=a.answer,
                       is_review=a.is_review, status=a.status, score=a.score,
                       confidence=a.confidence, gaps=list(a.gaps or []), feedback=a.feedback,
                       grader=a.grader, answered_at=a.answered_at,
                       key_points=list(a.key_points or []), reference_answer=a.reference_answer)


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL and foreign keys, and its folder is created."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    return engine


class Store:
    """Learners, sessions, attempts, grades and review cards. Every method is one transaction."""

    def __init__(self, url: str, session_idle: timedelta = timedelta(hours=2),
                 scheduler: str = "fsrs") -> None:
        if scheduler not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {scheduler!r}; use one of {sorted(SCHEDULERS)}")
        self.engine = make_engine(url)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.session_idle = session_idle
        self.scheduler = scheduler

    # learners and sessions -------------------------------------------------------------
    def learner_id(self, external_id: str, now: datetime, display_name: str = "") -> int:
        """The learner's id, creating the learner on first contact."""
        with self._sessions.begin() as db:
            found = db.scalar(select(Learner).where(Learner.external_id == external_id))
            if found:
                return found.id
            learner = Learner(external_id=external_id, display_name=display_name,
                              created_at=now, preferences={})
            db.add(learner)
            db.flush()
            return learner.id

    def preferences(self, learner_id: int) -> dict:
        """The learner's stored preferences (interview date, focus, weights …)."""
        with self._sessions.begin() as db:
            return dict(db.get(Learner, learner_id).preferences or {})

    def set_preferences(self, learner_id: int, **values) -> dict:
        """Merge values into the learner's preferences."""
        with self._sessions.begin() as db:
            learner = db.get(Learner, learner_id)
            learner.preferences = {**(learner.preferences or {}), **values}
            return dict(learner.preferences)

    def current_session(self, learner_id: int, now: datetime) -> int:
        """The open study session, or a new one after a long pause; marks activity."""
        with self._sessions.begin() as db:
            last = db.scalar(select(StudySession).where(StudySession.learner_id == learner_id)
                             .order_by(StudySession.id.desc()).limit(1))
            if last and now - last.last_active_at <= self.session_idle:
                last.last_active_at = now
                return last.id
            new = StudySession(learner_id=learner_id, started_at=now, last_active_at=now)
            db.add(new)
            db.flush()
            return new.id

    def new_session(self, learner_id: int, now: datetime) -> int:
        """Start a fresh session explicitly."""
        with self._sessions.begin() as db:
            new = StudySession(learner_id=learner_id, started_at=now, last_active_at=now)
            db.add(new)
            db.flush()
            return new.id

    # attempts and grades ---------------------------------------------------------------
    def record_answer(self, *, learner_id: int, session_id: int, note_id: str, question_id: str,
                      question: str, reference_answer: str, key_points: list[str], answer: str,
                      is_review: bool, now: datetime) -> int:
        """Save an answer before it is graded; returns the attempt id."""
        with self._sessions.begin() as db:
            attempt = Attempt(learner_id=learner_id, session_id=session_id, note_id=note_id,
                              question_id=question_id, question=question,
                              reference_answer=reference_answer, key_points=key_points,
                              answer=answer, is_review=is_review, answered_at=now,
                              status="ungraded", gaps=[])
            db.add(attempt)
            db.flush()
            return attempt.id

    def record_grade(self, attempt_id: int, grade: dict, now: datetime,
                     kind: str = "initial") -> None:
        """Store a grade in full and make it the attempt's current grade."""
        with self._sessions.begin() as db:
            attempt = db.get(Attempt, attempt_id)
            if attempt is None:
                raise KeyError(f"no attempt {attempt_id}")
            db.add(GradeRecord(attempt_id=attempt_id, kind=kind, created_at=now, grade=grade))
            attempt.status = "graded"
            attempt.score = float(grade["score"])
            attempt.confidence = float(grade["confidence"])
            attempt.gaps = list(grade.get("gaps", []))
            attempt.feedback = grade.get("feedback", "")
            attempt.grader = grade.get("grader", "")
            attempt.graded_at = now
            attempt.error = ""

    def record_grading_error(self, attempt_id: int, error: str) -> None:
        """Note why grading failed; the answer stays stored and can be graded later."""
        with self._sessions.begin() as db:
            attempt = db.get(Attempt, attempt_id)
            attempt.error = error[:2000]

    def grades(self, attempt_id: int) -> list[dict]:
        """Every grade the attempt received, oldest first, with its kind."""
        with self._sessions.begin() as db:
            rows = db.scalars(select(GradeRecord).where(GradeRecord.attempt_id == attempt_id)
                              .order_by(GradeRecord.id)).all()
            return [{**r.grade, "kind": r.kind} for r in rows]

    def attempt(self, attempt_id: int) -> AttemptView:
        """One attempt."""
        with self._sessions.begin() as db:
            return _view(db.get(Attempt, attempt_id))

    def session_attempts(self, session_id: int) -> list[AttemptView]:
        """The session's attempts in the order they were answered."""
        with self._sessions.begin() as db:
            rows = db.scalars(select(Attempt).where(Attempt.session_id == session_id)
                              .order_by(Attempt.id)).all()
            return [_view(a) for a in rows]

    def learner_attempts(self, learner_id: int, note_id: str | None = None) -> list[AttemptView]:
        """All of a learner's attempts (optionally one topic's), oldest first."""
        with self._sessions.begin() as db:
            query = select(Attempt).where(Attempt.learner_id == learner_id)
            if note_id:
                query = query.where(Attempt.note_id == note_id)
            return [_view(a) for a in db.scalars(query.order_by(Attempt.id)).all()]

    def review_attempts_since(self, learner_id: int, since: datetime) -> int:
        """How many review questions the learner has answered since `since` (the daily cap)."""
        with self._sessions.begin() as db:
            return db.scalar(select(func.count()).select_from(Attempt).where(
                Attempt.learner_id == learner_id, Attempt.is_review.is_(True),
                Attempt.answered_at >= since)) or 0

    def ungraded_attempts(self, learner_id: int) -> list[AttemptView]:
        """Answers saved but never graded (e.g. grading crashed)."""
        with self._sessions.begin() as db:
            rows = db.scalars(select(Attempt).where(Attempt.learner_id == learner_id,
                                                    Attempt.status == "ungraded")).all()
            return [_view(a) for a in rows]

    # review cards ------------------------------------------------------------------------
    def review(self, learner_id: int, note_id: str, score: float, now: datetime,
               confidence: float = 1.0, replace_last: bool = False) -> CardView:
        """Schedule the topic's next review from a 0–100 grade (FSRS by default, or SM-2).

        A weak grade (under 80) brings the topic back within a day whatever the scheduler says,
        as the learner's protocol does. With `replace_last` the grade replaces the last review's
        (a re-grade after a dispute): the card is rescheduled from its state before that review.
        A card made by the other scheduler starts afresh.
        """
        with self._sessions.begin() as db:
            card = db.scalar(select(ReviewCard).where(ReviewCard.learner_id == learner_id,
                                                      ReviewCard.note_id == note_id))
            if card is None:
                card = ReviewCard(learner_id=learner_id, note_id=note_id,
                                  scheduler=self.scheduler, state={}, due_at=now, reviews=0)
                db.add(card)
            if card.scheduler != self.scheduler:
                card.scheduler, card.state = self.scheduler, {}
            stored = dict(card.state or {})
            before = stored.pop("before_last", None)
            reviewed_at = now
            if replace_last and before is not None:
                stored = before["state"]
                reviewed_at = card.last_review_at or now
                card.reviews = max(0, (card.reviews or 0) - 1)
            new_state, due = SCHEDULERS[self.scheduler](stored or None, score, confidence,
                                                        reviewed_at)
            if score < WEAK_SCORE:
                due = min(due, reviewed_at + timedelta(days=1))
            # Keep the state this review started from, so a dispute can redo it.
            card.state = {**new_state, "before_last": {"state": stored}}
            card.due_at = due
            card.last_review_at = reviewed_at
            card.last_score = score
            card.reviews = (card.reviews or 0) + 1
            db.flush()
            return CardView(note_id=note_id, due_at=due, last_score=score,
                            reviews=card.reviews, state=new_state)

    def due_cards(self, learner_id: int, now: datetime, limit: int = 10) -> list[CardView]:
        """Topics due for review by the end of today (UTC), most overdue first.

        Reviews are planned in whole days, so a card due at 19:05 belongs to a 19:00 session
        rather than waiting a whole extra day because of a few minutes.
        """
        end_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        with self._sessions.begin() as db:
            rows = db.scalars(select(ReviewCard).where(ReviewCard.learner_id == learner_id,
                                                       ReviewCard.due_at < end_of_day)
                              .order_by(ReviewCard.due_at).limit(limit)).all()
            return [CardView(r.note_id, r.due_at, r.last_score, r.reviews, dict(r.state))
                    for r in rows]

    def cards(self, learner_id: int) -> list[CardView]:
        """All of the learner's review cards."""
        with self._sessions.begin() as db:
            rows = db.scalars(select(ReviewCard).where(ReviewCard.learner_id == learner_id)).all()
            return [CardView(r.note_id, r.due_at, r.last_score, r.reviews, dict(r.state))
                    for r in rows]

    def forget_learner(self, learner_id: int) -> None:
        """Delete everything stored about a learner."""
        with self._sessions.begin() as db:
            attempts = select(Attempt.id).where(Attempt.learner_id == learner_id)
            db.execute(delete(GradeRecord).where(GradeRecord.attempt_id.in_(attempts)))
            for table in (Attempt, ReviewCard, StudySession):
                db.execute(delete(table).where(table.learner_id == learner_id))
            db.execute(delete(Learner).where(Learner.id == learner_id))
