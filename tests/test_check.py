"""The knowledge check: ~70% new or current topics, ~30% due reviews, then a summary."""

from agents.check import compose_check
from bot.render_text import render_event


def test_composition_mixes_new_and_review(knowledge):
    catalog = knowledge.catalog
    weights = {d.id: d.weight for d in catalog.domains}
    due = ["optimizers", "bias-variance", "kv-cache", "k-means"]
    plan = compose_check(catalog, weights, {n: 90.0 for n in due}, due, "normalization")
    assert len(plan) == 10
    new = [n for n, review in plan if not review]
    assert [n for n, review in plan if review] == due[:3]
    assert len(new) == 7 and len(set(new)) == 7
    assert "normalization" in new  # the topic being studied now is part of today's check
    assert not set(new) & set(due)


def test_weak_prerequisite_comes_first(knowledge):
    catalog = knowledge.catalog
    weights = {d.id: d.weight for d in catalog.domains}
    note = next(n for n in catalog.notes if n.prerequisites)
    pre = note.prerequisites[0]
    plan = [n for n, _ in compose_check(catalog, weights, {pre: 30.0}, [], note.id)]
    assert plan.index(pre) < plan.index(note.id)


async def test_check_runs_question_after_question(open_test_tutor, clock):
    async with open_test_tutor() as tutor:
        start = [e async for e in tutor.send("cli:ann", "/check")]
        assert "Knowledge check: 10 questions" in start[0].text
        first = next(e for e in start if e.kind == "question")
        assert first.data["position"] == "1/10"
        assert "Question 1/10" in render_event(first)
        answered = [e async for e in tutor.send("cli:ann", "no idea")]
        assert [e.kind for e in answered] == ["grade", "question"]
        assert answered[-1].data["position"] == "2/10"
        for _ in range(8):
            events = [e async for e in tutor.send("cli:ann", "skip")]
        assert events[-1].data["position"] == "10/10"
        last = [e async for e in tutor.send("cli:ann", "skip")]
        assert last[-1].kind == "summary"  # the check ends with its report
        assert await tutor.pending_question("cli:ann") is None
        after = [e async for e in tutor.send("cli:ann", "quiz me on dropout")]
        question = next(e for e in after if e.kind == "question")
        assert "position" not in question.data
