"""What the workflow tells the fronts. Fronts render events; they never see graph internals."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

EventKind = Literal["text", "question", "grade", "summary", "notice", "topics", "error",
                    "progress"]


class Event(BaseModel):
    """One piece of output: streamed text, a question, a grade, a summary, a notice."""

    kind: EventKind
    text: str = ""
    data: dict = Field(default_factory=dict)
