"""Follow-ups in the shared workflow: /review, explaining gaps, asides while a question is
pending, and /progress — the same graph the terminal and Telegram use."""

from __future__ import annotations


async def _events(tutor, text, learner="cli:ann"):
    return [e async for e in tutor.send(learner, text)]


def _text(events) -> str:
    return "".join(e.text for e in events)


async def test_review_when_nothing_and_something_is_due(open_test_tutor, clock):
    async with open_test_tutor() as tutor:
        nothing = await _events(tutor, "/review")
        assert "Nothing is due" in _text(nothing)
        assert not [e for e in nothing if e.kind == "question"]

        await _events(tutor, "/quiz batch norm")
        await _events(tutor, "no idea")  # a weak grade: back within a day
        later = await _events(tutor, "/review")
        assert "next one is Normalization" in _text(later)

        clock.advance(days=2)
        due = await _events(tutor, "/review")
        question = next(e for e in due if e.kind == "question")
        assert question.data["note_id"] == "normalization" and question.data["is_review"]


async def test_explain_gaps_after_a_grade(open_test_tutor):
    async with open_test_tutor() as tutor:
        assert "no graded answer" in _text(await _events(tutor, "explain the gaps"))
        await _events(tutor, "/quiz batch norm")
        grade = next(e for e in await _events(tutor, "BatchNorm normalizes each feature.")
                     if e.kind == "grade")
        gaps = grade.data["grade"]["gaps"]
        assert gaps
        explained = _text(await _events(tutor, "explain the gaps"))
        assert "What your answer missed on Normalization" in explained
        assert all(g in explained for g in gaps)


async def test_dispute_and_gaps_while_a_question_is_pending(open_test_tutor):
    async with open_test_tutor() as tutor:
        await _events(tutor, "/check")
        first = await _events(tutor, "I am not sure about this one at all.")
        grade = next(e for e in first if e.kind == "grade")
        pending = next(e for e in first if e.kind == "question")  # the check's next question

        aside = await _events(tutor, "/gaps")
        assert "What your answer missed" in _text(aside)
        again = next(e for e in aside if e.kind == "question")
        assert again.text == pending.text  # still pending, not abandoned

        disputed = await _events(tutor, "/dispute my answer was honest that I did not know it")
        regrade = next(e for e in disputed if e.kind == "grade")
        assert regrade.data["attempt_id"] == grade.data["attempt_id"]
        assert regrade.data["previous_score"] == grade.data["grade"]["score"]
        assert (await tutor.pending_question("cli:ann"))["prompt"] == pending.text


async def test_progress_reports_readiness(open_test_tutor):
    async with open_test_tutor() as tutor:
        await _events(tutor, "/quiz batch norm")
        await _events(tutor, "BatchNorm normalizes each feature over the batch; LayerNorm "
                             "normalizes each example over its features.")
        progress = next(e for e in await _events(tutor, "how am i doing") if e.kind == "progress")
        assert "readiness" in progress.text.lower()
        rows = {d["id"]: d for d in progress.data["overview"]["domains"]}
        assert rows["deep-learning"]["topics_seen"] == 1
        assert rows["nlp"]["status"] == "Not started"


async def test_a_named_subtopic_picks_the_matching_bank_question(open_test_tutor):
    async with open_test_tutor() as tutor:
        events = await _events(tutor, "quiz me on dropout")
        question = next(e for e in events if e.kind == "question")
        assert question.data["note_id"] == "regularization"
        assert "dropout" in question.text.lower()
