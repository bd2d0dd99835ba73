"""A learner's own notes: Markdown or text files added with `tutor ingest PATH`.

They live in their own Chroma collection, tagged with the learner, so retrieval can search
them next to the curriculum while no other learner ever sees them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from tqdm import tqdm

from knowledge.chunking import Chunk, split_long, split_sections
from knowledge.index import SyncReport, VectorIndex

SUFFIXES = {".md", ".markdown", ".txt"}
MAX_FILE_BYTES = 2_000_000
SOURCE = "my-notes"


class NoteFileError(ValueError):
    """A file that cannot be read as a note."""


@dataclass
class IngestReport:
    """What an ingestion did, file by file."""

    files: int = 0
    chunks: SyncReport = field(default_factory=SyncReport)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def note_files(path: Path) -> list[Path]:
    """The note files at `path` (a file, or a directory searched recursively)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise NoteFileError(f"{path} does not exist")
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def file_chunks(text: str, name: str, learner: str) -> list[Chunk]:
    """Chunks of one learner file; the title comes from front matter, a heading, or the name."""
    title = Path(name).stem.replace("-", " ").replace("_", " ")
    body = text
    front = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, re.S)
    if front:
        meta = yaml.safe_load(front.group(1))
        if not isinstance(meta, dict):
            raise NoteFileError("front matter is not a mapping")
        title = str(meta.get("title") or title)
        body = text[front.end():]
    heading = re.search(r"^#\s+(.+)$", body, re.M)
    if heading and not front:
        title = heading.group(1).strip()
    if not body.strip():
        raise NoteFileError("the file is empty")
    key = hashlib.sha1(f"{learner}:{name}".encode()).hexdigest()[:12]
    chunks = []
    for section, section_text in split_sections(body):
        for piece in split_long(section_text):
            chunks.append(Chunk(id=f"mine-{key}#{len(chunks)}", note_id=f"mine-{key}",
                                title=title, domain="mine", heading=section or title,
                                text=piece, source=SOURCE))
    return chunks


def ingest(index: VectorIndex, learner: str, files: Iterable[Path], root: Path,
           progress: bool = True) -> IngestReport:
    """Add or update each file's chunks for `learner`; a bad file is reported, never fatal."""
    report = IngestReport()
    files = list(files)
    for path in tqdm(files, desc="Adding your notes", unit="file", disable=not progress):
        name = str(path.relative_to(root)) if path != root else path.name
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise NoteFileError(f"larger than {MAX_FILE_BYTES // 1_000_000} MB")
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise NoteFileError("not UTF-8 text") from exc
            chunks = file_chunks(text, name, learner)
        except (NoteFileError, yaml.YAMLError, OSError) as exc:
            report.skipped.append((name, str(exc).splitlines()[0]))
            continue
        done = _store(index, learner, name, chunks)
        report.files += 1
        for attr in ("added", "updated", "removed", "unchanged"):
            setattr(report.chunks, attr, getattr(report.chunks, attr) + getattr(done, attr))
    return report


def _store(index: VectorIndex, learner: str, name: str, chunks: list[Chunk]) -> SyncReport:
    """Replace the learner's chunks of file `name` with `chunks` (unchanged ones are kept)."""
    scope = {"$and": [{"learner": learner}, {"file": name}]}
    return index.sync(chunks, extra_metadata={"learner": learner, "file": name},
                      scope=scope, progress=False)


class LearnerNotes:
    """One collection of learner notes, only ever read within one learner's files."""

    def __init__(self, index: VectorIndex) -> None:
        self.index = index

    def chunks(self, learner: str) -> list[Chunk]:
        """All chunks of a learner's notes."""
        got = self.index.collection.get(where={"learner": learner},
                                        include=["metadatas", "documents"])
        return [Chunk(id=i, note_id=m["note_id"], title=m["title"], domain=m["domain"],
                      heading=m["heading"], text=d, source=SOURCE)
                for i, m, d in zip(got["ids"], got["metadatas"], got["documents"], strict=True)]

    def version(self, learner: str) -> frozenset[tuple[str, str]]:
        """(chunk id, content hash) pairs: changes whenever the learner's notes change."""
        return frozenset(self.index.stored_hashes(where={"learner": learner}).items())

    def dense(self, query_vector, learner: str, n: int) -> list[tuple[str, float]]:
        """The learner's nearest chunks as (id, cosine similarity)."""
        return self.index.search(query_vector, n, where={"learner": learner})

    def add_text(self, learner: str, name: str, text: str) -> tuple[str, SyncReport]:
        """Add (or update) one note sent as text, e.g. a document uploaded in Telegram.
        Returns its title and what changed; raises NoteFileError for an unusable note."""
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            raise NoteFileError(f"larger than {MAX_FILE_BYTES // 1_000_000} MB")
        try:
            chunks = file_chunks(text, name, learner)
        except yaml.YAMLError as exc:
            raise NoteFileError("its front matter is not valid YAML") from exc
        return chunks[0].title, _store(self.index, learner, name, chunks)

    def forget(self, learner: str) -> None:
        """Delete all of a learner's notes."""
        self.index.collection.delete(where={"learner": learner})
