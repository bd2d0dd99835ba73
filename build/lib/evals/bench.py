"""`make bench`: speed figures — start-up to first prompt, one offline grade, one retrieval."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agents.grading.offline import OfflineGrader
from evals.common import EVAL_INDEX_DIR, embedder, knowledge


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
            ("one hybrid retrieval (ms)", retrieval_ms())]
    table = Table(title="Speed on this machine")
    for col in ("measure", "runs", "median", "min", "max"):
        table.add_column(col, justify="left" if col == "measure" else "right")
    for name, values in rows:
        table.add_row(name, str(len(values)), f"{statistics.median(values):.1f}",
                      f"{min(values):.1f}", f"{max(values):.1f}")
    console.print(table)


if __name__ == "__main__":
    main()
