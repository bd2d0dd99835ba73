"""Simulated learners: does the learner model recover what a learner really knows?

Learners with a hidden true mastery per topic study a slice of the curriculum for several
simulated weeks and take the daily knowledge check through the real machinery: the check is
composed by `agents.check.compose_check` from the store's due cards, questions are chosen by the
offline engine, answers are graded by the real `OfflineGrader` (MiniLM embeddings, fitted
calibration), and grades are stored and scheduled by `state.store.Store` with FSRS-6 or SM-2.
Estimated mastery is `state.mastery.topic_mastery` over the stored attempts; we compare it with
the hidden truth.

Design choices (each is a knob in `Config` or a constant below):

* **Learners.** Each of `Config.learners` learners (seeded) picks two domains, with probability
  proportional to the curriculum's domain weights, and 10–15 topics from them. Their hidden
  *understanding* of those topics is spread evenly over [0.05, 0.95] (shuffled, jittered), so
  every learner has strong, middling and weak topics and a rank correlation is meaningful.
* **Memory.** What a learner can recall now is understanding × retention, with FSRS-4's
  power-law forgetting curve R = (1 + t / 9S)⁻¹ (t days since the topic was last studied or
  answered, S the stability: days until R = 0.9, drawn in 2–6 days per topic). Answering a
  question and reading the grade refreshes the topic (t = 0), raises S (× 1.2 when nothing was
  recalled up to × 3 when everything was) and teaches a little (understanding moves 4 % of the
  way to 1). So memory decays between sessions and what gets reviewed when matters. This
  *current* true mastery, understanding × retention, is the ground truth we score against.
* **Study days.** The learner studies three new topics a day, in the order the product proposes
  (`new_topic_order`: domain weight, foundations first), until the slice is covered, then only
  reviews. Each evening they take the knowledge check as `plan_check` and the grade node run it:
  `compose_check` over the topics studied so far (a curriculum restricted to them) with today's
  topics as the day's content (up to `PER_TOPIC` questions each, as the seeds' checks asked 7
  questions on a day's two or three topics), the learner's domain weights, the latest score per
  topic and `store.due_cards` under the daily review cap; the engine's question choice (a
  topic's questions cycle, least recently asked first); each answer recorded, graded, its grade
  recorded and the topic scheduled with `store.review(…, confidence=…)` before the next
  question; a topic failed mid-check, with no question left on it in the check, re-asked once
  at its end.
  Checks run at 19:00 on an injected clock for `Config.days` days, and all answers of a check
  carry that time: due dates are exact instants, so with answers stamped a few minutes apart an
  item "due in one day" would miss the next evening's check by minutes and wait a further day.
* **Answers, from the note only (no LLM).** For each of the question's key points, the learner
  recalls it with probability = current true mastery, stating it either as the reference-answer
  sentence that carries it (only if every other point that sentence states was recalled too)
  or as the key point itself; with a further probability of
  0.3 × mastery they recall it only vaguely (its first half, naming the idea but not the claim).
  With probability 0.4 × (1 − mastery) they also state one of the note's misconceptions as a
  belief (the part before its parenthesised correction). When nothing is recalled the answer is
  "I don't know", a misconception, or a key point of another topic of their slice (confusing
  topics). The statements form one paragraph, in random order. The labelled answers in
  evals/data/grading are not used. A limitation to keep in mind: recalled points use the note's
  own wording, so grading them is easier than grading a real learner's paraphrase; the grader's
  noise here is mostly on vague, partial and wrong answers.
* **Estimate.** `topic_mastery(attempts[:N], now)` after the N-th answered question (N = 10,
  30, 60). A studied topic with no graded attempt yet gets the estimator's own value for
  "no evidence", `PRIOR_MASTERY` (0.5): an estimator that has not asked about a topic cannot
  rank it. For scale, the table also gives a baseline that trusts only each topic's latest
  grade (same treatment of unasked topics).
* **Metrics.** Spearman's ρ between estimated and current true mastery over the topics the
  learner has studied by question N, averaged over learners (an estimate that is constant
  across topics has no rank information and counts as 0). A topic not studied yet has no
  current mastery to recover — the learner has not met it — so the headline figure leaves it
  out; the table also prints ρ over the whole slice, those topics at the prior, which falls
  when questions go deeper into fewer topics (after 30 questions about three of a 10–15
  topic slice are not studied yet) and so measures coverage as much as the estimate.
  The share of review questions (`is_review`; re-asks are not reviews) asked
  on topics whose true mastery was below 0.6 when asked, next to the share of the studied
  topics that were that weak at the time (what picking reviews at random would give). Mean true
  mastery over the slice at the end of the run shows what each schedule left the learner with.
  Every learner runs once with FSRS and once with SM-2, from the same profile and seed, each on
  a fresh in-memory SQLite store.
* **Speed.** Grading cost is embedding cost. Everything the learners can say or be graded
  against for their topics is embedded in one large call before the runs start
  (`sayable_texts`), which costs a fraction of embedding each answer's few new texts as they
  come (per-call overheads and padding are paid once, over texts sorted by length). After that,
  grading an answer is cache look-ups and arithmetic; the answers' wording is chosen from those
  texts, so the cache serves them.

Run: `python -m evals.simulation` (also part of `make eval`). Target from the issue: ρ ≥ 0.8
after 30 questions with FSRS.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import numpy as np
from rich.console import Console
from rich.table import Table

from agents.check import (
    DEFAULT_DAILY_REVIEW_CAP,
    REASK_BELOW,
    asked_order,
    compose_check,
    day_start,
    new_topic_order,
    pending_reasks,
    reviews_left,
)
from agents.grading.offline import OfflineGrader
from agents.offline_engine import OfflineEngine
from knowledge.catalog import Catalog, Note, Question, load_catalog
from knowledge.embeddings import Embedder
from knowledge.text import sentences, tokens
from state.mastery import PRIOR_MASTERY, topic_mastery
from state.store import Store

START = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # the first evening's check
LEARNING_RATE = 0.04  # share of the remaining gap closed by answering and reading the grade
VAGUE_RECALL = 0.3  # P(a point comes back only vaguely) = VAGUE_RECALL × mastery
MISCONCEPTION_RATE = 0.4  # P(stating a misconception) = MISCONCEPTION_RATE × (1 − mastery)
SCHEDULERS = (("fsrs", "FSRS-6"), ("sm2", "SM-2"))


@dataclass(frozen=True)
class Config:
    """How big a simulation to run."""

    learners: int = 8
    topics_min: int = 10
    topics_max: int = 15
    domains_per_learner: int = 2
    topics_per_day: int = 3
    days: int = 28
    checkpoints: tuple[int, ...] = (10, 30, 60)
    weak_line: float = 0.6  # true mastery under this is a "truly weak" topic
    seed: int = 11


@dataclass(frozen=True)
class Profile:
    """Who a simulated learner is: their topics in study order and their hidden memory."""

    name: str
    topics: tuple[str, ...]
    understanding: dict[str, float]  # 0–1: how much of the topic they know when it is fresh
    stability: dict[str, float]  # days until recall falls to 90 %, before any practice
    weights: dict[str, float]
    seed: int


def retention(days: float, stability: float) -> float:
    """FSRS-4's power forgetting curve: 0.9 after `stability` days, slower decay later on."""
    return 1.0 / (1.0 + max(0.0, days) / (9.0 * stability))


def _as_sentence(statement: str) -> str:
    """A statement written as a sentence of prose: capital letter, full stop."""
    statement = statement.strip()
    if statement[:1].isascii():  # "γ = 0 …" keeps its lower-case γ: case matters in maths
        statement = statement[:1].upper() + statement[1:]
    return statement if statement.endswith((".", "!", "?")) else statement + "."


def _full_sentences(text: str) -> list[str]:
    """A reference answer's sentences, whole (the grader's splitter also cuts long ones at
    commas, which is right for measuring but leaves fragments no learner would say)."""
    return [p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p]


def _vague(point: str) -> str:
    """A key point half remembered: its first half, which names the idea but not the claim."""
    words = point.split()
    return " ".join(words[: max(3, len(words) // 2)])


def _carries(sentence: str, point: str) -> float:
    """Share of a key point's words that a sentence contains (≥ 0.5: it states the point)."""
    words = set(tokens(point))
    return len(words & set(tokens(sentence))) / max(1, len(words))


def _misbelief(misconception: str) -> str:
    """A misconception as a learner would state it: the notes append the correction in (…)."""
    return re.sub(r"\s*\(.*\)\s*$", "", misconception).strip()


class SimulatedLearner:
    """A learner's changing memory, and answers written from what they currently recall."""

    def __init__(self, profile: Profile, catalog: Catalog, start: datetime) -> None:
        self.profile = profile
        self.catalog = catalog
        self.rng = random.Random(profile.seed)
        self.understanding = dict(profile.understanding)
        self.stability = dict(profile.stability)
        self.refreshed = dict.fromkeys(profile.topics, start)

    def mastery(self, note_id: str, now: datetime) -> float:
        """Current true mastery: understanding × how much of it is still retrievable."""
        days = (now - self.refreshed[note_id]).total_seconds() / 86400
        return self.understanding[note_id] * retention(days, self.stability[note_id])

    def masteries(self, now: datetime) -> dict[str, float]:
        """Current true mastery of every topic in the learner's slice."""
        return {t: self.mastery(t, now) for t in self.profile.topics}

    def study(self, note_id: str, now: datetime) -> None:
        """Read the note: its content is fresh again (understanding itself is unchanged)."""
        self.refreshed[note_id] = now

    def answer(self, note: Note, question: Question, now: datetime) -> tuple[str, float]:
        """Write an answer from what is recalled now; also the share of key points recalled."""
        m = self.mastery(note.id, now)
        ref_sentences = _full_sentences(question.reference_answer)
        pieces: list[str] = []
        recalled = 0.0
        draws = [self.rng.random() for _ in question.key_points]
        known = [p for p, d in zip(question.key_points, draws, strict=True) if d < m]
        for point, draw in zip(question.key_points, draws, strict=True):
            if draw < m:
                pieces.append(self._state(point, ref_sentences, question.key_points, known))
                recalled += 1
            elif draw < m + VAGUE_RECALL * m:
                pieces.append(_vague(point))
                recalled += 0.5
        self.rng.shuffle(pieces)
        beliefs = [_misbelief(x) for x in note.misconceptions if _misbelief(x)]
        if beliefs and self.rng.random() < MISCONCEPTION_RATE * (1 - m):
            pieces.append(self.rng.choice(beliefs))
        if not pieces:
            draw = self.rng.random()
            others = [t for t in self.profile.topics if t != note.id]
            if draw < 0.4 or (not beliefs and not others):
                pieces.append("I don't know")
            elif draw < 0.7 and beliefs:
                pieces.append(self.rng.choice(beliefs))
            else:  # confuses it with another topic they studied: answers that one instead
                other = self.catalog.note(self.rng.choice(others))
                pieces.append(self.rng.choice(self.rng.choice(other.questions).key_points))
        text = " ".join(_as_sentence(p) for p in dict.fromkeys(pieces))
        return text, recalled / max(1, len(question.key_points))

    def _state(self, point: str, ref_sentences: Sequence[str], points: Sequence[str],
               known: Sequence[str]) -> str:
        """A recalled key point: the reference sentence carrying it, or the point itself.

        The reference sentence is used only when every key point it carries (of the
        question's `points`) is among those the learner recalls (`known`): a reference sentence
        often states two or three points at once, and saying it would credit the learner with
        points they did not recall.
        """
        best = max(ref_sentences, default="", key=lambda s: _carries(s, point))
        if best and _carries(best, point) >= 0.5 and self.rng.random() < 0.5:
            others = [p for p in points if p != point]
            if all(_carries(best, p) < 0.5 or p in known for p in others):
                return best
        return point

    def practised(self, note_id: str, recalled: float, now: datetime) -> None:
        """After answering and reading the grade: fresh again, steadier, a little better known."""
        self.stability[note_id] *= 1.2 + 1.8 * recalled
        self.understanding[note_id] += LEARNING_RATE * (1 - self.understanding[note_id])
        self.refreshed[note_id] = now


def make_profiles(catalog: Catalog, config: Config) -> list[Profile]:
    """Seeded learners, each with a slice of two domains and true mastery spread over 0–1."""
    rng = np.random.default_rng(config.seed)
    domains = [d for d in catalog.domains if catalog.notes_in(d.id)]
    p = np.array([d.weight for d in domains], dtype=float)
    profiles = []
    for i in range(config.learners):
        picked = rng.choice(len(domains), size=config.domains_per_learner, replace=False,
                            p=p / p.sum())
        pool = [n for k in picked for n in catalog.notes_in(domains[k].id)]
        size = min(len(pool), int(rng.integers(config.topics_min, config.topics_max + 1)))
        chosen = {pool[k].id for k in rng.choice(len(pool), size=size, replace=False)}
        weights = {d.id: (d.weight if k in picked else 0.0) for k, d in enumerate(domains)}
        # Study order: the product's new-topic order over the learner's own curriculum.
        order = [n.id for n in new_topic_order(restrict(catalog, chosen), weights, set())]
        spread = np.linspace(0.05, 0.95, size) + rng.uniform(-0.04, 0.04, size)
        understanding = dict(zip(order, np.clip(rng.permutation(spread), 0, 1).tolist(),
                                 strict=True))
        stability = dict(zip(order, rng.uniform(2.0, 6.0, size).tolist(), strict=True))
        profiles.append(Profile(name=f"learner-{i + 1}", topics=tuple(order),
                                understanding=understanding, stability=stability,
                                weights=weights, seed=config.seed * 1000 + i))
    return profiles


def restrict(catalog: Catalog, note_ids: set[str]) -> Catalog:
    """The curriculum as far as the learner has studied it: those notes, prerequisites inside."""
    notes = [n.model_copy(update={"prerequisites": [p for p in n.prerequisites if p in note_ids]})
             for n in catalog.notes if n.id in note_ids]
    return Catalog(domains=catalog.domains, notes=notes)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's ρ: Pearson correlation of the ranks, ties sharing their average rank.

    A constant input cannot order anything, so it gives 0 (scipy returns nan there).
    """
    rx, ry = _ranks(np.asarray(x, dtype=float)), _ranks(np.asarray(y, dtype=float))
    if len(rx) < 2 or rx.std() == 0 or ry.std() == 0:
        return 0.0
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx @ ry) / math.sqrt((rx @ rx) * (ry @ ry)))


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks; tied values get the mean of the ranks they span."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[order[j + 1]] == values[order[i]]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


@dataclass
class Run:
    """What one learner did under one scheduler."""

    learner: str
    scheduler: str
    spearman: dict[int, float] = field(default_factory=dict)  # checkpoint → ρ, studied topics
    spearman_last: dict[int, float] = field(default_factory=dict)  # same, last-score baseline
    spearman_slice: dict[int, float] = field(default_factory=dict)  # ρ over the whole slice
    reviews: int = 0
    weak_reviews: int = 0
    weak_base: list[float] = field(default_factory=list)  # weak share of studied topics per review
    scores: list[int] = field(default_factory=list)
    questions: int = 0
    final_mastery: float = 0.0
    attempts: int = 0  # as stored, for checks
    graders: set[str] = field(default_factory=set)
    # checkpoint → topic → (estimate, current true mastery, understanding), for inspection;
    # the topics studied by then
    compared: dict[int, dict[str, tuple[float, float, float]]] = field(default_factory=dict)


def simulate(profile: Profile, scheduler: str, catalog: Catalog, grader: OfflineGrader,
             config: Config, store: Store | None = None) -> Run:
    """Run one learner through `config.days` days of study and checks under one scheduler.

    By default on a fresh in-memory SQLite store; pass `store` to inspect it afterwards.
    """
    if store is not None and store.scheduler != scheduler:
        raise ValueError(f"the store schedules with {store.scheduler}, not {scheduler}")
    learner = SimulatedLearner(profile, catalog, START)
    store = store or Store("sqlite://", scheduler=scheduler)
    engine = OfflineEngine(grader, rng=random.Random(profile.seed))
    learner_id = store.learner_id(f"sim:{profile.name}", START)
    run = Run(profile.name, scheduler)
    # question number → (true mastery, understanding, topics studied) just after it
    truth_at: dict[int, tuple[dict[str, float], dict[str, float], list[str]]] = {}
    studied: list[str] = []
    with asyncio.Runner() as runner:
        for day in range(config.days):
            now = START + timedelta(days=day)  # the evening check; all its answers carry it
            today = list(profile.topics[len(studied):len(studied) + config.topics_per_day])
            for note_id in today:
                learner.study(note_id, now - timedelta(hours=2))
            studied += today
            # The check as plan_check composes it: due reviews under the daily cap, today's
            # topics, new ones from the learner's curriculum ranked with the learner model.
            history = store.learner_attempts(learner_id)
            last_scores = {a.note_id: a.score for a in history if a.score is not None}
            due = [c.note_id for c in store.due_cards(learner_id, now, limit=20)]
            left = reviews_left(DEFAULT_DAILY_REVIEW_CAP,
                                store.review_attempts_since(learner_id, day_start(now)))
            mastery = {n: m.mastery for n, m in topic_mastery(history, now).items()}
            plan = compose_check(restrict(catalog, set(studied)), profile.weights, last_scores,
                                 due[:left], today, mastery=mastery)
            queue = [{"note_id": n, "is_review": r} for n, r in plan]
            while queue:
                item = queue.pop(0)
                note = catalog.note(item["note_id"])
                asked = asked_order(store.learner_attempts(learner_id, note.id))
                quiz = runner.run(engine.make_question(note, [], asked))
                question = note.question(quiz.question_id)
                truth = learner.masteries(now)
                if item["is_review"]:
                    weak = [truth[t] < config.weak_line for t in studied]
                    run.reviews += 1
                    run.weak_reviews += truth[note.id] < config.weak_line
                    run.weak_base.append(sum(weak) / len(weak))
                answer, recalled = learner.answer(note, question, now)
                session_id = store.current_session(learner_id, now)
                attempt_id = store.record_answer(
                    learner_id=learner_id, session_id=session_id, note_id=note.id,
                    question_id=question.id, question=question.prompt,
                    reference_answer=question.reference_answer,
                    key_points=list(question.key_points), answer=answer,
                    is_review=item["is_review"], now=now)
                grade = grader.grade(question.prompt, question.reference_answer,
                                     question.key_points, answer, note.misconceptions)
                store.record_grade(attempt_id, grade.model_dump(), now)
                store.review(learner_id, note.id, grade.score, now, confidence=grade.confidence)
                learner.practised(note.id, recalled, now)  # having read the grade's feedback
                run.scores.append(grade.score)
                run.questions += 1
                if run.questions in config.checkpoints:
                    truth_at[run.questions] = (learner.masteries(now),
                                               dict(learner.understanding), list(studied))
                # As the grade node does: a topic failed mid-check comes back once at its end.
                if queue and grade.score < REASK_BELOW and not item.get("reask"):
                    pending = pending_reasks(store.session_attempts(session_id))
                    queued = {i["note_id"] for i in queue}
                    if note.id in pending and note.id not in queued:
                        queue.append({"note_id": note.id, "is_review": False, "reask": True})
    history = store.learner_attempts(learner_id)
    for n, (truth, understanding, studied_then) in truth_at.items():
        seen = history[:n]
        estimate = topic_mastery(seen, seen[-1].answered_at)

        run.spearman[n] = _rho(estimate, truth, studied_then)
        run.spearman_slice[n] = _rho(estimate, truth, profile.topics)
        # Baseline: trust only the latest grade per topic (no pooling, no recency weights).
        run.spearman_last[n] = _rho(estimate, truth, studied_then, last_score=True)
        run.compared[n] = {t: (estimate[t].mastery if t in estimate else PRIOR_MASTERY,
                               truth[t], understanding[t]) for t in studied_then}
    end = START + timedelta(days=config.days)
    run.final_mastery = float(np.mean(list(learner.masteries(end).values())))
    run.attempts = len(history)
    run.graders = {a.grader for a in history}
    return run


def _rho(estimate: dict, truth: dict[str, float], topics: Sequence[str],
         last_score: bool = False) -> float:
    """ρ between estimated and true mastery over `topics`; a topic without a graded attempt
    counts at the prior. With `last_score`, the estimate is the topic's latest grade alone."""
    def value(t: str) -> float:
        if t not in estimate:
            return PRIOR_MASTERY
        return estimate[t].last_score / 100 if last_score else estimate[t].mastery
    return spearman([value(t) for t in topics], [truth[t] for t in topics])


def run_simulation(config: Config, embedder: Embedder,
                   catalog: Catalog | None = None) -> list[Run]:
    """Every learner under every scheduler, sharing one grader (and its embedding cache)."""
    catalog = catalog or load_catalog()
    grader = OfflineGrader(embedder)
    profiles = make_profiles(catalog, config)
    embedder.embed(sayable_texts(catalog, {t for p in profiles for t in p.topics}))
    return [simulate(profile, scheduler, catalog, grader, config)
            for profile in profiles for scheduler, _ in SCHEDULERS]


def sayable_texts(catalog: Catalog, note_ids: set[str]) -> list[str]:
    """Every text the grader may embed for these topics: rubrics and what learners can say.

    Embedding them in one call up front is what keeps the eval fast: one large call over texts
    sorted by length pays the per-call overheads and padding once, where embedding each answer's
    few new texts as they come pays them hundreds of times.
    """
    texts: list[str] = []
    for note_id in sorted(note_ids):
        note = catalog.note(note_id)
        said = [_misbelief(m) for m in note.misconceptions]
        # The misconceptions as the grader's check states them (all parentheses removed).
        texts += [re.sub(r"\s*\(.*?\)\s*", " ", m).strip() for m in note.misconceptions]
        for q in note.questions:
            texts += [q.prompt, q.reference_answer, *q.key_points]
            said += [*q.key_points, *_full_sentences(q.reference_answer),
                     *(_vague(k) for k in q.key_points)]
        texts += [unit for line in said for unit in sentences(_as_sentence(line))]
    return list(dict.fromkeys(t for t in texts if t))


def summarise(runs: Sequence[Run], config: Config) -> dict[str, dict]:
    """Per-scheduler figures averaged over learners."""
    out: dict[str, dict] = {}
    for scheduler, label in SCHEDULERS:
        mine = [r for r in runs if r.scheduler == scheduler]
        rho, rho_last, rho_slice = {}, {}, {}
        for n in config.checkpoints:
            values = [r.spearman[n] for r in mine if n in r.spearman]
            rho[n] = ((float(np.mean(values)), float(np.std(values)), len(values)) if values
                      else (float("nan"), float("nan"), 0))
            last = [r.spearman_last[n] for r in mine if n in r.spearman_last]
            rho_last[n] = float(np.mean(last)) if last else float("nan")
            whole = [r.spearman_slice[n] for r in mine if n in r.spearman_slice]
            rho_slice[n] = float(np.mean(whole)) if whole else float("nan")
        reviewed = [r for r in mine if r.reviews]
        out[scheduler] = {
            "label": label, "spearman": rho, "spearman_last_score": rho_last,
            "spearman_slice": rho_slice,
            "weak_review_share": float(np.mean([r.weak_reviews / r.reviews for r in reviewed]))
            if reviewed else float("nan"),
            "weak_base_share": float(np.mean([np.mean(r.weak_base) for r in reviewed]))
            if reviewed else float("nan"),
            "questions": float(np.mean([r.questions for r in mine])),
            "reviews": float(np.mean([r.reviews for r in mine])),
            "final_mastery": float(np.mean([r.final_mastery for r in mine])),
        }
    return out


def run(console: Console | None = None, config: Config | None = None) -> dict:
    """Simulate, then print the FSRS / SM-2 table and the wall time."""
    # Imported here, not at the top: evals.common pulls in the app's wiring (index, Chroma),
    # which the unit tests of this module do not need. Its MiniLM is shared with other evals.
    from evals.common import embedder

    console = console or Console()
    config = config or Config()
    start = time.perf_counter()
    runs = run_simulation(config, embedder())
    summary = summarise(runs, config)
    wall = time.perf_counter() - start

    table = Table(title=f"Simulated learners: estimated vs true mastery ({config.learners} "
                        f"learners × {config.topics_min}–{config.topics_max} topics, "
                        f"{config.days} days, offline grader)")
    table.add_column("per learner, mean")
    for s in summary.values():
        table.add_column(s["label"], justify="right")
    for n in config.checkpoints:
        cells = []
        for s in summary.values():
            mean, sd, count = s["spearman"][n]
            short = "" if count == config.learners else f" [{count} reached]"
            cells.append("n/a" if not count else
                         f"{mean:.2f} ± {sd:.2f} ({s['spearman_last_score'][n]:.2f}){short}")
        table.add_row(f"Spearman ρ after {n} questions", *cells)
    for n in config.checkpoints:
        table.add_row(f"ρ after {n}, whole slice",
                      *(f"{s['spearman_slice'][n]:.2f}" for s in summary.values()))
    rows = (
        (f"reviews on truly weak topics (< {config.weak_line:g})",
         lambda s: f"{s['weak_review_share']:.0%}"),
        ("weak share of studied topics (random pick)", lambda s: f"{s['weak_base_share']:.0%}"),
        ("questions answered (of which reviews)",
         lambda s: f"{s['questions']:.0f} ({s['reviews']:.0f})"),
        (f"true mastery after {config.days} days", lambda s: f"{s['final_mastery']:.2f}"),
    )
    for label, cell in rows:
        table.add_row(label, *(cell(s) for s in summary.values()))
    console.print(table)
    target_n = 30 if 30 in config.checkpoints else config.checkpoints[-1]
    fsrs_rho = summary["fsrs"]["spearman"][target_n][0]
    verdict = "met" if fsrs_rho >= 0.8 else "not met"
    console.print(f"ρ: mean ± sd over learners of topic_mastery vs the hidden truth, over the "
                  f"topics studied so far; in brackets the last-score-per-topic baseline. "
                  f"\"Whole slice\" also counts the topics not studied yet, at the estimator's "
                  f"prior {PRIOR_MASTERY:g}: it measures how much of the curriculum has been "
                  f"covered as much as the estimate. Target ρ ≥ 0.8 after {target_n} questions "
                  f"with FSRS: {verdict} ({fsrs_rho:.2f}). Wall time {wall:.0f} s.")
    summary["wall_seconds"] = wall
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m evals.simulation [--learners N] [--days D] [--seed S]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = Config()
    parser.add_argument("--learners", type=int, default=defaults.learners)
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    run(config=replace(defaults, learners=args.learners, days=args.days, seed=args.seed))


if __name__ == "__main__":
    main()
