"""The readiness tracker, the progress overview and the charts, from a seeded store."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image

from agents.summary import build_summary, summarize_session
from bot.render_text import render_summary
from knowledge.catalog import Catalog, load_catalog, load_domains
from state.charts import readiness_chart, score_trend_chart
from state.mastery import domain_mastery, learner_weights, readiness, topic_mastery
from state.report import (
    build_tracker,
    find_learner,
    knowledge_gaps,
    progress_overview,
    render_progress_text,
    session_history,
    topics_mastered,
)
from state.store import AttemptView, Store
from tests.conftest import FakeClock

# A small curriculum cut from the real one: three answered domains and one untouched topic.
NOTE_IDS = ["bias-variance", "classification-metrics", "backpropagation", "normalization",
            "transformers", "monitoring-drift", "decision-trees"]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REPORT_AT = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)


def mini_catalog() -> Catalog:
    """Real notes (prerequisites dropped so the cut validates) with the real domains."""
    full = load_catalog()
    notes = [full.by_id[n].model_copy(update={"prerequisites": []}) for n in NOTE_IDS]
    return Catalog(domains=load_domains(), notes=notes)


@dataclass
class Seeded:
    """A store with Ann's three sessions and one answer by Bob."""

    store: Store
    catalog: Catalog
    ann: int
    bob: int
    disputed_attempt: int


def _answer(store: Store, catalog: Catalog, learner: int, clock: FakeClock, note_id: str,
            score: float, missed: list[int], *, review: bool = False, confidence: float = 0.9,
            answer: str = "my answer") -> int:
    """Record and grade one answer the way the graph does, then schedule the topic."""
    question = catalog.by_id[note_id].questions[0]
    session = store.current_session(learner, clock())
    attempt = store.record_answer(
        learner_id=learner, session_id=session, note_id=note_id, question_id=question.id,
        question=question.prompt, reference_answer=question.reference_answer,
        key_points=question.key_points, answer=answer, is_review=review, now=clock())
    gaps = [question.key_points[i] for i in missed]
    store.record_grade(attempt, {
        "score": score, "confidence": confidence, "gaps": gaps, "grader": "test/1",
        "covered": [p for p in question.key_points if p not in gaps], "feedback": "ok"}, clock())
    store.review(learner, note_id, score, clock(), confidence=confidence)
    clock.advance(minutes=3)
    return attempt


def seed(store: Store, catalog: Catalog) -> Seeded:
    """Three sessions over five days: gaps found, two resolved later, one grade disputed."""
    clock = FakeClock(START)
    ann = store.learner_id("cli:ann", clock(), display_name="Ann")
    # Day 1: two fundamentals strong, two deep-learning topics weak.
    _answer(store, catalog, ann, clock, "bias-variance", 95, [])
    _answer(store, catalog, ann, clock, "classification-metrics", 90, [])
    _answer(store, catalog, ann, clock, "backpropagation", 60, [1, 2], confidence=0.8)
    _answer(store, catalog, ann, clock, "normalization", 70, [0], confidence=0.8)
    # Day 2: backprop recovers (its two gaps are resolved), drift is a gap, a dispute.
    clock.now = START + timedelta(days=1)
    _answer(store, catalog, ann, clock, "backpropagation", 92, [], review=True)
    _answer(store, catalog, ann, clock, "monitoring-drift", 30, [0, 1, 2], confidence=0.8)
    disputed = _answer(store, catalog, ann, clock, "normalization", 55, [0, 2], review=True,
                       confidence=0.8)
    kps = catalog.by_id["normalization"].questions[0].key_points
    store.record_grade(disputed, {"score": 75, "confidence": 0.8, "gaps": [kps[0]],
                                  "grader": "test/1", "feedback": "restored"}, clock(),
                       kind="dispute")
    store.review(ann, "normalization", 75, clock(), confidence=0.8, replace_last=True)
    # Day 5: fundamentals retained; drift still weak, one of its points now covered.
    clock.now = START + timedelta(days=4)
    _answer(store, catalog, ann, clock, "bias-variance", 100, [], review=True)
    _answer(store, catalog, ann, clock, "classification-metrics", 95, [], review=True)
    _answer(store, catalog, ann, clock, "monitoring-drift", 40, [0, 1], review=True,
            confidence=0.8)
    store.set_preferences(ann, interview_date="2026-04-01", focus=["system-design"])
    bob = store.learner_id("cli:bob", clock())
    _answer(store, catalog, bob, clock, "transformers", 20, [0, 1, 2], answer="bob's secret")
    return Seeded(store, catalog, ann, bob, disputed)


@pytest.fixture
def seeded(tmp_path) -> Seeded:
    """A fresh store seeded with the sessions above."""
    store = Store(f"sqlite:///{tmp_path / 'seeded.sqlite3'}")
    return seed(store, mini_catalog())


def _domain(overview, domain_id):
    return next(d for d in overview.domains if d.id == domain_id)


def test_overview_rows_statuses_and_readiness(seeded):
    o = progress_overview(seeded.store, seeded.catalog, seeded.ann, REPORT_AT)
    assert [d.letter for d in o.domains] == list("ABCDEFGH")
    assert _domain(o, "fundamentals").status == "Strong"
    assert _domain(o, "deep-learning").status == "Developing"
    assert _domain(o, "system-design").status == "Gap"
    assert _domain(o, "classical-ml").status == "Not started"
    dl = _domain(o, "deep-learning")
    assert (dl.topics_seen, dl.topics_total, dl.coverage) == (2, 3, pytest.approx(66.7))
    assert dl.label == "C. Deep Learning" and dl.weight == 25

    # Readiness is the learner model's weighted domain mastery, recomputed independently.
    attempts = seeded.store.learner_attempts(seeded.ann)
    domains = domain_mastery(topic_mastery(attempts, REPORT_AT), seeded.catalog)
    expected = readiness(domains, learner_weights(seeded.catalog, {}))
    assert o.readiness == pytest.approx(expected, abs=0.05)
    assert 20 < o.readiness < 40  # two of three DL topics half known, fundamentals strong
    assert o.total_answers == 10
    assert o.interview_date == date(2026, 4, 1) and o.days_left == 26
    assert o.focus == ["system-design"] and _domain(o, "system-design").focus
    due = sum(1 for c in seeded.store.cards(seeded.ann) if c.due_at <= REPORT_AT)
    assert o.due_now == due >= 1  # normalization, weak after the dispute, is back


def test_status_thresholds_follow_mastery(seeded):
    o = progress_overview(seeded.store, seeded.catalog, seeded.ann, REPORT_AT)
    fundamentals = _domain(o, "fundamentals")
    assert fundamentals.mastery >= 70 and fundamentals.coverage == 100
    drift = _domain(o, "system-design")
    assert drift.seen_mastery < 50
    # Study priority is weight share × (1 − mastery).
    assert drift.priority == pytest.approx(drift.weight_pct * (1 - drift.mastery / 100), abs=0.05)


def test_progress_text_fits_a_chat_message(seeded):
    o = progress_overview(seeded.store, seeded.catalog, seeded.ann, REPORT_AT)
    text = render_progress_text(o)
    assert len(text) < 1500
    assert f"readiness {o.readiness:.0f}%" in text
    assert "2026-04-01 (26 days left)" in text
    assert "*E ML System Design" in text and "Gap" in text
    assert "A ML Fundamentals" in text and "Strong" in text
    # The focus domain leads the "Next" line.
    assert text.splitlines()[-1].startswith("Next: E. ML System Design")


def test_preferences_are_read_leniently(seeded):
    seeded.store.set_preferences(seeded.ann, interview_date="next spring", focus=["C", "bogus"])
    o = progress_overview(seeded.store, seeded.catalog, seeded.ann, REPORT_AT)
    assert (o.interview_date, o.days_left, o.focus) == (None, None, ["deep-learning"])
    seeded.store.set_preferences(seeded.ann, interview_date="2026-03-01")
    o = progress_overview(seeded.store, seeded.catalog, seeded.ann, REPORT_AT)
    assert o.days_left == -5 and "interview 2026-03-01 (passed)" in render_progress_text(o)


def test_topics_mastered_with_dates_and_confidence(seeded):
    attempts = seeded.store.learner_attempts(seeded.ann)
    mastered = {m.note_id: m for m in topics_mastered(attempts, seeded.catalog, REPORT_AT)}
    assert set(mastered) == {"bias-variance", "classification-metrics", "backpropagation"}
    # Backprop was weak on day 1 and mastered with the review on day 2.
    assert mastered["backpropagation"].mastered_on == date(2026, 3, 3)
    assert mastered["bias-variance"].mastered_on == date(2026, 3, 2)
    assert mastered["bias-variance"].confidence == "Medium-High"
    kps = seeded.catalog.by_id["backpropagation"].questions[0].key_points
    # Every point was covered at some time: two on day 1, the two missed then on day 2.
    assert mastered["backpropagation"].covered == [kps[0], kps[3], kps[1], kps[2]]


def test_gaps_are_ordered_and_resolved(seeded):
    attempts = seeded.store.learner_attempts(seeded.ann)
    weights = learner_weights(seeded.catalog, {})
    open_gaps, resolved = knowledge_gaps(attempts, seeded.catalog, weights, REPORT_AT)
    drift = seeded.catalog.by_id["monitoring-drift"].questions[0].key_points
    norm = seeded.catalog.by_id["normalization"].questions[0].key_points
    backprop = seeded.catalog.by_id["backpropagation"].questions[0].key_points
    assert [(g.note_id, g.point, g.priority) for g in open_gaps] == [
        ("monitoring-drift", drift[0], "High"), ("monitoring-drift", drift[1], "High"),
        ("normalization", norm[0], "Medium")]
    assert open_gaps[0].first_missed == date(2026, 3, 3)
    # Newest resolution first: drift's third point on day 5, backprop's two on day 2.
    assert [(g.point, g.resolved_on) for g in resolved] == [
        (drift[2], date(2026, 3, 6)), (backprop[1], date(2026, 3, 3)),
        (backprop[2], date(2026, 3, 3))]


def test_session_history_rows(seeded):
    rows = session_history(seeded.store, seeded.store.learner_attempts(seeded.ann),
                           seeded.catalog)
    assert [(r.date, r.questions, r.new, r.review) for r in rows] == [
        (date(2026, 3, 2), 4, 4, 0), (date(2026, 3, 3), 3, 1, 2), (date(2026, 3, 6), 3, 0, 3)]
    assert rows[0].average == pytest.approx((95 + 90 + 60 + 70) / 4, abs=0.1)
    assert rows[1].average == pytest.approx((92 + 30 + 75) / 3, abs=0.1)  # the disputed grade
    assert rows[1].regraded == 1 and rows[0].regraded == 0
    assert rows[2].review_average == pytest.approx((100 + 95 + 40) / 3, abs=0.1)


def test_tracker_markdown_has_the_seed_sections(seeded):
    md = build_tracker(seeded.store, seeded.catalog, seeded.ann, REPORT_AT,
                       charts={"Readiness by domain": "t-readiness.png"})
    o = progress_overview(seeded.store, seeded.catalog, seeded.ann, REPORT_AT)
    for heading in ("# ML Interview Study Tracker", "## Quick Stats", "## Study Priority",
                    "## Topics Mastered", "## Knowledge Gaps", "### ✅ Recently Resolved",
                    "## Interview Readiness Checklist",
                    "## Review Scheduled", "## Session History Summary"):
        assert heading in md
    assert "**Last Updated**: 2026-03-06" in md
    assert f"**Overall Interview Readiness**: {o.readiness:.0f}%" in md
    assert "**Target Interview Date**: 2026-04-01 (26 days left)" in md
    assert "![Readiness by domain](t-readiness.png)" in md
    assert "| A. ML Fundamentals (16%) | 2 | 2 |" in md and "🟢 Strong |" in md
    assert "| B. Classical ML (12%) | 0 | 1 | 0% | ⚪ Not started |" in md
    assert "| E. ML System Design (15%) | 1 | 1 |" in md and "🔴 Gap |" in md
    # The focus domain heads the study priorities.
    priorities = md.split("## Study Priority")[1].split("---")[0]
    assert priorities.strip().splitlines()[2].startswith("1. 🔥 **ML System Design (15%)**")
    assert "| **Backpropagation** | 2026-03-03 | Medium |" in md
    high = md.split("### 🔴 High Priority")[1].split("###")[0]
    assert "**Monitoring ML systems and detecting drift**: Covariate shift" in high
    assert "(missed since 2026-03-03)" in high
    assert "| 2026-03-02 (Session 1) | 4 | 79% | 4 (79%) | 0 |" in md
    assert "1 grade(s) corrected after a dispute" in md
    checklist = md.split("## Interview Readiness Checklist")[1].split("---")[0]
    assert "- [x] Backpropagation (mastery" in checklist
    assert "- [ ] Normalization layers (mastery" in checklist
    assert "- [ ] …and 1 topic(s) not started" in checklist  # transformers
    assert "**B. Classical ML** — not started (1 topic)" in checklist
    assert "due now" in md  # normalization is back for review
    assert "bob" not in md.lower()


def test_tracker_for_a_learner_without_answers(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    learner = store.learner_id("cli:new", START)
    md = build_tracker(store, mini_catalog(), learner, REPORT_AT)
    assert "**Overall Interview Readiness**: 0%" in md
    assert md.count("⚪ Not started |") == 8
    assert "Nothing scheduled yet" in md
    assert find_learner(store, "cli:new").id == learner
    assert find_learner(store, "cli:nobody") is None


def test_session_summary_adds_retention_improvements_and_corrections(seeded):
    day2 = [a for a in seeded.store.learner_attempts(seeded.ann)
            if a.answered_at.date() == date(2026, 3, 3)]
    summary = summarize_session(seeded.store, seeded.catalog, seeded.ann, day2[0].session_id,
                                START + timedelta(days=1, hours=1))
    assert [(r.note_id, r.studied_on, r.previous_score, r.first_score) for r in summary.rows] == [
        ("backpropagation", date(2026, 3, 2), 60, None),
        ("monitoring-drift", date(2026, 3, 3), None, None),
        ("normalization", date(2026, 3, 2), 70, 55)]
    assert [(g.label, g.average, g.questions) for g in summary.retention] == [
        ("New topics", 30, [2]), ("Reviews of 2026-03-02 (1 day ago)", 83.5, [1, 3])]
    assert summary.improvements == [
        "Backpropagation: the chain rule through a network: 60% → 92%"]
    assert summary.corrections == [
        "Q3 Normalization layers: BatchNorm, LayerNorm, GroupNorm, RMSNorm: 55% → 75% after "
        "your dispute"]
    text = render_summary(summary.model_dump())
    assert "Reviews of 2026-03-02 (1 day ago) (Q1, Q3): 84%" in text
    assert "regraded from 55%" in text and "was 60%" in text
    assert "Grades corrected:" in text and "Improved:" in text


def test_a_strength_is_a_topic_answered_well_every_time():
    catalog = mini_catalog()
    topics = [n.id for n in catalog.notes][:2]

    def attempt(i, note_id, score):
        return AttemptView(id=i, session_id=1, note_id=note_id, question_id=f"q{i}",
                           question="Q?", answer="A", is_review=False, status="graded",
                           score=score, confidence=0.9, answered_at=START)

    # Two questions on each topic: the first topic 95 and 50, the second 92 and 98.
    summary = build_summary([attempt(1, topics[0], 95), attempt(2, topics[1], 92),
                             attempt(3, topics[0], 50), attempt(4, topics[1], 98)],
                            catalog, [], START)
    titles = {n.id: n.title for n in catalog.notes}
    assert summary.strengths == [titles[topics[1]]]
    assert [t for t, _ in summary.weak_items] == [titles[topics[0]]]


def _png(data: bytes) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    image.verify()
    return Image.open(io.BytesIO(data))


def test_charts_are_small_valid_pngs(seeded):
    o = progress_overview(seeded.store, seeded.catalog, seeded.ann, REPORT_AT)
    bars = readiness_chart(o)
    assert _png(bars).size == (800, 500)
    assert readiness_chart(o) == bars  # deterministic
    trend = score_trend_chart(seeded.store.learner_attempts(seeded.ann))
    assert _png(trend).size == (800, 500)
    assert 5_000 < len(bars) < 200_000 and 5_000 < len(trend) < 200_000
    empty = score_trend_chart([])
    assert _png(empty).size == (800, 500)
    assert empty != trend
