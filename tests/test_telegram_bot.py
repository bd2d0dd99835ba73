"""The Telegram bot end to end: the real PTB Application, our handlers and the real tutor graph,
against the local fake Bot API server (and the fake Anthropic server for Claude mode)."""

from __future__ import annotations

import contextlib
import time

import pytest
from pydantic import SecretStr

from bot.settings import Settings
from bot.telegram.app import build_application, polling_in_loop
from bot.telegram.front import COMMANDS, DISPUTE_PROMPT
from bot.wiring import open_tutor
from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.telegram_server import FakeTelegramServer
from tests.test_chat_e2e import GOOD

TOKEN = "4242:test-token-not-a-secret"
ADA, BOB, STRANGER = 1001, 1002, 666


@pytest.fixture
def tg():
    with FakeTelegramServer(token=TOKEN) as server:
        yield server


@pytest.fixture
def bot_settings(settings, tg) -> Settings:
    return settings.model_copy(update={
        "telegram_bot_token": SecretStr(TOKEN), "telegram_base_url": tg.base_url,
        "allowed_users": f"{ADA}, {BOB}"})


@contextlib.asynccontextmanager
async def running(settings: Settings, clock, embedder):
    """The bot as `tutor telegram` runs it, with post_init/post_shutdown, on the fake server."""
    app = build_application(settings, lambda: open_tutor(settings, clock=clock,
                                                         embedder=embedder, progress=False))
    async with polling_in_loop(app, timeout=1) as running_app:
        yield running_app


def texts(messages) -> list[str]:
    return [m.text or m.caption or "" for m in messages]


async def until_text(tg, chat: int, needle: str, since: int = 0, timeout: float = 60.0):
    """The first message after `since` whose text contains `needle`."""
    def found():
        return next((m for m in tg.messages(chat)[since:] if needle in (m.text or m.caption
                                                                        or "")), None)
    return await tg.wait_for(found, timeout=timeout)


async def test_offline_learner_journey(tg, bot_settings, clock, embedder):
    ada = tg.user(ADA, "Ada")
    async with running(bot_settings, clock, embedder):
        assert [c["command"] for c in tg.commands] == [c for c, _ in COMMANDS]

        ada.send_text("/start")
        welcome = await until_text(tg, ADA, "When is your interview?")
        assert "Offline mode" in welcome.text
        ada.press(welcome, "when:14")
        await tg.wait_for(lambda: "Which domains" in (tg.messages(ADA)[-1].text or ""))
        ada.press(welcome, "focus:deep-learning")
        await tg.wait_for(lambda: any(b["text"].startswith("✓") for b in
                                      tg.messages(ADA)[-1].buttons))
        ada.press(welcome, "onboard-done")
        done = await tg.wait_for(lambda: "All set" in (tg.messages(ADA)[-1].text or "")
                                 and tg.messages(ADA)[-1])
        assert "2026-03-16" in done.text and "C. Deep Learning" in done.text

        n = len(tg.messages(ADA))
        ada.send_text("/learn dropout")
        lesson = await until_text(tg, ADA, "Source:", since=n)
        assert "Dropout" in lesson.text
        assert "typing" in tg.chat_actions(ADA)

        n = len(tg.messages(ADA))
        started = time.monotonic()
        ada.send_text("/quiz batch norm")
        question = await until_text(tg, ADA, "Question", since=n)
        ada.send_text(GOOD)
        grade = await until_text(tg, ADA, "Score", since=n)
        round_trip = time.monotonic() - started
        assert "confidence" in grade.text and "grader" in grade.text
        assert [b["callback_data"] for b in grade.buttons] == ["next", "gaps", "dispute"]
        assert "Answer in your own words" in question.text
        print(f"quiz turn round trip (offline, through the fake Bot API): {round_trip:.2f} s")

        n = len(tg.messages(ADA))
        ada.press(grade, "dispute")
        prompt = await until_text(tg, ADA, DISPUTE_PROMPT, since=n)
        assert prompt.reply_markup and prompt.reply_markup.get("force_reply")
        tg.user_message(ada, {"text": "my answer does say the scale gamma and shift beta are "
                                      "learned, and LayerNorm is per example",
                              "reply_to_message": {"message_id": prompt.message_id,
                                                   "date": prompt.date, "chat": ada.chat(),
                                                   "from": tg.bot_user,
                                                   "text": prompt.text}})
        regraded = await until_text(tg, ADA, "Re-graded", since=n)
        assert "was" in regraded.text

        n = len(tg.messages(ADA))
        ada.send_text("/summary")
        summary = await until_text(tg, ADA, "Session summary", since=n)
        assert "Q1" in summary.text and "Overall" in summary.text

        n = len(tg.messages(ADA))
        ada.send_text("/progress")
        photos = await tg.wait_for(lambda: [m for m in tg.messages(ADA)[n:]
                                            if m.kind == "photo"][1:] and
                                   [m for m in tg.messages(ADA)[n:] if m.kind == "photo"],
                                   timeout=60)
        photo, trend = photos
        assert photo.photo.startswith(b"\x89PNG") and trend.photo.startswith(b"\x89PNG")
        assert "scores over time" in trend.caption
        assert "readiness" in photo.caption and "C. Deep Learning" in photo.caption


async def test_stranger_is_refused_and_nothing_is_stored(tg, bot_settings, clock, embedder):
    async with running(bot_settings, clock, embedder) as app:
        tg.user(STRANGER, "Mallory").send_text("/quiz dropout")
        refusal = await until_text(tg, STRANGER, "private")
        assert str(STRANGER) in refusal.text
        tg.user(STRANGER).send_text("hello?")
        await tg.wait_for_messages(STRANGER, 2)
    from state.report import find_learner
    from state.store import Store
    store = Store(bot_settings.resolved_database_url)
    assert find_learner(store, f"tg:{STRANGER}") is None
    assert app is not None


async def test_two_learners_at_once_stay_apart(tg, bot_settings, clock, embedder):
    ada, bob = tg.user(ADA, "Ada"), tg.user(BOB, "Bob")
    async with running(bot_settings, clock, embedder):
        ada.send_text("/quiz batch norm")
        bob.send_text("/quiz regularization")
        await until_text(tg, ADA, "Question")
        await until_text(tg, BOB, "Question")
        ada.send_text(GOOD)
        bob.send_text("no idea")
        await until_text(tg, ADA, "Score")
        await until_text(tg, BOB, "Score")
        n_ada, n_bob = len(tg.messages(ADA)), len(tg.messages(BOB))
        ada.send_text("/summary")
        bob.send_text("/summary")
        ada_summary = await until_text(tg, ADA, "Session summary", since=n_ada)
        bob_summary = await until_text(tg, BOB, "Session summary", since=n_bob)
    assert "Normalization" in ada_summary.text and "Regularization" not in ada_summary.text
    assert "Regularization" in bob_summary.text and "Normalization" not in bob_summary.text
    assert all("Regularization" not in t for t in texts(tg.messages(ADA)))


async def test_restart_mid_quiz_resumes_the_pending_question(tg, bot_settings, clock, embedder):
    ada = tg.user(ADA)
    async with running(bot_settings, clock, embedder):
        ada.send_text("/quiz batch norm")
        question = await until_text(tg, ADA, "Question")
    n = len(tg.messages(ADA))
    async with running(bot_settings, clock, embedder):  # a new process, same data dir
        ada.send_text(GOOD)
        grade = await until_text(tg, ADA, "Score", since=n)
    assert int(grade.text.split("Score ")[1].split("/")[0]) >= 80
    assert "Normalization" in question.text


async def test_hostile_and_odd_input(tg, bot_settings, clock, embedder):
    ada = tg.user(ADA)
    async with running(bot_settings, clock, embedder):
        ada.send_text("x" * 10_000)
        too_long = await until_text(tg, ADA, "limit")
        assert "10,000" in too_long.text

        n = len(tg.messages(ADA))
        ada.send_text("what is <b>dropout</b> & why does p_keep < 1 matter? </pre> &amp; **x**")
        await until_text(tg, ADA, "Source", since=n)
        assert not [e for e in tg.errors if e[0] == "sendMessage"]

        n = len(tg.messages(ADA))
        ada.send_sticker()
        ada.send_location(52.5, 13.4)
        ada.send_text("/nonsense")
        await tg.wait_for_messages(ADA, 3, since=n)
        assert sum("only read text" in t for t in texts(tg.messages(ADA)[n:])) == 2
        assert any("/help" in t for t in texts(tg.messages(ADA)[n:]))

        n = len(tg.messages(ADA))
        note = (b"# Zebra attention\n\nZebra attention is my own name for attention that "
                b"alternates local and global heads in stripes, like a zebra.\n")
        ada.send_document("zebra.md", note, "text/markdown")
        added = await until_text(tg, ADA, "Added", since=n)
        assert "Zebra attention" in added.text
        ada.send_document("photo.jpg", b"\xff\xd8\xff", "image/jpeg")
        await until_text(tg, ADA, "Markdown or text", since=n)
        n = len(tg.messages(ADA))
        ada.send_text("what is zebra attention?")
        answer = await until_text(tg, ADA, "Zebra", since=n)
        assert "your notes" in answer.text.lower()


async def test_rate_limit_and_failed_send(tg, bot_settings, clock, embedder):
    limited = bot_settings.model_copy(update={"rate_limit_per_minute": 2})
    ada = tg.user(ADA)
    async with running(limited, clock, embedder):
        for _ in range(3):
            ada.send_text("/help")
        await until_text(tg, ADA, "faster than I can think")

    n = len(tg.messages(ADA))
    async with running(bot_settings, clock, embedder):
        ada.send_text("/quiz batch norm")
        await until_text(tg, ADA, "Question", since=n)
        tg.fail_next("sendMessage", 500, "Internal Server Error")  # the grade cannot be sent
        ada.send_text(GOOD)
        sorry = await until_text(tg, ADA, "went wrong", since=n)
        assert "saved" in sorry.text and not [m for m in tg.messages(ADA)[n:] if "Score" in
                                              (m.text or "")]
        n = len(tg.messages(ADA))
        ada.send_text("/summary")
        summary = await until_text(tg, ADA, "Session summary", since=n)
    assert "Q1" in summary.text and "not graded" not in summary.text  # graded and kept


async def test_forget_deletes_everything_after_confirmation(tg, bot_settings, clock, embedder):
    ada = tg.user(ADA)
    async with running(bot_settings, clock, embedder):
        ada.send_text("/quiz batch norm")
        await until_text(tg, ADA, "Question")
        ada.send_text(GOOD)
        await until_text(tg, ADA, "Score")
        n = len(tg.messages(ADA))
        ada.send_text("/export")  # nothing weak yet: the history only
        history = await tg.wait_for(lambda: next((m for m in tg.messages(ADA)[n:]
                                                  if m.kind == "document"), None))
        assert history.filename == "ml-tutor-history.json"
        assert b"tg:1001" in history.document and b"BatchNorm" in history.document
        ada.send_text("/quiz adam")
        await until_text(tg, ADA, "Question", since=n)
        ada.send_text("no idea")
        await until_text(tg, ADA, "Score", since=n)
        n = len(tg.messages(ADA))
        ada.send_text("/export anki")
        deck = await tg.wait_for(lambda: next((m for m in tg.messages(ADA)[n:]
                                               if m.kind == "document"), None))
        assert deck.filename.endswith(".apkg") and deck.document[:2] == b"PK"  # a zip
        assert "1 weak item" in deck.caption
        ada.send_text("/forget")
        confirm = await until_text(tg, ADA, "cannot be undone")
        ada.press(confirm, "forget-yes")
        await tg.wait_for(lambda: "deleted" in (tg.messages(ADA)[-1].text or ""))
        n = len(tg.messages(ADA))
        ada.send_text("/summary")
        summary = await until_text(tg, ADA, "Nothing answered", since=n)
    assert summary


async def test_claude_mode_journey_with_topic_browsing(tg, bot_settings, clock, embedder,
                                                       monkeypatch):
    with FakeAnthropicServer() as claude:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        settings = bot_settings.model_copy(update={"anthropic_api_key": SecretStr("sk-test"),
                                                   "anthropic_base_url": claude.url})
        ada = tg.user(ADA)
        async with running(settings, clock, embedder):
            ada.send_text("/start")
            assert "Claude mode" in (await until_text(tg, ADA, "interview")).text
            n = len(tg.messages(ADA))
            ada.send_text("/learn dropout")
            lesson = await until_text(tg, ADA, "fake Claude", since=n)
            assert "Source" in lesson.text
            ada.send_text("/topics")
            menu = await until_text(tg, ADA, "pick a domain")
            ada.press(menu, "dom:deep-learning")
            await tg.wait_for(lambda: "pick a topic" in (tg.messages(ADA)[-1].text or ""))
            topic = next(b for b in tg.messages(ADA)[-1].buttons
                         if "Normalization" in b["text"])
            ada.press(menu, topic["callback_data"])
            await tg.wait_for(lambda: any(b["callback_data"].startswith("quiz:")
                                          for b in tg.messages(ADA)[-1].buttons))
            assert "Normalization" in tg.messages(ADA)[-1].text
            n = len(tg.messages(ADA))
            ada.press(menu, "quiz:normalization")
            await until_text(tg, ADA, "Question", since=n)
            ada.send_text("Dropout zeroes random activations during training.")
            grade = await until_text(tg, ADA, "Score", since=n)
            assert [b["callback_data"] for b in grade.buttons] == ["next", "gaps", "dispute"]
            n = len(tg.messages(ADA))
            ada.send_text("/dispute my answer covers the per-example normalization point")
            await until_text(tg, ADA, "Re-graded", since=n)
            ada.send_text("/summary")
            await until_text(tg, ADA, "Session summary", since=n)
            ada.send_text("/progress")
            await tg.wait_for(lambda: [m for m in tg.messages(ADA)[n:] if m.kind == "photo"])
        assert "claude" in grade.text
        assert any("Dropout zeroes random" in str(r["messages"]) for r in claude.state.requests)
