"""`tutor grade --jsonl IN`: grade many answers offline, streaming one JSON line per answer."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from pydantic import BaseModel, Field, ValidationError

from agents.grading.offline import OfflineGrader
from agents.grading.rubric import derive_key_points

BATCH = 256  # answers embedded together: larger products, fewer partly-empty row blocks


class GradeRequest(BaseModel):
    """One input line."""

    id: str | int
    question: str
    reference_answer: str = Field(min_length=1)
    answer: str
    key_points: list[str] | None = None


def parse_lines(lines: Iterable[str], errors: TextIO) -> Iterator[GradeRequest]:
    """Valid requests; a bad line is reported on `errors` and skipped."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield GradeRequest.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            reason = str(exc).splitlines()[0][:200]
            print(f"line {number}: skipped ({reason})", file=errors, flush=True)


def grade_stream(grader: OfflineGrader, lines: Iterable[str], out: TextIO,
                 errors: TextIO = sys.stderr) -> int:
    """Grade every valid line, writing results as they are ready; returns how many."""
    done = 0
    batch: list[GradeRequest] = []

    def flush() -> None:
        nonlocal done
        rubrics = [r.key_points or derive_key_points(r.reference_answer) for r in batch]
        grader.prefetch([(r.question, r.reference_answer, kp, r.answer)
                         for r, kp in zip(batch, rubrics, strict=True)])
        for r, kp in zip(batch, rubrics, strict=True):
            g = grader.grade(r.question, r.reference_answer, kp, r.answer)
            out.write(json.dumps({"id": r.id, "score": g.score, "confidence": g.confidence,
                                  "covered": g.covered, "gaps": g.gaps, "feedback": g.feedback,
                                  "grader": g.grader}, ensure_ascii=False) + "\n")
            done += 1
        out.flush()
        batch.clear()

    for request in parse_lines(lines, errors):
        batch.append(request)
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()
    return done
