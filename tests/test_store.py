"""The store keeps answers before grades, sessions by idle time, and review cards."""

from datetime import timedelta

import pytest

from state.store import Store


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 't.sqlite3'}", session_idle=timedelta(hours=2))


def _answer(store, learner, session, clock, answer="my answer"):
    return store.record_answer(learner_id=learner, session_id=session, note_id="normalization",
                               question_id="q1", question="Q?", reference_answer="R",
                               key_points=["a", "b", "c"], answer=answer, is_review=False,
                               now=clock())


def test_answer_is_stored_before_grading(store, clock):
    learner = store.learner_id("cli:ann", clock())
    session = store.current_session(learner, clock())
    attempt = _answer(store, learner, session, clock)
    view = store.attempt(attempt)
    assert view.status == "ungraded" and view.answer == "my answer" and view.score is None
    store.record_grading_error(attempt, "boom")
    assert [a.id for a in store.ungraded_attempts(learner)] == [attempt]
    store.record_grade(attempt, {"score": 70, "confidence": 0.6, "gaps": ["b"], "feedback": "f",
                                 "grader": "t"}, clock())
    view = store.attempt(attempt)
    assert (view.status, view.score, view.gaps) == ("graded", 70.0, ["b"])
    assert store.grades(attempt)[0]["kind"] == "initial"


def test_sessions_split_after_idle(store, clock):
    learner = store.learner_id("cli:ann", clock())
    first = store.current_session(learner, clock())
    clock.advance(minutes=90)
    assert store.current_session(learner, clock()) == first
    clock.advance(hours=3)
    assert store.current_session(learner, clock()) != first


def test_learners_are_isolated(store, clock):
    ann = store.learner_id("cli:ann", clock())
    bob = store.learner_id("cli:bob", clock())
    _answer(store, ann, store.current_session(ann, clock()), clock)
    assert store.learner_attempts(bob) == []
    assert store.learner_id("cli:ann", clock()) == ann


def test_review_cards_come_due(store, clock):
    learner = store.learner_id("cli:ann", clock())
    card = store.review(learner, "normalization", 50, clock())
    assert card.due_at == clock() + timedelta(days=1)
    assert store.due_cards(learner, clock()) == []
    clock.advance(hours=14)  # 23:00 the same day: not yet
    assert store.due_cards(learner, clock()) == []
    clock.advance(hours=9, minutes=55)  # 08:55 the next day: due at 09:00, so due today
    assert [c.note_id for c in store.due_cards(learner, clock())] == ["normalization"]


def test_forget_learner(store, clock):
    learner = store.learner_id("cli:ann", clock())
    attempt = _answer(store, learner, store.current_session(learner, clock()), clock)
    store.record_grade(attempt, {"score": 1, "confidence": 1, "feedback": "", "grader": ""},
                       clock())
    store.review(learner, "normalization", 1, clock())
    store.forget_learner(learner)
    assert store.learner_attempts(learner) == [] and store.cards(learner) == []
