"""Fit the offline grader's calibration on labelled answers (our own set, never public ones)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Protocol

import numpy as np
from scipy.optimize import minimize

from agents.grading.offline import (
    Calibration,
    Features,
    OfflineGrader,
    looks_english,
    strip_injection,
)

FEATURES = list(Features.__dataclass_fields__)


class Labelled(Protocol):
    """What fitting needs from a labelled answer."""

    question: str
    reference: str
    key_points: list[str]
    answer: str
    label: int          # 0–5
    missing: set[int]   # indices of key points the answer lacks


def _threshold(grader: OfflineGrader, cases: Sequence[Labelled]) -> float:
    """The per-key-point evidence threshold that best separates covered from missing (F1)."""
    pairs = []
    for c in cases:
        a = grader.assess(c.question, c.reference, c.key_points, c.answer)
        pairs += [(e, i not in c.missing) for i, e in enumerate(a.evidence)]
    best, best_f1 = grader.cal.threshold, -1.0
    for t in np.arange(0.35, 0.80, 0.01):
        tp = sum(1 for e, cov in pairs if e < t and not cov)   # predicted gap, truly missing
        fp = sum(1 for e, cov in pairs if e < t and cov)
        fn = sum(1 for e, cov in pairs if e >= t and not cov)
        f1 = 2 * tp / max(1, 2 * tp + fp + fn)
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return round(best, 3)


def fit_calibration(grader: OfflineGrader, cases: Sequence[Labelled],
                    l2: float = 0.001) -> Calibration:
    """Fit the gap threshold, then a logistic map from features to the labelled score."""
    usable = []
    for c in cases:
        clean, _ = strip_injection(c.answer)
        # Empty and non-English answers are handled by rule: their features carry no signal the
        # model can learn from, and including them would teach it a floor for off-topic text.
        if len(clean.split()) >= 2 and looks_english(clean):
            usable.append((c, clean))
    threshold = _threshold(grader, [c for c, _ in usable])
    fitted = OfflineGrader(grader.embedder, Calibration(threshold=threshold))
    X = np.array([[getattr(fitted.assess(c.question, c.reference, c.key_points, clean).features,
                           f) for f in FEATURES] for c, clean in usable])
    y = np.array([c.label / 5 for c, _ in usable])

    def loss(params: np.ndarray) -> float:
        # Fractional logit: binomial deviance against the labelled fraction of the rubric.
        # Unlike squared error it keeps pushing towards 0 and 1, so an answer with no evidence
        # can score near 0 and a complete one near 100.
        z = X @ params[:-1] + params[-1]
        log_p, log_q = -np.logaddexp(0, -z), -np.logaddexp(0, z)
        return float(-np.mean(y * log_p + (1 - y) * log_q) + l2 * np.sum(params[:-1] ** 2))

    start = np.zeros(len(FEATURES) + 1)
    result = minimize(loss, start, method="L-BFGS-B")
    weights = {f: round(float(w), 4) for f, w in zip(FEATURES, result.x[:-1], strict=True)}
    return Calibration(weights=weights, bias=round(float(result.x[-1]), 4), threshold=threshold)


def calibration_dict(cal: Calibration) -> dict:
    """The calibration as JSON-ready data."""
    return asdict(cal)
