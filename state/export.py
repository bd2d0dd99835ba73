"""Exports of one learner's data: weak items as an Anki deck or CSV, the whole history as JSON.

Nothing here reads another learner's rows: every query is by the learner's id.
"""

from __future__ import annotations

import csv
import html
import io
import json
import zlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import genanki
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.catalog import Catalog
from state.models import StudySession
from state.report import LearnerInfo, learner_info, short_title
from state.store import WEAK_SCORE, AttemptView, Store

HISTORY_FORMAT = "ml-tutor-history"
HISTORY_VERSION = 1
# Fixed ids make a re-exported deck update the cards already imported instead of adding a
# second copy: Anki matches models and decks by id and notes by guid.
ANKI_MODEL_ID = 1_730_514_211
ANKI_DECK_BASE = 1_900_000_000
CSV_COLUMNS = ["topic", "domain", "question", "score", "answered_on", "gaps",
               "reference_answer", "note_id", "question_id"]

_MODEL = genanki.Model(
    ANKI_MODEL_ID, "ml-tutor weak item",
    fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "Gaps"}, {"name": "Topic"},
            {"name": "LastScore"}],
    templates=[{
        "name": "Recall",
        "qfmt": '<div class="topic">{{Topic}}</div><div class="q">{{Question}}</div>',
        "afmt": '{{FrontSide}}<hr id="answer"><div class="a">{{Answer}}</div>'
                '{{#Gaps}}<div class="gaps"><b>What you missed last time '
                '({{LastScore}}):</b>{{Gaps}}</div>{{/Gaps}}',
    }],
    css=".card{font-family:sans-serif;font-size:18px;text-align:left;max-width:40em;"
        "margin:auto}.topic{color:#718096;font-size:14px}.gaps{margin-top:1em;color:#c53030}")


class WeakItem(BaseModel):
    """A question whose latest grade was weak (under 80), with what was missed."""

    note_id: str
    question_id: str
    topic: str
    domain: str
    question: str
    reference_answer: str
    gaps: list[str]
    score: float
    answered_at: datetime


def weak_items(attempts: Sequence[AttemptView], catalog: Catalog) -> list[WeakItem]:
    """One item per question whose latest graded answer scored under WEAK_SCORE.

    A question later answered well drops out: only the latest grade of each question counts.
    Items come in catalog order (unknown notes last), then by question id.
    """
    latest: dict[tuple[str, str], AttemptView] = {}
    for a in sorted(attempts, key=lambda a: a.id):
        if a.score is not None:
            latest[(a.note_id, a.question_id)] = a
    order = {n.id: i for i, n in enumerate(catalog.notes)}
    items = [WeakItem(note_id=a.note_id, question_id=a.question_id,
                      topic=short_title(catalog, a.note_id),
                      domain=catalog.by_id[a.note_id].domain if a.note_id in catalog.by_id else "",
                      question=a.question, reference_answer=a.reference_answer, gaps=a.gaps,
                      score=a.score, answered_at=a.answered_at)
             for a in latest.values() if a.score < WEAK_SCORE]
    items.sort(key=lambda i: (order.get(i.note_id, len(order)), i.note_id, i.question_id))
    return items


def _html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def anki_deck(learner: LearnerInfo, items: Sequence[WeakItem]) -> genanki.Deck:
    """A deck with one card per weak item: front the question, back the reference answer and
    the learner's gaps. Deck id and note guids are stable per learner and question."""
    deck_id = ANKI_DECK_BASE + zlib.crc32(learner.external_id.encode())
    name = learner.display_name or learner.external_id
    deck = genanki.Deck(deck_id, f"ml-tutor::weak items ({name})",
                        description="Questions you last answered under 80%, from ml-tutor.")
    for item in items:
        gaps = "".join(f"<li>{_html(g)}</li>" for g in item.gaps)
        deck.add_note(genanki.Note(
            model=_MODEL,
            fields=[_html(item.question), _html(item.reference_answer),
                    f"<ul>{gaps}</ul>" if gaps else "", _html(item.topic),
                    f"{item.score:.0f}% on {item.answered_at.date().isoformat()}"],
            tags=["ml-tutor", item.domain or "other", item.note_id],
            guid=genanki.guid_for(learner.external_id, item.note_id, item.question_id)))
    return deck


def write_anki(store: Store, catalog: Catalog, learner_id: int, path: Path) -> int:
    """Write the learner's weak items as an Anki package (.apkg); returns the number of cards.

    Nothing is written when there are no weak items (returns 0).
    """
    items = weak_items(store.learner_attempts(learner_id), catalog)
    if items:
        genanki.Package(anki_deck(learner_info(store, learner_id), items)).write_to_file(
            str(path))
    return len(items)


def weak_items_csv(items: Sequence[WeakItem]) -> str:
    """The weak items as CSV text with a header row (gaps joined with "; ")."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i in items:
        writer.writerow([i.topic, i.domain, i.question, f"{i.score:.0f}",
                         i.answered_at.date().isoformat(), "; ".join(i.gaps),
                         i.reference_answer, i.note_id, i.question_id])
    return buf.getvalue()


def write_csv(store: Store, catalog: Catalog, learner_id: int, path: Path) -> int:
    """Write the learner's weak items as CSV; returns the number of rows (0: nothing written)."""
    items = weak_items(store.learner_attempts(learner_id), catalog)
    if items:
        path.write_text(weak_items_csv(items), encoding="utf-8")
    return len(items)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def history(store: Store, learner_id: int, now: datetime) -> dict:
    """Everything stored about one learner, JSON-ready: who, preferences, sessions, every
    attempt with all its grades (first grades and dispute re-grades), and the review cards."""
    learner = learner_info(store, learner_id)
    with Session(store.engine) as db:  # the Store has no read of a learner's session rows
        sessions = db.scalars(select(StudySession).where(StudySession.learner_id == learner_id)
                              .order_by(StudySession.id)).all()
        session_rows = [{"id": s.id, "started_at": _iso(s.started_at),
                         "last_active_at": _iso(s.last_active_at)} for s in sessions]
    attempts = []
    for a in store.learner_attempts(learner_id):
        attempts.append({
            "id": a.id, "session_id": a.session_id, "note_id": a.note_id,
            "question_id": a.question_id, "question": a.question,
            "reference_answer": a.reference_answer, "key_points": a.key_points,
            "answer": a.answer, "is_review": a.is_review, "status": a.status, "score": a.score,
            "confidence": a.confidence, "gaps": a.gaps, "feedback": a.feedback,
            "grader": a.grader, "answered_at": _iso(a.answered_at),
            "grades": store.grades(a.id)})
    cards = [{"note_id": c.note_id, "due_at": _iso(c.due_at), "last_score": c.last_score,
              "reviews": c.reviews, "state": c.state}
             for c in sorted(store.cards(learner_id), key=lambda c: c.note_id)]
    return {"format": HISTORY_FORMAT, "version": HISTORY_VERSION, "exported_at": _iso(now),
            "learner": {"external_id": learner.external_id,
                        "display_name": learner.display_name,
                        "created_at": _iso(learner.created_at)},
            "preferences": store.preferences(learner_id), "sessions": session_rows,
            "attempts": attempts, "review_cards": cards}


def write_json(store: Store, learner_id: int, path: Path, now: datetime) -> dict:
    """Write `history(...)` as indented UTF-8 JSON; returns the document."""
    doc = history(store, learner_id, now)
    # default=str: scheduler state may hold values json cannot encode natively (datetimes).
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")
    return doc
