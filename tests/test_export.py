"""Exports (Anki, CSV, JSON) and the `tutor report` / `tutor export` commands."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
import yaml
from PIL import Image

from bot.cli import main
from state.export import (
    ANKI_MODEL_ID,
    history,
    weak_items,
    weak_items_csv,
    write_anki,
    write_csv,
    write_json,
)
from state.store import Store
from tests.test_report import REPORT_AT, Seeded, mini_catalog, seed

# Ann's questions whose latest grade is under 80: drift (40) and normalization (75 after the
# dispute). Backprop's 60 was followed by a 92, so it is no longer weak.
WEAK = ["normalization", "monitoring-drift"]


@pytest.fixture
def seeded(tmp_path) -> Seeded:
    """The store of tests/test_report.py: Ann's three sessions and one answer by Bob."""
    return seed(Store(f"sqlite:///{tmp_path / 'seeded.sqlite3'}"), mini_catalog())


def _anki_notes(path: Path, tmp_path: Path) -> list[tuple[str, str, str]]:
    """(fields, tags, guid) of every note in an .apkg, read with sqlite3."""
    with zipfile.ZipFile(path) as z:
        assert "collection.anki2" in z.namelist()
        z.extract("collection.anki2", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki2")
    try:
        models = json.loads(db.execute("select models from col").fetchone()[0])
        assert str(ANKI_MODEL_ID) in models
        return db.execute("select flds, tags, guid from notes order by id").fetchall()
    finally:
        db.close()


def test_weak_items_follow_the_latest_grade(seeded):
    items = weak_items(seeded.store.learner_attempts(seeded.ann), seeded.catalog)
    assert [i.note_id for i in items] == WEAK
    norm = items[0]
    assert norm.score == 75  # the disputed grade, not the first 55
    kps = seeded.catalog.by_id["normalization"].questions[0].key_points
    assert norm.gaps == [kps[0]] and norm.topic == "Normalization layers"


def test_anki_deck_has_one_card_per_weak_question(seeded, tmp_path):
    out = tmp_path / "weak.apkg"
    assert write_anki(seeded.store, seeded.catalog, seeded.ann, out) == 2
    notes = _anki_notes(out, tmp_path)
    assert len(notes) == 2
    question = seeded.catalog.by_id["normalization"].questions[0]
    fields = notes[0][0].split("\x1f")
    assert fields[0].startswith(question.prompt[:30])
    assert "BatchNorm computes statistics per feature" in fields[2]  # the gap, on the back
    assert fields[4] == "75% on 2026-03-03"
    assert "deep-learning" in notes[0][1] and "normalization" in notes[0][1]
    # Re-exporting gives the same guids, so Anki updates cards instead of duplicating them.
    again = tmp_path / "again" / "weak.apkg"
    again.parent.mkdir()
    write_anki(seeded.store, seeded.catalog, seeded.ann, again)
    assert [n[2] for n in _anki_notes(again, tmp_path / "again")] == [n[2] for n in notes]


def test_csv_rows(seeded, tmp_path):
    out = tmp_path / "weak.csv"
    assert write_csv(seeded.store, seeded.catalog, seeded.ann, out) == 2
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["note_id"], r["score"], r["answered_on"]) for r in rows] == [
        ("normalization", "75", "2026-03-03"), ("monitoring-drift", "40", "2026-03-06")]
    drift = seeded.catalog.by_id["monitoring-drift"].questions[0]
    assert rows[1]["gaps"] == "; ".join(drift.key_points[:2])
    assert rows[1]["reference_answer"] == drift.reference_answer
    assert weak_items_csv([]).strip() == ("topic,domain,question,score,answered_on,gaps,"
                                          "reference_answer,note_id,question_id")


def test_json_history_holds_only_that_learner(seeded, tmp_path):
    out = tmp_path / "ann.json"
    write_json(seeded.store, seeded.ann, out, REPORT_AT)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["learner"]["external_id"] == "cli:ann"
    assert doc["preferences"] == {"interview_date": "2026-04-01", "focus": ["system-design"]}
    assert len(doc["attempts"]) == 10 and len(doc["sessions"]) == 3
    assert {c["note_id"] for c in doc["review_cards"]} == {
        "bias-variance", "classification-metrics", "backpropagation", "normalization",
        "monitoring-drift"}
    disputed = next(a for a in doc["attempts"] if a["id"] == seeded.disputed_attempt)
    assert [(g["kind"], g["score"]) for g in disputed["grades"]] == [("initial", 55),
                                                                     ("dispute", 75)]
    assert disputed["score"] == 75
    text = out.read_text(encoding="utf-8")
    assert "bob" not in text and "transformers" not in text  # Bob's only topic
    bob = history(seeded.store, seeded.bob, REPORT_AT)
    assert [a["answer"] for a in bob["attempts"]] == ["bob's secret"]


# -- the CLI ---------------------------------------------------------------------------------------
@pytest.fixture
def cli_env(tmp_path, monkeypatch) -> Path:
    """Settings pointing at a seeded database and the mini curriculum; returns the data dir."""
    notes = tmp_path / "notes"
    catalog = mini_catalog()
    for note in catalog.notes:
        folder = notes / note.domain
        folder.mkdir(parents=True, exist_ok=True)
        meta = note.model_dump(mode="json", exclude={"body", "path"})
        (folder / f"{note.id}.md").write_text(
            f"---\n{yaml.safe_dump(meta, allow_unicode=True)}---\n{note.body}\n",
            encoding="utf-8")
    data = tmp_path / "data"
    for var in ("TUTOR_DATABASE_URL", "TELEGRAM_BOT_TOKEN", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TUTOR_DATA_DIR", str(data))
    monkeypatch.setenv("TUTOR_NOTES_DIR", str(notes))
    monkeypatch.setenv("TUTOR_LEARNER", "ann")
    monkeypatch.chdir(tmp_path)  # no stray .env
    data.mkdir()
    store = Store(f"sqlite:///{data / 'tutor.sqlite3'}")
    seed(store, catalog)
    store.engine.dispose()
    return data


def test_cli_report_writes_markdown_and_charts(cli_env, tmp_path, capsys):
    out = tmp_path / "reports" / "tracker.md"
    assert main(["report", "--out", str(out)]) == 0
    md = out.read_text(encoding="utf-8")
    assert "**Learner**: Ann" in md and "## Session History Summary" in md
    assert "![Readiness by domain](tracker-readiness.png)" in md
    assert "![Scores over time](tracker-trend.png)" in md
    for name in ("tracker-readiness.png", "tracker-trend.png"):
        with Image.open(out.parent / name) as image:
            assert image.size == (800, 500)
    assert "Wrote" in capsys.readouterr().err


def test_cli_report_to_stdout_for_another_learner(cli_env, capsys):
    assert main(["report", "--learner", "bob"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("# ML Interview Study Tracker")
    assert "**Learner**: cli:bob" in captured.out and "Transformers" in captured.out


def test_cli_unknown_learner_and_empty_history(cli_env, tmp_path, capsys):
    assert main(["report", "--learner", "zoe"]) == 1
    err = capsys.readouterr().err
    assert "Unknown learner 'zoe'" in err and "cli:ann, cli:bob" in err
    store = Store(f"sqlite:///{cli_env / 'tutor.sqlite3'}")
    store.learner_id("cli:new", REPORT_AT)
    store.engine.dispose()
    assert main(["export", "--format", "anki", "--out", str(tmp_path / "n.apkg"),
                 "--learner", "new"]) == 1
    assert "no graded answers yet" in capsys.readouterr().err
    assert not (tmp_path / "n.apkg").exists()
    assert main(["report", "--learner", "new"]) == 0
    assert "no graded answers yet" in capsys.readouterr().err


def test_cli_report_without_any_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "nothing"))
    monkeypatch.delenv("TUTOR_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 1
    assert "No study data yet" in capsys.readouterr().err
    assert not (tmp_path / "nothing").exists()  # a report creates nothing


def test_cli_exports(cli_env, tmp_path, capsys):
    anki, table, dump = tmp_path / "w.apkg", tmp_path / "w.csv", tmp_path / "h.json"
    assert main(["export", "--format", "anki", "--out", str(anki)]) == 0
    assert len(_anki_notes(anki, tmp_path)) == 2
    assert main(["export", "--format", "csv", "--out", str(table)]) == 0
    assert len(list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))) == 2
    assert main(["export", "--format", "json", "--out", str(dump), "--learner", "bob"]) == 0
    doc = json.loads(dump.read_text(encoding="utf-8"))
    assert doc["learner"]["external_id"] == "cli:bob" and len(doc["attempts"]) == 1
    assert "Wrote" in capsys.readouterr().err
