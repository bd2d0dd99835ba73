"""What comes next: the knowledge check (~70% new or current, ~30% due reviews, then a summary),
same-session re-asks, the daily review cap and the order questions come back in."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agents.check import (
    PER_TOPIC,
    REASK_BELOW,
    asked_order,
    compose_check,
    day_start,
    failed_last,
    new_topic_order,
    pending_reasks,
    reviews_left,
)
from agents.grading.offline import OfflineGrader
from agents.offline_engine import OfflineEngine
from bot.render_text import render_event
from knowledge.catalog import Catalog
from state.store import AttemptView, Store


def _attempt(i: int, note_id: str, score: float | None, question_id: str = "q1") -> AttemptView:
    return AttemptView(id=i, session_id=1, note_id=note_id, question_id=question_id,
                       question="Q?", answer="A", is_review=False, status="graded",
                       score=score, confidence=0.8)


def test_composition_mixes_new_and_review(knowledge):
    catalog = knowledge.catalog
    weights = {d.id: d.weight for d in catalog.domains}
    due = ["optimizers", "bias-variance", "kv-cache", "k-means"]
    plan = compose_check(catalog, weights, {n: 90.0 for n in due}, due, "normalization")
    assert len(plan) == 10
    new = [n for n, review in plan if not review]
    assert [n for n, review in plan if review] == due[:3]
    assert len(new) == 7
    # The topic studied now gets several questions (as many as PER_TOPIC, the seeds' 2–3);
    # the other slots go to distinct new topics, its unseen prerequisite first.
    assert new.count("normalization") == PER_TOPIC
    others = [n for n in new if n != "normalization"]
    assert len(set(others)) == len(others) == 7 - PER_TOPIC
    assert new[0] == "backpropagation"  # normalization's prerequisite, never answered
    assert not set(new) & set(due)


def test_todays_topics_share_the_new_slots_in_rounds(knowledge):
    catalog = knowledge.catalog
    weights = {d.id: d.weight for d in catalog.domains}
    studied = ["gradient-descent", "k-means", "optimizers"]
    seen = {n: 90.0 for n in [*studied, "backpropagation"]}
    plan = compose_check(catalog, weights, seen, ["bias-variance"], studied)
    new = [n for n, review in plan if not review]
    assert len(plan) == 10 and [n for n, r in plan if r] == ["bias-variance"]
    # 9 slots: three rounds over the three topics, in the order they were studied, so two
    # questions on one topic are never back to back.
    assert new == studied * 3
    # A topic never gets more questions than it has, nor more than PER_TOPIC; a topic due for
    # review is asked as a review only; what is left goes to new topics.
    short = Catalog(domains=catalog.domains, notes=[
        n.model_copy(update={"questions": n.questions[:1]}) if n.id == "gradient-descent" else n
        for n in catalog.notes])
    plan = compose_check(short, weights, seen, ["k-means"], studied)
    new = [n for n, review in plan if not review]
    assert new.count("gradient-descent") == 1 and new.count("optimizers") == PER_TOPIC
    assert "k-means" not in new and len(new) == 9
    assert len(set(new)) == 9 - PER_TOPIC - 1 + 2  # five new topics fill the rest


def test_new_topics_come_from_the_domain_with_the_highest_study_priority(knowledge):
    catalog = knowledge.catalog
    weights = {d.id: 0.0 for d in catalog.domains} | {"fundamentals": 1.0, "nlp": 1.0}
    fundamentals = [n.id for n in catalog.notes_in("fundamentals")]
    nlp = [n.id for n in catalog.notes_in("nlp")]
    # The same share of each domain seen (half), but fundamentals barely known.
    seen = set(fundamentals[: len(fundamentals) // 2]) | set(nlp[: len(nlp) // 2])
    mastery = {n: (0.1 if n in fundamentals else 0.95) for n in seen}
    first = new_topic_order(catalog, weights, seen, mastery)[0]
    assert first.domain == "fundamentals"  # weight × (1 − mastery), as the tracker's priority
    mastery = {n: (0.95 if n in fundamentals else 0.1) for n in seen}
    assert new_topic_order(catalog, weights, seen, mastery)[0].domain == "nlp"


def test_weak_prerequisite_comes_first(knowledge):
    catalog = knowledge.catalog
    weights = {d.id: d.weight for d in catalog.domains}
    note = next(n for n in catalog.notes if n.prerequisites)
    pre = note.prerequisites[0]
    plan = [n for n, _ in compose_check(catalog, weights, {pre: 30.0}, [], note.id)]
    assert plan.index(pre) < plan.index(note.id)


def test_a_failure_is_owed_one_reask_per_session():
    assert REASK_BELOW == 60
    session = [_attempt(1, "dropout", 20), _attempt(2, "adam", 90), _attempt(3, "knn", 59.5)]
    # dropout failed two questions ago, knn just now; adam passed.
    assert pending_reasks(session) == {"dropout": 2, "knn": 0}
    assert list(pending_reasks(session)) == ["dropout", "knn"]  # earliest failure first
    assert failed_last(session) == {"dropout", "knn"}
    # The re-ask happened: dropout is settled whether it passed or failed again.
    passed = [*session, _attempt(4, "dropout", 70)]
    assert pending_reasks(passed) == {"knn": 1} and failed_last(passed) == {"knn"}
    failed_again = [*session, _attempt(4, "dropout", 10)]
    assert pending_reasks(failed_again) == {"knn": 1}
    assert failed_last(failed_again) == {"dropout", "knn"}
    # A topic first passed, then failed, is owed its re-ask; ungraded answers are no failures.
    later = [_attempt(1, "adam", 90), _attempt(2, "adam", 40), _attempt(3, "knn", None)]
    assert pending_reasks(later) == {"adam": 1}
    assert pending_reasks([_attempt(1, "adam", 60)]) == {}


def test_questions_come_back_least_recently_asked_first():
    history = [_attempt(1, "dropout", 50, "q2"), _attempt(2, "dropout", 50, "q1"),
               _attempt(3, "dropout", 50, "q2"), _attempt(4, "dropout", 50, "q3")]
    assert asked_order(history) == ["q1", "q2", "q3"]
    assert asked_order(list(reversed(history))) == ["q1", "q2", "q3"]  # by answer order, not input


def test_review_cap_counts_from_utc_midnight():
    now = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert day_start(now) == datetime(2026, 3, 2, tzinfo=UTC)
    tokyo = datetime(2026, 3, 3, 8, 30, tzinfo=ZoneInfo("Asia/Tokyo"))  # still 2 March in UTC
    assert day_start(tokyo) == datetime(2026, 3, 2, tzinfo=UTC)
    with pytest.raises(ValueError):
        day_start(now.replace(tzinfo=None))
    assert (reviews_left(30, 29), reviews_left(30, 30), reviews_left(30, 45)) == (1, 0, 0)


async def test_offline_engine_cycles_least_recently_asked_first(knowledge, embedder):
    engine = OfflineEngine(OfflineGrader(embedder))
    note = knowledge.catalog.note("regularization")
    ids = [q.id for q in note.questions]
    fresh = await engine.make_question(note, [], ids[1:])
    assert fresh.question_id == ids[0]  # an unasked question always comes first
    for order in (ids, list(reversed(ids)), [ids[1], ids[0], *ids[2:]]):
        q = await engine.make_question(note, [], order)
        assert q.question_id == order[0]


async def test_check_runs_question_after_question(open_test_tutor, clock):
    async with open_test_tutor() as tutor:
        start = [e async for e in tutor.send("cli:ann", "/check")]
        assert "Knowledge check: 10 questions" in start[0].text
        first = next(e for e in start if e.kind == "question")
        assert first.data["position"] == "1/10"
        assert "Question 1/10" in render_event(first)
        events = [e async for e in tutor.send("cli:ann", "skip")]
        assert events[-1].data["position"] == "2/10"
        for _ in range(8):
            events = [e async for e in tutor.send("cli:ann", "skip")]
        assert events[-1].data["position"] == "10/10"
        last = [e async for e in tutor.send("cli:ann", "skip")]
        assert last[-1].kind == "summary"  # the check ends with its report
        assert await tutor.pending_question("cli:ann") is None
        after = [e async for e in tutor.send("cli:ann", "quiz me on dropout")]
        question = next(e for e in after if e.kind == "question")
        assert "position" not in question.data


async def test_check_asks_what_was_taught_today(open_test_tutor, clock):
    async with open_test_tutor() as tutor:
        for topic in ("k-means", "gradient descent"):
            [e async for e in tutor.send("cli:ann", f"teach me {topic}")]
        asked = []
        clock.advance(hours=11)  # a break, even across midnight, still leaves them today's
        events = [e async for e in tutor.send("cli:ann", "/check")]
        assert "10 questions — 6 on what you're studying, 4 new, 0 review" in events[0].text
        for _ in range(6):
            question = next(e for e in events if e.kind == "question").data
            asked.append((question["note_id"], question["question_id"]))
            events = [e async for e in tutor.send("cli:ann", "skip")]
        # Today's two topics, three questions each, alternating, never the same question twice.
        assert [n for n, _ in asked] == ["k-means", "gradient-descent"] * 3
        assert len(set(asked)) == 6
        [e async for e in tutor.send("cli:ann", "summary")]
        clock.advance(hours=2)  # 13 hours on, yesterday's lessons are not today's content
        events = [e async for e in tutor.send("cli:ann", "/check")]
        plan = [next(e for e in events if e.kind == "question").data["note_id"]]
        for _ in range(5):
            events = [e async for e in tutor.send("cli:ann", "skip")]
            plan.append(next(e for e in events if e.kind == "question").data["note_id"])
        assert "k-means" not in plan
        clock.advance(days=1)  # nor is the topic last asked about, a day later
        events = [e async for e in tutor.send("cli:ann", "/check")]
        start = next(e for e in events if "Knowledge check" in e.text)
        assert "on what you're studying" not in start.text


def test_store_counts_review_answers_since_midnight(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'cap.sqlite3'}")
    midnight = datetime(2026, 3, 2, tzinfo=UTC)
    ann = store.learner_id("cli:ann", midnight)
    bob = store.learner_id("cli:bob", midnight)
    session = store.current_session(ann, midnight)
    for minutes, is_review, learner in ((-1, True, ann), (0, True, ann), (30, False, ann),
                                        (60, True, ann), (90, True, bob)):
        store.record_answer(learner_id=learner, session_id=session, note_id="optimizers",
                            question_id="q1", question="Q?", reference_answer="R",
                            key_points=["a", "b", "c"], answer="A", is_review=is_review,
                            now=midnight + timedelta(minutes=minutes))
    # 23:59 the day before, another learner's and a new question do not count; midnight does.
    assert store.review_attempts_since(ann, midnight) == 2
    assert store.review_attempts_since(bob, midnight) == 1
