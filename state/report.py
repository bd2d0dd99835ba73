"""The learner's readiness tracker: a progress overview and a Markdown tracker from the store.

The tracker follows the learner's own study tracker (seeds/study-tracker.md): quick stats by
domain, study priority, topics mastered, knowledge gaps by priority, recently resolved gaps,
session history. Every figure comes from the learner model in `state.mastery`.

Thresholds (all on the learner model's 0–1 scale):

- **Domain status** — "Not started": no topic of the domain answered yet; "Strong": domain
  mastery ≥ 0.70 (domain mastery counts unseen topics as 0, so this needs the domain both
  covered and known: the tracker's "Interview Ready"); "Gap": the topics answered so far
  average a mastery under 0.50 (answers mostly miss); "Developing": everything in between.
- **Topic mastered** — topic mastery ≥ 0.65 with the latest grade ≥ 80 (the protocol's weak
  line). One confident, complete answer reaches it; a shaky one does not.
- **Gap priority** — an open gap is "High" when its topic's mastery is under 0.50, "Medium"
  when the topic is not yet mastered, "Low" for a point missed in an otherwise mastered topic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from statistics import mean

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.catalog import Catalog
from state.mastery import (
    DomainMastery,
    TopicMastery,
    domain_mastery,
    learner_weights,
    readiness,
    topic_mastery,
)
from state.models import Learner
from state.store import WEAK_SCORE, AttemptView, Store

STRONG_DOMAIN = 0.70
"""Domain mastery (coverage-aware) from which a domain counts as interview ready."""
GAP_DOMAIN = 0.50
"""Average mastery of the answered topics under which a domain is a gap."""
MASTERED_TOPIC = 0.65
"""Topic mastery from which a topic counts as mastered (with the latest grade ≥ WEAK_SCORE)."""
WEAK_TOPIC = 0.50
"""Topic mastery under which an open gap of the topic is high priority."""

_DIFFICULTY = {"easy": 0, "medium": 1, "hard": 2}
STATUS_MARK = {"Strong": "🟢", "Developing": "🟡", "Gap": "🔴", "Not started": "⚪"}


# -- learners -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LearnerInfo:
    """Who a report is about."""

    id: int
    external_id: str
    display_name: str
    created_at: datetime


# The Store can only look a learner up by creating them on first contact; a report must not
# create anyone, so these two read-only queries go to the tables directly.
def find_learner(store: Store, external_id: str) -> LearnerInfo | None:
    """The learner with this external id (e.g. "cli:local", "tg:123"), or None; creates nothing."""
    with Session(store.engine) as db:
        row = db.scalar(select(Learner).where(Learner.external_id == external_id))
        return _info(row) if row else None


def known_learners(store: Store) -> list[LearnerInfo]:
    """Every learner in the store, oldest first (to name them when a look-up fails)."""
    with Session(store.engine) as db:
        return [_info(r) for r in db.scalars(select(Learner).order_by(Learner.id)).all()]


def learner_info(store: Store, learner_id: int) -> LearnerInfo:
    """The learner with this id (KeyError when unknown)."""
    with Session(store.engine) as db:
        row = db.get(Learner, learner_id)
        if row is None:
            raise KeyError(f"no learner {learner_id}")
        return _info(row)


def _info(row: Learner) -> LearnerInfo:
    return LearnerInfo(row.id, row.external_id, row.display_name, row.created_at)


# -- the overview ---------------------------------------------------------------------------------
class DomainProgress(BaseModel):
    """One domain's line of the overview."""

    id: str
    letter: str
    label: str = Field(description='e.g. "C. Deep Learning"')
    weight: float = Field(description="The learner's weight for the domain (relative)")
    weight_pct: float = Field(description="The weight as a share of all weights, 0–100")
    mastery: float = Field(description="Domain mastery, 0–100 (unseen topics count as 0)")
    seen_mastery: float | None = Field(description="Average mastery of answered topics, 0–100")
    coverage: float = Field(description="Share of the topics answered at least once, 0–100")
    topics_seen: int
    topics_total: int
    status: str = Field(description='"Strong", "Developing", "Gap" or "Not started"')
    priority: float = Field(description="Study priority: weight share × (1 − mastery), 0–100")
    focus: bool = Field(default=False, description="The learner asked to focus on it")


class ProgressOverview(BaseModel):
    """Where the learner stands: per-domain progress, readiness, reviews due, interview date."""

    learner: str
    generated_at: datetime
    domains: list[DomainProgress]
    readiness: float = Field(description="Interview readiness, 0–100 (weighted domain mastery)")
    due_now: int = Field(description="Review cards due now")
    total_answers: int = Field(description="Graded answers so far")
    interview_date: date | None = None
    days_left: int | None = None
    focus: list[str] = Field(default_factory=list, description="Focus domain ids, in order")


def domain_status(dm: DomainMastery) -> str:
    """"Strong", "Developing", "Gap" or "Not started" (thresholds in the module docstring)."""
    if dm.topics_seen == 0:
        return "Not started"
    if dm.mastery >= STRONG_DOMAIN:
        return "Strong"
    seen_avg = dm.mastery * dm.topics_total / dm.topics_seen
    return "Gap" if seen_avg < GAP_DOMAIN else "Developing"


def _interview_date(preferences: Mapping) -> date | None:
    raw = preferences.get("interview_date")
    if not raw:
        return None
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None  # a malformed date is ignored rather than breaking the report


def _focus(preferences: Mapping, catalog: Catalog) -> list[str]:
    raw = preferences.get("focus") or []
    if isinstance(raw, str):
        raw = [raw]
    by_key = {k.lower(): d.id for d in catalog.domains for k in (d.id, d.letter)}
    focus: list[str] = []
    for item in raw:
        domain = by_key.get(str(item).lower())
        if domain and domain not in focus:
            focus.append(domain)
    return focus


@dataclass
class _Model:
    """Everything the overview and the tracker are computed from, read once."""

    learner: LearnerInfo
    attempts: list[AttemptView]
    topics: dict[str, TopicMastery]
    domains: dict[str, DomainMastery]
    weights: dict[str, float]
    preferences: dict


def _load(store: Store, catalog: Catalog, learner_id: int, now: datetime) -> _Model:
    attempts = store.learner_attempts(learner_id)
    topics = topic_mastery(attempts, now)
    preferences = store.preferences(learner_id)
    return _Model(learner=learner_info(store, learner_id), attempts=attempts, topics=topics,
                  domains=domain_mastery(topics, catalog),
                  weights=learner_weights(catalog, preferences), preferences=preferences)


def _overview(model: _Model, store: Store, catalog: Catalog, now: datetime) -> ProgressOverview:
    total_weight = sum(model.weights.values()) or 1.0
    focus = _focus(model.preferences, catalog)
    rows = []
    for d in catalog.domains:
        dm = model.domains[d.id]
        share = 100 * model.weights.get(d.id, 0.0) / total_weight
        rows.append(DomainProgress(
            id=d.id, letter=d.letter, label=d.label, weight=model.weights.get(d.id, 0.0),
            weight_pct=round(share, 1), mastery=round(100 * dm.mastery, 1),
            seen_mastery=(round(100 * dm.mastery * dm.topics_total / dm.topics_seen, 1)
                          if dm.topics_seen else None),
            coverage=round(100 * dm.coverage, 1), topics_seen=dm.topics_seen,
            topics_total=dm.topics_total, status=domain_status(dm),
            priority=round(share * (1 - dm.mastery), 2), focus=d.id in focus))
    when = _interview_date(model.preferences)
    return ProgressOverview(
        learner=model.learner.display_name or model.learner.external_id, generated_at=now,
        domains=rows, readiness=round(readiness(model.domains, model.weights), 1),
        due_now=sum(1 for c in store.cards(model.learner.id) if c.due_at <= now),
        total_answers=sum(1 for a in model.attempts if a.score is not None),
        interview_date=when, days_left=(when - now.date()).days if when else None, focus=focus)


def progress_overview(store: Store, catalog: Catalog, learner_id: int,
                      now: datetime) -> ProgressOverview:
    """The learner's progress now: per-domain mastery, coverage and status, readiness, reviews due.

    Args:
        store: the state store.
        catalog: the curriculum (domains, notes).
        learner_id: the learner's database id.
        now: the timezone-aware time of the report (the injected clock).

    Returns:
        A ProgressOverview; `interview_date`/`days_left` and `focus` are filled from the
        learner's preferences `interview_date` (ISO date) and `focus` (domain ids or letters).
    """
    return _overview(_load(store, catalog, learner_id, now), store, catalog, now)


def render_progress_text(overview: ProgressOverview) -> str:
    """The overview as plain text for a terminal or a chat message (well under 1500 chars)."""
    lines = [f"Progress — readiness {overview.readiness:.0f}%"]
    facts = [f"{overview.total_answers} answers", f"{overview.due_now} reviews due now"]
    if overview.interview_date:
        left = overview.days_left or 0
        facts.append(f"interview {overview.interview_date.isoformat()} "
                     + (f"({left} days left)" if left >= 0 else "(passed)"))
    lines.append(" · ".join(facts))
    lines.append("")
    for d in overview.domains:
        star = "*" if d.focus else " "
        lines.append(f"{star}{d.letter} {_short(d.label[3:], 22):<22} {d.mastery:>3.0f}% "
                     f"{d.topics_seen:>2}/{d.topics_total:<2} {d.status}")
    if overview.focus:
        lines.append("* focus domain")
    todo = sorted((d for d in overview.domains if d.priority > 0),
                  key=lambda d: (not d.focus, -d.priority))[:3]
    if todo:
        lines.append("Next: " + ", ".join(d.label for d in todo))
    return "\n".join(lines)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


# -- topics mastered, gaps, sessions ---------------------------------------------------------------
class MasteredTopic(BaseModel):
    """A topic the learner has mastered, with when and what they covered."""

    note_id: str
    title: str
    domain: str
    mastered_on: date
    mastery: float
    confidence: str = Field(description='"High", "Medium-High", "Medium" or "Low" (certainty)')
    covered: list[str]
    missing: list[str] = Field(default_factory=list, description="Points still open")


class Gap(BaseModel):
    """A key point the learner missed, open or since covered."""

    note_id: str
    topic: str
    domain: str
    point: str
    first_missed: date
    priority: str = Field(description='"High", "Medium" or "Low" (open gaps)')
    rank: float = Field(description="weight share × (1 − topic mastery): higher comes first")
    resolved_on: date | None = None
    resolution: str = ""


class SessionRow(BaseModel):
    """One study session of the history."""

    session_id: int
    date: date
    questions: int
    average: float | None
    new: int
    new_average: float | None
    review: int
    review_average: float | None
    topics: list[str]
    strong: list[str]
    weak: list[str]
    regraded: int = 0


def certainty_label(certainty: float) -> str:
    """The tracker's confidence words for the learner model's certainty."""
    if certainty >= 0.75:
        return "High"
    if certainty >= 0.6:
        return "Medium-High"
    if certainty >= 0.4:
        return "Medium"
    return "Low"


def short_title(catalog: Catalog, note_id: str) -> str:
    """A note's title up to its colon ("Backpropagation"), the id for an unknown note."""
    note = catalog.by_id.get(note_id)
    return note.title.split(":")[0].strip() if note else note_id


_title = short_title


def _covered(attempt: AttemptView) -> list[str]:
    return [p for p in attempt.key_points if p not in attempt.gaps]


def _graded(attempts: Sequence[AttemptView], now: datetime) -> list[AttemptView]:
    return sorted((a for a in attempts if a.score is not None and a.answered_at is not None
                   and a.answered_at <= now), key=lambda a: (a.answered_at, a.id))


def is_mastered(tm: TopicMastery) -> bool:
    """Mastery ≥ MASTERED_TOPIC and the latest grade not weak."""
    return tm.mastery >= MASTERED_TOPIC and (tm.last_score or 0) >= WEAK_SCORE


def topics_mastered(attempts: Sequence[AttemptView], catalog: Catalog,
                    now: datetime) -> list[MasteredTopic]:
    """Topics mastered now, grouped in catalog order, each with the date it became mastered.

    The date is the first answer of the current mastered run: replaying the history answer by
    answer, the last time the topic went from not mastered to mastered.
    """
    graded = _graded(attempts, now)
    topics = topic_mastery(graded, now)
    result = []
    for note in catalog.notes:
        tm = topics.get(note.id)
        if tm is None or not is_mastered(tm):
            continue
        mine = [a for a in graded if a.note_id == note.id]
        since = mine[-1].answered_at
        for i in range(len(mine) - 1, -1, -1):
            then = topic_mastery(mine[:i + 1], mine[i].answered_at)[note.id]
            if not is_mastered(then):
                break
            since = mine[i].answered_at
        covered: list[str] = []
        for a in mine:
            covered += [p for p in _covered(a) if p not in covered]
        missing = [g for g in mine[-1].gaps if g not in covered]
        result.append(MasteredTopic(note_id=note.id, title=_title(catalog, note.id),
                                    domain=note.domain,
                                    mastered_on=since.date(), mastery=round(tm.mastery, 3),
                                    confidence=certainty_label(tm.certainty), covered=covered,
                                    missing=missing))
    return result


def knowledge_gaps(attempts: Sequence[AttemptView], catalog: Catalog, weights: Mapping[str, float],
                   now: datetime) -> tuple[list[Gap], list[Gap]]:
    """(open gaps by priority, resolved gaps newest first).

    A key point is an open gap when the latest answer that was graded on it missed it. It is
    resolved when an earlier answer missed it and a later one covered it. Open gaps are
    ordered High, Medium, Low, then by weight share × (1 − topic mastery), so the point that
    costs most readiness comes first.
    """
    graded = _graded(attempts, now)
    topics = topic_mastery(graded, now)
    total = sum(weights.values()) or 1.0
    state: dict[tuple[str, str], Gap] = {}
    resolved: list[Gap] = []
    for a in graded:
        domain = catalog.by_id[a.note_id].domain if a.note_id in catalog.by_id else ""
        for point in a.key_points:
            key = (a.note_id, point)
            if point in a.gaps:
                state.setdefault(key, Gap(note_id=a.note_id, topic=_title(catalog, a.note_id),
                                          domain=domain, point=point,
                                          first_missed=a.answered_at.date(), priority="",
                                          rank=0.0))
            elif key in state:
                gap = state.pop(key)
                resolved.append(gap.model_copy(update={
                    "resolved_on": a.answered_at.date(),
                    "resolution": f"covered in a later answer ({a.score:.0f}%)"}))
    open_gaps = []
    for gap in state.values():
        tm = topics.get(gap.note_id)
        mastery = tm.mastery if tm else 0.0
        if mastery < WEAK_TOPIC:
            priority = "High"
        elif tm is None or not is_mastered(tm):
            priority = "Medium"
        else:
            priority = "Low"
        share = weights.get(gap.domain, 0.0) / total
        open_gaps.append(gap.model_copy(update={"priority": priority,
                                                "rank": round(100 * share * (1 - mastery), 3)}))
    order = {"High": 0, "Medium": 1, "Low": 2}
    open_gaps.sort(key=lambda g: (order[g.priority], -g.rank, g.topic, g.point))
    resolved.sort(key=lambda g: (g.resolved_on, g.topic), reverse=True)
    return open_gaps, resolved


def session_history(store: Store, attempts: Sequence[AttemptView],
                    catalog: Catalog) -> list[SessionRow]:
    """One row per study session with answers, oldest first; `regraded` counts disputes."""
    by_session: dict[int, list[AttemptView]] = {}
    for a in sorted(attempts, key=lambda a: a.id):
        by_session.setdefault(a.session_id, []).append(a)
    rows = []
    for session_id, mine in by_session.items():
        graded = [a for a in mine if a.score is not None]
        new = [a.score for a in graded if not a.is_review]
        review = [a.score for a in graded if a.is_review]
        topics: list[str] = []
        for a in mine:
            if (t := _title(catalog, a.note_id)) not in topics:
                topics.append(t)
        regraded = sum(1 for a in graded
                       if any(g["kind"] == "dispute" for g in store.grades(a.id)))
        first = min((a.answered_at for a in mine if a.answered_at), default=None)
        rows.append(SessionRow(
            session_id=session_id, date=first.date() if first else date.min,
            questions=len(mine), average=_avg([a.score for a in graded]),
            new=len(new), new_average=_avg(new), review=len(review), review_average=_avg(review),
            topics=topics,
            strong=_unique(_title(catalog, a.note_id) for a in graded if a.score >= 90),
            weak=_unique(_title(catalog, a.note_id) for a in graded if a.score < WEAK_SCORE),
            regraded=regraded))
    rows.sort(key=lambda r: (r.date, r.session_id))
    return rows


def _avg(values: Sequence[float]) -> float | None:
    return round(mean(values), 1) if values else None


def _unique(items) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


# -- the Markdown tracker ----------------------------------------------------------------------
def build_tracker(store: Store, catalog: Catalog, learner_id: int, now: datetime, *,
                  charts: Mapping[str, str] | None = None) -> str:
    """The learner's study tracker as Markdown, modelled on seeds/study-tracker.md.

    Sections: header (date, interview date, readiness), quick stats by domain with status,
    study priority (weight share × (1 − mastery), focus domains first), topics mastered
    (date, confidence, key points covered) per domain, knowledge gaps by priority and recently
    resolved ones, a readiness checklist of the answered topics, reviews coming up, and the
    session history.

    Args:
        store: the state store.
        catalog: the curriculum.
        learner_id: the learner's database id.
        now: the timezone-aware time of the report.
        charts: optional {caption: relative path} of chart images written alongside; they are
            linked under the header.
    """
    model = _load(store, catalog, learner_id, now)
    overview = _overview(model, store, catalog, now)
    out: list[str] = []
    out += _header(overview, model, charts)
    out += _quick_stats(overview)
    out += _priorities(overview, catalog, model.topics)
    out += _mastered_section(topics_mastered(model.attempts, catalog, now), catalog)
    open_gaps, resolved = knowledge_gaps(model.attempts, catalog, model.weights, now)
    out += _gaps_section(open_gaps, resolved)
    out += _checklist_section(catalog, model.topics)
    out += _reviews_section(store, catalog, learner_id, now)
    out += _history_section(session_history(store, model.attempts, catalog))
    out.append("*Generated by ml-tutor from your graded answers; re-run `tutor report` to "
               "update it.*")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _header(o: ProgressOverview, model: _Model, charts: Mapping[str, str] | None) -> list[str]:
    when = "not set (set `interview_date` in your preferences)"
    if o.interview_date:
        left = o.days_left or 0
        when = (f"{o.interview_date.isoformat()} ({left} days left)" if left >= 0
                else f"{o.interview_date.isoformat()} (passed)")
    out = ["# ML Interview Study Tracker", "",
           f"**Learner**: {model.learner.display_name or model.learner.external_id}", "",
           f"**Last Updated**: {o.generated_at.date().isoformat()}", "",
           f"**Target Interview Date**: {when}", "",
           f"**Overall Interview Readiness**: {o.readiness:.0f}%", "",
           f"**Answers graded**: {o.total_answers} · **Reviews due now**: {o.due_now}", ""]
    if o.focus:
        labels = [d.label for d in o.domains if d.focus]
        out += [f"**Focus**: {', '.join(labels)}", ""]
    for caption, path in (charts or {}).items():
        out += [f"![{caption}]({path})", ""]
    return [*out, "---", ""]


def _quick_stats(o: ProgressOverview) -> list[str]:
    out = ["## Quick Stats", "",
           "| Domain | Topics Covered | Total Topics | Mastery | Status |",
           "|--------|---------------|--------------|---------|--------|"]
    for d in o.domains:
        out.append(f"| {d.label} ({d.weight_pct:.0f}%) | {d.topics_seen} | {d.topics_total} | "
                   f"{d.mastery:.0f}% | {STATUS_MARK[d.status]} {d.status} |")
    out += ["", "**Status Legend**: ⚪ Not started (nothing answered) | 🔴 Gap (answered topics "
            f"average under {GAP_DOMAIN:.0%} mastery) | 🟡 Developing | 🟢 Strong (domain mastery "
            f"≥ {STRONG_DOMAIN:.0%}, unseen topics counting as 0)", "",
            "**Mastery** counts every topic of the domain, unseen ones as 0; recent, confident "
            "grades weigh most. The percentage after a domain is its share of your weights.",
            "", "---", ""]
    return out


def _priorities(o: ProgressOverview, catalog: Catalog,
                topics: Mapping[str, TopicMastery]) -> list[str]:
    out = ["## Study Priority (weight × (1 − mastery))", ""]
    ranked = sorted((d for d in o.domains if d.topics_total),
                    key=lambda d: (not d.focus, -d.priority, d.letter))
    for i, d in enumerate(ranked, 1):
        icon = "🔥" if i <= 2 else "📌" if i <= 4 else "📋"
        weak = sorted((n for n in catalog.notes_in(d.id) if n.id in topics
                       and not is_mastered(topics[n.id])), key=lambda n: topics[n.id].mastery)
        # Unseen topics whose prerequisites are known come first, easy before hard.
        fresh = sorted((n for n in catalog.notes_in(d.id) if n.id not in topics),
                       key=lambda n: (sum(p not in topics for p in n.prerequisites),
                                      _DIFFICULTY[n.difficulty]))
        hints = ([f"revisit {_title(catalog, n.id)}" for n in weak[:2]]
                 + [_title(catalog, n.id) for n in fresh[:3 - len(weak[:2])]])
        focus = " — FOCUS" if d.focus else ""
        out.append(f"{i}. {icon} **{d.label[3:]} ({d.weight_pct:.0f}%)** — priority "
                   f"{d.priority:.1f}{focus}" + (f" — {'; '.join(hints)}" if hints else ""))
    return [*out, "", "---", ""]


def _mastered_section(mastered: list[MasteredTopic], catalog: Catalog) -> list[str]:
    out = ["## Topics Mastered", ""]
    for domain in catalog.domains:
        mine = [m for m in mastered if m.domain == domain.id]
        if not mine and not catalog.notes_in(domain.id):
            continue
        out += [f"### {domain.label}",
                "| Topic | Date Mastered | Confidence | Key Points |",
                "|-------|---------------|------------|------------|"]
        for m in mine:
            points = [f"• {_cell(p)}" for p in m.covered[:6]]
            points += [f"⚠️ Review needed: {_cell(p)}" for p in m.missing[:2]]
            out.append(f"| **{_cell(m.title)}** | {m.mastered_on.isoformat()} | {m.confidence} | "
                       f"{'<br>'.join(points) or '—'} |")
        if not mine:
            out.append("| — | — | — | — |")
        out.append("")
    return [*out, "---", ""]


def _gaps_section(open_gaps: list[Gap], resolved: list[Gap]) -> list[str]:
    out = ["## Knowledge Gaps", ""]
    headings = {"High": "### 🔴 High Priority (topic mastery under 50%)",
                "Medium": "### 🟡 Medium Priority (topic not yet mastered)",
                "Low": "### 🟢 Low Priority (a point missed in a mastered topic)"}
    for level, heading in headings.items():
        mine = [g for g in open_gaps if g.priority == level]
        out += [heading]
        out += [f"- **{g.topic}**: {g.point} (missed since {g.first_missed.isoformat()})"
                for g in mine] or ["- None"]
        out.append("")
    out += ["### ✅ Recently Resolved", "| Gap | Topic | Resolution Date | Notes |",
            "|-----|-------|-----------------|-------|"]
    out += [f"| {_cell(g.point)} | {_cell(g.topic)} | {g.resolved_on.isoformat()} | "
            f"missed {g.first_missed.isoformat()}, {g.resolution} |" for g in resolved[:15]]
    if not resolved:
        out.append("| — | — | — | — |")
    return [*out, "", "---", ""]


def _checklist_section(catalog: Catalog, topics: Mapping[str, TopicMastery]) -> list[str]:
    out = ["## Interview Readiness Checklist", "",
           "Ticked: mastered. Open: answered but not yet mastered.", ""]
    for domain in catalog.domains:
        notes = catalog.notes_in(domain.id)
        seen = [n for n in notes if n.id in topics]
        if not seen:
            if notes:
                plural = "s" if len(notes) != 1 else ""
                out += [f"**{domain.label}** — not started ({len(notes)} topic{plural})", ""]
            continue
        out.append(f"**{domain.label}**")
        for n in sorted(seen, key=lambda n: -topics[n.id].mastery):
            tm = topics[n.id]
            tick = "x" if is_mastered(tm) else " "
            out.append(f"- [{tick}] {_title(catalog, n.id)} (mastery {tm.mastery:.0%}, "
                       f"last {tm.last_score:.0f}%)")
        if len(notes) > len(seen):
            out.append(f"- [ ] …and {len(notes) - len(seen)} topic(s) not started")
        out.append("")
    return [*out, "---", ""]


def _reviews_section(store: Store, catalog: Catalog, learner_id: int, now: datetime) -> list[str]:
    cards = sorted(store.cards(learner_id), key=lambda c: c.due_at)
    out = ["## Review Scheduled", ""]
    for c in cards[:10]:
        when = "due now" if c.due_at <= now else f"due {c.due_at.date().isoformat()}"
        last = "" if c.last_score is None else f" (last {c.last_score:.0f}%)"
        out.append(f"- [ ] {_title(catalog, c.note_id)} — {when}{last}")
    if not cards:
        out.append("- Nothing scheduled yet: answer a few questions first.")
    return [*out, "", "---", ""]


def _history_section(rows: list[SessionRow]) -> list[str]:
    out = ["## Session History Summary", "",
           "| Date | Questions | Average | New | Review | Topics Covered | Key Wins | "
           "Gaps Found |",
           "|------|-----------|---------|-----|--------|----------------|----------|"
           "------------|"]
    for i, r in enumerate(rows, 1):
        avg = "—" if r.average is None else f"{r.average:.0f}%"
        new = f"{r.new}" + (f" ({r.new_average:.0f}%)" if r.new_average is not None else "")
        rev = f"{r.review}" + (f" ({r.review_average:.0f}%)" if r.review_average is not None
                               else "")
        wins = "<br>".join(f"• {_cell(t)}" for t in r.strong[:4]) or "—"
        weak = [f"• {_cell(t)} (under {WEAK_SCORE}%)" for t in r.weak[:4]]
        if r.regraded:
            weak.append(f"• {r.regraded} grade(s) corrected after a dispute")
        out.append(f"| {r.date.isoformat()} (Session {i}) | {r.questions} | {avg} | {new} | "
                   f"{rev} | {_cell(', '.join(r.topics[:5]))} | {wins} | "
                   f"{'<br>'.join(weak) or '—'} |")
    if not rows:
        out.append("| — | 0 | — | — | — | — | — | — |")
    return [*out, "", "---", ""]
