"""The learner model: recency- and confidence-weighted topic mastery, domains, readiness."""

from datetime import UTC, datetime, timedelta

import pytest

from knowledge.catalog import Catalog, Domain, Note, Question
from state.mastery import (
    DomainMastery,
    TopicMastery,
    domain_mastery,
    learner_weights,
    readiness,
    topic_mastery,
)
from state.store import AttemptView

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _attempt(note_id: str, score: float | None, confidence: float | None = 1.0,
             days_ago: float = 0.0, attempt_id: int = 1) -> AttemptView:
    return AttemptView(id=attempt_id, session_id=1, note_id=note_id, question_id="q1",
                       question="Q?", answer="A", is_review=False,
                       status="graded" if score is not None else "ungraded", score=score,
                       confidence=confidence, answered_at=NOW - timedelta(days=days_ago))


def _note(note_id: str, domain: str) -> Note:
    question = Question(id="q1", difficulty="easy", prompt="What is it?",
                        reference_answer="It is a thing that does things.",
                        key_points=["one", "two", "three"])
    return Note(id=note_id, title=note_id, domain=domain, difficulty="easy",
                key_points=["one", "two", "three"], questions=[question])


@pytest.fixture
def catalog() -> Catalog:
    domains = [Domain(id="fundamentals", letter="A", name="Fundamentals", weight=20),
               Domain(id="deep", letter="C", name="Deep Learning", weight=30)]
    notes = [_note(f"a-{i}", "fundamentals") for i in range(1, 5)]
    notes += [_note("c-1", "deep"), _note("c-2", "deep")]
    return Catalog(domains=domains, notes=notes)


def test_one_fresh_confident_grade_is_shrunk_towards_the_prior():
    # (0.5 × 0.5 + 1 × 1.0) / (0.5 + 1) = 1.25 / 1.5: the prior is worth half an answer.
    # Certainty counts evidence alone, 1 / (1 + 1): one confident answer is half certain.
    topic = topic_mastery([_attempt("a-1", 100)], NOW)["a-1"]
    assert topic == TopicMastery(note_id="a-1", mastery=pytest.approx(5 / 6), certainty=0.5,
                                 attempts=1, last_score=100, last_seen=NOW)


def test_older_grades_count_less_with_a_21_day_half_life():
    attempts = [_attempt("a-1", 40, 1.0, days_ago=21, attempt_id=1),
                _attempt("a-1", 90, 0.8, days_ago=0, attempt_id=2)]
    topic = topic_mastery(attempts, NOW)["a-1"]
    # weights 1.0 × 0.5 (one half-life old) and 0.8, prior 0.5 × 0.5:
    # (0.25 + 0.5×0.4 + 0.8×0.9) / (0.5 + 1.3) = 1.17 / 1.8
    assert topic.mastery == pytest.approx(0.65)
    assert topic.certainty == pytest.approx(1.3 / 2.3)  # Σw / (1 + Σw)
    assert (topic.attempts, topic.last_score, topic.last_seen) == (2, 90, NOW)
    # The same two grades in the other order of time: the fresh 40 now dominates.
    swapped = [_attempt("a-1", 40, 1.0, days_ago=0, attempt_id=1),
               _attempt("a-1", 90, 0.8, days_ago=21, attempt_id=2)]
    assert topic_mastery(swapped, NOW)["a-1"].mastery == pytest.approx(
        (0.25 + 0.4 + 0.4 * 0.9) / 1.9)  # weights 1.0 and 0.8 × 0.5


def test_a_shorter_half_life_forgets_faster():
    attempts = [_attempt("a-1", 100, 1.0, days_ago=7)]
    # 7 days at a 7-day half-life: weight 0.5 → (0.25 + 0.5) / (0.5 + 0.5), certainty 0.5 / 1.5
    assert topic_mastery(attempts, NOW, half_life_days=7)["a-1"].mastery == pytest.approx(0.75)
    assert topic_mastery(attempts, NOW, half_life_days=7)["a-1"].certainty == pytest.approx(1 / 3)


def test_an_unsure_grade_moves_the_estimate_less():
    sure = topic_mastery([_attempt("a-1", 0, 1.0)], NOW)["a-1"]
    unsure = topic_mastery([_attempt("a-1", 0, 0.25)], NOW)["a-1"]
    assert sure.mastery == pytest.approx(1 / 6)  # 0.25 / (0.5 + 1)
    assert unsure.mastery == pytest.approx(1 / 3)  # 0.25 / (0.5 + 0.25)
    assert unsure.certainty == pytest.approx(0.2)  # 0.25 / (1 + 0.25)


def test_only_graded_attempts_up_to_now_count():
    attempts = [_attempt("a-1", None, None, attempt_id=1),
                _attempt("a-1", 80, 1.0, days_ago=0, attempt_id=2),
                _attempt("a-1", 0, 1.0, days_ago=-1, attempt_id=3),  # after `now`
                _attempt("a-2", None, None, attempt_id=4)]
    topics = topic_mastery(attempts, NOW)
    assert set(topics) == {"a-1"}
    # (0.25 + 0.8) / 1.5
    assert topics["a-1"].attempts == 1 and topics["a-1"].mastery == pytest.approx(0.7)
    with pytest.raises(ValueError):
        topic_mastery(attempts, NOW.replace(tzinfo=None))


def test_domains_count_unseen_topics_as_zero(catalog):
    topics = topic_mastery([_attempt("a-1", 100, 1.0, attempt_id=1),
                            _attempt("a-2", 50, 1.0, attempt_id=2)], NOW)
    domains = domain_mastery(topics, catalog)
    # a-1: 1.25 / 1.5 = 5/6, a-2: (0.25 + 0.5) / 1.5 = 1/2, a-3 and a-4 unseen: (5/6 + 1/2) / 4
    assert domains["fundamentals"] == DomainMastery(domain="fundamentals",
                                                    mastery=pytest.approx(1 / 3),
                                                    coverage=0.5, topics_seen=2, topics_total=4)
    assert domains["deep"] == DomainMastery(domain="deep", mastery=0.0, coverage=0.0,
                                            topics_seen=0, topics_total=2)
    # 100 × (20 × 1/3 + 30 × 0) / 50
    assert readiness(domains, learner_weights(catalog, {})) == pytest.approx(40 / 3)


def test_readiness_reproduces_the_trackers_27_percent():
    # The seed tracker: A 2/8 topics at weight 20, C 4/8 at 25, E 4/8 at 18, the rest 0/n.
    covered = {"A": (2, 8, 20), "B": (0, 7, 15), "C": (4, 8, 25), "D": (0, 6, 12),
               "E": (4, 8, 18), "F": (0, 6, 10)}
    domains = {d: DomainMastery(d, seen / total, seen / total, seen, total)
               for d, (seen, total, _) in covered.items()}
    weights = {d: w for d, (_, _, w) in covered.items()}
    assert readiness(domains, weights) == pytest.approx(26.5)  # the tracker shows 27%
    assert readiness(domains, {d: 0 for d in weights}) == 0.0
    with pytest.raises(ValueError):
        readiness(domains, {"A": -1})


def test_learner_weights_override_the_curriculum(catalog):
    assert learner_weights(catalog, {}) == {"fundamentals": 20.0, "deep": 30.0}
    mine = {"weights": {"deep": 5, "nowhere": 99}}
    assert learner_weights(catalog, mine) == {"fundamentals": 20.0, "deep": 5.0}
    domains = {"fundamentals": DomainMastery("fundamentals", 0.5, 1.0, 4, 4),
               "deep": DomainMastery("deep", 1.0, 1.0, 2, 2)}
    assert readiness(domains, learner_weights(catalog, mine)) == pytest.approx(
        100 * (20 * 0.5 + 5 * 1.0) / 25)


def test_focus_domains_weigh_double_unless_set_explicitly():
    from knowledge.catalog import load_catalog
    from state.mastery import FOCUS_BOOST, learner_weights

    catalog = load_catalog()
    base = {d.id: d.weight for d in catalog.domains}
    prefs = {"focus": ["deep-learning", "B"], "weights": {"classical-ml": 7}}
    assert learner_weights(catalog, prefs)["deep-learning"] == base["deep-learning"]
    weights = learner_weights(catalog, prefs, with_focus=True)
    assert weights["deep-learning"] == base["deep-learning"] * FOCUS_BOOST
    assert weights["classical-ml"] == 7  # explicit beats focus
    assert weights["nlp"] == base["nlp"]
