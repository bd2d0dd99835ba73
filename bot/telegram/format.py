"""Telegram HTML: escaping, the notes' light Markdown, and splitting under the size limit.

Every reply goes through here, so no reply can fail to parse: all learner and model text is
escaped first, and only tags this module writes itself (always balanced) are added.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

LIMIT = 4096
# Room for the tags a chunk gains when its Markdown becomes HTML, and a safety margin:
# Telegram counts the limit after parsing entities, so raw HTML under the limit is always safe.
_BUDGET = LIMIT - 96

_FENCE = re.compile(r"```[\w+-]*\n?(.*?)```", re.S)
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.M)


def escape(text: str) -> str:
    """Escape text for HTML parse mode (only <, > and & matter to Telegram)."""
    return html.escape(text, quote=False)


def markdown_to_html(text: str) -> str:
    """The notes' and the model's light Markdown as Telegram HTML.

    Code fences become <pre>, `code` becomes <code>, **bold** and # headings become <b>.
    Everything else is escaped, so stray `<`, `&` or `_` in formulas and code stay literal.
    """
    return _tag_matches(_FENCE, text, "pre", _inline, strip=True)


def _inline(text: str) -> str:
    return _tag_matches(_CODE, text, "code", _bold)


def _bold(text: str) -> str:
    text = _HEADING.sub(lambda m: f"**{m.group(1).strip()}**", text)
    return _tag_matches(_BOLD, text, "b", escape)


def _tag_matches(pattern: re.Pattern[str], text: str, tag: str,
                 between: Callable[[str], str], strip: bool = False) -> str:
    """Wrap each match's first group (escaped) in <tag>; render the text between with
    `between`. Tags are only ever written here, whole, so the result is always balanced."""
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        inner = match.group(1).rstrip() if strip else match.group(1)
        out.append(between(text[last:match.start()]))
        out.append(f"<{tag}>{escape(inner)}</{tag}>")
        last = match.end()
    out.append(between(text[last:]))
    return "".join(out)


def split_text(text: str, budget: int = _BUDGET) -> list[str]:
    """Split plain text into pieces under `budget`, at paragraph, then line, then sentence,
    then word boundaries — never inside a word unless a single word is longer than the budget."""
    text = text.strip()
    if len(text) <= budget:
        return [text] if text else []
    for separator in ("\n\n", "\n", ". ", " "):
        parts = text.split(separator)
        if len(parts) > 1:
            return _pack(parts, separator, budget)
    return [text[i:i + budget] for i in range(0, len(text), budget)]


def _pack(parts: list[str], separator: str, budget: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{separator}{part}" if current else part
        if len(candidate) <= budget:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if len(part) <= budget:
            current = part
        else:  # one paragraph too long on its own: split it more finely
            *whole, current = split_text(part, budget)
            chunks.extend(whole)
    if current.strip():
        chunks.append(current)
    return [c.strip() for c in chunks if c.strip()]


def markdown_messages(text: str) -> list[str]:
    """Markdown text as one or more HTML messages, each safely under Telegram's limit."""
    messages = []
    for piece in split_text(text):
        rendered = markdown_to_html(piece)
        if len(rendered) > LIMIT:  # heavy markup in one piece: fall back to plain escaping
            messages.extend(escape(p) for p in split_text(piece, LIMIT // 2))
        else:
            messages.append(rendered)
    return messages


def pack_html(blocks: list[str], limit: int = LIMIT) -> list[str]:
    """Join already-rendered HTML blocks (each balanced, each under the limit) into as few
    messages as fit, breaking only between blocks."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        if not block:
            continue
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                messages.append(current)
            current = block
    if current:
        messages.append(current)
    return messages
