"""The tutor as a service: one call per learner message, used by every front."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import AsyncIterator

from langgraph.types import Command

from agents.events import Event
from agents.late_grading import grade_saved_answers
from agents.state import Deps, TurnContext

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Tutor:
    """Feeds learner messages through the graph, one learner at a time, and yields events."""

    def __init__(self, deps: Deps, graph, max_chars: int = 4000) -> None:
        self.deps = deps
        self.graph = graph
        self.max_chars = max_chars
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._late_tried: set[int] = set()  # ungraded answers already retried in this run

    def _config(self, learner_id: int) -> dict:
        return {"configurable": {"thread_id": f"learner:{learner_id}"}}

    def learner_id(self, learner: str, display_name: str = "") -> int:
        """The store id of an external learner id such as "cli:local" or "tg:42"."""
        return self.deps.store.learner_id(learner, self.deps.clock(), display_name)

    async def pending_question(self, learner: str) -> dict | None:
        """The question the learner still owes an answer to, if any."""
        snapshot = await self.graph.aget_state(self._config(self.learner_id(learner)))
        for intr in snapshot.interrupts:
            return intr.value
        return None

    async def forget(self, learner: str) -> None:
        """Delete everything about a learner: answers, grades, cards, preferences, the pending
        conversation and their own notes."""
        async with self._locks[learner]:
            learner_id = self.learner_id(learner)
            checkpointer = self.graph.checkpointer
            if checkpointer is not None:
                await checkpointer.adelete_thread(self._config(learner_id)["configurable"]
                                                  ["thread_id"])
            notes = self.deps.retriever.learner_notes
            if notes is not None:
                notes.forget(str(learner_id))
            self.deps.store.forget_learner(learner_id)

    async def send(self, learner: str, text: str, display_name: str = "") -> AsyncIterator[Event]:
        """Handle one message; yields the events to show. Never raises for bad input."""
        text = _CONTROL.sub("", text or "").strip()
        if len(text) > self.max_chars:
            yield Event(kind="error", text=f"That message is {len(text):,} characters; the limit "
                        f"is {self.max_chars:,}. Please shorten it — nothing was lost, any pending "
                        "question is still waiting.")
            return
        async with self._locks[learner]:
            learner_id = self.learner_id(learner, display_name)
            config = self._config(learner_id)
            context = TurnContext(deps=self.deps, learner_id=learner_id)
            snapshot = await self.graph.aget_state(config)
            if set(snapshot.next) & {"record", "grade"} and not snapshot.interrupts:
                # The previous turn crashed between receiving an answer and grading it:
                # finish that first, so the answer is stored and graded.
                async for event in self._run(None, config, context):
                    yield event
                snapshot = await self.graph.aget_state(config)
            # Answers whose grading failed earlier are graded now, before the new message.
            for event in await grade_saved_answers(self.deps, learner_id, self._late_tried):
                yield event
            if snapshot.interrupts:
                payload: object = Command(resume=text)
            elif not text:
                yield Event(kind="notice", text="Say something like \"teach me dropout\" or "
                            "\"quiz me\" — or \"help\".")
                return
            else:
                payload = {"message": text}
            async for event in self._run(payload, config, context):
                yield event

    async def _run(self, payload: object, config: dict,
                   context: TurnContext) -> AsyncIterator[Event]:
        try:
            async for mode, chunk in self.graph.astream(payload, config, context=context,
                                                         stream_mode=["custom", "updates"]):
                if mode == "custom":
                    yield Event(**chunk)
                elif isinstance(chunk, dict) and "__interrupt__" in chunk:
                    for intr in chunk["__interrupt__"]:
                        yield Event(kind="question", text=intr.value.get("prompt", ""),
                                    data=intr.value)
        except Exception:
            log.exception("turn failed")
            yield Event(kind="error", text="Something went wrong on my side. Your progress and "
                        "any answer you sent are saved; try again in a moment.")
