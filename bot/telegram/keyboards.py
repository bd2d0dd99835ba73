"""Inline keyboards and the callback-data vocabulary they use (≤ 64 bytes each)."""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup as Markup

from knowledge.catalog import Catalog

# Callback data is "<action>" or "<action>:<argument>". Actions:
NEXT, GAPS, DISPUTE = "next", "gaps", "dispute"
DOMAIN, TOPIC, LEARN, QUIZ, DOMAINS = "dom", "top", "learn", "quiz", "doms"
FORGET_YES, FORGET_NO = "forget-yes", "forget-no"
INTERVIEW, FOCUS, ONBOARD_DONE = "when", "focus", "onboard-done"


def after_grade() -> Markup:
    """The three next steps after a grade."""
    return Markup([[Button("➡️ Next question", callback_data=NEXT),
                    Button("📖 Explain the gaps", callback_data=GAPS)],
                   [Button("🙋 I disagree", callback_data=DISPUTE)]])


def domains(catalog: Catalog) -> Markup:
    """One button per domain, two per row."""
    buttons = [Button(f"{d.letter}. {d.name}", callback_data=f"{DOMAIN}:{d.id}")
               for d in catalog.domains if catalog.notes_in(d.id)]
    return Markup([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def topics(catalog: Catalog, domain_id: str) -> Markup:
    """One button per topic of a domain, and a way back."""
    rows = [[Button(_short(n.title), callback_data=f"{TOPIC}:{n.id}")]
            for n in catalog.notes_in(domain_id)]
    rows.append([Button("⬅️ All domains", callback_data=DOMAINS)])
    return Markup(rows)


def topic(note_id: str, domain_id: str) -> Markup:
    """What to do with one topic."""
    return Markup([[Button("📖 Teach me", callback_data=f"{LEARN}:{note_id}"),
                    Button("❓ Quiz me", callback_data=f"{QUIZ}:{note_id}")],
                   [Button("⬅️ Back", callback_data=f"{DOMAIN}:{domain_id}")]])


def forget_confirmation() -> Markup:
    """An explicit confirmation before deleting everything."""
    return Markup([[Button("🗑 Yes, delete all my data", callback_data=FORGET_YES)],
                   [Button("Cancel", callback_data=FORGET_NO)]])


INTERVIEW_CHOICES = [("1 week", 7), ("2 weeks", 14), ("1 month", 30), ("3 months", 90),
                     ("No date yet", 0)]


def interview_date() -> Markup:
    """When is the interview?"""
    buttons = [Button(label, callback_data=f"{INTERVIEW}:{days}")
               for label, days in INTERVIEW_CHOICES]
    return Markup([buttons[:3], buttons[3:]])


def focus(catalog: Catalog, chosen: set[str]) -> Markup:
    """Toggle focus domains; ✓ marks the chosen ones."""
    buttons = [Button(("✓ " if d.id in chosen else "") + f"{d.letter}. {d.name}",
                      callback_data=f"{FOCUS}:{d.id}") for d in catalog.domains]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([Button("Done", callback_data=ONBOARD_DONE)])
    return Markup(rows)


def _short(title: str, limit: int = 48) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"
