"""The workflow's state (checkpointed per learner thread) and its runtime context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from agents.check import DEFAULT_DAILY_REVIEW_CAP
from agents.llm import TutorEngine
from knowledge.catalog import Catalog
from knowledge.retriever import Retriever
from knowledge.topics import TopicResolver
from state.store import Store


@dataclass(kw_only=True)
class TutorState:
    """What the graph remembers between turns of one learner's conversation."""

    message: str = ""
    """The learner's latest message (the graph's input)."""
    intent: str = ""
    """What the router decided the message asks for."""
    topic_text: str = ""
    """The topic as the learner named it, before resolution."""
    current_topic: str | None = None
    """Note id most recently taught or quizzed; "quiz me" without a topic continues it."""
    current_at: str = ""
    """When `current_topic` was last taught or asked about (ISO time): past STUDY_WINDOW it is
    no longer what the learner is studying now, and checks and "quiz me" move on."""
    studied: dict[str, str] = field(default_factory=dict)
    """Note id → when it was last taught (ISO time), oldest first: those taught within
    STUDY_WINDOW are the day's content a knowledge check asks about."""
    question: dict | None = None
    """The pending QuizQuestion (as a dict) while waiting for an answer."""
    answer: str = ""
    """The learner's answer to the pending question."""
    attempt_id: int | None = None
    """The stored attempt being graded."""
    last_attempt_id: int | None = None
    """The most recently graded attempt (what a dispute refers to)."""
    queue: list[dict] = field(default_factory=list)
    """Questions still to come in a knowledge check: {"note_id", "is_review"} each."""
    check_total: int = 0
    """Size of the knowledge check in progress (0 when none)."""
    check_asked: list[str] = field(default_factory=list)
    """"note_id:question_id" of every question the check in progress has asked, answered or
    skipped: a skipped question is not in the store, and must not come straight back."""


@dataclass(frozen=True)
class Deps:
    """Everything nodes need from the outside world, injected so every layer runs in tests."""

    engine: TutorEngine
    retriever: Retriever
    resolver: TopicResolver
    catalog: Catalog
    store: Store
    clock: Callable[[], datetime]
    daily_review_cap: int = DEFAULT_DAILY_REVIEW_CAP
    """Review questions asked per learner per UTC day; past it, quizzes prefer new topics."""


@dataclass(frozen=True)
class TurnContext:
    """Runtime context of one turn: the shared deps and who is talking."""

    deps: Deps
    learner_id: int
