"""SM-2 spaced repetition, as the learner's seed documents used it. Pure and clock-free."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

MIN_EASINESS = 1.3


def quality_from_score(score: float) -> int:
    """Map a 0–100 grade to SM-2's 0–5 recall quality.

    5 = essentially perfect (≥ 95), 4 = correct with minor gaps (≥ 80), 3 = correct core but
    clear gaps (≥ 60; still a pass), 2/1/0 = failed recall of decreasing quality. The pass line
    at 60 keeps "mostly right" answers on a growing interval while anything below repeats soon.
    """
    if not 0 <= score <= 100:
        raise ValueError(f"score must be in 0..100, got {score}")
    for threshold, quality in ((95, 5), (80, 4), (60, 3), (40, 2), (20, 1)):
        if score >= threshold:
            return quality
    return 0


@dataclass(frozen=True)
class Sm2State:
    """A card's SM-2 memory: easiness factor, successful repetitions in a row, interval."""

    easiness: float = 2.5
    repetitions: int = 0
    interval_days: int = 0

    def to_dict(self) -> dict:
        """Plain dict for storage."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Sm2State:
        """Rebuild from storage; an empty dict is a new card."""
        if not data:
            return cls()
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def sm2_review(state: Sm2State, quality: int) -> Sm2State:
    """Apply one review of quality 0–5 (SuperMemo-2, Woźniak 1990)."""
    if not 0 <= quality <= 5:
        raise ValueError(f"quality must be in 0..5, got {quality}")
    if quality < 3:
        # Original SM-2: a lapse restarts the repetitions but leaves the easiness factor alone.
        return Sm2State(easiness=state.easiness, repetitions=0, interval_days=1)
    easiness = state.easiness + (0.1 - (5 - quality) * (0.08 + (5 - quality) * 0.02))
    easiness = max(MIN_EASINESS, round(easiness, 4))
    repetitions = state.repetitions + 1
    if repetitions == 1:
        interval = 1
    elif repetitions == 2:
        interval = 6
    else:
        interval = round(state.interval_days * easiness)
    return Sm2State(easiness=easiness, repetitions=repetitions, interval_days=interval)


def schedule(state: Sm2State, score: float, now: datetime) -> tuple[Sm2State, datetime]:
    """Review a card with a 0–100 score at `now`; return the new state and the due time."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    new = sm2_review(state, quality_from_score(score))
    return new, now + timedelta(days=new.interval_days)
