"""`make bench`: speed figures — start-up, one offline grade, bulk grading, one retrieval, and
a quiz turn through the Telegram stack (real PTB against the fake Bot API).

Bulk grading is timed through `tutor grade`'s own code path (`grade_stream` on JSON lines) with
a cold embedding cache, on two inputs built from our own data (never a public short-answer set):
- "our set": the 478 labelled answers, nearly one per question, so every question's reference
  answer and key points are encoded too — the worst case;
- "benchmark-shaped": what external short-answer benchmarks look like — a few questions with
  ~30 short answers each and a reference answer but no key points (they are derived).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agents.grading.offline import OfflineGrader
from bot.grade_batch import grade_stream
from evals.bench_telegram import quiz_turns
from evals.common import EVAL_INDEX_DIR, embedder, knowledge
from knowledge.text import sentences


def startup_seconds(runs: int = 3) -> list[float]:
    """Wall time of `tutor chat` from process start to its first prompt (index already built)."""
    knowledge()  # builds the cached index if it is missing
    cache = EVAL_INDEX_DIR
    tutor = Path(sys.executable).with_name("tutor")
    out = []
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC", "TELEGRAM"))}
        env.update(TUTOR_DATA_DIR=data, TUTOR_CHROMA=str(cache / "chroma"), HF_HUB_OFFLINE="1")
        for _ in range(runs):
            start = time.perf_counter()
            proc = subprocess.Popen([str(tutor), "chat"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    env=env)
            assert proc.stdout is not None
            line = proc.stdout.readline()  # the banner is printed when the tutor is ready
            out.append(time.perf_counter() - start)
            assert "ml-tutor" in line, line
            proc.communicate("quit\n", timeout=120)
    return out


def grade_ms(n: int = 30) -> list[float]:
    """Milliseconds for one offline grade of a fresh answer (model warm, cache cold)."""
    kb = knowledge()
    grader = OfflineGrader(embedder())
    notes = kb.catalog.notes[:n]
    times = []
    for i, note in enumerate(notes):
        q = note.questions[0]
        answer = f"{q.reference_answer.split('.')[0]}. Also, answer number {i}."
        embedder().clear_cache()
        start = time.perf_counter()
        grader.grade(q.prompt, q.reference_answer, q.key_points, answer, note.misconceptions)
        times.append((time.perf_counter() - start) * 1000)
    return times


def our_set_lines() -> list[str]:
    """Our labelled answers as `tutor grade` input lines (with the curriculum's key points)."""
    from evals.grading import load_cases

    return [json.dumps({"id": c.id, "question": c.question, "reference_answer": c.reference,
                        "key_points": c.key_points, "answer": c.answer})
            for c in load_cases()]


def benchmark_shaped_lines(questions: int = 16, per_question: int = 30,
                           seed: int = 0) -> list[str]:
    """Input shaped like external short-answer benchmarks, built from our own labelled answers.

    For each of a few questions, ~30 short answers of one to three consecutive sentences are
    cut from our labelled answers: from answers to that question, to others in its domain (near
    misses and partial overlaps) and, for about one in ten, to another domain (off topic). Only
    the reference answer is given, as in those benchmarks, so key points are derived from it.
    """
    from evals.grading import load_cases

    rng = random.Random(seed)
    cases = [c for c in load_cases() if sentences(c.answer)]
    domain = {c.id: c.id.split("-")[0] for c in cases}
    questions_seen = {c.question: c for c in cases}  # one case per question, in file order
    chosen = rng.sample(list(questions_seen.values()), questions)
    lines = []
    for qi, case in enumerate(chosen):
        same = [sentences(c.answer) for c in cases if c.question == case.question]
        near = [sentences(c.answer) for c in cases if domain[c.id] == domain[case.id]]
        far = [sentences(c.answer) for c in cases if domain[c.id] != domain[case.id]]
        for ai in range(per_question):
            roll = rng.random()
            source = rng.choice(far if roll < 0.1 else same if roll < 0.4 else near)
            start = rng.randrange(len(source))
            answer = " ".join(source[start:start + rng.randint(1, 3)])
            lines.append(json.dumps({"id": f"b{qi}-{ai}", "question": case.question,
                                     "reference_answer": case.reference, "answer": answer}))
    return lines


def bulk_rates(lines: list[str], runs: int = 3) -> list[float]:
    """Answers per second through `grade_stream`, cold embedding cache each run."""
    grader = OfflineGrader(embedder())
    rates = []
    for _ in range(runs):
        embedder().clear_cache()
        start = time.perf_counter()
        done = grade_stream(grader, lines, io.StringIO(), io.StringIO())
        rates.append(done / (time.perf_counter() - start))
    return rates


def retrieval_ms(n: int = 50) -> list[float]:
    """Milliseconds for one hybrid retrieval (model warm, query not cached)."""
    kb = knowledge()
    times = []
    for note in kb.catalog.notes[:n]:
        embedder().clear_cache()
        start = time.perf_counter()
        kb.retriever.search(f"how does {note.title.split(':')[0].lower()} work", k=5)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    """Print the speed table."""
    console = Console()
    rows = [("start-up to first prompt (s)", startup_seconds()),
            ("one offline grade (ms)", grade_ms()),
            ("bulk grading, our set, cold (answers/s)", bulk_rates(our_set_lines())),
            ("bulk grading, benchmark-shaped, cold (answers/s)",
             bulk_rates(benchmark_shaped_lines())),
            ("one hybrid retrieval (ms)", retrieval_ms())]
    telegram = asyncio.run(quiz_turns())  # real PTB stack against the fake Bot API, offline
    rows += [("Telegram /quiz → question (ms)", [t * 1000 for t in telegram["question"]]),
             ("Telegram answer → grade (ms)", [t * 1000 for t in telegram["grade"]])]
    table = Table(title="Speed on this machine")
    for col in ("measure", "runs", "median", "min", "max"):
        table.add_column(col, justify="left" if col == "measure" else "right")
    for name, values in rows:
        table.add_row(name, str(len(values)), f"{statistics.median(values):.1f}",
                      f"{min(values):.1f}", f"{max(values):.1f}")
    console.print(table)
    console.print(f"{os.cpu_count()} CPUs; timings are wall-clock and move with other load on "
                  "the machine.")


if __name__ == "__main__":
    main()
