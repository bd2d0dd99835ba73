"""The offline rubric grader: key-point coverage from sentence embeddings and lexical evidence.

How a grade is formed (each step is a named function below):
1. Clean the answer: instructions addressed to the grader are cut out (they are data, never
   commands), and an empty, copied-question or non-answer reply is caught early.
2. For every key point, find the answer span that supports it best: cosine similarity between
   the key point and each sentence (and each pair of neighbouring sentences), plus lexical
   evidence — the share of the key point's content words present in the answer, where words
   that merely repeat the question count for little.
3. Combine per-point evidence into coverage, add the answer's overall similarity to the
   reference answer, and map those features to 0–100 with a calibration fitted on our own
   labelled answers (`calibration.json`, written by `python -m evals.fit_grader`).
4. Confidence reflects how decisive the evidence was: points sitting near the coverage
   threshold, very short answers and non-English text lower it.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from agents.schemas import Grade
from knowledge.embeddings import Embedder
from knowledge.text import sentences
from knowledge.text import tokens as _text_tokens

VERSION = "offline-rubric/1"
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
# How far under the coverage threshold a key point's evidence may sit and still be restored by a
# dispute: close enough that the answer plausibly said it in other words, not merely near it.
NEAR_MISS = 0.08
# When the argument restates something the answer really says ("I did say m is a running
# average…"), that claim is checkable, so a point further from the threshold can be restored.
QUOTES_ANSWER = 0.55  # argument-to-answer sentence similarity that counts as quoting it
QUOTED_WINDOW = 0.2

_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\b.{0,40}\b(instruction|rubric|prompt|previous|above|rule)"
    r"|\b(give|award|assign|grade|score|mark|rate)\b.{0,30}\b(100|full marks?|5/5|10/10|perfect|"
    r"maximum|max|a\+)"
    r"|\bsystem\s*:|\bassistant\s*:|\"score\"\s*:|\bscore\s*[:=]\s*\d"
    r"|you are (now )?(a|an|the) (grader|teacher|assistant)|new instructions?",
    re.I)
_NON_ANSWER = re.compile(r"^\s*(i\s*(don'?t|do not)\s*know|idk|no idea|not sure|pass|skip|\?+|"
                         r"dunno|n/?a|nothing|-+|\.+)\s*[.!?]*\s*$", re.I)


@dataclass
class Calibration:
    """Maps grading features to a 0–100 score and a confidence.

    A logistic model on the features predicts the expected fraction of the rubric earned; its
    weights are fitted on our labelled answers. The defaults below are a reasonable prior used
    until a fitted file exists.
    """

    weights: dict[str, float] = field(default_factory=lambda: {
        "coverage": 3.0, "mean_evidence": 2.0, "ref_sim": 2.0, "top_sim": 1.0,
        "length": 0.3, "ref_overlap": 2.0, "lex_mean": 1.0, "question_sim": 0.5})
    bias: float = -4.3
    threshold: float = 0.55  # per-key-point evidence above which a point counts as covered
    sem_weight: float = 0.7  # evidence = sem_weight·semantic + (1 − sem_weight)·lexical
    confidence_scale: float = 1.0

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        """The fitted calibration if present, else defaults."""
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        return cls()


@dataclass
class Features:
    """What the grader measured about one answer."""

    coverage: float          # soft share of key points supported
    mean_evidence: float     # mean per-point evidence
    ref_sim: float           # cosine(answer, reference answer)
    top_sim: float           # best sentence-to-reference similarity
    length: float            # log-length of the answer relative to the reference
    ref_overlap: float       # share of the reference answer's content words in the answer
    lex_mean: float          # mean lexical evidence over key points
    question_sim: float      # cosine(answer, question): low for off-topic answers
    question_overlap: float  # share of answer words that only repeat the question
    non_ascii: float         # share of non-ASCII letters (another language)

    def as_dict(self) -> dict[str, float]:
        """Features as a plain dict (for fitting and reports)."""
        return asdict(self)


@dataclass
class Assessment:
    """Per-point evidence plus the features, before they become a grade."""

    evidence: list[float]
    covered: list[bool]
    features: Features
    flags: list[str]


_ENGLISH_FUNCTION_WORDS = frozenset(
    "the a an is are was were be been of to in on at for with by from as and or but not that "
    "this these those it its which when so if than then each more less can will does do".split())
_OTHER_FUNCTION_WORDS = frozenset(  # Spanish, French, German, Portuguese, Italian
    "el la los las de del que en es un una por para con se lo al como más pero sus "
    "le les des et est une du pour dans pas qui sur au avec ce sont plus "
    "der die das und ist nicht mit den dem zu ein eine auf für sich wird werden von im auch "
    "não em os uma com il di che per gli".split())  # no one-letter words: y, e are maths


@functools.lru_cache(maxsize=65_536)
def _tokens(text: str) -> tuple[str, ...]:
    """Stemmed tokens, memoised: a question's reference, key points and prompt are tokenised
    once for all its answers rather than once per answer (stemming was ~15% of bulk grading)."""
    return tuple(_text_tokens(text))


def tokens(text: str) -> list[str]:
    """Stemmed content tokens of a text (cached; see `_tokens`)."""
    return list(_tokens(text))


def looks_english(text: str) -> bool:
    """Whether a text reads as English rather than another language.

    Function words are frequent in any prose and differ between languages, so comparing
    English ones against common Spanish/French/German/Portuguese/Italian ones separates them
    even in terse, formula-heavy answers (which have few of either).
    """
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    other = sum(w in _OTHER_FUNCTION_WORDS for w in words)
    english = sum(w in _ENGLISH_FUNCTION_WORDS for w in words)
    return other < 3 or english >= other


def strip_injection(answer: str) -> tuple[str, bool]:
    """Remove sentences that address the grader; returns (clean answer, whether any were found)."""
    kept, found = [], False
    for line in re.split(r"(?<=[.!?])\s+|\n+", answer):
        if _INJECTION.search(line) or re.match(r"^\s*[{\[]", line):
            found = True
            continue
        kept.append(line)
    return " ".join(kept).strip(), found


def _spans(sent_vecs: np.ndarray, lengths: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Vectors for sentences, neighbouring pairs and the whole answer, from sentence vectors.

    MiniLM mean-pools token vectors, so a passage's embedding is close to the length-weighted
    mean of its sentences' embeddings. Composing them avoids encoding the same text two or three
    times over, which is what bounds grading throughput on a CPU.
    """
    weighted = sent_vecs * np.asarray(lengths, dtype=np.float32)[:, None]
    pairs = weighted[:-1] + weighted[1:]
    whole = weighted.sum(axis=0)
    spans = np.vstack([sent_vecs, pairs]) if len(pairs) else sent_vecs

    def unit(m: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(m, axis=-1, keepdims=True)
        return m / np.where(norms == 0, 1, norms)

    return unit(spans), unit(whole)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class OfflineGrader:
    """Grades free text against key points with local embeddings; no network, ~ms per answer."""

    name = "offline"

    def __init__(self, embedder: Embedder, calibration: Calibration | None = None) -> None:
        self.embedder = embedder
        self.cal = calibration or Calibration.load()

    # -- measuring ----------------------------------------------------------------------
    def assess(self, question: str, reference: str, key_points: Sequence[str],
               answer: str) -> Assessment:
        """Measure the answer against the rubric (no score yet)."""
        flags: list[str] = []
        units = sentences(answer)[:40] or [answer]
        vecs = self.embedder.embed(self._assess_texts(question, reference, key_points, answer))
        n = len(units)
        sent_vecs, ref_vec, q_vec, kp_vecs = vecs[:n], vecs[n], vecs[n + 1], vecs[n + 2:]
        unit_vecs, answer_vec = _spans(sent_vecs, [len(u.split()) for u in units])

        sem = (kp_vecs @ unit_vecs.T).max(axis=1) if len(kp_vecs) else np.zeros(0)
        answer_tokens = set(tokens(answer))
        question_tokens = set(tokens(question))
        lex = []
        for point in key_points:
            words = set(tokens(point))
            if not words:
                lex.append(0.0)
                continue
            # Words that only echo the question are weak evidence: weight them a quarter.
            weights = {w: (0.25 if w in question_tokens else 1.0) for w in words}
            hit = sum(wt for w, wt in weights.items() if w in answer_tokens)
            lex.append(hit / sum(weights.values()))
        w = self.cal.sem_weight
        evidence = [float(w * s + (1 - w) * lx) for s, lx in zip(sem, lex, strict=True)]
        covered = [e >= self.cal.threshold for e in evidence]
        soft = [_sigmoid((e - self.cal.threshold) * 12) for e in evidence]

        ans_words = tokens(answer)
        echo = sum(1 for t in ans_words if t in question_tokens) / max(1, len(ans_words))
        ref_words = set(tokens(reference))
        ref_len = max(1, len(tokens(reference)))
        letters = [c for c in answer if c.isalpha()]
        features = Features(
            coverage=float(np.mean(soft)) if soft else 0.0,
            mean_evidence=float(np.mean(evidence)) if evidence else 0.0,
            ref_sim=float(answer_vec @ ref_vec),
            top_sim=float((unit_vecs @ ref_vec).max()),
            length=float(np.clip(math.log((len(ans_words) + 1) / ref_len), -3, 1)),
            ref_overlap=len(ref_words & answer_tokens) / max(1, len(ref_words)),
            lex_mean=float(np.mean(lex)) if lex else 0.0,
            question_sim=float(answer_vec @ q_vec),
            question_overlap=float(echo),
            non_ascii=sum(1 for c in letters if ord(c) > 127) / max(1, len(letters)))
        return Assessment(evidence=evidence, covered=covered, features=features, flags=flags)

    @staticmethod
    def _assess_texts(question: str, reference: str, key_points: Sequence[str],
                      answer: str) -> list[str]:
        """The texts `assess` embeds: answer sentences, reference, question, key points."""
        return [*(sentences(answer)[:40] or [answer]), reference, question, *key_points]

    @staticmethod
    def _claims(misconceptions: Sequence[str]) -> list[str]:
        """Misconceptions as checkable claims (asides in parentheses dropped)."""
        return [re.sub(r"\s*\(.*?\)\s*", " ", m).strip() for m in misconceptions]

    # -- scoring ------------------------------------------------------------------------
    def score(self, features: Features) -> float:
        """Expected fraction of the rubric earned, 0–1, from the calibrated logistic model."""
        z = self.cal.bias + sum(wt * getattr(features, k) for k, wt in self.cal.weights.items())
        return _sigmoid(z)

    def confidence(self, assessment: Assessment, fraction: float, n_words: int) -> float:
        """How decisive the evidence was: near-threshold points and short answers lower it."""
        margins = [abs(e - self.cal.threshold) for e in assessment.evidence]
        decisiveness = float(np.mean([min(1.0, m / 0.2) for m in margins])) if margins else 0.5
        extremity = abs(fraction - 0.5) * 2  # mid-range scores are the hardest to get right
        conf = 0.45 + 0.3 * decisiveness + 0.2 * extremity
        if n_words < 8:
            conf -= 0.1
        if assessment.features.non_ascii > 0.05:
            conf -= 0.25  # the local model reads English best
        return float(np.clip(conf * self.cal.confidence_scale, 0.05, 0.97))

    def prefetch(self, items: Sequence[tuple[str, str, Sequence[str], str]]) -> None:
        """Embed the texts of many (question, reference, key points, answer) items in one batch.

        Grading afterwards hits the embedder's cache: batching is what makes bulk grading fast.
        """
        texts: list[str] = []
        for question, reference, key_points, answer in items:
            clean, _ = strip_injection(answer)
            texts += self._assess_texts(question, reference, key_points, clean)
        if texts:
            self.embedder.embed([t for t in texts if t])

    def grade(self, question: str, reference: str, key_points: Sequence[str], answer: str,
              misconceptions: Sequence[str] = ()) -> Grade:
        """Grade one answer."""
        key_points = [k for k in key_points if k.strip()] or [reference]
        clean, injected = strip_injection(answer)
        note = " Instructions addressed to the grader were ignored." if injected else ""
        if not clean or _NON_ANSWER.match(clean) or len(tokens(clean)) < 2:
            return Grade(score=0, confidence=0.95, covered=[], gaps=list(key_points),
                         feedback=("No answer to grade." + note).strip(),
                         grader=VERSION)
        # One encoder call for everything this grade needs (a lone chat answer then fills one
        # row block instead of two).
        self.embedder.embed([*self._assess_texts(question, reference, key_points, clean),
                             *self._claims(misconceptions)])
        a = self.assess(question, reference, key_points, clean)
        f = a.features
        if f.question_overlap > 0.8 and f.coverage < 0.5:
            return Grade(score=0, confidence=0.85, covered=[], gaps=list(key_points),
                         feedback="That restates the question; try answering it in your own words."
                         + note, grader=VERSION)
        fraction = self.score(f)
        score = round(100 * fraction)
        covered = [p for p, c in zip(key_points, a.covered, strict=True) if c]
        gaps = [p for p, c in zip(key_points, a.covered, strict=True) if not c]
        found = self._misconceptions(clean, misconceptions)
        if found:
            score = min(score, 45)
        conf = self.confidence(a, fraction, len(clean.split()))
        if not looks_english(clean):
            # The local model reads English; in another language its evidence means little.
            conf = min(conf, 0.25)
            note += (" This answer does not look like English, which the offline grader reads "
                     "best: treat the score as rough (Claude mode grades any language).")
        return Grade(score=score, confidence=round(conf, 2), covered=covered, gaps=gaps,
                     misconceptions=found, feedback=self._feedback(score, covered, gaps, found)
                     + note, grader=VERSION)

    def reconsider(self, question: str, reference: str, key_points: Sequence[str], answer: str,
                   previous: Grade, argument: str) -> Grade:
        """Re-grade after the learner disputes `previous`, weighing their argument.

        The argument cannot add content after the fact. It can win back a key point it points
        at when the original answer nearly stated that point (evidence just under the coverage
        threshold), or stated it in other words that the argument quotes back. Anything else
        keeps the grade, with the reason.
        """
        clean_answer, _ = strip_injection(answer)
        clean_argument, _ = strip_injection(argument)
        gap_ids = [i for i, p in enumerate(key_points) if p in set(previous.gaps)]
        if not clean_answer or not gap_ids:
            reason = ("There was no answer to reconsider." if not clean_answer else
                      "Your grade listed no missing key points, so there is nothing to restore.")
            return previous.model_copy(update={"feedback": f"The grade stands. {reason}",
                                               "grader": f"{VERSION}+dispute"})
        a = self.assess(question, reference, key_points, clean_answer)
        arg_units = sentences(clean_argument) or [clean_argument or " "]
        arg_vecs = self.embedder.embed(arg_units)
        sims = self.embedder.embed(list(key_points)) @ arg_vecs.T
        answer_units = sentences(clean_answer) or [clean_answer]
        quotes = float((arg_vecs @ self.embedder.embed(answer_units).T).max()) >= QUOTES_ANSWER
        window = QUOTED_WINDOW if quotes else NEAR_MISS
        arg_tokens = set(tokens(clean_argument))
        accepted, named = [], []
        for i in gap_ids:
            words = set(tokens(key_points[i]))
            lexical = len(words & arg_tokens) / max(1, len(words))
            if sims[i].max() >= 0.5 or lexical >= 0.5:
                named.append(i)
                if a.evidence[i] >= self.cal.threshold - window:
                    accepted.append(i)
        if accepted:
            won = [key_points[i] for i in accepted]
            score = min(100, previous.score + round(100 * len(won) / len(key_points)))
            feedback = (f"You're right: your answer does make this point in other words — "
                        f"{'; '.join(won)}. Score raised from {previous.score} to {score}.")
            return previous.model_copy(update={
                "score": score, "confidence": round(min(previous.confidence, 0.7), 2),
                "covered": [*previous.covered, *won],
                "gaps": [g for g in previous.gaps if g not in won],
                "feedback": feedback, "grader": f"{VERSION}+dispute"})
        if named:
            point = key_points[named[0]]
            feedback = (f"I re-read your answer: it doesn't state \"{point}\". An argument can't "
                        "add content after the fact — put it in your next answer. The grade "
                        f"stands at {previous.score}.")
        else:
            missing = "; ".join(previous.gaps[:3])
            feedback = (f"Your argument doesn't point at one of the missing key points "
                        f"({missing}). The grade stands at {previous.score}.")
        return previous.model_copy(update={"feedback": feedback, "grader": f"{VERSION}+dispute"})

    def _misconceptions(self, answer: str, misconceptions: Sequence[str]) -> list[str]:
        """Misconceptions the answer states almost verbatim (kept strict: false alarms hurt)."""
        if not misconceptions:
            return []
        claims = self._claims(misconceptions)
        units = sentences(answer) or [answer]
        sims = self.embedder.embed(claims) @ self.embedder.embed(units).T
        return [m for m, row in zip(misconceptions, sims, strict=True) if row.max() > 0.86]

    @staticmethod
    def _feedback(score: int, covered: list[str], gaps: list[str], wrong: list[str]) -> str:
        if wrong:
            return f"Careful — this is a common misconception: {wrong[0]}"
        if not gaps:
            return "Complete: every key point is there."
        total = len(covered) + len(gaps)
        lead = ("Good answer" if score >= 80 else "Partly there" if score >= 40
                else "This misses most of what was asked")
        return f"{lead}: {len(covered)} of {total} key points. Add: {gaps[0]}."
