"""The Telegram front: PTB handlers that pass learner messages to the same Tutor as the terminal.

Every handler checks the allow-list and the rate limit first, shows "typing…" while the tutor
works, and sends each rendered message as soon as it is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import timedelta
from pathlib import Path, PurePath

from telegram import (
    BotCommand,
    ForceReply,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from agents.events import Event
from agents.service import Tutor
from bot.settings import Settings
from bot.telegram import keyboards
from bot.telegram.access import AllowList, RateLimiter
from bot.telegram.format import escape
from bot.telegram.render import Outgoing, TurnRenderer, render_question
from knowledge.learner_notes import MAX_FILE_BYTES, SUFFIXES, NoteFileError

log = logging.getLogger(__name__)

COMMANDS = [
    ("start", "Start here: what I do, your interview date and focus"),
    ("learn", "Teach me a topic — /learn batch norm"),
    ("quiz", "A question to answer — /quiz [topic]"),
    ("check", "Daily knowledge check: ~10 questions on today's topics, new ones and reviews"),
    ("review", "Questions on topics due for review"),
    ("hint", "A hint for the pending question"),
    ("skip", "Skip the pending question"),
    ("dispute", "Contest the last grade — /dispute <why>"),
    ("summary", "This session's scores, gaps and next steps"),
    ("progress", "Readiness by domain, with a chart"),
    ("topics", "Browse domains and topics"),
    ("weights", "Domain weights — /weights C=30"),
    ("export", "My weak items for Anki (or csv) and my history as JSON"),
    ("forget", "Delete all my data"),
    ("help", "What I can do"),
]
# Commands passed to the workflow as typed; the others are handled here.
WORKFLOW_COMMANDS = ["learn", "quiz", "check", "review", "hint", "skip", "dispute", "summary",
                     "progress", "weights", "gaps"]
DISPUTE_PROMPT = "🙋 Why is the grade wrong? Reply to this message with your argument."
TYPING_EVERY_S = 4.0  # Telegram shows "typing…" for about 5 seconds per chat action
_PREVIEW_OFF = LinkPreviewOptions(is_disabled=True)
_TAGS = re.compile(r"<[^>]+>")


class TelegramFront:
    """Handlers for one bot; `tutor_factory` opens the Tutor when the application starts."""

    def __init__(self, settings: Settings,
                 tutor_factory: Callable[[], AbstractAsyncContextManager[Tutor]]) -> None:
        self.settings = settings
        self.tutor_factory = tutor_factory
        self.allow = AllowList(settings.allowed_user_ids)
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.tutor: Tutor | None = None
        self.titles: dict[str, str] = {}
        self._stack = AsyncExitStack()

    # -- life cycle -------------------------------------------------------------------------
    async def startup(self, app: Application) -> None:
        """Open the tutor and register the command list Telegram shows."""
        self.tutor = await self._stack.enter_async_context(self.tutor_factory())
        self.titles = {n.id: n.title for n in self.tutor.deps.catalog.notes}
        await app.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
        if not self.allow.user_ids:
            log.warning("TUTOR_ALLOWED_USERS is empty: the bot refuses everyone. Add your "
                        "Telegram user id (the bot tells you yours when it refuses you).")

    async def shutdown(self, app: Application) -> None:
        """Close the tutor (checkpointer, database)."""
        await self._stack.aclose()

    def register(self, app: Application) -> None:
        """Attach every handler to the application."""
        new = filters.UpdateType.MESSAGE  # edits of old messages are not new answers
        app.add_handler(CommandHandler("start", self.start, filters=new))
        app.add_handler(CommandHandler("help", self.help, filters=new))
        app.add_handler(CommandHandler("topics", self.topics, filters=new))
        app.add_handler(CommandHandler("forget", self.forget, filters=new))
        app.add_handler(CommandHandler("export", self.export, filters=new))
        app.add_handler(CommandHandler(WORKFLOW_COMMANDS, self.workflow_command, filters=new))
        app.add_handler(MessageHandler(new & filters.COMMAND, self.unknown_command))
        app.add_handler(MessageHandler(new & filters.TEXT, self.text))
        app.add_handler(MessageHandler(new & filters.Document.ALL, self.document))
        app.add_handler(MessageHandler(new & ~filters.TEXT & ~filters.Document.ALL, self.other))
        app.add_handler(CallbackQueryHandler(self.button))
        app.add_error_handler(self.on_error)

    # -- gatekeeping --------------------------------------------------------------------------
    async def _admit(self, update: Update) -> str | None:
        """The learner id ("tg:<user id>") if this update may go ahead; otherwise replies."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return None
        if not self.allow.allows(user.id):
            log.info("refused user %s", user.id)  # ids are not secrets; nothing is stored
            await self._reply(update, Outgoing(self.allow.refusal(user.id)))
            return None
        if chat.type != ChatType.PRIVATE:
            await self._reply(update, Outgoing("I tutor one learner at a time — please talk to "
                                               "me in a private chat."))
            return None
        wait = self.limiter.allow(user.id)
        if wait:
            await self._reply(update, Outgoing(
                f"You're sending messages faster than I can think — wait {wait:.0f} s and send "
                "that again. Nothing was lost."))
            return None
        if self.tutor is None:
            await self._reply(update, Outgoing("I'm still starting up — try again in a moment."))
            return None
        return f"tg:{user.id}"

    # -- sending ------------------------------------------------------------------------------
    async def _reply(self, update: Update, out: Outgoing) -> Message | None:
        chat = update.effective_chat
        return await self._send(update.get_bot(), chat.id, out) if chat else None

    async def _send(self, bot, chat_id: int, out: Outgoing) -> Message | None:
        """Send one message as HTML; if Telegram still rejects the markup, send it as plain
        text rather than lose the reply."""
        try:
            if out.photo is not None:
                caption = out.html if len(out.html) <= 1024 else None
                sent = await bot.send_photo(chat_id, out.photo, caption=caption,
                                            parse_mode=ParseMode.HTML,
                                            reply_markup=out.keyboard)
                if caption is None and out.html:
                    sent = await bot.send_message(chat_id, out.html, parse_mode=ParseMode.HTML,
                                                  link_preview_options=_PREVIEW_OFF)
                return sent
            return await bot.send_message(chat_id, out.html, parse_mode=ParseMode.HTML,
                                          reply_markup=out.keyboard,
                                          link_preview_options=_PREVIEW_OFF)
        except BadRequest as exc:
            if "parse entities" not in str(exc):
                raise
            log.warning("HTML rejected (%s); sending plain text", exc)
            plain = html.unescape(_TAGS.sub("", out.html))
            return await bot.send_message(chat_id, plain[:4096], reply_markup=out.keyboard)

    @contextlib.asynccontextmanager
    async def _typing(self, bot, chat_id: int) -> AsyncIterator[None]:
        """Keep "typing…" visible while the tutor works."""
        async def keep_typing() -> None:
            while True:
                with contextlib.suppress(Exception):  # cosmetic: never fail a turn over it
                    await bot.send_chat_action(chat_id, ChatAction.TYPING)
                await asyncio.sleep(TYPING_EVERY_S)

        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run_turn(self, update: Update, learner: str, text: str) -> None:
        """Send `text` to the tutor and deliver its events as they come."""
        assert self.tutor is not None
        bot, chat_id = update.get_bot(), update.effective_chat.id
        renderer = TurnRenderer(titles=self.titles)
        name = update.effective_user.full_name if update.effective_user else ""
        failed = 0
        async with self._typing(bot, chat_id):
            # The turn always runs to the end, even when Telegram refuses a message: stopping
            # half-way could leave a graded answer looking ungraded to the workflow.
            async for event in self.tutor.send(learner, text, display_name=name):
                outgoing = await self._outgoing(renderer, event, learner)
                if event.kind == "topics":
                    outgoing.append(Outgoing("<b>Topics</b> — pick a domain:",
                                             keyboards.domains(self.tutor.deps.catalog)))
                failed += await self._send_all(bot, chat_id, outgoing)
            failed += await self._send_all(bot, chat_id, renderer.finish())
        if failed:
            await self._send(bot, chat_id, Outgoing(
                "⚠️ Part of my reply didn't get through — something went wrong on my side. "
                "Your answer and grade are saved: /summary shows them."))

    async def _send_all(self, bot, chat_id: int, outgoing: list[Outgoing]) -> int:
        """Send each message; returns how many failed (each failure is logged)."""
        failed = 0
        for out in outgoing:
            try:
                await self._send(bot, chat_id, out)
            except TelegramError as exc:
                failed += 1
                log.error("sending to a learner failed: %s", exc)
        return failed

    async def _outgoing(self, renderer: TurnRenderer, event: Event,
                        learner: str) -> list[Outgoing]:
        if event.kind != "progress":
            return renderer.feed(event)
        from state.charts import readiness_chart, score_trend_chart
        from state.report import ProgressOverview

        overview = ProgressOverview(**event.data["overview"])
        attempts = self.tutor.deps.store.learner_attempts(self.tutor.learner_id(learner))
        # Drawing is CPU work: keep the event loop free for other learners.
        readiness = await asyncio.to_thread(readiness_chart, overview)
        trend = await asyncio.to_thread(score_trend_chart, attempts)
        text = f"<pre>{escape(event.text)}</pre>"
        return [*renderer.finish(), Outgoing(text, photo=readiness),
                Outgoing("<i>Your scores over time</i>", photo=trend)]

    # -- commands -----------------------------------------------------------------------------
    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Onboarding: what the tutor does, which mode it runs in, interview date and focus."""
        learner = await self._admit(update)
        if learner is None:
            return
        first = update.effective_user.first_name or "there"
        mode = self.tutor.deps.engine.describe()
        text = (f"👋 Hi {escape(first)}! I'm your ML interview tutor.\n\n"
                "I teach topics from a curated curriculum, quiz you, grade your free-text "
                "answers (score, confidence and the exact gaps) and bring weak topics back "
                "when you're about to forget them.\n\n"
                f"<i>{escape(mode)}</i>\n\n<b>When is your interview?</b>")
        await self._reply(update, Outgoing(text, keyboards.interview_date()))

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The command list and the things one can type."""
        if await self._admit(update) is None:
            return
        lines = [f"/{c} — {escape(d)}" for c, d in COMMANDS]
        text = ("<b>Commands</b>\n" + "\n".join(lines) + "\n\nOr just type: a question "
                "(\"what is the bias-variance trade-off?\"), \"teach me dropout\", \"quiz me\". "
                "While a question is pending, whatever you type is your answer. Send me a .md "
                "or .txt document to add it to your own notes.")
        await self._reply(update, Outgoing(text))

    async def topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Browse domains → topics → teach or quiz."""
        if await self._admit(update) is None:
            return
        await self._reply(update, Outgoing("<b>Topics</b> — pick a domain:",
                                           keyboards.domains(self.tutor.deps.catalog)))

    async def forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Ask for confirmation before deleting everything."""
        if await self._admit(update) is None:
            return
        await self._reply(update, Outgoing(
            "This deletes <b>all</b> your answers, grades, review schedule, settings and notes. "
            "It cannot be undone.", keyboards.forget_confirmation()))

    async def export(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/export [anki|csv|json]: weak items as an Anki deck or CSV, and the history as JSON
        (both when no format is given) — sent as documents to this learner only."""
        learner = await self._admit(update)
        if learner is None:
            return
        from state import export

        wanted = (context.args[0].lower() if context.args else "all")
        if wanted not in {"all", "anki", "csv", "json"}:
            await self._reply(update, Outgoing("Use <code>/export</code>, <code>/export anki"
                                               "</code>, <code>/export csv</code> or "
                                               "<code>/export json</code>."))
            return
        store, catalog = self.tutor.deps.store, self.tutor.deps.catalog
        learner_id, now = self.tutor.learner_id(learner), self.tutor.deps.clock()
        bot, chat_id = update.get_bot(), update.effective_chat.id
        with tempfile.TemporaryDirectory() as folder:
            files: list[tuple[Path, str]] = []
            if wanted in {"all", "anki"}:
                path = Path(folder) / "ml-tutor-weak-items.apkg"
                cards = await asyncio.to_thread(export.write_anki, store, catalog, learner_id,
                                                path)
                if cards:
                    files.append((path, f"{cards} weak item(s) as an Anki deck"))
            if wanted == "csv":
                path = Path(folder) / "ml-tutor-weak-items.csv"
                if await asyncio.to_thread(export.write_csv, store, catalog, learner_id, path):
                    files.append((path, "weak items as CSV"))
            if wanted in {"all", "json"}:
                path = Path(folder) / "ml-tutor-history.json"
                await asyncio.to_thread(export.write_json, store, learner_id, path, now)
                files.append((path, "your whole history as JSON"))
            if not files:
                await self._reply(update, Outgoing("Nothing weak to export yet — every graded "
                                                   "answer scored 80 or more (or none yet)."))
                return
            for path, caption in files:
                await bot.send_document(chat_id, path.read_bytes(), filename=path.name,
                                        caption=caption)

    async def workflow_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/learn, /quiz, /check, … go to the workflow exactly as typed."""
        learner = await self._admit(update)
        if learner is None:
            return
        text = update.effective_message.text or ""
        command = text.split()[0].split("@")[0].lower()
        if command == "/learn" and not context.args:
            await self._reply(update, Outgoing("Which topic? Type <code>/learn dropout</code>, "
                                               "or pick one:",
                                               keyboards.domains(self.tutor.deps.catalog)))
            return
        await self._run_turn(update, learner, text)

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command we don't have."""
        if await self._admit(update) is None:
            return
        command = (update.effective_message.text or "").split()[0]
        await self._reply(update, Outgoing(f"I don't know {escape(command[:64])}. "
                                           "Send /help for the list."))

    # -- messages -----------------------------------------------------------------------------
    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An answer when a question is pending, otherwise a question or request."""
        learner = await self._admit(update)
        if learner is None:
            return
        message = update.effective_message
        text = message.text or ""
        replied = message.reply_to_message
        if replied and replied.from_user and replied.from_user.is_bot and \
                (replied.text or "").startswith(DISPUTE_PROMPT):
            text = f"/dispute {text}"
        await self._run_turn(update, learner, text)

    async def document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A Markdown or text document joins the learner's own notes."""
        learner = await self._admit(update)
        if learner is None:
            return
        doc = update.effective_message.document
        name = PurePath(doc.file_name or "note.md").name
        is_text = PurePath(name).suffix.lower() in SUFFIXES or \
            (doc.mime_type or "").startswith("text/")
        if not is_text:
            await self._reply(update, Outgoing(
                f"I can only add Markdown or text files ({', '.join(sorted(SUFFIXES))}) to your "
                "notes — this looks like something else."))
            return
        if doc.file_size and doc.file_size > MAX_FILE_BYTES:
            await self._reply(update, Outgoing(
                f"That file is over {MAX_FILE_BYTES // 1_000_000} MB — please split it."))
            return
        async with self._typing(update.get_bot(), update.effective_chat.id):
            data = await (await doc.get_file()).download_as_bytearray()
            try:
                text = bytes(data).decode("utf-8")
            except UnicodeDecodeError:
                await self._reply(update, Outgoing("That file isn't UTF-8 text, so I couldn't "
                                                   "read it. Nothing was added."))
                return
            notes = self.tutor.deps.retriever.learner_notes
            learner_id = str(self.tutor.learner_id(learner))
            try:  # embedding is CPU work: keep the loop free for other learners
                title, report = await asyncio.to_thread(notes.add_text, learner_id,
                                                        f"telegram/{name}", text)
            except NoteFileError as exc:
                await self._reply(update, Outgoing(f"I couldn't add {escape(name)}: "
                                                   f"{escape(str(exc))}. Nothing was added."))
                return
        await self._reply(update, Outgoing(
            f"📎 Added <b>{escape(title)}</b> to your notes ({escape(str(report))}). Ask me "
            "about it any time — answers that use it say \"your notes\"."))

    async def other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice, locations, …: say what works instead."""
        if await self._admit(update) is None:
            return
        await self._reply(update, Outgoing(
            "I can only read text. Type your answer or question — or send a .md / .txt "
            "document to add it to your notes. /help lists everything."))

    # -- buttons ------------------------------------------------------------------------------
    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Inline keyboard presses."""
        query = update.callback_query
        learner = await self._admit(update)
        with contextlib.suppress(BadRequest):  # an old button whose query already expired
            await query.answer()
        if learner is None:
            return
        action, _, arg = (query.data or "").partition(":")
        catalog, store = self.tutor.deps.catalog, self.tutor.deps.store
        if action == keyboards.NEXT:
            pending = await self.tutor.pending_question(learner)
            if pending:  # a question is already waiting: show it again rather than skip it
                await self._reply(update, Outgoing(render_question(pending, self.titles)))
            else:
                await self._run_turn(update, learner, "/quiz")
        elif action == keyboards.GAPS:
            await self._run_turn(update, learner, "/gaps")
        elif action == keyboards.DISPUTE:
            # ForceReply opens a reply to this prompt; `text` turns that reply into a dispute.
            await update.get_bot().send_message(
                update.effective_chat.id, DISPUTE_PROMPT + "\n(e.g. \"my answer does say the "
                "variance is rescaled at test time\")",
                reply_markup=ForceReply(input_field_placeholder="Because…"))
        elif action in (keyboards.LEARN, keyboards.QUIZ) and arg in catalog.by_id:
            verb = "/learn" if action == keyboards.LEARN else "/quiz"
            await self._run_turn(update, learner, f"{verb} {catalog.by_id[arg].title}")
        elif action == keyboards.DOMAINS:
            await self._edit(query, "<b>Topics</b> — pick a domain:", keyboards.domains(catalog))
        elif action == keyboards.DOMAIN and any(d.id == arg for d in catalog.domains):
            domain = next(d for d in catalog.domains if d.id == arg)
            await self._edit(query, f"<b>{escape(domain.label)}</b> — pick a topic:",
                             keyboards.topics(catalog, arg))
        elif action == keyboards.TOPIC and arg in catalog.by_id:
            note = catalog.by_id[arg]
            overview = note.section("Overview") or ""
            await self._edit(query, f"<b>{escape(note.title)}</b>\n\n{escape(overview[:900])}",
                             keyboards.topic(note.id, note.domain))
        elif action == keyboards.FORGET_YES:
            await self.tutor.forget(learner)
            await self._edit(query, "🗑 Done — everything I had about you is deleted. Send "
                             "/start to begin again.", None)
        elif action == keyboards.FORGET_NO:
            await self._edit(query, "Cancelled — nothing was deleted.", None)
        elif action == keyboards.INTERVIEW and arg.isdigit():
            await self._set_interview(update, query, learner, int(arg))
        elif action == keyboards.FOCUS:
            learner_id = self.tutor.learner_id(learner)
            chosen = set(store.preferences(learner_id).get("focus", []))
            chosen ^= {arg} if any(d.id == arg for d in catalog.domains) else set()
            store.set_preferences(learner_id, focus=sorted(chosen))
            await self._edit(query, _FOCUS_TEXT, keyboards.focus(catalog, chosen))
        elif action == keyboards.ONBOARD_DONE:
            await self._edit(query, self._onboarding_done(learner), None)
        else:
            await self._reply(update, Outgoing("That button is out of date — try /help."))

    async def _set_interview(self, update: Update, query, learner: str, days: int) -> None:
        store, clock = self.tutor.deps.store, self.tutor.deps.clock
        learner_id = self.tutor.learner_id(learner)
        date = (clock() + timedelta(days=days)).date().isoformat() if days else None
        store.set_preferences(learner_id, interview_date=date)
        chosen = set(store.preferences(learner_id).get("focus", []))
        await self._edit(query, _FOCUS_TEXT, keyboards.focus(self.tutor.deps.catalog, chosen))

    def _onboarding_done(self, learner: str) -> str:
        store, catalog = self.tutor.deps.store, self.tutor.deps.catalog
        prefs = store.preferences(self.tutor.learner_id(learner))
        labels = [d.label for d in catalog.domains if d.id in prefs.get("focus", [])]
        when = prefs.get("interview_date")
        lines = ["✅ All set."]
        lines.append(f"Interview: {when}." if when else "No interview date yet.")
        lines.append("Focus: " + ", ".join(labels) + "." if labels else "Focus: every domain, "
                     "by its interview weight.")
        lines.append("\nStudy a topic with /learn, then /check asks you about it — two or "
                     "three questions a topic, plus your due reviews. /quiz gives one question "
                     "at a time.")
        return escape("\n".join(lines))

    async def _edit(self, query, html_text: str, keyboard: InlineKeyboardMarkup | None) -> None:
        try:
            await query.edit_message_text(html_text, parse_mode=ParseMode.HTML,
                                          reply_markup=keyboard,
                                          link_preview_options=_PREVIEW_OFF)
        except BadRequest as exc:
            if "not modified" not in str(exc):
                raise

    # -- errors -------------------------------------------------------------------------------
    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log (secrets are redacted by the log filter) and tell the learner, who loses
        nothing: answers are stored before grading and pending questions are checkpointed."""
        log.error("update failed: %s", type(context.error).__name__, exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat and \
                not isinstance(context.error, Forbidden):
            with contextlib.suppress(Exception):
                await context.bot.send_message(
                    update.effective_chat.id, "⚠️ Something went wrong on my side. Your "
                    "progress and any answer you sent are saved — try again in a moment.")


_FOCUS_TEXT = ("<b>Which domains should I focus on?</b> Tap to toggle, then Done. "
               "(Skip it and I'll follow the interview weights.)")
