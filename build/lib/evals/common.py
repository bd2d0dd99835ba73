"""Shared set-up for evals: the real embedder and an index in a cache directory."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import platformdirs

from bot.settings import Settings
from bot.wiring import Knowledge, build_knowledge
from knowledge.embeddings import MiniLMEmbedder

DATA_DIR = Path(__file__).resolve().parent / "data"
EVAL_INDEX_DIR = Path(platformdirs.user_cache_dir("ml-tutor")) / "eval-index"


@cache
def embedder() -> MiniLMEmbedder:
    """The local MiniLM, loaded once."""
    model = MiniLMEmbedder()
    model.load()
    return model


@cache
def knowledge() -> Knowledge:
    """The curriculum indexed in a cache dir (never the learner's data dir)."""
    settings = Settings(TUTOR_DATA_DIR=EVAL_INDEX_DIR, TUTOR_CHROMA=str(EVAL_INDEX_DIR / "chroma"))
    settings.ensure_dirs()
    return build_knowledge(settings, embedder(), progress=True)


def read_jsonl(folder: str) -> list[dict]:
    """All records of evals/data/<folder>/*.jsonl, in file order."""
    rows: list[dict] = []
    for path in sorted((DATA_DIR / folder).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows
