"""FSRS scheduling: the grade → rating mapping and golden interval sequences."""

from datetime import UTC, datetime, timedelta

import fsrs
import pytest

from state.fsrs_scheduler import fsrs_review, rating_from_grade
from state.store import Store

R = fsrs.Rating


@pytest.mark.parametrize(("score", "confidence", "rating"), [
    (100, 0.9, R.Easy), (95, 0.9, R.Easy), (94, 0.9, R.Good), (80, 0.9, R.Good),
    (79, 0.9, R.Hard), (60, 0.9, R.Hard), (59, 0.9, R.Again), (0, 0.9, R.Again),
    (100, 0.3, R.Good), (0, 0.3, R.Hard), (85, 0.3, R.Good), (70, 0.3, R.Hard),
])
def test_rating_from_grade(score, confidence, rating):
    assert rating_from_grade(score, confidence) == rating


def test_golden_sequence():
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    state, days = None, []
    for score in (85, 85, 30, 85, 100):
        state, due = fsrs_review(state, score, 0.9, now)
        days.append((due - now).days)
        now = due
    assert days == [2, 11, 2, 5, 19]  # a lapse shortens, recovery regrows, Easy stretches


def test_naive_datetime_is_rejected():
    with pytest.raises(ValueError):
        fsrs_review(None, 90, 1.0, datetime(2026, 3, 2))


def test_store_uses_fsrs_and_keeps_weak_items_close(tmp_path, clock):
    store = Store(f"sqlite:///{tmp_path / 'f.sqlite3'}")
    learner = store.learner_id("cli:ann", clock())
    good = store.review(learner, "normalization", 85, clock())
    assert good.due_at - clock() == timedelta(days=2) and "stability" in good.state
    weak = store.review(learner, "optimizers", 70, clock())  # Hard, but under 80: tomorrow
    assert weak.due_at - clock() <= timedelta(days=1)


def test_unknown_scheduler_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="scheduler"):
        Store(f"sqlite:///{tmp_path / 'x.sqlite3'}", scheduler="leitner")
