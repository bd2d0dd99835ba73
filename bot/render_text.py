"""Plain-text rendering of tutor events for the terminal (and any text-only front)."""

from __future__ import annotations

from agents.events import Event


def render_grade(data: dict) -> str:
    """Score, confidence, covered points, gaps and feedback."""
    g = data["grade"]
    lines = []
    if "previous_score" in data:
        lines.append(f"Re-graded after your dispute (was {data['previous_score']}/100; both "
                     "grades are kept).")
    lines += [f"Score {g['score']}/100 · confidence {g['confidence']:.2f} · grader {g['grader']}"]
    lines += [f"  ✓ {p}" for p in g.get("covered", [])]
    lines += [f"  ✗ {p}" for p in g.get("gaps", [])]
    lines += [f"  ⚠ misconception: {m}" for m in g.get("misconceptions", [])]
    lines.append(f"Feedback: {g['feedback']}")
    if data.get("next_review"):
        lines.append(f"Next review of this topic: {data['next_review'][:10]}")
    return "\n".join(lines)


def render_summary(s: dict) -> str:
    """The session report: question table, retention, gaps, weak items, actions."""
    if not s["rows"]:
        return "Nothing answered in this session yet. Say \"quiz me\" to start."
    lines = ["Session summary", "", f"{'Q#':<4}{'Topic':<42}{'Kind':<8}{'Score':>6}  Notes"]
    for r in s["rows"]:
        score = "—" if r["score"] is None else f"{r['score']:.0f}%"
        note = (r["gaps"][0] if r["gaps"] else "complete") if r["score"] is not None else "ungraded"
        if r.get("first_score") is not None:
            note = f"regraded from {r['first_score']:.0f}% · {note}"
        elif r.get("previous_score") is not None and r["is_review"]:
            note = f"was {r['previous_score']:.0f}% · {note}"
        lines.append(f"Q{r['number']:<3}{r['topic'][:40]:<42}"
                     f"{'review' if r['is_review'] else 'new':<8}{score:>6}  {note[:60]}")
    lines.append("")
    if s["overall"] is not None:
        lines.append(f"Overall: {s['overall']:.0f}%")
    if s["new_average"] is not None or s["review_average"] is not None:
        new = "—" if s["new_average"] is None else f"{s['new_average']:.0f}%"
        rev = "—" if s["review_average"] is None else f"{s['review_average']:.0f}%"
        lines.append(f"New topics: {new} · Reviews: {rev}")
    if len(s.get("retention", [])) > 1:
        lines += ["Retention:", *(f"  {g['label']} (Q{', Q'.join(map(str, g['questions']))}): "
                                  f"{g['average']:.0f}%" for g in s["retention"])]
    if s.get("improvements"):
        lines += ["Improved:", *(f"  • {i}" for i in s["improvements"])]
    if s.get("corrections"):
        lines += ["Grades corrected:", *(f"  • {c}" for c in s["corrections"])]
    if s["strengths"]:
        lines.append("Strengths: " + ", ".join(s["strengths"]))
    if s["gaps"]:
        lines += ["Gaps found:", *(f"  • {g}" for g in s["gaps"])]
    if s["weak_items"]:
        lines += ["Weak items:", *(f"  • {t} — back {w}" for t, w in s["weak_items"])]
    if s["action_items"]:
        lines += ["Action items:", *(f"  {i}. {a}" for i, a in enumerate(s["action_items"], 1))]
    lines.append(f"Recommendation: {s['recommendation']}")
    return "\n".join(lines)


def render_event(event: Event) -> str:
    """Text for one event ("" for events that only carry data)."""
    if event.kind == "text":
        return event.text.replace("**", "")  # the notes' Markdown bold, unreadable as raw text
    if event.kind == "question":
        d = event.data
        tag = "review" if d.get("is_review") else d.get("difficulty", "")
        number = f" {d['position']}" if d.get("position") else ""
        return f"\nQuestion{number} ({d.get('note_id', '')}, {tag}):\n{event.text}\n"
    if event.kind == "grade":
        return render_grade(event.data)
    if event.kind == "summary":
        return render_summary(event.data["summary"])
    if event.kind == "notice" and event.data.get("end_of_text"):
        return "\n"
    return event.text
