"""Compose a knowledge check the way the learner's protocol does: ~70% new, ~30% review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from knowledge.catalog import Catalog, Note

CHECK_SIZE = 10
REVIEW_SHARE = 0.3
WEAK_PREREQUISITE = 60  # a prerequisite last scored below this is taught before what needs it


def new_topic_order(catalog: Catalog, weights: Mapping[str, float],
                    seen: set[str]) -> list[Note]:
    """Unseen notes, most useful first: domain weight × (1 − share of the domain already seen),
    then fewer prerequisites first, so a domain starts from its foundations."""
    share_seen = {}
    for domain in catalog.domains:
        notes = catalog.notes_in(domain.id)
        share_seen[domain.id] = sum(n.id in seen for n in notes) / max(1, len(notes))

    def priority(note: Note) -> tuple:
        return (-weights.get(note.domain, 0.0) * (1 - share_seen[note.domain]),
                len(note.prerequisites), note.id)

    return sorted((n for n in catalog.notes if n.id not in seen), key=priority)


def compose_check(catalog: Catalog, weights: Mapping[str, float], last_scores: Mapping[str, float],
                  due: Sequence[str], current: str | None,
                  size: int = CHECK_SIZE) -> list[tuple[str, bool]]:
    """(note id, is_review) for each question of a check: new or current topics, then reviews.

    `last_scores` holds the latest score per topic the learner has answered; `due` the topics
    due for review, most overdue first; `current` the topic being studied now.
    """
    reviews = [n for n in due if n in catalog.by_id][: round(size * REVIEW_SHARE)]
    planned: list[str] = []

    def plan(note_id: str) -> None:
        # A weak or never-seen prerequisite comes first (one level is enough per check).
        for pre in catalog.note(note_id).prerequisites:
            weak = last_scores.get(pre, 0.0) < WEAK_PREREQUISITE
            if weak and pre not in planned and pre not in reviews and len(planned) < size:
                planned.append(pre)
        if note_id not in planned and note_id not in reviews and len(planned) < size:
            planned.append(note_id)

    if current and current in catalog.by_id:
        plan(current)
    for note in new_topic_order(catalog, weights, set(last_scores) | set(planned)):
        if len(planned) >= size - len(reviews):
            break
        plan(note.id)
    new = planned[: size - len(reviews)]
    return [(n, False) for n in new] + [(n, True) for n in reviews]
