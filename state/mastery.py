"""The learner model: how well each topic and domain is known now, and overall readiness.

Every graded attempt is a piece of evidence about one topic. Its weight is the grader's
confidence times a recency factor that halves every `half_life_days` (21 by default: a grade
from three weeks ago counts half as much as today's, one from three months ago about a
twentieth). The topic's mastery is the weighted mean of its scores, shrunk towards an
uninformative prior of 0.5 that weighs as much as half a fresh, fully confident grade:

    w_i       = confidence_i × 0.5 ** (age_i / half_life)
    mastery   = (PRIOR_WEIGHT × PRIOR_MASTERY + Σ w_i × score_i / 100) / (PRIOR_WEIGHT + Σ w_i)
    certainty = Σ w_i / (CERTAIN_AT_HALF + Σ w_i)

Why half a grade: this is the posterior mean of a normal model in which a grade is the true
mastery plus grader noise of variance σ² / w_i, and the prior's weight is σ² / τ², the noise
variance over the prior's. An uninformative prior, uniform over 0–1, has τ² = 1/12 ≈ 0.083;
the offline grader's error against human labels is about 0.2 on the 0–1 scale (mean absolute
error 0.86 of 5, README "Quality and speed", i.e. about 0.2 root-mean-square), so σ² ≈ 0.04 and
the prior is worth 0.04 / 0.083 ≈ 0.5 of a confident grade. (It used to be worth a whole
grade, which took the grader for twice as precise, relative to the prior, as it is, and pulled
topics backed by one or two grades — the ones FSRS spaces out because they went well — towards
the middle.) Also tried on the simulated learners (`evals.simulation`, two seeds) and not
adopted: shrinking towards the learner's own average instead of 0.5 (empirical Bayes) was
within ±0.02 of this with FSRS and up to 0.04 worse with SM-2; scaling by the FSRS card's
current retrievability was up to 0.07 worse. No prior at all ranked FSRS topics only slightly
better still (ρ ≈ 0.77–0.79 after 30 questions) and SM-2's worse: what limited the ranking was
the single noisy grade behind a topic the scheduler rarely asks again. That was fixed where it
arose, in the check (`agents/check.py`): the day's topics get two or three questions each, as
in the seeds' protocol, and ρ after 30 questions rose to about 0.86 with this same estimator.

Certainty is a plain measure of how much evidence there is, on the scale the reports' words
use: 0.5 for one fresh, confident grade (CERTAIN_AT_HALF), 0.75 for three; it is kept apart
from the prior's weight so that making the prior more honest did not relabel the evidence.

So one perfect answer graded with full confidence today gives mastery 0.83 and certainty 0.5;
a grade the grader was unsure of moves the estimate less; as evidence ages the estimate drifts
back towards 0.5 and its certainty towards 0 ("we no longer know"), which is what should send
a topic back for review. Domains average their topics' mastery over *all* their topics, an
unseen topic counting as 0, so a domain is only as ready as it is covered — the rule the
learner's tracker uses for "Overall Interview Readiness" (weighted by the domain weights).

Everything here is pure: attempts and the clock come in as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from knowledge.catalog import Catalog
from state.store import AttemptView

HALF_LIFE_DAYS = 21.0
"""Age at which a grade counts half as much as a fresh one."""
PRIOR_MASTERY = 0.5
"""The uninformative prior: with no evidence, knowing and not knowing are equally likely."""
PRIOR_WEIGHT = 0.5
"""How much evidence the prior is worth: half a fresh grade given with full confidence
(grader noise variance ≈ 0.2² over the uniform prior's 1/12; see the module docstring)."""
CERTAIN_AT_HALF = 1.0
"""Evidence at which certainty is 0.5: one fresh grade given with full confidence."""
DEFAULT_CONFIDENCE = 0.5
"""Confidence assumed for a graded attempt that stored none (weak evidence, not none)."""


@dataclass(frozen=True)
class TopicMastery:
    """The learner-model estimate for one topic (note)."""

    note_id: str
    mastery: float
    """0–1: how well the learner knows the topic now."""
    certainty: float
    """0–1: how much evidence backs the estimate (attempts, grader confidence, recency)."""
    attempts: int
    """Graded attempts counted (up to `now`)."""
    last_score: float | None
    """Score (0–100) of the most recent graded attempt."""
    last_seen: datetime | None
    """When the most recent graded attempt was answered."""


@dataclass(frozen=True)
class DomainMastery:
    """The estimate for one weighted domain of the curriculum."""

    domain: str
    mastery: float
    """0–1 over ALL the domain's topics; unseen topics count as 0 (coverage-aware)."""
    coverage: float
    """Share of the domain's topics with at least one graded attempt."""
    topics_seen: int
    topics_total: int


def evidence_weight(confidence: float | None, age_days: float,
                    half_life_days: float = HALF_LIFE_DAYS) -> float:
    """How much one grade counts: the grader's confidence, halved every `half_life_days`."""
    if half_life_days <= 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days}")
    conf = DEFAULT_CONFIDENCE if confidence is None else min(1.0, max(0.0, confidence))
    return conf * 0.5 ** (max(0.0, age_days) / half_life_days)


def topic_mastery(attempts: Sequence[AttemptView], now: datetime, *,
                  half_life_days: float = HALF_LIFE_DAYS) -> dict[str, TopicMastery]:
    """Estimate mastery of every topic that has graded attempts.

    Args:
        attempts: a learner's attempts, any topics, any order. Only graded ones (score not
            None) count; a dispute has already replaced the attempt's score. Attempts answered
            after `now` are left out, so history can be replayed "as of" a date. An attempt
            without a time counts as answered at `now`.
        now: the timezone-aware time the estimate is for (the injected clock).
        half_life_days: age at which a grade's weight halves.

    Returns:
        A TopicMastery per note id that has at least one counted attempt.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    by_topic: dict[str, list[AttemptView]] = {}
    for attempt in attempts:
        if attempt.score is None:
            continue
        if attempt.answered_at is not None and attempt.answered_at > now:
            continue
        by_topic.setdefault(attempt.note_id, []).append(attempt)

    result: dict[str, TopicMastery] = {}
    for note_id, graded in by_topic.items():
        evidence = weighted = 0.0
        for attempt in graded:
            when = attempt.answered_at or now
            age_days = (now - when).total_seconds() / 86400
            w = evidence_weight(attempt.confidence, age_days, half_life_days)
            evidence += w
            weighted += w * min(100.0, max(0.0, attempt.score)) / 100
        latest = max(graded, key=lambda a: (a.answered_at or now, a.id))
        result[note_id] = TopicMastery(
            note_id=note_id,
            mastery=(PRIOR_WEIGHT * PRIOR_MASTERY + weighted) / (PRIOR_WEIGHT + evidence),
            certainty=evidence / (CERTAIN_AT_HALF + evidence),
            attempts=len(graded),
            last_score=latest.score,
            last_seen=latest.answered_at or now)
    return result


def domain_mastery(topics: Mapping[str, TopicMastery],
                   catalog: Catalog) -> dict[str, DomainMastery]:
    """Aggregate topic estimates per domain of the catalog, unseen topics counting as 0.

    Topics not in the catalog (e.g. a removed note) are ignored; a domain without notes gets
    mastery and coverage 0.
    """
    result: dict[str, DomainMastery] = {}
    for domain in catalog.domains:
        notes = catalog.notes_in(domain.id)
        seen = [topics[n.id] for n in notes if n.id in topics and topics[n.id].attempts > 0]
        total = len(notes)
        result[domain.id] = DomainMastery(
            domain=domain.id,
            mastery=sum(t.mastery for t in seen) / total if total else 0.0,
            coverage=len(seen) / total if total else 0.0,
            topics_seen=len(seen), topics_total=total)
    return result


def readiness(domains: Mapping[str, DomainMastery], weights: Mapping[str, float]) -> float:
    """Overall interview readiness, 0–100: domain mastery averaged with the domain weights.

    A weighted domain missing from `domains` counts as 0; domains without a weight are left
    out. All weights 0 gives 0.
    """
    if any(w < 0 for w in weights.values()):
        raise ValueError(f"domain weights must not be negative: {dict(weights)}")
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    known = sum(w * domains[d].mastery for d, w in weights.items() if d in domains)
    return 100 * known / total


FOCUS_BOOST = 2.0


def learner_weights(catalog: Catalog, preferences: Mapping, *,
                    with_focus: bool = False) -> dict[str, float]:
    """The curriculum's domain weights with the learner's own (`preferences["weights"]`).

    Overrides for domains the catalog does not have are ignored. With `with_focus` (used to
    choose what to study next, not for readiness, which follows the interview's weights), the
    domains the learner chose as focus (`preferences["focus"]`, ids or letters, set in
    Telegram's /start) count FOCUS_BOOST times their weight unless set explicitly.
    """
    mine = preferences.get("weights") or {}
    focus = {str(f).lower() for f in preferences.get("focus") or []} if with_focus else set()

    def weight(d) -> float:
        if d.id in mine:  # an explicit weight wins over the focus boost
            return float(mine[d.id])
        boosted = d.id in focus or d.letter.lower() in focus
        return d.weight * (FOCUS_BOOST if boosted else 1.0)

    return {d.id: weight(d) for d in catalog.domains}
