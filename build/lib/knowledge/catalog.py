"""Load and validate the curriculum: domains, notes and their question bank."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from knowledge import CURRICULUM_FILE, NOTES_DIR

Difficulty = Literal["easy", "medium", "hard"]
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.S)
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class CatalogError(ValueError):
    """A note or the curriculum file is malformed."""


class Domain(BaseModel):
    """A weighted area of the interview, e.g. "C. Deep Learning (25%)"."""

    id: str
    letter: str
    name: str
    weight: float = Field(gt=0)

    @property
    def label(self) -> str:
        """Human label such as "C. Deep Learning"."""
        return f"{self.letter}. {self.name}"


class Question(BaseModel):
    """A bank question with its model answer and the key points that make a full answer."""

    id: str
    difficulty: Difficulty
    prompt: str = Field(min_length=5)
    reference_answer: str = Field(min_length=10)
    key_points: list[str] = Field(min_length=3)


class Note(BaseModel):
    """One topic of the curriculum: front matter plus the Markdown body."""

    id: str
    title: str
    domain: str
    difficulty: Difficulty
    aliases: list[str] = Field(default_factory=list)
    prerequisites: list[str] = Field(default_factory=list)
    seed_questions: list[str] = Field(default_factory=list)
    guides: list[str] = Field(default_factory=list)
    key_points: list[str] = Field(min_length=3)
    misconceptions: list[str] = Field(default_factory=list)
    questions: list[Question] = Field(min_length=1)
    body: str = ""
    path: Path | None = None

    @field_validator("id")
    @classmethod
    def _kebab(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"note id must be kebab-case, got {value!r}")
        return value

    @model_validator(mode="after")
    def _unique_question_ids(self) -> Note:
        ids = [q.id for q in self.questions]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate question ids in note {self.id}")
        return self

    def question(self, question_id: str) -> Question:
        """The bank question with this id."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"{self.id} has no question {question_id}")

    def section(self, heading: str) -> str:
        """Text of the `## heading` section of the body, or "" when absent."""
        pattern = re.compile(rf"^##\s+{re.escape(heading)}\s*$(.*?)(?=^##\s|\Z)",
                             re.M | re.S | re.I)
        match = pattern.search(self.body)
        return match.group(1).strip() if match else ""


def parse_note(text: str, path: Path | None = None) -> Note:
    """Parse one note file's text (YAML front matter + Markdown body)."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise CatalogError(f"{path or 'note'}: missing '---' front matter")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path or 'note'}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise CatalogError(f"{path or 'note'}: front matter must be a mapping")
    try:
        return Note(**meta, body=match.group(2).strip(), path=path)
    except ValidationError as exc:
        raise CatalogError(f"{path or 'note'}: {exc}") from exc


class Catalog(BaseModel):
    """The validated curriculum: domains and notes, with look-ups."""

    domains: list[Domain]
    notes: list[Note]

    @model_validator(mode="after")
    def _check(self) -> Catalog:
        domain_ids = {d.id for d in self.domains}
        seen: set[str] = set()
        for note in self.notes:
            if note.id in seen:
                raise CatalogError(f"duplicate note id {note.id}")
            seen.add(note.id)
            if note.domain not in domain_ids:
                raise CatalogError(f"note {note.id}: unknown domain {note.domain}")
        for note in self.notes:
            missing = [p for p in note.prerequisites if p not in seen]
            if missing:
                raise CatalogError(f"note {note.id}: unknown prerequisites {missing}")
        cycle = _find_cycle({n.id: n.prerequisites for n in self.notes})
        if cycle:
            raise CatalogError(f"prerequisite cycle: {' -> '.join(cycle)}")
        return self

    @cached_property
    def by_id(self) -> dict[str, Note]:
        """Notes keyed by id."""
        return {n.id: n for n in self.notes}

    @cached_property
    def domain_by_id(self) -> dict[str, Domain]:
        """Domains keyed by id."""
        return {d.id: d for d in self.domains}

    def note(self, note_id: str) -> Note:
        """The note with this id (KeyError when unknown)."""
        return self.by_id[note_id]

    def notes_in(self, domain_id: str) -> list[Note]:
        """Notes of one domain, in catalog order."""
        return [n for n in self.notes if n.domain == domain_id]


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """Return one cycle in the prerequisite graph, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None


def load_domains(path: Path = CURRICULUM_FILE) -> list[Domain]:
    """Read the weighted domains from the curriculum file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Domain(**d) for d in data["domains"]]


def iter_note_files(notes_dir: Path = NOTES_DIR) -> Iterable[Path]:
    """All note files, sorted for a stable order."""
    return sorted(notes_dir.rglob("*.md"))


def load_catalog(notes_dir: Path = NOTES_DIR, curriculum: Path = CURRICULUM_FILE) -> Catalog:
    """Load and validate every note; raises CatalogError naming the first bad file."""
    notes = [parse_note(p.read_text(encoding="utf-8"), p) for p in iter_note_files(notes_dir)]
    for note, path in zip(notes, iter_note_files(notes_dir), strict=True):
        if path.stem != note.id:
            raise CatalogError(f"{path}: file name must match id {note.id!r}")
    try:
        return Catalog(domains=load_domains(curriculum), notes=notes)
    except ValidationError as exc:  # pydantic wraps our CatalogError: unwrap to one clear line
        raise CatalogError("; ".join(e["msg"] for e in exc.errors())) from exc
