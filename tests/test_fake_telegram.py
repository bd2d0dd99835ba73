"""The fake Telegram Bot API server under the real python-telegram-bot 22 Application."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tests.fakes.telegram_server import TINY_PNG, FakeTelegramServer, parse_html, polling

TOKEN = "123:ABC"
ADA = 42


@pytest.fixture
def tg():
    """A running fake server with one learner, Ada."""
    with FakeTelegramServer(token=TOKEN) as server:
        server.user(ADA, "Ada", username="ada")
        yield server


def build_app(tg: FakeTelegramServer, *handlers, token: str = TOKEN):
    """A PTB Application pointed at the fake, with the given handlers."""
    app = (ApplicationBuilder().token(token).base_url(tg.base_url)
           .base_file_url(tg.base_file_url).build())
    for handler in handlers:
        app.add_handler(handler)
    return app


def bot_for(tg: FakeTelegramServer) -> Bot:
    """A bare Bot for calls outside an Application."""
    return Bot(TOKEN, base_url=tg.base_url, base_file_url=tg.base_file_url)


async def test_command_reply_with_html_arrives_parsed(tg):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_html(f"<b>Hi</b> {context.args} &lt;3 🙂 <i>go</i>")

    async with polling(build_app(tg, CommandHandler("start", start))):
        tg.user(ADA).send_text("/start")
        tg.user(ADA).send_text("/start@ml_tutor_test_bot now")
        first, second = await tg.wait_for_messages(ADA, 2)

    assert first.text == "Hi [] <3 🙂 go"
    assert first.html == "<b>Hi</b> [] &lt;3 🙂 <i>go</i>"
    assert second.text == "Hi ['now'] <3 🙂 go"
    # the emoji counts two UTF-16 units, so "go" starts at 12, not 11
    assert first.entities == [{"type": "bold", "offset": 0, "length": 2},
                              {"type": "italic", "offset": 12, "length": 2}]
    assert [m for m, _ in tg.calls][:2] == ["getMe", "deleteWebhook"]


async def test_bad_html_surfaces_as_bad_request(tg):
    errors: list[Exception] = []

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_html("loss < 0.1 is fine")

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    app = build_app(tg, MessageHandler(filters.TEXT, reply))
    app.add_error_handler(on_error)
    async with polling(app):
        tg.user(ADA).send_text("hello")
        await tg.wait_for(lambda: errors)

    assert isinstance(errors[0], BadRequest)
    assert errors[0].message == ("Can't parse entities: unsupported start tag \"\" at byte "
                                 "offset 5")
    assert tg.errors[0][2:] == (400, "Bad Request: can't parse entities: Unsupported start tag "
                                     '"" at byte offset 5')
    assert tg.messages(ADA) == []


async def test_long_polled_update_reaches_the_bot_promptly(tg):
    arrived: list[float] = []

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        arrived.append(time.monotonic())

    async with polling(build_app(tg, MessageHandler(filters.TEXT, echo)), timeout=5):
        await asyncio.sleep(0.3)  # the bot is now blocked in a long poll
        sent = time.monotonic()
        tg.user(ADA).send_text("ping")
        await tg.wait_for(lambda: arrived, timeout=2)

    assert arrived[0] - sent < 0.5


async def test_button_press_reaches_callback_handler(tg):
    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Hint", callback_data="hint"),
                                          InlineKeyboardButton("Skip", callback_data="skip")]])
        await update.message.reply_text("Question?", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer("noted")
        await query.edit_message_text(f"You chose {query.data}")

    app = build_app(tg, CommandHandler("quiz", ask), CallbackQueryHandler(pressed))
    async with polling(app):
        ada = tg.user(ADA)
        ada.send_text("/quiz")
        (question,) = await tg.wait_for_messages(ADA, 1)
        with pytest.raises(ValueError, match="no button"):
            ada.press(question, "nope")
        ada.press(question, "skip")
        await tg.wait_for(lambda: tg.messages(ADA)[0].edits)
        await tg.idle(ADA, quiet=0.1)

    (answer,) = tg.callback_answers
    assert answer["text"] == "noted" and tg.open_callback_queries == []
    (message,) = tg.messages(ADA)
    assert message.text == "You chose skip"
    assert message.reply_markup is None  # an edit without markup removes the keyboard
    assert message.edits[0].text == "Question?"
    assert [b["callback_data"] for b in message.edits[0].reply_markup["inline_keyboard"][0]] \
        == ["hint", "skip"]


async def test_user_document_downloads_with_identical_bytes(tg):
    content = bytes(range(256)) * 40 + b"\r\n--tail\r\n"
    received: list[bytes] = []

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        document = update.message.document
        file = await document.get_file()
        received.append(bytes(await file.download_as_bytearray()))
        await update.message.reply_text(f"Got {document.file_name} ({document.mime_type})")

    async with polling(build_app(tg, MessageHandler(filters.Document.ALL, on_document))):
        tg.user(ADA).send_document("notes.md", content, "text/markdown")
        (reply,) = await tg.wait_for_messages(ADA, 1)

    assert received == [content]
    assert reply.text == "Got notes.md (text/markdown)"


async def test_send_photo_and_document_are_recorded(tg):
    async with bot_for(tg) as bot:
        sent = await bot.send_photo(ADA, TINY_PNG, caption="<b>Your retention</b> ✓",
                                    parse_mode=ParseMode.HTML, filename="plot.png")
        await bot.send_document(ADA, "résumé ✓".encode() + b"\0\r\n", filename="résumé deck.apkg",
                                caption="Anki deck")
        with pytest.raises(BadRequest, match="Image_process_failed"):
            await bot.send_photo(ADA, b"not an image")
        with pytest.raises(BadRequest, match="caption is too long"):
            await bot.send_photo(ADA, TINY_PNG, caption="x" * 1025)
        await bot.edit_message_caption(ADA, sent.message_id, caption="<i>Your retention</i> ✓",
                                       parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="There is no text in the message to edit"):
            await bot.edit_message_text("text", chat_id=ADA, message_id=sent.message_id)
        assert await bot.set_my_description("An ML interview tutor")

    assert sent.photo[0].width == 1 and sent.caption == "Your retention ✓"
    photo, document = tg.messages(ADA)
    assert (photo.kind, photo.photo, photo.caption) == ("photo", TINY_PNG, "Your retention ✓")
    assert photo.caption_html == "<i>Your retention</i> ✓"
    assert photo.entities == [{"type": "italic", "offset": 0, "length": 14}]
    assert photo.edits[0].html == "<b>Your retention</b> ✓"
    assert ("setMyDescription", {"description": "An ML interview tutor"}) in tg.calls
    assert (document.kind, document.filename, document.document) == (
        "document", "résumé deck.apkg", "résumé ✓".encode() + b"\0\r\n")
    assert document.caption == "Anki deck"


async def test_commands_are_recorded(tg):
    async with bot_for(tg) as bot:
        await bot.set_my_commands([("quiz", "Get a question"), ("summary", "Session summary")])
        assert [c.command for c in await bot.get_my_commands()] == ["quiz", "summary"]
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await bot.set_my_commands([("Quiz-Me", "bad name")])

    assert tg.commands == [{"command": "quiz", "description": "Get a question"},
                           {"command": "summary", "description": "Session summary"}]


async def test_wrong_token_fails_at_initialize(tg):
    requests = HTTPXRequest(), HTTPXRequest()
    app = (ApplicationBuilder().token("999:WRONG").base_url(tg.base_url)
           .base_file_url(tg.base_file_url).request(requests[0])
           .get_updates_request(requests[1]).build())
    try:
        with pytest.raises(InvalidToken, match="rejected by the server"):
            await app.initialize()
        assert tg.calls == []  # requests with a foreign token are not the bot's calls
    finally:
        for request in requests:  # initialize failed half-way: close its connections ourselves
            await request.shutdown()


async def test_injected_failures(tg, monkeypatch):
    # Without opting in to timedelta periods, PTB's RetryAfter itself emits a deprecation warning.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    tg.fail_next("sendMessage", retry_after=1)
    tg.fail_next("sendChatAction", status=403, description="Forbidden: bot was blocked by the user")
    async with bot_for(tg) as bot:
        with pytest.raises(RetryAfter, match="Retry in"):
            await bot.send_message(ADA, "first")
        await bot.send_message(ADA, "second")
        with pytest.raises(Exception, match="blocked by the user"):
            await bot.send_chat_action(ADA, "typing")
        await bot.send_chat_action(ADA, "typing")

    assert [m.text for m in tg.messages(ADA)] == ["second"]
    assert tg.chat_actions(ADA) == ["typing"]
    assert [e[2] for e in tg.errors] == [429, 403]


async def test_validation_like_the_real_api(tg):
    async with bot_for(tg) as bot:
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(ADA, "<b> </b>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(ADA, "🙂" * 2049)  # 4098 UTF-16 units
        await bot.send_message(ADA, "<i>" + "x" * 4096 + "</i>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(ADA, "pick", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("A", callback_data="a" * 65)]]))
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(7, "who?")
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("new", chat_id=ADA, message_id=999)
        sent = await bot.send_message(ADA, "  same  ")
        assert sent.text == "same"
        with pytest.raises(BadRequest, match="Message is not modified: specified new"):
            await bot.edit_message_text("same", chat_id=ADA, message_id=sent.message_id)
        with pytest.raises(BadRequest, match="Message to be replied not found"):
            await bot.send_message(ADA, "re", reply_to_message_id=12345)
        assert await bot.delete_message(ADA, sent.message_id)
        with pytest.raises(BadRequest, match="Message to delete not found"):
            await bot.delete_message(ADA, sent.message_id)

    assert len(tg.messages(ADA)) == 1 and len(tg.messages(ADA, include_deleted=True)) == 2


def test_html_parser_follows_telegram():
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>'
                                '<a href="https://a.b/?q=1&x=2">link</a> <tg-spoiler>s</tg-spoiler>'
                                "<blockquote expandable>q</blockquote>&#128578;&quot;")
    assert text == 'x = 1link sq🙂"'
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "text_link", "offset": 5, "length": 4, "url": "https://a.b/?q=1&x=2"},
        {"type": "spoiler", "offset": 10, "length": 1},
        {"type": "expandable_blockquote", "offset": 11, "length": 1}]
    for bad, error in [("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>"'),
                       ("<b>x", "Can't find end tag corresponding to start tag \"b\""),
                       ("x</b>", "Unexpected end tag at byte offset 1"),
                       ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
                       ("a <", "Unclosed start tag at byte offset 2"),
                       ("<i a = 190azAz-.,>", "Unexpected end of name token at byte offset 7"),
                       ("<i>a</i   ", "Unclosed end tag at byte offset 4"),
                       ("AT&T", 'Character "&" at byte offset 2'),
                       ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"')]:
        with pytest.raises(Exception, match=error) as info:
            parse_html(bad)
        assert info.value.description.startswith("Bad Request: can't parse entities: ")
    assert parse_html("AT&T &nbsp;", strict=False) == ("AT&T &nbsp;", [])


@pytest.mark.parametrize(("html", "text", "entities"), [
    # cases from tdlib's own tests of parse_html
    ("<pre><code>x</code></pre>", "x",
     [{"type": "pre", "offset": 0, "length": 1}, {"type": "code", "offset": 0, "length": 1}]),
    ('<code class="language-fift"><pre>x</pre></code>', "x",
     [{"type": "pre", "offset": 0, "length": 1, "language": "fift"}]),
    ('<pre><code class="language-fift">x</code> </pre>', "x ",
     [{"type": "pre", "offset": 0, "length": 2}, {"type": "code", "offset": 0, "length": 1}]),
    ("<code><i><b> </b></i></code>", " ",
     [{"type": "code", "offset": 0, "length": 1}, {"type": "bold", "offset": 0, "length": 1},
      {"type": "italic", "offset": 0, "length": 1}]),
    ("<a   href=  'telegram.org?&lt;'   > </a>", " ",
     [{"type": "text_link", "offset": 0, "length": 1, "url": "http://telegram.org/?<"}]),
    ("<a>telegram.org</a>", "telegram.org",
     [{"type": "text_link", "offset": 0, "length": 12, "url": "http://telegram.org/"}]),
    ("<a>telegram.org </a>", "telegram.org ", []),
    ("<i>a</    >", "a", [{"type": "italic", "offset": 0, "length": 1}]),
    ("<i    aba  =  190azAz-.>a</i>", "a", [{"type": "italic", "offset": 0, "length": 1}]),
])
def test_html_entities_match_tdlib(html, text, entities):
    assert parse_html(html) == (text, entities)


async def test_raw_http_json_body_unknown_method_and_offsets(tg):
    def post(method: str, payload: dict, token: str = TOKEN) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{tg.base_url}{token}/{method}", data=json.dumps(payload).encode(),
            headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.load(error)

    assert await asyncio.to_thread(post, "sendMessage", {"chat_id": ADA, "text": "hi"}) == (
        200, {"ok": True, "result": {
            "message_id": 1, "date": tg.messages(ADA)[0].date,
            "from": {"id": 123, "is_bot": True, "first_name": "ML Tutor",
                     "username": "ml_tutor_test_bot"},
            "chat": {"id": ADA, "type": "private", "first_name": "Ada", "username": "ada"},
            "text": "hi"}})
    assert await asyncio.to_thread(post, "fooBar", {}) == (
        404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert await asyncio.to_thread(post, "getMe", {}, "1:bad") == (
        401, {"ok": False, "error_code": 401, "description": "Unauthorized"})

    first = tg.user(ADA).send_text("one")["update_id"]
    tg.user(ADA).send_location(51.5, -0.1)
    _, body = await asyncio.to_thread(post, "getUpdates", {"limit": 1})
    assert [u["update_id"] for u in body["result"]] == [first]
    _, body = await asyncio.to_thread(post, "getUpdates", {"offset": first + 1})
    assert [u["message"]["location"] for u in body["result"]] == [
        {"latitude": 51.5, "longitude": -0.1}]
    started = time.monotonic()
    _, body = await asyncio.to_thread(post, "getUpdates",
                                      {"offset": first + 2, "timeout": 0.2})
    assert body["result"] == [] and time.monotonic() - started >= 0.2

    await asyncio.to_thread(post, "setWebhook", {"url": "https://example.org/hook"})
    assert tg.webhook["url"] == "https://example.org/hook"
    status, body = await asyncio.to_thread(post, "getUpdates", {})
    assert status == 409 and "webhook is active" in body["description"]
    await asyncio.to_thread(post, "deleteWebhook", {})
    assert await asyncio.to_thread(post, "getUpdates", {}) == (200, {"ok": True, "result": []})


async def test_every_kind_of_learner_message_reaches_the_bot(tg):
    seen: list[str] = []

    async def anything(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        kinds = [k for k in ("text", "sticker", "photo", "voice", "location", "document")
                 if getattr(message, k)]
        seen.append(kinds[0])
        await message.reply_text(f"got {kinds[0]}", do_quote=True)

    ada = tg.user(ADA)
    async with polling(build_app(tg, MessageHandler(filters.ALL, anything))):
        for send in (lambda: ada.send_text("hi /quiz, please"), ada.send_sticker,
                     ada.send_photo, ada.send_voice, lambda: ada.send_location(1.5, 2.5),
                     lambda: ada.send_document("a.txt", b"abc", "text/plain")):
            send()
        replies = await tg.idle(ADA, quiet=0.2)

    assert seen == ["text", "sticker", "photo", "voice", "location", "document"]
    assert [m.text for m in replies] == [f"got {k}" for k in seen]
    assert all(m.reply_to_message_id for m in replies)
    first_reply = next(p for m, p in tg.calls if m == "sendMessage")
    assert first_reply["reply_parameters"]["message_id"] == replies[0].reply_to_message_id


def test_commands_in_learner_text_get_entities(tg):
    update = tg.user(ADA).send_text("/quiz@ml_tutor_test_bot adam, then /hint")
    assert update["message"]["entities"] == [
        {"type": "bot_command", "offset": 0, "length": 23},
        {"type": "bot_command", "offset": 35, "length": 5}]
    assert "entities" not in tg.user(ADA).send_text("and/or 1/2")["message"]
