"""FSRS-6 scheduling (py-fsrs), the default: a grade becomes a rating, the card a due date.

On the public srs-benchmark FSRS predicts recall far better than SM-2 even with its default
parameters, which is why it is the default here; SM-2 stays available (TUTOR_SCHEDULER=sm2)
for learners who want the behaviour of their old tracker.
"""

from __future__ import annotations

from datetime import datetime

import fsrs

# A card is a whole topic reviewed across days, so no minute-level learning steps; no fuzzing,
# so a schedule is reproducible (and testable).
_SCHEDULER = fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
UNSURE = 0.5  # below this confidence a grade is weak evidence


def rating_from_grade(score: float, confidence: float = 1.0) -> fsrs.Rating:
    """Map a 0–100 grade and the grader's confidence to an FSRS rating.

    ≥ 95 Easy (recalled fully, effortlessly), ≥ 80 Good (recalled with minor gaps), ≥ 60 Hard
    (the core recalled, with clear gaps), below Again (not recalled). The lines match the
    learner's tracker (80 marks a weak item) and SM-2's pass mark at 60. A grade the grader is
    unsure of is weak evidence, so its extreme ratings move one step inwards: an unsure Easy
    counts as Good, an unsure Again as Hard — neither stretches nor resets a schedule on a guess.
    """
    if not 0 <= score <= 100:
        raise ValueError(f"score must be in 0..100, got {score}")
    if score >= 95:
        rating = fsrs.Rating.Easy
    elif score >= 80:
        rating = fsrs.Rating.Good
    elif score >= 60:
        rating = fsrs.Rating.Hard
    else:
        rating = fsrs.Rating.Again
    if confidence < UNSURE:
        rating = {fsrs.Rating.Easy: fsrs.Rating.Good,
                  fsrs.Rating.Again: fsrs.Rating.Hard}.get(rating, rating)
    return rating


def fsrs_review(state: dict | None, score: float, confidence: float,
                now: datetime) -> tuple[dict, datetime]:
    """Review a card (its stored dict, or None for a new one); returns (new state, due)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    card = fsrs.Card.from_dict(state) if state else fsrs.Card(due=now)
    card, _ = _SCHEDULER.review_card(card, rating_from_grade(score, confidence), now)
    return card.to_dict(), card.due
