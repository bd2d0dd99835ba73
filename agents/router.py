"""Classify a learner's message: learn, quiz, summary, help, topics, or a free question."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["learn", "quiz", "summary", "help", "topics", "skip", "hint", "dispute",
               "question", "empty", "start", "weights", "check", "review", "gaps", "progress"]


@dataclass(frozen=True)
class Intent:
    """What the learner wants, and the topic text they named (if any)."""

    kind: Kind
    topic: str = ""
    text: str = ""


_COMMANDS: dict[str, Kind] = {
    "learn": "learn", "teach": "learn", "quiz": "quiz", "check": "check", "review": "review",
    "summary": "summary", "help": "help", "topics": "topics", "skip": "skip", "hint": "hint",
    "dispute": "dispute", "start": "start", "weights": "weights", "gaps": "gaps",
    "progress": "progress",
}
_PATTERNS: list[tuple[Kind, re.Pattern[str]]] = [
    ("gaps", re.compile(r"^(explain|show|teach me)\s+(the\s+|my\s+|what\s+)?"
                        r"(gaps|missed points|points i missed|what i missed)\W*$", re.I)),
    ("progress", re.compile(r"^((show\s+)?(my\s+)?(progress|readiness)|how am i doing)\W*$",
                            re.I)),
    ("summary", re.compile(r"^(summary|summari[sz]e|session summary|end( the)? session|"
                           r"how did i do|wrap up|recap)\b", re.I)),
    ("check", re.compile(r"^check\W*$", re.I)),
    ("review", re.compile(r"^(review|reviews|due reviews|what'?s due)\W*$", re.I)),
    ("quiz", re.compile(r"^(quiz|test|examine|drill|check)\s+me\b(\s+(on|about|in))?\s*(?P<t>.*)$",
                        re.I)),
    ("quiz", re.compile(r"^(give me|ask me)\s+(a\s+)?(question|quiz)s?\b(\s+(on|about|in))?"
                        r"\s*(?P<t>.*)$", re.I)),
    ("quiz", re.compile(r"^(quiz|review)\b(\s+(on|about))?\s*(?P<t>.*)$", re.I)),
    ("learn", re.compile(r"^(teach|show)\s+me\b(\s+(about|on))?\s*(?P<t>.+)$", re.I)),
    ("learn", re.compile(r"^(i want to|i'd like to|let'?s|help me)\s+(learn|study|understand|"
                         r"review)\s+(about\s+)?(?P<t>.+)$", re.I)),
    ("learn", re.compile(r"^(explain|learn|study|tell me about|lesson on)\s+(about\s+)?"
                         r"(?P<t>.+)$", re.I)),
    ("dispute", re.compile(r"^dispute\b:?\s*(?P<t>.*)$", re.I)),
    ("dispute", re.compile(r"^(i think (that'?s|that is|this is|the grade is|you'?re) wrong|"
                           r"i disagree|that'?s (wrong|unfair|not right)|"
                           r"(the )?grade is wrong)\b(?P<t>.*)$", re.I)),
    ("help", re.compile(r"^(help|what can you do|how does this work)\W*$", re.I)),
    ("check", re.compile(r"^((start|do|run) (a |my |the )?)?(daily |knowledge )+check\b.*$",
                         re.I)),
    ("weights", re.compile(r"^(set |show |my )?(domain )?weights\b:?\s*(?P<t>.*)$", re.I)),
    ("topics", re.compile(r"^(topics|list topics|what topics|show topics|curriculum)\b.*$", re.I)),
    ("skip", re.compile(r"^(skip|next question|pass)\W*$", re.I)),
    ("hint", re.compile(r"^(hint|give me a hint)\W*$", re.I)),
]


def parse(message: str) -> Intent:
    """Parse a message. `/command args` and plain phrases both work."""
    text = message.strip()
    if not text:
        return Intent("empty")
    if text.startswith("/"):
        command, _, rest = text[1:].partition(" ")
        command = command.split("@", 1)[0].lower()  # Telegram appends @BotName in groups
        kind = _COMMANDS.get(command)
        if kind:
            return Intent(kind, topic=_clean(rest), text=text)
        return Intent("help", text=text)
    for kind, pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            topic = match.groupdict().get("t") or ""
            return Intent(kind, topic=_clean(topic), text=text)
    return Intent("question", text=text)


def _clean(topic: str) -> str:
    return topic.strip().strip("?.!").strip()
