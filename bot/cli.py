"""The `tutor` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path

from bot.settings import Settings

DESCRIPTION = """ml-tutor: learn, get quizzed and graded on ML-interview topics.

Without a command, starts the Telegram bot when TELEGRAM_BOT_TOKEN is set, otherwise a
terminal chat. Works offline by default; set ANTHROPIC_API_KEY to use Claude."""


LEARNER_HELP = "learner name, or a full id such as tg:12345 (default: TUTOR_LEARNER)"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tutor", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-v", "--verbose", action="store_true", help="log more (never secrets)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    chat = sub.add_parser("chat", help="chat in the terminal (reads stdin when piped)")
    chat.add_argument("--learner", help="learner name (default: TUTOR_LEARNER or 'local')")
    ingest = sub.add_parser("ingest", help="update the curriculum index, or add your own notes "
                                          "(only changes are embedded)")
    ingest.add_argument("path", nargs="?", type=Path,
                        help="a Markdown/text file or folder of your own notes")
    ingest.add_argument("--learner", help="whose notes these are (default: TUTOR_LEARNER)")
    sub.add_parser("telegram", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    grade = sub.add_parser("grade", help="grade answers in bulk, offline (JSON lines in and out)")
    grade.add_argument("--jsonl", required=True, metavar="IN",
                       help='input: one {"id", "question", "reference_answer", "answer"'
                            '[, "key_points"]} per line ("-" for stdin)')
    grade.add_argument("--out", metavar="OUT", help="output file (default: stdout)")
    report = sub.add_parser("report", help="your readiness tracker as Markdown (with --out, "
                                           "also a readiness and a score-trend chart)")
    report.add_argument("--learner", help=LEARNER_HELP)
    report.add_argument("--out", type=Path, metavar="FILE",
                        help="write the Markdown to FILE, and FILE-readiness.png and "
                             "FILE-trend.png beside it (default: Markdown to stdout)")
    export = sub.add_parser("export", help="weak items as an Anki deck or CSV, or your whole "
                                           "history as JSON")
    export.add_argument("--format", required=True, choices=["anki", "csv", "json"],
                        help="anki: .apkg, one card per weak question; csv: the same as rows; "
                             "json: every answer, grade, review card and preference")
    export.add_argument("--out", required=True, type=Path, metavar="FILE")
    export.add_argument("--learner", help=LEARNER_HELP)
    return p


def _banner(settings: Settings, engine_line: str) -> str:
    return f"ml-tutor — {engine_line}\nData: {settings.data_dir}"


async def _chat(settings: Settings, learner: str) -> None:
    from bot.chat import run_chat
    from bot.wiring import open_tutor

    print("Loading the curriculum…", file=sys.stderr, flush=True)
    async with open_tutor(settings) as tutor:
        await run_chat(tutor, f"cli:{learner}", _banner(settings, tutor.deps.engine.describe()))


def _ingest(settings: Settings, path: Path | None, learner: str) -> int:
    from bot.wiring import build_knowledge, utcnow
    from knowledge.embeddings import MiniLMEmbedder
    from knowledge.learner_notes import NoteFileError, ingest, note_files
    from state.store import Store

    settings.ensure_dirs()
    knowledge = build_knowledge(settings, MiniLMEmbedder(), progress=True)
    print(f"Curriculum: {len(knowledge.catalog.notes)} notes — {knowledge.report}")
    if path is None:
        return 0
    try:
        files = note_files(path)
    except NoteFileError as exc:
        print(f"Nothing added: {exc}", file=sys.stderr)
        return 1
    learner_id = Store(settings.resolved_database_url).learner_id(f"cli:{learner}", utcnow())
    notes = knowledge.retriever.learner_notes
    report = ingest(notes.index, str(learner_id), files, path if path.is_dir() else path.parent)
    print(f"Your notes ({learner}): {report.files} files — {report.chunks}")
    for name, reason in report.skipped:
        print(f"  skipped {name}: {reason}", file=sys.stderr)
    return 0


def _telegram(settings: Settings) -> int:
    from bot.telegram.app import run
    from bot.wiring import open_tutor

    if settings.telegram_bot_token is None:
        print("Set TELEGRAM_BOT_TOKEN (from @BotFather) to run the Telegram bot.", file=sys.stderr)
        return 2
    mode = "Claude" if settings.claude_enabled else "offline"
    how = f"webhook at {settings.telegram_webhook_url}" if settings.telegram_webhook_url \
        else "long polling"
    allowed = len(settings.allowed_user_ids)
    print(f"ml-tutor Telegram bot — {mode} mode, {how}, {allowed} allowed user(s). "
          f"Data: {settings.data_dir}. Ctrl+C stops it.", file=sys.stderr, flush=True)
    run(settings, lambda: open_tutor(settings))
    return 0


def _grade(source: str, target: str | None) -> int:
    from agents.grading.offline import OfflineGrader
    from bot.grade_batch import grade_stream
    from knowledge.embeddings import MiniLMEmbedder

    grader = OfflineGrader(MiniLMEmbedder())
    infile = sys.stdin if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115
    outfile = open(target, "w", encoding="utf-8") if target else sys.stdout  # noqa: SIM115
    try:
        count = grade_stream(grader, infile, outfile)
    finally:
        for f in (infile, outfile):
            if f not in (sys.stdin, sys.stdout):
                f.close()
    print(f"graded {count} answers", file=sys.stderr)
    return 0


def _find_learner(settings: Settings, name: str):
    """(store, learner id) for a report or export, or None after saying why on stderr."""
    from state.report import find_learner, known_learners
    from state.store import Store

    url = settings.resolved_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        print(f"No study data yet ({url.removeprefix('sqlite:///')}): answer a few questions in "
              "`tutor chat` first.", file=sys.stderr)
        return None
    store = Store(url, scheduler=settings.scheduler)
    external_id = name if ":" in name else f"cli:{name}"
    learner = find_learner(store, external_id)
    if learner is None:
        known = ", ".join(i.external_id for i in known_learners(store)) or "none yet"
        print(f"Unknown learner {name!r} (looked for {external_id}). Known learners: {known}. "
              "Pass --learner NAME, or a full id such as tg:12345.", file=sys.stderr)
        return None
    return store, learner.id


def _catalog(settings: Settings):
    from knowledge.catalog import load_catalog

    return load_catalog(settings.notes_dir) if settings.notes_dir else load_catalog()


def _report(settings: Settings, name: str, out: Path | None) -> int:
    from datetime import UTC, datetime

    found = _find_learner(settings, name)
    if found is None:
        return 1
    store, learner = found
    try:
        return _write_report(store, learner, _catalog(settings), name, out,
                             datetime.now(UTC))
    finally:
        store.engine.dispose()


def _write_report(store, learner: int, catalog, name: str, out: Path | None, now) -> int:
    from state.charts import readiness_chart, score_trend_chart
    from state.report import build_tracker, progress_overview

    attempts = store.learner_attempts(learner)
    if not any(a.score is not None for a in attempts):
        print(f"{name} has no graded answers yet, so every domain is \"not started\". Say "
              "\"quiz me\" in `tutor chat` to begin.", file=sys.stderr)
    if out is None:
        sys.stdout.write(build_tracker(store, catalog, learner, now))
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    charts = {"Readiness by domain": out.with_name(f"{out.stem}-readiness.png"),
              "Scores over time": out.with_name(f"{out.stem}-trend.png")}
    charts["Readiness by domain"].write_bytes(
        readiness_chart(progress_overview(store, catalog, learner, now)))
    charts["Scores over time"].write_bytes(score_trend_chart(attempts))
    out.write_text(build_tracker(store, catalog, learner, now,
                                 charts={k: p.name for k, p in charts.items()}), encoding="utf-8")
    print(f"Wrote {out} with {', '.join(p.name for p in charts.values())}", file=sys.stderr)
    return 0


def _export(settings: Settings, fmt: str, out: Path, name: str) -> int:
    found = _find_learner(settings, name)
    if found is None:
        return 1
    store, learner = found
    try:
        return _write_export(store, learner, fmt, out, name, settings)
    finally:
        store.engine.dispose()


def _write_export(store, learner: int, fmt: str, out: Path, name: str,
                  settings: Settings) -> int:
    from datetime import UTC, datetime

    from state.export import write_anki, write_csv, write_json

    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        doc = write_json(store, learner, out, datetime.now(UTC))
        print(f"Wrote {out}: {len(doc['attempts'])} answers, {len(doc['review_cards'])} review "
              "cards", file=sys.stderr)
        return 0
    writer = write_anki if fmt == "anki" else write_csv
    count = writer(store, _catalog(settings), learner, out)
    if count == 0:
        graded = any(a.score is not None for a in store.learner_attempts(learner))
        why = "no question's latest grade is under 80%" if graded else "no graded answers yet"
        print(f"Nothing to export for {name}: {why}. No file written.", file=sys.stderr)
        return 1
    print(f"Wrote {out}: {count} weak {'cards' if fmt == 'anki' else 'rows'}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tutor` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "chromadb", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings()
    command = args.command or ("telegram" if settings.telegram_bot_token else "chat")
    if command == "report":
        return _report(settings, args.learner or settings.learner, args.out)
    if command == "export":
        return _export(settings, args.format, args.out, args.learner or settings.learner)
    if command == "ingest":
        return _ingest(settings, args.path, args.learner or settings.learner)
    if command == "grade":
        return _grade(args.jsonl, args.out)
    if command == "telegram":
        return _telegram(settings)
    learner = getattr(args, "learner", None) or settings.learner
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_chat(settings, learner))
    return 0


if __name__ == "__main__":
    sys.exit(main())
