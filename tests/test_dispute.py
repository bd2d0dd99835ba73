"""Contesting a grade: both grades kept, the decision explained, the schedule follows."""

import pytest

from agents.grading.offline import OfflineGrader
from state.store import Store

SAID_IT = ("BatchNorm averages over the batch for every feature. LayerNorm instead uses one "
           "example's own activations, so other samples in the minibatch never matter. Then the "
           "gamma and beta parameters rescale.")
NEVER_SAID = ("BatchNorm normalizes each feature using statistics over the batch of examples. "
              "LayerNorm normalizes within each sample.")
SCALE_SHIFT = "I think that's wrong because I mentioned the learned scale and shift."


@pytest.fixture(scope="module")
def setup(embedder, knowledge):
    return OfflineGrader(embedder), knowledge.catalog.note("normalization").question("q1")


def _dispute(grader, q, answer, argument):
    first = grader.grade(q.prompt, q.reference_answer, q.key_points, answer)
    return first, grader.reconsider(q.prompt, q.reference_answer, q.key_points, answer, first,
                                    argument)


def test_justified_dispute_restores_the_point(setup):
    grader, q = setup
    first, second = _dispute(grader, q, SAID_IT, SCALE_SHIFT)
    assert first.gaps and second.score > first.score
    assert not second.gaps and "right" in second.feedback
    assert second.grader.endswith("+dispute")


def test_argument_cannot_add_missing_content(setup):
    grader, q = setup
    first, second = _dispute(grader, q, NEVER_SAID, SCALE_SHIFT)
    assert second.score == first.score and second.gaps == first.gaps
    assert "doesn't state" in second.feedback


def test_irrelevant_argument_keeps_the_grade(setup):
    grader, q = setup
    first, second = _dispute(grader, q, SAID_IT, "Grading is unfair and I am tired today.")
    assert second.score == first.score and "doesn't point" in second.feedback


def test_replacing_the_last_review(tmp_path, clock):
    store = Store(f"sqlite:///{tmp_path / 's.sqlite3'}", scheduler="sm2")
    learner = store.learner_id("cli:ann", clock())
    store.review(learner, "normalization", 100, clock())
    clock.advance(days=1)
    store.review(learner, "normalization", 30, clock())  # a lapse …
    clock.advance(minutes=5)
    card = store.review(learner, "normalization", 100, clock(), replace_last=True)  # … overturned
    assert card.reviews == 2
    assert card.state == {"easiness": 2.7, "repetitions": 2, "interval_days": 6}


async def test_dispute_in_chat(open_test_tutor):
    async with open_test_tutor() as tutor:
        none_yet = [e async for e in tutor.send("cli:ann", "/dispute my answer was right")]
        assert "no grade" in none_yet[0].text
        [e async for e in tutor.send("cli:ann", "quiz me on batch norm")]
        first = next(e for e in [e async for e in tutor.send("cli:ann", SAID_IT)]
                     if e.kind == "grade")
        events = [e async for e in tutor.send("cli:ann", SCALE_SHIFT)]
        regrade = next(e for e in events if e.kind == "grade")
        assert regrade.data["previous_score"] == first.data["grade"]["score"]
        assert regrade.data["grade"]["score"] > first.data["grade"]["score"]
        store = tutor.deps.store
        kinds = [g["kind"] for g in store.grades(first.data["attempt_id"])]
        assert kinds == ["initial", "dispute"]
        assert store.attempt(first.data["attempt_id"]).score == regrade.data["grade"]["score"]
        learner = tutor.learner_id("cli:ann")
        assert store.cards(learner)[0].reviews == 1


def test_argument_quoting_the_answer_restores_a_paraphrased_point(grader_adam):
    grader, q = grader_adam
    answer = ("Adam keeps running averages of the gradient and squared gradient and divides by "
              "the root of the second moment, so every parameter gets its own step size.")
    first, second = _dispute(grader, q, answer, "I did say Adam keeps a running average of the "
                                                "gradient, that is the momentum m")
    assert second.score > first.score and len(second.gaps) == len(first.gaps) - 1
    assert not any("exponential moving average of gradients" in g for g in second.gaps)


@pytest.fixture(scope="module")
def grader_adam(embedder, knowledge):
    return OfflineGrader(embedder), knowledge.catalog.note("optimizers").question("q1")
