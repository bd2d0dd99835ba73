"""SM-2: golden sequences, the score → quality mapping, and clock handling."""

from datetime import UTC, datetime, timedelta

import pytest

from state.scheduler import Sm2State, quality_from_score, schedule, sm2_review


@pytest.mark.parametrize(("score", "quality"), [
    (100, 5), (95, 5), (94, 4), (80, 4), (79, 3), (60, 3), (59, 2), (40, 2), (39, 1), (20, 1),
    (19, 0), (0, 0)])
def test_score_to_quality(score, quality):
    assert quality_from_score(score) == quality


def test_score_out_of_range_is_rejected():
    with pytest.raises(ValueError):
        quality_from_score(101)


def test_golden_sequence_all_perfect():
    state, intervals = Sm2State(), []
    for _ in range(5):
        state = sm2_review(state, 5)
        intervals.append(state.interval_days)
    # EF grows by 0.1 per perfect review: 2.6, 2.7, 2.8, 2.9, 3.0
    assert intervals == [1, 6, 17, 49, 147]  # round(6·2.8), round(17·2.9), round(49·3.0)
    assert state.easiness == pytest.approx(3.0)


def test_golden_sequence_with_lapse():
    state = Sm2State()
    seen = []
    for q in [4, 4, 3, 1, 4, 5]:
        state = sm2_review(state, q)
        seen.append((state.repetitions, state.interval_days, round(state.easiness, 2)))
    assert seen == [
        (1, 1, 2.5),    # q=4 leaves EF unchanged
        (2, 6, 2.5),
        (3, 14, 2.36),  # q=3 lowers EF by 0.14; interval = round(6 × 2.36)
        (0, 1, 2.36),   # lapse: repetitions restart, EF unchanged (original SM-2)
        (1, 1, 2.36),
        (2, 6, 2.46),
    ]


def test_easiness_floor():
    state = Sm2State(easiness=1.35, repetitions=3, interval_days=10)
    assert sm2_review(state, 3).easiness == 1.3


def test_schedule_needs_aware_datetime():
    with pytest.raises(ValueError):
        schedule(Sm2State(), 90, datetime(2026, 1, 1))


def test_schedule_due_date():
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    state, due = schedule(Sm2State(), 100, now)
    assert due == now + timedelta(days=1)
    state, due = schedule(state, 100, due)
    assert due == now + timedelta(days=7)
