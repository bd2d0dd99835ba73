"""`tutor grade --jsonl`: streams results, survives bad lines, works off-curriculum."""

import io
import json

from agents.grading.offline import OfflineGrader
from agents.grading.rubric import derive_key_points
from bot.grade_batch import grade_stream

REF = ("A hash table maps keys to buckets with a hash function. Lookups take constant time on "
       "average. Collisions are resolved by chaining or open addressing.")


def test_key_points_from_reference():
    assert derive_key_points(REF) == ["A hash table maps keys to buckets with a hash function.",
                                      "Lookups take constant time on average.",
                                      "Collisions are resolved by chaining or open addressing."]
    assert len(derive_key_points("It is fast because it caches results, and it scales well "
                                 "because shards are independent")) >= 2


def test_batch_grading(embedder):
    lines = [
        json.dumps({"id": 1, "question": "How does a hash table work?", "reference_answer": REF,
                    "answer": "Keys are hashed into buckets, so lookups are constant time on "
                              "average; collisions go into chains or open addressing."}),
        "this is not json",
        json.dumps({"id": 2, "question": "How does a hash table work?"}),
        json.dumps({"id": 3, "question": "How does a hash table work?", "reference_answer": REF,
                    "answer": ""}),
        json.dumps({"id": "4", "question": "Name the capital of France.",
                    "reference_answer": "Paris is the capital of France.",
                    "key_points": ["Paris"], "answer": "Paris, of course."}),
    ]
    out, err = io.StringIO(), io.StringIO()
    assert grade_stream(OfflineGrader(embedder), lines, out, err) == 3
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in results] == [1, 3, "4"]
    assert results[0]["score"] >= 60 and results[1]["score"] == 0
    assert set(results[0]) == {"id", "score", "confidence", "covered", "gaps", "feedback",
                               "grader"}
    assert "line 2" in err.getvalue() and "line 3" in err.getvalue()


def _mixed_lines(knowledge) -> list[str]:
    """Answers of very different lengths to curriculum and off-curriculum questions."""
    q = knowledge.catalog.note("normalization").question("q1")
    o = knowledge.catalog.note("optimizers").question("q1")
    answers = [
        (q, "BatchNorm normalizes each feature using statistics over the batch."),
        (q, q.reference_answer),
        (q, "LayerNorm is per example. " * 3 + "Both learn a scale and a shift."),
        (o, "Adam keeps running averages of the gradient and its square."),
        (o, "My favourite pizza is margherita."),
        (o, o.reference_answer + " Also, momentum smooths the updates over many steps."),
    ]
    lines = [json.dumps({"id": f"c{i}", "question": question.prompt,
                         "reference_answer": question.reference_answer,
                         "key_points": question.key_points, "answer": answer})
             for i, (question, answer) in enumerate(answers)]
    lines += [json.dumps({"id": "h1", "question": "How does a hash table work?",
                          "reference_answer": REF, "answer": "Keys are hashed into buckets."}),
              json.dumps({"id": "h2", "question": "How does a hash table work?",
                          "reference_answer": REF, "answer": "Lookups are O(1) on average, and "
                          "collisions are chained."})]
    return lines


def test_grade_does_not_depend_on_the_batch(embedder, knowledge):
    """Each answer gets the same result graded alone as inside any batch of other answers."""
    grader = OfflineGrader(embedder)

    def run(lines: list[str]) -> dict:
        embedder.clear_cache()  # otherwise the second run would only read cached vectors
        out = io.StringIO()
        grade_stream(grader, lines, out, io.StringIO())
        return {r["id"]: r for r in map(json.loads, out.getvalue().splitlines())}

    lines = _mixed_lines(knowledge)
    alone = {k: v for line in lines for k, v in run([line]).items()}
    for batch in (lines, lines[::-1], lines[1::2] + lines[::2]):
        assert run(batch) == alone
