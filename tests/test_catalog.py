"""The whole curriculum parses and is consistent; broken notes are reported clearly."""

import itertools
import re
from pathlib import Path

import pytest

from knowledge.catalog import CatalogError, load_catalog, parse_note
from knowledge.chunking import chunk_note

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_curriculum_loads_and_spans_all_domains(catalog):
    assert len(catalog.notes) >= 12
    for domain in catalog.domains:
        assert catalog.notes_in(domain.id), f"no notes in {domain.label}"


def test_every_question_has_a_rubric(catalog):
    for note in catalog.notes:
        assert 5 <= len(note.key_points) <= 10, note.id
        assert len(note.questions) >= 3, note.id
        for q in note.questions:
            assert len(q.key_points) >= 3, f"{note.id}:{q.id}"
            assert all(isinstance(k, str) and k.strip() for k in q.key_points)


def _seed_questions() -> list[str]:
    text = (SEEDS / "ml-breadth-questions.txt").read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        if line.startswith("- "):
            out.append(re.sub(r"(easy|medium|hard)$", "", line[2:]).strip())
    return out


@pytest.mark.skipif(not SEEDS.exists(), reason="../shared/seeds not present")
def test_every_seed_question_maps_to_a_note(catalog):
    mapped = {q for note in catalog.notes for q in note.seed_questions}
    seeds = _seed_questions()
    assert len(seeds) >= 60  # the file lists 62 of the "67" its header announces
    missing = [q for q in seeds if q not in mapped]
    assert not missing, f"unmapped seed questions: {missing}"


@pytest.mark.skipif(not SEEDS.exists(), reason="../shared/seeds not present")
def test_every_guide_is_covered(catalog):
    lines = (SEEDS / "ml-guides-catalog.txt").read_text(encoding="utf-8").splitlines()
    # After its own header (a title and blurb), the catalog alternates a guide title and its
    # one-paragraph scope.
    titles = [line.strip() for line, nxt in itertools.pairwise(lines)
              if line.strip() and nxt.strip() and len(line) < 120 and len(nxt) >= 120][1:]
    assert len(titles) >= 50
    covered = {g for note in catalog.notes for g in note.guides}
    missing = [t for t in titles if t not in covered]
    assert not missing, f"guides no note covers: {missing}"


def test_chunks_keep_headings(catalog):
    note = catalog.note("normalization")
    chunks = chunk_note(note)
    headings = [c.heading for c in chunks]
    assert headings[0] == "Overview"
    assert "Intuition" in headings and "Failure modes" in headings
    assert all(len(c.text) <= 1200 for c in chunks)


def test_bad_notes_are_rejected_with_the_reason():
    with pytest.raises(CatalogError, match="front matter"):
        parse_note("no front matter here")
    with pytest.raises(CatalogError, match="YAML"):
        parse_note("---\nid: [unclosed\n---\nbody")
    with pytest.raises(CatalogError, match="key_points"):
        parse_note("---\nid: x\ntitle: X\ndomain: nlp\ndifficulty: easy\nkey_points: [a]\n"
                   "questions: []\n---\nbody")


def test_prerequisite_cycle_is_detected(tmp_path):
    (tmp_path / "n").mkdir()
    q = ("questions:\n  - {id: q1, difficulty: easy, prompt: 'Why is this?', "
         "reference_answer: 'Because of reasons.', key_points: [a, b, c]}\n")
    for me, other in (("a", "b"), ("b", "a")):
        (tmp_path / "n" / f"{me}.md").write_text(
            f"---\nid: {me}\ntitle: {me}\ndomain: nlp\ndifficulty: easy\n"
            f"prerequisites: [{other}]\nkey_points: [x, y, z]\n{q}---\nbody\n")
    with pytest.raises(CatalogError, match="cycle"):
        load_catalog(tmp_path / "n")
