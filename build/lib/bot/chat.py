"""The terminal chat: interactive at a prompt, or scripted through stdin."""

from __future__ import annotations

import sys
from typing import TextIO

from agents.service import Tutor
from bot.render_text import render_event

EXIT_WORDS = {"quit", "exit", "/quit", "/exit", "bye"}


async def run_chat(tutor: Tutor, learner: str, banner: str, stdin: TextIO = sys.stdin,
                   stdout: TextIO = sys.stdout) -> None:
    """Read messages line by line until EOF or "quit", printing the tutor's replies.

    With a non-interactive stdin each message is echoed after "you ›", so a piped session
    prints a readable transcript.
    """
    interactive = stdin.isatty()
    out = stdout.write
    out(banner + "\n")
    out("Type \"help\" for what I can do, \"quit\" to leave.\n")
    pending = await tutor.pending_question(learner)
    if pending:
        out(f"\nYou have a question waiting from last time:\n{pending['prompt']}\n")
    while True:
        if interactive:
            try:
                line = input("\nyou › ")
            except (EOFError, KeyboardInterrupt):
                out("\n")
                break
        else:
            line = stdin.readline()
            if not line:
                break
            line = line.rstrip("\n")
            out(f"\nyou › {line}\n")
        if line.strip().lower() in EXIT_WORDS:
            break
        out("tutor › ")
        async for event in tutor.send(learner, line):
            out(render_event(event))
            if event.kind != "text":
                out("\n")
            stdout.flush()
    out("Bye — your progress is saved.\n")
