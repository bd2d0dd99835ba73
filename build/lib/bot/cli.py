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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tutor` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "chromadb", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings()
    command = args.command or ("telegram" if settings.telegram_bot_token else "chat")
    if command == "ingest":
        return _ingest(settings, args.path, args.learner or settings.learner)
    if command == "grade":
        return _grade(args.jsonl, args.out)
    if command == "telegram":
        print("The Telegram front is not built yet (issue: the tutor in Telegram). "
              "Unset TELEGRAM_BOT_TOKEN to chat in the terminal.", file=sys.stderr)
        return 2
    learner = getattr(args, "learner", None) or settings.learner
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_chat(settings, learner))
    return 0


if __name__ == "__main__":
    sys.exit(main())
