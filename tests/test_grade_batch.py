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
