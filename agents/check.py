"""What to ask next: a knowledge check the way the learner's protocol composes it (~70% on the
day's content and new topics, ~30% review), same-session re-asks of failed topics, the daily
review cap, and the order in which a topic's questions come back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from knowledge.catalog import Catalog, Note
from state.store import AttemptView

CHECK_SIZE = 10
REVIEW_SHARE = 0.3
PER_TOPIC = 3  # most questions on one of today's topics in a check (the seeds asked 2–3)
# How long a lesson counts as the day's content for a knowledge check. A rolling window rather
# than a calendar day: the learner's day does not end at UTC midnight (an evening lesson in
# California and its check two hours later straddle it), and half a day covers a study block
# with a break in it without reaching back to yesterday's lessons.
STUDY_WINDOW = timedelta(hours=12)
WEAK_PREREQUISITE = 60  # a prerequisite last scored below this is taught before what needs it

# Same-session re-asks. Long-term schedulers only act across days, so a topic failed now would
# wait until tomorrow; asking it again a few questions later (retrieval after a short gap) is
# what fixes the correction in memory. Below 60 is the line where FSRS rates an answer "Again"
# (not recalled) and SM-2 fails it, so the re-ask and the schedule agree on what a failure is.
# A re-ask is a new question of today's work, not a review: it does not use up the daily cap.
REASK_BELOW = 60
REASK_GAP = 2  # other questions answered between a failure and its re-ask: never immediately
DEFAULT_DAILY_REVIEW_CAP = 30


def new_topic_order(catalog: Catalog, weights: Mapping[str, float], seen: set[str],
                    mastery: Mapping[str, float] | None = None) -> list[Note]:
    """Unseen notes, most useful first: domain weight × (1 − the domain's mastery), then fewer
    prerequisites first, so a domain starts from its foundations.

    The domain's mastery is the tracker's (`state.mastery.domain_mastery`): its topics' mastery
    (0–1) averaged over all its topics, unseen ones counting 0, so the product of the two is the
    tracker's study priority. `mastery` maps note id → the learner model's estimate; without it
    a seen topic counts as mastered (the domain's share already seen).
    """
    def known(note_id: str) -> float:
        if mastery is not None:
            return mastery.get(note_id, 0.0)
        return 1.0 if note_id in seen else 0.0

    domain_mastery = {}
    for domain in catalog.domains:
        notes = catalog.notes_in(domain.id)
        domain_mastery[domain.id] = sum(known(n.id) for n in notes) / max(1, len(notes))

    def priority(note: Note) -> tuple:
        return (-weights.get(note.domain, 0.0) * (1 - domain_mastery[note.domain]),
                len(note.prerequisites), note.id)

    return sorted((n for n in catalog.notes if n.id not in seen), key=priority)


def compose_check(catalog: Catalog, weights: Mapping[str, float], last_scores: Mapping[str, float],
                  due: Sequence[str], current: Sequence[str] | str | None = (),
                  size: int = CHECK_SIZE,
                  mastery: Mapping[str, float] | None = None) -> list[tuple[str, bool]]:
    """(note id, is_review) for each question of a check: today's topics, new ones, reviews.

    The learner's protocol: about 70% of a check is on the day's content and 30% on due
    reviews ("10 questions: 7 Day 7 content, 3 review"). The day's content is the topics being
    studied now (`current`, in the order they were studied), and each gets several questions —
    up to PER_TOPIC, never more than the topic has, handed out one round at a time so that two
    questions on one topic are apart — because one question samples a topic too thinly to tell
    whether it was understood. Slots left over go to the most useful unseen topics, one
    question each, so a check without study today is a placement check over new topics.

    Args:
        catalog: the curriculum.
        weights: domain weights (the learner's, focus included) for choosing new topics.
        last_scores: the latest score per topic the learner has answered; a prerequisite
            last scored below WEAK_PREREQUISITE (or never) is asked before what needs it.
        due: topics due for review, most overdue first (already within the daily cap).
        current: the topics studied now, oldest first (a single id is accepted).
        size: questions in the check.
        mastery: note id → the learner model's mastery (0–1), which ranks the domains new
            topics come from (see `new_topic_order`).
    """
    if isinstance(current, str):
        current = [current]
    current = list(dict.fromkeys(c for c in current or () if c in catalog.by_id))
    reviews = [n for n in due if n in catalog.by_id][: round(size * REVIEW_SHARE)]
    slots = size - len(reviews)
    planned: list[str] = []

    def plan(note_id: str) -> None:
        # A weak or never-seen prerequisite comes first (one level is enough per check).
        for pre in catalog.note(note_id).prerequisites:
            weak = last_scores.get(pre, 0.0) < WEAK_PREREQUISITE
            if weak and pre not in planned and pre not in reviews and len(planned) < slots:
                planned.append(pre)
        if note_id not in planned and note_id not in reviews and len(planned) < slots:
            planned.append(note_id)

    today = [c for c in current if c not in reviews]
    for round_ in range(PER_TOPIC):
        for note_id in today:
            if round_ == 0:
                plan(note_id)
            elif (planned.count(note_id) == round_ and len(planned) < slots
                  and round_ < len(catalog.note(note_id).questions)):
                planned.append(note_id)
    for note in new_topic_order(catalog, weights, set(last_scores) | set(planned), mastery):
        if len(planned) >= slots:
            break
        plan(note.id)
    return [(n, False) for n in planned] + [(n, True) for n in reviews]


def pending_reasks(session_attempts: Sequence[AttemptView]) -> dict[str, int]:
    """Topics failed this session that are still owed their one re-ask.

    Args:
        session_attempts: the session's attempts in the order they were answered.

    Returns:
        note id → how many questions were answered after the failure, earliest failure first.
        A topic qualifies when its latest attempt scored below REASK_BELOW and it is the topic's
        only failure this session: a later attempt on the topic was its re-ask, so a topic comes
        back at most once per session (a second failure is left to the scheduler).
    """
    failures: dict[str, int] = {}
    latest: dict[str, int] = {}
    for i, attempt in enumerate(session_attempts):
        latest[attempt.note_id] = i
        if attempt.score is not None and attempt.score < REASK_BELOW:
            failures[attempt.note_id] = failures.get(attempt.note_id, 0) + 1
    pending = {}
    for note_id, count in failures.items():
        last = session_attempts[latest[note_id]]
        if count == 1 and last.score is not None and last.score < REASK_BELOW:
            pending[note_id] = len(session_attempts) - 1 - latest[note_id]
    return pending


def failed_last(session_attempts: Sequence[AttemptView]) -> set[str]:
    """Topics whose latest attempt this session scored below REASK_BELOW.

    "quiz me" does not simply continue such a topic: it comes back as a re-ask after a gap,
    or, once re-asked, through the scheduler.
    """
    latest: dict[str, AttemptView] = {a.note_id: a for a in session_attempts}
    return {n for n, a in latest.items() if a.score is not None and a.score < REASK_BELOW}


def asked_order(attempts: Sequence[AttemptView]) -> list[str]:
    """Question ids already answered, each once, least recently asked first.

    The engines take this as `asked`: a question is not repeated while its topic has fresh
    ones, and once all were asked the least recently asked comes back first.
    """
    order: dict[str, None] = {}
    for attempt in sorted(attempts, key=lambda a: a.id):
        order.pop(attempt.question_id, None)
        order[attempt.question_id] = None
    return list(order)


def day_start(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: where the daily review cap starts counting."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def reviews_left(cap: int, answered_today: int) -> int:
    """Review questions that may still be asked today under the daily cap."""
    return max(0, cap - answered_today)
