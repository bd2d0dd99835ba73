"""An answer whose grading failed stays saved and is graded on the learner's next message."""

from bot.wiring import build_engine, open_tutor

LEARNER = "cli:ann"


class FailingGrades:
    """The real offline engine, except that its next `failures` grades raise (a grading fault
    such as a broken index); injected in the engine's slot like any other engine."""

    def __init__(self, inner, failures: int) -> None:
        self.inner, self.failures = inner, failures

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def grade(self, *args, **kwargs):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("index unavailable")
        return await self.inner.grade(*args, **kwargs)


async def _send(tutor, text):
    return [e async for e in tutor.send(LEARNER, text)]


async def test_a_failed_grade_is_done_on_the_next_message(settings, clock, embedder):
    engine = FailingGrades(build_engine(settings, embedder), failures=1)
    async with open_tutor(settings, clock=clock, embedder=embedder, engine=engine,
                          progress=False) as tutor:
        question = next(e for e in await _send(tutor, "quiz me on k-means") if e.kind == "question")
        failed = await _send(tutor, question.data["reference_answer"])
        assert [e.kind for e in failed] == ["error"] and "answer is saved" in failed[0].text
        store, learner = tutor.deps.store, tutor.learner_id(LEARNER)
        [saved] = store.ungraded_attempts(learner)
        assert saved.answer == question.data["reference_answer"] and saved.score is None

        clock.advance(minutes=5)
        events = await _send(tutor, "quiz me")
        assert "could not be graded at the time; it is now:" in events[0].text
        assert events[0].data["attempt_id"] == saved.id
        assert any(e.kind == "question" for e in events)  # then the message itself
        graded = store.attempt(saved.id)
        assert graded.status == "graded" and graded.score >= 60  # the reference answer
        card = next(c for c in store.cards(learner) if c.note_id == "k-means")
        assert card.reviews == 1 and card.last_score == graded.score
        assert not store.ungraded_attempts(learner)
        later = await _send(tutor, "skip")
        assert not any("could not be graded" in e.text for e in later)  # told once


async def test_a_grade_that_keeps_failing_is_tried_once_per_run(settings, clock, embedder):
    engine = FailingGrades(build_engine(settings, embedder), failures=2)
    async with open_tutor(settings, clock=clock, embedder=embedder, engine=engine,
                          progress=False) as tutor:
        question = next(e for e in await _send(tutor, "quiz me on k-means") if e.kind == "question")
        await _send(tutor, question.data["reference_answer"])  # first failure
        events = await _send(tutor, "help")  # the late try fails too: nothing to say about it
        assert not any("could not be graded" in e.text for e in events)
        assert engine.failures == 0
        await _send(tutor, "help")  # not retried on every message of this run
        assert tutor.deps.store.ungraded_attempts(tutor.learner_id(LEARNER))
    # After a restart (the fault fixed), it is graded.
    async with open_tutor(settings, clock=clock, embedder=embedder, progress=False) as tutor:
        events = await _send(tutor, "help")
        assert "it is now:" in events[0].text
        assert not tutor.deps.store.ungraded_attempts(tutor.learner_id(LEARNER))
