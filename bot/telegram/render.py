"""Tutor events as Telegram messages: HTML text, optional buttons, optional photo.

A turn's events arrive as a stream; `TurnRenderer` buffers streamed text and turns every other
event into finished messages, so the front can send each one as soon as it exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import InlineKeyboardMarkup

from agents.events import Event
from bot.telegram import keyboards
from bot.telegram.format import LIMIT, escape, markdown_messages, pack_html


@dataclass
class Outgoing:
    """One message to send: HTML text, or a photo (PNG bytes) with an HTML caption."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None
    photo: bytes | None = None


@dataclass
class TurnRenderer:
    """Turns one turn's events into messages; feed events in order, then call `finish`."""

    titles: dict[str, str] = field(default_factory=dict)
    _text: list[str] = field(default_factory=list)

    def feed(self, event: Event) -> list[Outgoing]:
        """Messages ready after this event (streamed text waits until its end)."""
        if event.kind == "text":
            self._text.append(event.text)
            return []
        out = self._flush(event.data.get("sources") if event.kind == "notice" else None)
        if event.kind == "notice" and event.data.get("end_of_text"):
            return out
        return out + self._render(event)

    def finish(self) -> list[Outgoing]:
        """Whatever streamed text is still buffered."""
        return self._flush(None)

    def _flush(self, sources: list[str] | None) -> list[Outgoing]:
        text = "".join(self._text).strip()
        self._text.clear()
        if not text:
            return []
        messages = markdown_messages(text)
        if sources:
            names = ", ".join(self.titles.get(s, s) for s in sources)
            footer = f"\n\n<i>📚 Source: {escape(names)}</i>"
            if len(messages[-1]) + len(footer) <= LIMIT:
                messages[-1] += footer
            else:
                messages.append(footer.strip())
        return [Outgoing(m) for m in messages]

    def _render(self, event: Event) -> list[Outgoing]:
        if event.kind == "question":
            return [Outgoing(render_question(event.data, self.titles))]
        if event.kind == "grade":
            messages = render_grade(event.data)
            # Buttons go on the last message, where the learner's eye ends up.
            return [Outgoing(html, keyboards.after_grade() if i == len(messages) - 1 else None)
                    for i, html in enumerate(messages)]
        if event.kind == "summary":
            return [Outgoing(html) for html in render_summary(event.data["summary"])]
        if event.kind == "topics":
            return []  # the front shows the browsable keyboard instead of a long list
        if event.kind == "error":
            return [Outgoing(f"⚠️ {m}") for m in markdown_messages(event.text)]
        if event.text:
            return [Outgoing(m) for m in markdown_messages(event.text)]
        return []


def render_question(data: dict, titles: dict[str, str]) -> str:
    """A quiz question with its position, topic and kind."""
    position = f" {data['position']}" if data.get("position") else ""
    kind = "review" if data.get("is_review") else data.get("difficulty", "new")
    topic = titles.get(data.get("note_id", ""), data.get("note_id", ""))
    prompt = escape(_clip(data.get("prompt", ""), 3000))
    return (f"<b>❓ Question{position}</b> · <i>{escape(topic)} · {escape(kind)}</i>\n\n"
            f"{prompt}\n\n<i>Answer in your own words · /hint · /skip</i>")


def render_grade(data: dict) -> list[str]:
    """Score, confidence, covered points, gaps, misconceptions, feedback, next review."""
    g = data["grade"]
    head = []
    if "previous_score" in data:
        head.append(f"🔁 <b>Re-graded</b> after your dispute (was {data['previous_score']}/100; "
                    "both grades are kept).")
    icon = "🟢" if g["score"] >= 80 else "🟡" if g["score"] >= 50 else "🔴"
    head.append(f"{icon} <b>Score {g['score']}/100</b> · confidence {g['confidence']:.2f}")
    blocks = ["\n".join(head)]
    if g.get("covered"):
        blocks.append("<b>Covered</b>\n"
                      + "\n".join(f"✓ {escape(_clip(p))}" for p in g["covered"]))
    if g.get("gaps"):
        blocks.append("<b>Gaps</b>\n" + "\n".join(f"✗ {escape(_clip(p))}" for p in g["gaps"]))
    if g.get("misconceptions"):
        blocks.append("<b>Misconception</b>\n"
                      + "\n".join(f"⚠ {escape(_clip(m))}" for m in g["misconceptions"]))
    blocks.append(escape(_clip(g.get("feedback", ""), 2000)))
    footer = [f"grader: {escape(g.get('grader', ''))}"]
    if data.get("next_review"):
        footer.insert(0, f"next review {data['next_review'][:10]}")
    blocks.append(f"<i>{' · '.join(footer)}</i>")
    return pack_html(blocks)


def _clip(text: str, limit: int = 600) -> str:
    """Shorten raw text before escaping, so a cut never splits an HTML entity or tag."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def render_summary(s: dict) -> list[str]:
    """The session report in messages that fit Telegram: a monospace table, then sections."""
    if not s["rows"]:
        return ["Nothing answered in this session yet. Send /quiz or /check to start."]
    rows = []
    for r in s["rows"]:
        kind = "rev" if r["is_review"] else "new"
        rows.append(f"Q{r['number']:<3}{_score(r['score']):>5} {kind}  {r['topic'][:24]}")
    table_blocks = ["<b>📋 Session summary</b>"]
    # A long session's table is split over several <pre> blocks, each well under the limit.
    for start in range(0, len(rows), 40):
        table_blocks.append("<pre>" + escape("\n".join(rows[start:start + 40])) + "</pre>")
    stats = [f"<b>Overall {_score(s['overall'])}</b> · new {_score(s['new_average'])} · "
             f"review {_score(s['review_average'])}"]
    if s.get("ungraded"):
        stats.append(f"{s['ungraded']} answer(s) saved but not graded yet.")
    blocks = [*table_blocks, "\n".join(stats)]
    if s.get("retention"):
        blocks.append("<b>🧠 Retention</b>\n" + "\n".join(
            f"• {escape(_clip(r['label'], 120))}: {r['average']:.0f}%" for r in s["retention"]))
    if s.get("improvements"):
        blocks.append("<b>📈 Improved</b>\n"
                      + "\n".join(f"• {escape(_clip(i))}" for i in s["improvements"]))
    if s.get("corrections"):
        blocks.append("<b>🔁 Corrected after a dispute</b>\n"
                      + "\n".join(f"• {escape(_clip(c))}" for c in s["corrections"]))
    if s["strengths"]:
        blocks.append("<b>💪 Strengths</b>\n" + escape(_clip(", ".join(s["strengths"]), 1500)))
    if s["gaps"]:
        blocks.append("<b>🕳 Gaps found</b>\n"
                      + "\n".join(f"• {escape(_clip(g))}" for g in s["gaps"]))
    if s["weak_items"]:
        blocks.append("<b>🔁 Coming back</b>\n"
                      + "\n".join(f"• {escape(_clip(t))} — {escape(w)}"
                                   for t, w in s["weak_items"]))
    if s["action_items"]:
        blocks.append("<b>✅ Next steps</b>\n" + "\n".join(
            f"{i}. {escape(_clip(a))}" for i, a in enumerate(s["action_items"], 1)))
    blocks.append(f"<i>{escape(s['recommendation'])}</i>")
    return pack_html(blocks)
