"""Prompt templates, one file each, loaded by name. A missing variable is an error."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent


class PromptError(KeyError):
    """A prompt is unknown or was rendered without one of its variables."""


@cache
def load(name: str) -> string.Template:
    """The template `prompts/<name>.md`."""
    path = PROMPTS_DIR / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"no prompt named {name!r}")
    return string.Template(path.read_text(encoding="utf-8"))


def variables(name: str) -> set[str]:
    """The variables a prompt needs."""
    return set(load(name).get_identifiers())


def render(name: str, **values: object) -> str:
    """Fill the prompt's $variables; raises PromptError if any is missing."""
    template = load(name)
    missing = variables(name) - values.keys()
    if missing:
        raise PromptError(f"prompt {name!r} needs {sorted(missing)}")
    return template.substitute({k: str(v) for k, v in values.items()})


def names() -> list[str]:
    """All prompt names."""
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.md"))
