"""Grader eval: agreement with our human-style labels, for the offline grader and two baselines.

Figures are computed with 5-fold cross-validation: the calibration is fitted on four folds and
scores the fifth, so no answer is graded by a model that saw its label.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy.stats import pearsonr, spearmanr

from agents.grading.calibrate import fit_calibration
from agents.grading.offline import OfflineGrader
from evals.common import embedder, knowledge, read_jsonl
from knowledge.text import tokens


@dataclass
class Case:
    """One labelled answer joined with its question."""

    id: str
    kind: str
    question: str
    reference: str
    key_points: list[str]
    misconceptions: list[str]
    answer: str
    label: int
    missing: set[int]


def load_cases() -> list[Case]:
    """The labelled set, joined with the curriculum's questions."""
    catalog = knowledge().catalog
    cases = []
    for row in read_jsonl("grading"):
        note = catalog.by_id[row["note_id"]]
        q = note.question(row["question_id"])
        cases.append(Case(row["id"], row["kind"], q.prompt, q.reference_answer, q.key_points,
                          note.misconceptions, row["answer"], int(row["label"]),
                          set(row["missing"])))
    return cases


def qwk(a: np.ndarray, b: np.ndarray, n: int = 6) -> float:
    """Quadratic weighted kappa between two integer ratings in 0..n-1."""
    observed = np.zeros((n, n))
    for x, y in zip(a, b, strict=True):
        observed[x, y] += 1
    weights = np.array([[(i - j) ** 2 / (n - 1) ** 2 for j in range(n)] for i in range(n)])
    expected = np.outer(observed.sum(1), observed.sum(0)) / observed.sum()
    return 1 - (weights * observed).sum() / (weights * expected).sum()


def metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Agreement of 0–100 scores with 0–5 labels."""
    pred5 = np.clip(np.rint(scores / 20), 0, 5).astype(int)
    return {"pearson": pearsonr(scores, labels)[0], "spearman": spearmanr(scores, labels)[0],
            "mae": float(np.mean(np.abs(scores / 20 - labels))),
            "qwk": qwk(labels.astype(int), pred5)}


def cosine_baseline(cases: list[Case]) -> np.ndarray:
    """Reference-answer cosine, mapped linearly from [0.2, 0.9] to 0–100."""
    vecs_a = embedder().embed([c.answer or " " for c in cases])
    vecs_r = embedder().embed([c.reference for c in cases])
    sims = (vecs_a * vecs_r).sum(1)
    return np.clip((sims - 0.2) / 0.7, 0, 1) * 100


def overlap_baseline(cases: list[Case]) -> np.ndarray:
    """Share of the reference answer's content words found in the answer."""
    out = []
    for c in cases:
        ref = set(tokens(c.reference))
        out.append(100 * len(ref & set(tokens(c.answer))) / max(1, len(ref)))
    return np.array(out)


def offline_cv(cases: list[Case], folds: int = 5) -> tuple[np.ndarray, list]:
    """Offline grades with the calibration fitted on the other folds."""
    rng = np.random.default_rng(0)
    fold_of = rng.integers(0, folds, len(cases))
    grades: list = [None] * len(cases)
    for f in range(folds):
        train = [c for c, k in zip(cases, fold_of, strict=True) if k != f]
        grader = OfflineGrader(embedder(), fit_calibration(OfflineGrader(embedder()), train))
        for i, (c, k) in enumerate(zip(cases, fold_of, strict=True)):
            if k == f:
                grades[i] = grader.grade(c.question, c.reference, c.key_points, c.answer,
                                         c.misconceptions)
    return np.array([g.score for g in grades], dtype=float), grades


def gap_prf(cases: list[Case], grades: list) -> tuple[float, float]:
    """Precision and recall of predicted gaps against the labelled missing key points."""
    tp = fp = fn = 0
    for c, g in zip(cases, grades, strict=True):
        predicted = {i for i, p in enumerate(c.key_points) if p in set(g.gaps)}
        tp += len(predicted & c.missing)
        fp += len(predicted - c.missing)
        fn += len(c.missing - predicted)
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def run(console: Console | None = None) -> dict:
    """Print the grader table, gap quality, calibration of confidence and per-kind errors."""
    console = console or Console()
    cases = load_cases()
    labels = np.array([c.label for c in cases], dtype=float)
    offline_scores, grades = offline_cv(cases)
    systems: dict[str, Callable[[], np.ndarray] | np.ndarray] = {
        "offline rubric grader (5-fold CV)": offline_scores,
        "baseline: reference cosine": cosine_baseline(cases),
        "baseline: token overlap": overlap_baseline(cases),
    }
    table = Table(title=f"Grader agreement with {len(cases)} labelled answers (labels 0–5)")
    for col in ("system", "Pearson", "Spearman", "MAE (0–5)", "QWK"):
        table.add_column(col, justify="left" if col == "system" else "right")
    results = {}
    for name, scores in systems.items():
        m = metrics(labels, np.asarray(scores))
        results[name] = m
        table.add_row(name, f"{m['pearson']:.3f}", f"{m['spearman']:.3f}", f"{m['mae']:.2f}",
                      f"{m['qwk']:.3f}")
    console.print(table)

    precision, recall = gap_prf(cases, grades)
    console.print(f"Gaps (offline): precision {precision:.2f}, recall {recall:.2f}")
    from evals.bench import benchmark_shaped_lines, bulk_rates, our_set_lines

    ours, shaped = bulk_rates(our_set_lines(), runs=1), bulk_rates(benchmark_shaped_lines())
    console.print(f"Bulk grading (`tutor grade` path, cold cache): our set {ours[0]:.0f} "
                  f"answers/s; benchmark-shaped {statistics.median(shaped):.0f} answers/s "
                  f"(median of {len(shaped)}; `make bench` for more; CPU {os.cpu_count()})")

    conf = np.array([g.confidence for g in grades])
    err = np.abs(offline_scores / 20 - labels)
    cal = Table(title="Does confidence track error? (offline grader)")
    for col in ("confidence", "answers", "mean |error| (0–5)", "share off by ≥ 2"):
        cal.add_column(col, justify="right")
    for lo, hi in ((0, 0.6), (0.6, 0.75), (0.75, 0.9), (0.9, 1.01)):
        mask = (conf >= lo) & (conf < hi)
        if mask.any():
            cal.add_row(f"{lo:.2f}–{min(hi, 1):.2f}", str(int(mask.sum())),
                        f"{err[mask].mean():.2f}", f"{(err[mask] >= 2).mean():.0%}")
    console.print(cal)

    kinds = Table(title="Error by answer kind (offline grader)")
    for col in ("kind", "answers", "mean label", "mean grade", "mean |error|"):
        kinds.add_column(col, justify="left" if col == "kind" else "right")
    for kind in sorted({c.kind for c in cases}):
        mask = np.array([c.kind == kind for c in cases])
        kinds.add_row(kind, str(int(mask.sum())), f"{labels[mask].mean():.2f}",
                      f"{(offline_scores[mask] / 20).mean():.2f}", f"{err[mask].mean():.2f}")
    console.print(kinds)
    results["gaps"] = {"precision": precision, "recall": recall}
    return results


if __name__ == "__main__":
    run()
