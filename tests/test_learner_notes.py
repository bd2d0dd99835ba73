"""A learner's own notes: ingested incrementally, bad files skipped, private to the learner."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.index import LEARNER_COLLECTION, VectorIndex, make_client
from knowledge.learner_notes import LearnerNotes, ingest, note_files
from knowledge.retriever import Retriever

GOOD = """---
title: My Raft notes
---
## Leader election
A follower that hears no heartbeat within its election timeout becomes a candidate, bumps the
term and asks for votes; a majority makes it leader.
"""


@pytest.fixture
def notes_dir(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "raft.md").write_text(GOOD)
    (d / "paxos.txt").write_text("Paxos needs a majority quorum of acceptors to choose a value.")
    (d / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    (d / "binary.md").write_bytes(b"\xff\xfe\x00bad")
    (d / "empty.md").write_text("   \n")
    (d / "ignored.pdf").write_text("not a note")
    return d


@pytest.fixture
def learner_index(tmp_path, embedder):
    return VectorIndex(make_client(str(tmp_path / "chroma")), embedder, LEARNER_COLLECTION)


def test_ingest_reports_and_skips_bad_files(notes_dir, learner_index):
    files = note_files(notes_dir)
    assert {f.name for f in files} == {"raft.md", "paxos.txt", "broken.md", "binary.md",
                                       "empty.md"}
    report = ingest(learner_index, "1", files, notes_dir, progress=False)
    assert report.files == 2 and report.chunks.added == 2
    assert {name for name, _ in report.skipped} == {"broken.md", "binary.md", "empty.md"}
    again = ingest(learner_index, "1", files, notes_dir, progress=False)
    assert again.chunks.added == 0 and again.chunks.unchanged == 2  # no work the second time


def test_notes_are_searched_and_private(notes_dir, learner_index, knowledge):
    ingest(learner_index, "1", note_files(notes_dir), notes_dir, progress=False)
    base = knowledge.retriever
    retriever = Retriever(list(base.chunks.values()), base.index,
                          learner_notes=LearnerNotes(learner_index))
    mine = retriever.search("raft leader election heartbeat timeout", k=3, learner="1")
    assert mine[0].chunk.source == "my-notes"
    assert mine[0].chunk.label.startswith("your notes: My Raft notes")
    other = retriever.search("raft leader election heartbeat timeout", k=3, learner="2")
    assert all(p.chunk.source == "curriculum" for p in other)


def test_cli_ingest_path(tmp_path, notes_dir, index_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC", "TELEGRAM"))}
    env.update(TUTOR_DATA_DIR=str(tmp_path / "data"), TUTOR_CHROMA=str(index_dir),
               HF_HUB_OFFLINE="1")
    tutor = Path(sys.executable).with_name("tutor")
    result = subprocess.run([str(tutor), "ingest", str(notes_dir), "--learner", "ann"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Your notes (ann): 2 files" in result.stdout
    assert "skipped broken.md" in result.stderr


async def test_chat_answers_from_my_notes(notes_dir, open_test_tutor):
    async with open_test_tutor() as tutor:
        learner = tutor.learner_id("cli:ann")
        index = tutor.deps.retriever.learner_notes.index
        ingest(index, str(learner), note_files(notes_dir), notes_dir, progress=False)
        try:
            await _ask_both(tutor)
        finally:  # the test index is shared across tests, whose learner ids restart at 1
            index.collection.delete(where={"learner": str(learner)})


async def _ask_both(tutor):
    question = "how does raft leader election work with heartbeats?"
    mine = [e async for e in tutor.send("cli:ann", question)]
    assert "your notes: My Raft notes" in "".join(e.text for e in mine if e.kind == "text")
    other = [e async for e in tutor.send("cli:bob", question)]
    assert "your notes" not in "".join(e.text for e in other)
