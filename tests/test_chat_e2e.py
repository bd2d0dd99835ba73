"""The whole tutor, offline, as a learner uses it: teach → quiz → answer → grade → summary."""

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.chat import run_chat

GOOD = ("BatchNorm computes the mean and variance of each feature across the examples in the "
        "batch. LayerNorm computes them per example across its features, so it does not depend "
        "on the batch size. Both apply a learned scale gamma and shift beta afterwards.")


async def _events(tutor, learner, text):
    return [e async for e in tutor.send(learner, text)]


async def test_teach_quiz_grade_summary(open_test_tutor):
    async with open_test_tutor() as tutor:
        teach = await _events(tutor, "cli:ann", "teach me batch norm")
        text = "".join(e.text for e in teach if e.kind == "text")
        assert "BatchNorm" in text and "Source: Normalization layers" in text

        quiz = await _events(tutor, "cli:ann", "quiz me")
        question = next(e for e in quiz if e.kind == "question")
        assert question.data["note_id"] == "normalization"

        good = next(e for e in await _events(tutor, "cli:ann", GOOD) if e.kind == "grade")
        assert good.data["grade"]["score"] >= 80
        assert 0 <= good.data["grade"]["confidence"] <= 1

        await _events(tutor, "cli:ann", "quiz me on regularization")
        empty = next(e for e in await _events(tutor, "cli:ann", "no idea") if e.kind == "grade")
        assert empty.data["grade"]["score"] == 0

        events = await _events(tutor, "cli:ann", "quiz me on adam vs sgd")
        q = next(e for e in events if e.kind == "question")
        bad = next(e for e in await _events(tutor, "cli:ann", "Adam is a kind of decision tree "
                                        "that splits on Gini impurity.") if e.kind == "grade")
        assert bad.data["grade"]["score"] <= 30
        assert bad.data["grade"]["gaps"] and set(bad.data["grade"]["gaps"]) <= set(
            q.data["key_points"])

        summary = next(e for e in await _events(tutor, "cli:ann", "summary")
                   if e.kind == "summary").data["summary"]
        assert [r["note_id"] for r in summary["rows"]] == ["normalization", "regularization",
                                                          "optimizers"]
        assert summary["rows"][0]["score"] >= 80 and summary["rows"][1]["score"] == 0
        assert summary["gaps"] and summary["weak_items"]


async def test_hint_skip_empty_and_huge_input(open_test_tutor):
    async with open_test_tutor() as tutor:
        await _events(tutor, "cli:ann", "quiz me on dropout")
        assert "empty" in (await _events(tutor, "cli:ann", "   "))[0].text
        assert (await _events(tutor, "cli:ann", "hint"))[0].text.startswith("Hint")
        huge = await _events(tutor, "cli:ann", "x" * 20_000)
        assert huge[0].kind == "error" and "limit" in huge[0].text
        assert await tutor.pending_question("cli:ann")  # still waiting, nothing lost
        assert "Skipped" in (await _events(tutor, "cli:ann", "skip"))[0].text
        assert await tutor.pending_question("cli:ann") is None


async def test_teach_me_while_a_question_is_pending_switches_topic(open_test_tutor):
    async with open_test_tutor() as tutor:
        await _events(tutor, "cli:ann", "quiz me on k-means")
        events = await _events(tutor, "cli:ann", "Teach me dropout")
        assert "Leaving the pending question" in events[0].text
        assert not any(e.kind == "grade" for e in events)  # not graded as an answer
        assert any(e.kind == "text" for e in events)  # the lesson
        assert await tutor.pending_question("cli:ann") is None
        assert not tutor.deps.store.learner_attempts(tutor.learner_id("cli:ann"))


async def test_unknown_topic_gets_suggestions(open_test_tutor):
    async with open_test_tutor() as tutor:
        events = await _events(tutor, "cli:ann", "teach me zzqx flurb")
        assert events[0].kind == "notice" and "topic" in events[0].text


async def test_restart_mid_quiz_grades_the_pending_question(open_test_tutor):
    async with open_test_tutor() as tutor:
        events = await _events(tutor, "cli:ann", "quiz me on batch norm")
        asked = next(e for e in events if e.kind == "question").text
    # The process is gone; a new one opens the same data dir.
    async with open_test_tutor() as tutor:
        pending = await tutor.pending_question("cli:ann")
        assert pending and pending["prompt"] == asked
        grade = next(e for e in await _events(tutor, "cli:ann", GOOD) if e.kind == "grade")
        assert grade.data["question"]["prompt"] == asked
        assert grade.data["grade"]["score"] >= 80


async def test_scripted_chat_transcript(open_test_tutor):
    script = io.StringIO("teach me dropout\nquiz me on normalization\n" + GOOD + "\nsummary\n")
    out = io.StringIO()
    async with open_test_tutor() as tutor:
        await run_chat(tutor, "cli:ann", "ml-tutor — offline", stdin=script, stdout=out)
    transcript = out.getvalue()
    assert "you › teach me dropout" in transcript
    assert "Score " in transcript and "Session summary" in transcript


def test_cli_pipe(tmp_path, index_dir):
    """`printf … | tutor chat` works non-interactively and says it is offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC", "TELEGRAM"))}
    env.update(TUTOR_DATA_DIR=str(tmp_path), TUTOR_CHROMA=str(index_dir), HF_HUB_OFFLINE="1")
    tutor = Path(sys.executable).with_name("tutor")
    result = subprocess.run([str(tutor), "chat"], input="quiz me on kv cache\nidk\nsummary\n",
                            capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Offline mode" in result.stdout
    assert "Score 0/100" in result.stdout and "Session summary" in result.stdout
    help_text = subprocess.run([str(tutor), "--help"], capture_output=True, text=True).stdout
    for word in ("chat", "ingest", "telegram"):
        assert word in help_text


async def test_learner_sets_domain_weights(open_test_tutor):
    async with open_test_tutor() as tutor:
        shown = (await _events(tutor, "cli:ann", "weights"))[0]
        assert "C. Deep Learning: 25" in shown.text
        zero = " ".join(f"{letter}=0" for letter in "ABCDEFG")
        updated = (await _events(tutor, "cli:ann", f"/weights {zero} H=50"))[0]
        assert updated.data["weights"]["statistics"] == 50
        quiz = await _events(tutor, "cli:ann", "quiz me")
        note = next(e for e in quiz if e.kind == "question").data["note_id"]
        assert tutor.deps.catalog.note(note).domain == "statistics"
        # A command while a question is pending leaves the question, then runs.
        unknown = await _events(tutor, "cli:ann", "/weights Z=3")
        assert any("don't know" in e.text for e in unknown)
