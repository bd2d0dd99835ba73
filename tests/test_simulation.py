"""The simulated-learner eval: a tiny run through the real grader, store and schedulers."""

import re
from dataclasses import replace

import pytest
from scipy.stats import spearmanr

from agents.check import PER_TOPIC
from agents.grading.offline import VERSION, OfflineGrader
from evals.simulation import (
    START,
    Config,
    SimulatedLearner,
    _carries,
    make_profiles,
    simulate,
    spearman,
)
from knowledge.catalog import load_catalog
from state.store import Store

SMALL = Config(learners=1, topics_min=4, topics_max=4, topics_per_day=2, days=2,
               checkpoints=(3, 6), seed=3)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def grader(embedder):
    return OfflineGrader(embedder)


@pytest.fixture(scope="module")
def profile(catalog):
    return make_profiles(catalog, SMALL)[0]


def _knowing(profile, level):
    """The same learner knowing everything (1) or nothing (0), with no forgetting."""
    return replace(profile, understanding=dict.fromkeys(profile.topics, level),
                   stability=dict.fromkeys(profile.topics, 1e6))


def test_spearman_matches_scipy_with_ties():
    x = [1.0, 2.0, 2.0, 4.0, 5.0, 0.5]
    y = [2.0, 1.0, 4.0, 3.0, 5.0, 5.0]
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert spearman(x, x) == pytest.approx(1.0)
    assert spearman([0.5] * 4, [1, 2, 3, 4]) == 0.0  # no ranking information


def test_profiles_are_seeded_and_spread(catalog):
    a, b = make_profiles(catalog, Config(learners=3)), make_profiles(catalog, Config(learners=3))
    assert a == b
    for p in a:
        assert 10 <= len(p.topics) <= 15
        assert len({catalog.note(t).domain for t in p.topics}) <= 2
        values = sorted(p.understanding.values())
        assert values[0] < 0.2 and values[-1] > 0.8


def test_answers_come_from_what_is_recalled(catalog, profile):
    note = catalog.note(profile.topics[0])
    question = note.questions[0]
    references = re.split(r"(?<=[.!?])\s+", question.reference_answer)
    wrong = [m.split(" (")[0] for m in note.misconceptions]
    expert = SimulatedLearner(_knowing(profile, 1.0), catalog, START)
    for _ in range(5):
        text, recalled = expert.answer(note, question, START)
        assert recalled == 1.0
        # Every point is stated, in its own words or the reference sentence carrying it.
        assert all(p[1:] in text or any(r in text for r in references)
                   for p in question.key_points)
        assert not any(w[1:] in text for w in wrong)
    novice = SimulatedLearner(_knowing(profile, 0.0), catalog, START)
    for _ in range(5):
        text, recalled = novice.answer(note, question, START)
        assert recalled == 0.0
        assert not any(p[1:] in text for p in question.key_points)
        assert not any(r in text for r in references)


def test_a_partial_answer_says_no_more_than_was_recalled(catalog, profile):
    """A reference sentence that states two key points is said only if both were recalled."""
    def split(text):
        return re.split(r"(?<=[.!?])\s+", text)

    question, point, best = next(
        (q, p, best) for n in catalog.notes for q in n.questions for p in q.key_points
        for best in [max(split(q.reference_answer), key=lambda r, p=p: _carries(r, p))]
        if _carries(best, p) >= 0.5
        and sum(_carries(best, other) >= 0.5 for other in q.key_points) >= 2)
    learner = SimulatedLearner(profile, catalog, START)
    refs = split(question.reference_answer)
    alone = {learner._state(point, refs, question.key_points, [point]) for _ in range(40)}
    assert alone == {point}  # the sentence would credit a point that was not recalled
    everything = {learner._state(point, refs, question.key_points, question.key_points)
                  for _ in range(40)}
    assert everything == {point, best}


def test_run_grades_with_the_offline_grader_and_stores_attempts(catalog, grader, profile,
                                                                tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'sim.db'}", scheduler="sm2")
    run = simulate(profile, "sm2", catalog, grader, SMALL, store=store)
    attempts = store.learner_attempts(store.learner_id("sim:learner-1", START))
    assert run.questions == len(attempts) >= 6
    assert all(a.status == "graded" and a.grader == VERSION for a in attempts)
    assert [a.score for a in attempts] == run.scores
    assert any(a.is_review for a in attempts)  # weak first answers came back as reviews
    assert {c.note_id for c in store.cards(store.learner_id("sim:learner-1", START))} \
        == {a.note_id for a in attempts}
    assert set(run.spearman) == {3, 6} and all(-1 <= r <= 1 for r in run.spearman.values())


def test_knowing_nothing_scores_lower_than_knowing_everything(catalog, grader, profile):
    quick = replace(SMALL, days=1)
    low = simulate(_knowing(profile, 0.0), "fsrs", catalog, grader, quick)
    high = simulate(_knowing(profile, 1.0), "fsrs", catalog, grader, quick)
    # The day's two topics get PER_TOPIC questions each; a topic failed mid-check already has
    # its next question planned, so no re-ask is added on top.
    assert low.questions == high.questions == 2 * PER_TOPIC
    assert max(low.scores) < 50 <= min(high.scores)
