"""Split notes into retrieval chunks that keep each heading with its text."""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel

from knowledge.catalog import Note

MAX_CHARS = 1200  # ≈ 250 tokens: under MiniLM's 256-token window, so nothing is truncated away
FRONT_MATTER_HEADINGS = frozenset({"Overview", "Typical questions", "Key points"})
_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*$", re.M)


class Chunk(BaseModel):
    """A passage of a note, the unit that is embedded, indexed and shown as a source."""

    id: str
    note_id: str
    title: str
    domain: str
    heading: str
    text: str
    source: str = "curriculum"

    @property
    def content_hash(self) -> str:
        """Hash of what is embedded: a changed chunk is re-embedded, an unchanged one is not."""
        return hashlib.sha256(self.embed_text.encode("utf-8")).hexdigest()[:16]

    @property
    def embed_text(self) -> str:
        """The text given to the embedder: title and heading give the passage its context."""
        return f"{self.title} — {self.heading}\n{self.text}"

    @property
    def label(self) -> str:
        """How the chunk is cited to the learner."""
        prefix = "your notes: " if self.source != "curriculum" else ""
        return f"{prefix}{self.title} › {self.heading}"


def split_sections(body: str) -> list[tuple[str, str]]:
    """Split Markdown into (heading, text) pairs; text before the first heading gets ""."""
    sections: list[tuple[str, str]] = []
    matches = list(_HEADING.finditer(body))
    if not matches or matches[0].start() > 0:
        head = body[: matches[0].start()] if matches else body
        if head.strip():
            sections.append(("", head.strip()))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        text = body[match.end():end].strip()
        if text:
            sections.append((match.group(2).strip(), text))
    return sections


def split_long(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Split text at paragraph (then line) boundaries into pieces of at most max_chars."""
    if len(text) <= max_chars:
        return [text]
    pieces: list[str] = []
    current = ""
    for para in re.split(r"\n\s*\n|\n(?=[-*] )", text):
        para = para.strip()
        if not para:
            continue
        while len(para) > max_chars:  # a single huge paragraph: cut at a sentence end
            cut = para.rfind(". ", 0, max_chars)
            cut = cut + 1 if cut > max_chars // 3 else max_chars
            pieces.append(para[:cut].strip())
            para = para[cut:].strip()
        if current and len(current) + len(para) + 2 > max_chars:
            pieces.append(current)
            current = para
        else:
            current = f"{current}\n\n{para}" if current else para
    if current:
        pieces.append(current)
    return pieces


def chunk_note(note: Note, source: str = "curriculum") -> list[Chunk]:
    """Chunks for one note: names, questions and key points, then each body section."""
    chunks: list[Chunk] = []
    # Three short front-matter chunks: short texts match short queries far better in embedding
    # space than one long mixed chunk ("bn vs ln" ↔ the names; a seed question ↔ the questions).
    names = f"{note.title}. Also called: {', '.join(note.aliases)}." if note.aliases else note.title
    questions = "\n".join(f"- {q}" for q in [*note.seed_questions,
                                              *(q.prompt for q in note.questions)])
    points = "\n".join(f"- {p}" for p in note.key_points)
    sections = [("Overview", names), ("Typical questions", questions), ("Key points", points),
                *split_sections(note.body)]
    for heading, text in sections:
        if heading == note.title or heading == "":
            heading = heading or "Introduction"
        for piece in split_long(text):
            chunks.append(Chunk(id=f"{note.id}#{len(chunks)}", note_id=note.id, title=note.title,
                                domain=note.domain, heading=heading, text=piece, source=source))
    return chunks
