"""A local fake of the Telegram Bot API, so the real PTB `Application` can be driven offline.

Tests script learners (`tg.user(42).send_text("/quiz")`), the bot long-polls the fake exactly as
it polls Telegram, and everything the bot sends is recorded per chat. Sent text is validated the
way the real server does it (HTML entity parsing, length limits, button data, "message is not
modified"), so formatting bugs fail a test instead of failing in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from telegram.ext import Application

from bot.telegram.app import polling_in_loop

T = TypeVar("T")

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024

# The smallest valid PNG (1×1, transparent): the default picture a learner sends.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


class ApiError(Exception):
    """An error the fake answers with, in Telegram's envelope."""

    def __init__(self, status: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class _Superseded(ApiError):
    """A long poll ended by a newer one. PTB causes this itself when it stops polling (its
    last getUpdates overtakes the cancelled one), so it is answered but not listed in `errors`.
    """


def _bad(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# --- HTML parse mode, after tdlib's parse_html ------------------------------------------------

_SPACE = frozenset(" \t\r\n\v\0")
_ENTITY_TYPE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.\-]*")
# tdlib orders entities at the same place by this priority (bigger ones first).
_PRIORITY = {"blockquote": 0, "expandable_blockquote": 0, "pre": 11, "code": 20,
             "text_link": 49, "bold": 90, "italic": 91, "underline": 92, "strikethrough": 93,
             "spoiler": 94, "custom_emoji": 99}
_URL = re.compile(r"(?i)(?:(https?|tg|ftp)://)?([a-z0-9-]+(?:\.[a-z0-9-]+)*(?::\d+)?)([/?#]\S*)?")


def _decode_entity(text: str, pos: int) -> tuple[str | None, int]:
    """Decode the HTML entity at text[pos] == "&": (character or None, index after it)."""
    end = pos + 1
    if text.startswith("#", end):
        end += 1
        hexa = text.startswith(("x", "X"), end)
        end += hexa
        digits = re.match(r"[0-9a-fA-F]*" if hexa else r"[0-9]*", text[end:]).group()
        end += len(digits)
        if not digits:
            return None, pos
        code = int(digits, 16 if hexa else 10)
        if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None, pos
        char = chr(code)
    else:
        name = re.match(r"[A-Za-z]*", text[end:]).group()
        if name not in _NAMED:
            return None, pos
        end += len(name)
        char = _NAMED[name]
    return char, end + 1 if text.startswith(";", end) else end


def _offset(text: str, i: int) -> int:
    # tdlib reports positions as UTF-8 byte offsets.
    return len(text[:i].encode())


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[dict]]:
    """Parse Telegram's HTML subset into (plain text, Bot API entities).

    Raises `ApiError` 400 with Telegram's "can't parse entities" descriptions. With `strict`, a
    "&" that starts no entity is refused too: the Bot API documentation requires escaping it,
    although the real server lets a bare "&" through.
    """
    out: list[str] = []
    u16 = 0
    stack: list[tuple[str, str, int, int]] = []  # open tags: (name, argument, UTF-16 offset,
    #                                                  index into out)
    entities: list[dict] = []
    i, n = 0, len(text)

    def fail(detail: str) -> ApiError:
        return _bad(f"can't parse entities: {detail}")

    while i < n:
        c = text[i]
        if c == "&":
            char, end = _decode_entity(text, i)
            if char is None:
                if strict:
                    raise fail(f'Character "&" at byte offset {_offset(text, i)} must be '
                               'escaped as "&amp;"')
                char, end = "&", i + 1
            out.append(char)
            u16 += utf16_len(char)
            i = end
            continue
        if c != "<":
            out.append(c)
            u16 += utf16_len(c)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {_offset(text, begin)}")
            j = i + 1
            while j < n and text[j] not in _SPACE and text[j] != ">":
                j += 1
            end_name = text[i + 1:j].lower()
            while j < n and text[j] in _SPACE:
                j += 1
            if j >= n or text[j] != ">":
                raise fail(f"Unclosed end tag at byte offset {_offset(text, begin)}")
            name, arg, start, first = stack.pop()
            if end_name and end_name != name:
                raise fail(f'Unmatched end tag at byte offset {_offset(text, begin)}, '
                           f'expected "</{name}>", found "</{end_name}>"')
            if u16 > start:  # empty entities are dropped, as Telegram does
                _close(entities, name, arg, start, u16 - start, "".join(out[first:]))
            i = j + 1
            continue
        j = i
        while j < n and text[j] not in _SPACE and text[j] != ">":
            j += 1
        if j >= n:
            raise fail(f"Unclosed start tag at byte offset {_offset(text, begin)}")
        name = text[i:j].lower()
        if name not in _ENTITY_TYPE:
            raise fail(f'Unsupported start tag "{name}" at byte offset {_offset(text, begin)}')
        arg, j = _attributes(text, j, name, _offset(text, begin), fail)
        if name == "span" and arg != "spoiler":
            raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset '
                       f"{_offset(text, begin)}")
        stack.append((name, arg, u16, len(out)))
        i = j + 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":  # a language only survives on a pre
            entity.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"], _PRIORITY[e["type"]]))
    return "".join(out), entities


def _attributes(text: str, j: int, tag: str, where: int,
                fail: Callable[[str], ApiError]) -> tuple[str, int]:
    """Read a start tag's attributes from text[j]; return (the tag's argument, index of ">")."""
    n = len(text)
    arg = ""
    while True:
        while j < n and text[j] in _SPACE:
            j += 1
        if j >= n:
            raise fail(f"Unclosed start tag at byte offset {where}")
        if text[j] == ">":
            return arg, j
        start = j
        while j < n and text[j] not in _SPACE and text[j] not in "=>":
            j += 1
        attr = text[start:j].lower()
        if not attr:
            raise fail(f'Empty attribute name in the tag "{tag}" at byte offset {where}')
        while j < n and text[j] in _SPACE:
            j += 1
        if j >= n or text[j] != "=":
            if tag == "blockquote" and attr == "expandable":
                arg = "expandable"
                continue
            raise fail(f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                       f"at byte offset {where}")
        j += 1
        while j < n and text[j] in _SPACE:
            j += 1
        if j >= n:
            raise fail(f'Unclosed start tag "{tag}" at byte offset {where}')
        if text[j] in "'\"":
            quote, j, chars = text[j], j + 1, []
            while j < n and text[j] != quote:
                char, end = _decode_entity(text, j) if text[j] == "&" else (None, j)
                if char is None:  # attribute values keep a bare "&", as Telegram's do
                    char, end = text[j], j + 1
                chars.append(char)
                j = end
            value = "".join(chars)
            j += 1
        else:
            value = _NAME_TOKEN.match(text, j).group()
            if j + len(value) < n and text[j + len(value)] not in _SPACE | {">"}:
                raise fail(f"Unexpected end of name token at byte offset {_offset(text, j)}")
            j += len(value)
            value = value.lower()
        if j >= n:
            raise fail(f"Unclosed start tag at byte offset {where}")
        if tag == "a" and attr == "href":
            arg = value
        elif tag == "code" and attr == "class" and value.startswith("language-"):
            arg = value[len("language-"):]
        elif tag == "span" and attr == "class" and value.startswith("tg-"):
            arg = value[len("tg-"):]
        elif tag == "tg-emoji" and attr == "emoji-id":
            arg = value


def _close(entities: list[dict], name: str, arg: str, offset: int, length: int,
           inner: str) -> None:
    """Add the Bot API entity of a closed tag around `inner`, as tdlib does."""
    entity: dict[str, Any] = {"type": _ENTITY_TYPE[name], "offset": offset, "length": length}
    if name == "a":
        url = _normalise_url(arg or inner)  # <a> without href links its own text
        if url is None:
            return  # an invalid link is dropped silently, leaving plain text
        entity["url"] = url
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = arg
    elif name == "blockquote" and arg:
        entity["type"] = "expandable_blockquote"
    elif name == "code" and arg:
        entity["language"] = arg  # only kept if a pre of the same span takes it (below)
    last = entities[-1] if entities else {}
    if {name, last.get("type")} == {"pre", "code"} and \
            (last["offset"], last["length"]) == (offset, length):
        # <pre><code class="language-x"> (either nesting) is one pre with a language;
        # without a language both entities stay.
        language = entity.get("language") or last.get("language")
        if language:
            entities[-1] = {"type": "pre", "offset": offset, "length": length,
                            "language": language}
            return
    entities.append(entity)


def _normalise_url(url: str) -> str | None:
    """The link Telegram keeps for an <a> tag (scheme and "/" added), or None if invalid."""
    match = _URL.fullmatch(url)
    if match is None or (match.group(1) is None and "." not in match.group(2)):
        return None
    scheme, host, rest = (match.group(1) or "http").lower(), match.group(2), match.group(3) or ""
    if scheme == "tg":
        return url
    return f"{scheme}://{host}{'' if rest.startswith('/') else '/'}{rest}"


def _strip(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Trim surrounding whitespace as Telegram does, moving the entities with the text."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[:len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    moved = []
    for e in entities:
        start = max(e["offset"] - lead, 0)
        end = min(e["offset"] + e["length"] - lead, total)
        if end > start:
            moved.append({**e, "offset": start, "length": end - start})
    return stripped, moved


# --- recorded objects -------------------------------------------------------------------------

@dataclass
class Upload:
    """A file the bot uploaded in a multipart request."""

    filename: str
    mime_type: str
    content: bytes


@dataclass
class StoredFile:
    """A file the fake can serve through getFile and the file download URL."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes | None
    filename: str | None = None
    mime_type: str | None = None


@dataclass
class MessageVersion:
    """An earlier state of a bot message, before an edit (`text`/`html` hold the caption of a
    photo or document)."""

    text: str | None
    html: str | None
    entities: list[dict]
    reply_markup: dict | None


@dataclass
class BotMessage:
    """A message the bot sent, as it stands now (edits applied).

    `text` is the plain text a user sees (after entity parsing), `html` the raw text the bot
    sent, `caption`/`caption_html` the same for media. `photo`/`document` hold uploaded bytes
    (None when sent by URL). `edits` lists the earlier versions, oldest first.
    """

    message_id: int
    chat_id: int
    kind: str  # "text", "photo" or "document"
    date: int
    text: str | None = None
    html: str | None = None
    parse_mode: str | None = None
    entities: list[dict] = field(default_factory=list)
    reply_markup: dict | None = None
    caption: str | None = None
    caption_html: str | None = None
    photo: bytes | None = None
    document: bytes | None = None
    filename: str | None = None
    mime_type: str | None = None
    file: StoredFile | None = None
    reply_to_message_id: int | None = None
    edits: list[MessageVersion] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False

    @property
    def buttons(self) -> list[dict]:
        """The inline keyboard's buttons, row by row, as one flat list."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def describe(self) -> str:
        """One readable line for failure dumps."""
        body = self.text if self.kind == "text" else f"[{self.kind}] {self.caption or ''}"
        line = f"#{self.message_id}: {body!r}"
        if self.buttons:
            line += "  buttons: " + ", ".join(
                f"{b['text']}→{b.get('callback_data', b.get('url'))}" for b in self.buttons)
        if self.edits:
            line += f"  (edited {len(self.edits)}×)"
        return line + ("  (deleted)" if self.deleted else "")


# --- the learner side -------------------------------------------------------------------------

_COMMAND = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")


@dataclass
class FakeUser:
    """A Telegram user in a private chat with the bot (chat id = user id).

    Each sender queues one update for the bot's getUpdates and returns the Update dict.
    """

    server: FakeTelegramServer = field(repr=False)
    id: int
    first_name: str = "Ada"
    username: str | None = None
    language_code: str = "en"

    @property
    def chat_id(self) -> int:
        """The private chat's id."""
        return self.id

    def to_dict(self) -> dict:
        """The Bot API User object."""
        user = {"id": self.id, "is_bot": False, "first_name": self.first_name,
                "language_code": self.language_code}
        if self.username:
            user["username"] = self.username
        return user

    def chat(self) -> dict:
        """The Bot API Chat object of the private chat."""
        chat = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat

    def send_text(self, text: str) -> dict:
        """Send a text message; /commands (also /cmd@botname) get `bot_command` entities."""
        entities = [{"type": "bot_command", "offset": utf16_len(text[:m.start()]),
                     "length": utf16_len(m.group())} for m in _COMMAND.finditer(text)]
        extra = {"entities": entities} if entities else {}
        return self.server.user_message(self, {"text": text, **extra})

    def press(self, message: BotMessage | int, data: str, *, force: bool = False) -> dict:
        """Press the inline button carrying `data` on a bot message (or its message_id).

        Raises ValueError when the message has no such button, unless `force` (a forged or
        stale press, which a real client cannot make).
        """
        message_id = message if isinstance(message, int) else message.message_id
        return self.server.press(self, message_id, data, force=force)

    def send_document(self, filename: str, content: bytes,
                      mime_type: str = "application/octet-stream",
                      caption: str | None = None) -> dict:
        """Send a file; the bot can fetch its bytes through getFile."""
        stored = self.server.store_file("documents", content, filename, mime_type)
        document = {"file_name": filename, "mime_type": mime_type, "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id, "file_size": len(content)}
        extra = {"caption": caption} if caption else {}
        return self.server.user_message(self, {"document": document, **extra})

    def send_photo(self, content: bytes = TINY_PNG, caption: str | None = None) -> dict:
        """Send a photo (a 1×1 PNG unless given)."""
        stored = self.server.store_file("photos", content, None, "image/jpeg")
        width, height = _image_size(content) or (1, 1)
        photo = [{"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                  "width": width, "height": height, "file_size": len(content)}]
        extra = {"caption": caption} if caption else {}
        return self.server.user_message(self, {"photo": photo, **extra})

    def send_sticker(self, emoji: str = "👍") -> dict:
        """Send a static sticker."""
        stored = self.server.store_file("stickers", TINY_PNG, None, "image/webp")
        sticker = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                   "type": "regular", "width": 512, "height": 512, "is_animated": False,
                   "is_video": False, "emoji": emoji, "file_size": len(TINY_PNG)}
        return self.server.user_message(self, {"sticker": sticker})

    def send_voice(self, content: bytes = b"OggS\0fake-voice", duration: int = 1) -> dict:
        """Send a voice message."""
        stored = self.server.store_file("voice", content, None, "audio/ogg")
        voice = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                 "duration": duration, "mime_type": "audio/ogg", "file_size": len(content)}
        return self.server.user_message(self, {"voice": voice})

    def send_location(self, latitude: float, longitude: float) -> dict:
        """Share a location."""
        return self.server.user_message(
            self, {"location": {"latitude": latitude, "longitude": longitude}})


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image; None when it is none of these."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 512, 512  # the fake does not decode WebP headers; any size will do
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data) and data[i] == 0xFF:
            marker, size = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return width, height
            i += 2 + size
    return None


# --- request parsing --------------------------------------------------------------------------

# Form and query values arrive as strings; these fields carry JSON, numbers or booleans.
_JSON_FIELDS = {"reply_markup", "allowed_updates", "entities", "caption_entities", "commands",
                "scope", "link_preview_options", "reply_parameters"}
_INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "user_id", "cache_time",
               "reply_to_message_id", "message_thread_id", "max_connections"}
_BOOL_FIELDS = {"disable_notification", "protect_content", "show_alert",
                "drop_pending_updates", "disable_web_page_preview",
                "allow_sending_without_reply", "disable_content_type_detection"}


def _normalise(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        if isinstance(value, str):
            try:
                if key in _JSON_FIELDS:
                    value = json.loads(value)
                elif key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
                    value = int(value)
                elif key == "timeout":
                    value = float(value)
                elif key in _BOOL_FIELDS:
                    value = value.lower() in ("true", "1")
            except ValueError as exc:
                raise _bad(f"can't parse {key} JSON object") from exc
        out[key] = value
    return out


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Fields of a multipart/form-data body; file parts become `Upload`s."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise _bad("multipart boundary is missing")
    fields: dict[str, Any] = {}
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = dict(line.split(":", 1) for line in head.decode().split("\r\n") if ":" in line)
        headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
        disposition = dict(re.findall(r'(\w+)="([^"]*)"', headers.get("content-disposition", "")))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition:
            fields[name] = Upload(disposition["filename"],
                                  headers.get("content-type", "application/octet-stream"), data)
        else:
            fields[name] = data.decode()
    return fields


# --- the server -------------------------------------------------------------------------------

# Profile settings a bot may make at start-up: recorded in `calls`, answered true.
_RECORD_ONLY = ["setMyDescription", "setMyShortDescription", "setMyName", "setChatMenuButton"]
_METHODS = ["getMe", "getUpdates", "deleteWebhook", "setWebhook", "getWebhookInfo",
            "setMyCommands", "getMyCommands", "deleteMyCommands", "sendMessage",
            "editMessageText", "editMessageReplyMarkup", "deleteMessage", "sendChatAction",
            "sendPhoto", "sendDocument", "answerCallbackQuery", "getFile", "close", "logOut",
            "editMessageCaption", *_RECORD_ONLY]
_CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                 "upload_voice", "upload_document", "choose_sticker", "find_location",
                 "record_video_note", "upload_video_note"}
# Update types getUpdates leaves out unless allowed_updates names them.
_OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
_NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are "
                 "exactly the same as a current content and reply markup of the message")
_DEFAULT_ERRORS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
                   404: "Not Found", 409: "Conflict", 500: "Internal Server Error",
                   502: "Bad Gateway"}


class FakeTelegramServer:
    """A fake Bot API server on 127.0.0.1 in a daemon thread. Use as a context manager.

    Args:
        token: the bot token the server accepts; any other gets 401 Unauthorized.
        bot_username: the bot's username, as getMe reports it.
        bot_first_name: the bot's display name.
        strict_html: refuse a bare "&" in HTML text (the real server lets it through).
    """

    def __init__(self, token: str = "123:ABC", *, bot_username: str = "ml_tutor_test_bot",
                 bot_first_name: str = "ML Tutor", strict_html: bool = True) -> None:
        self.token = token
        self.strict_html = strict_html
        self.bot_user = {"id": int(token.split(":")[0]) if token.split(":")[0].isdigit() else 1,
                         "is_bot": True, "first_name": bot_first_name, "username": bot_username,
                         "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False, "can_connect_to_business": False,
                         "has_main_web_app": False}
        self._cond = threading.Condition()
        self._closed = False
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._pending: deque[dict] = deque()
        self._delivered = 0  # highest update_id any getUpdates has returned
        self._poll_generation = 0
        self._allowed_updates: set[str] | None = None
        self._webhook: dict = {}
        self._users: dict[int, FakeUser] = {}
        self._bot_messages: dict[int, BotMessage] = {}
        self._user_messages: dict[tuple[int, int], dict] = {}
        self._files: dict[str, StoredFile] = {}
        self._queries: dict[str, int] = {}  # open callback query id → chat id
        self._calls: list[tuple[str, dict]] = []
        self._errors: list[tuple[str, dict, int, str]] = []
        self._failures: dict[str, deque[ApiError]] = {}
        self._actions: list[tuple[int, str]] = []
        self._answers: list[dict] = []
        self._commands: dict[tuple[str, str], list[dict]] = {}
        self._last_commands: list[dict] | None = None
        self._activity: dict[int, float] = {}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        # A short poll interval keeps shutdown (and so each test's teardown) quick.
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05}, name="fake-telegram")

    # --- lifecycle and addresses

    @property
    def url(self) -> str:
        """The server's root URL."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)`: PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For `ApplicationBuilder().base_file_url(...)`."""
        return f"{self.url}/file/bot"

    def __enter__(self) -> FakeTelegramServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._closed = True  # release long polls now rather than at their timeout
            self._cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- scripting learners

    def user(self, user_id: int, first_name: str = "Ada", username: str | None = None,
             language_code: str = "en") -> FakeUser:
        """The learner with this id (created on first use); its private chat id is the same."""
        with self._cond:
            if user_id not in self._users:
                self._users[user_id] = FakeUser(self, user_id, first_name, username,
                                                language_code)
            return self._users[user_id]

    def push_update(self, kind: str, payload: dict, chat_id: int | None = None) -> dict:
        """Queue a raw update of any type (e.g. "edited_message") and wake the long poll."""
        with self._cond:
            update = {"update_id": next(self._update_ids), kind: payload}
            self._pending.append(update)
            if chat_id is not None:
                self._activity[chat_id] = time.monotonic()
            self._cond.notify_all()
            return update

    def user_message(self, user: FakeUser, content: dict) -> dict:
        """Queue a message from `user` with the given content fields; return the Update."""
        with self._cond:
            message = {"message_id": next(self._message_ids), "from": user.to_dict(),
                       "chat": user.chat(), "date": int(time.time()), **content}
            self._user_messages[(user.id, message["message_id"])] = message
            return self.push_update("message", message, user.id)

    def press(self, user: FakeUser, message_id: int, data: str, *, force: bool = False) -> dict:
        """Queue a callback query for a button on a bot message; see `FakeUser.press`."""
        with self._cond:
            message = self._bot_messages.get(message_id)
            if message is None or message.chat_id != user.id or message.deleted:
                raise ValueError(f"no bot message #{message_id} in chat {user.id}")
            offered = [b.get("callback_data") for b in message.buttons]
            if data not in offered and not force:
                raise ValueError(f"message #{message_id} has no button with data {data!r}; "
                                 f"it offers {offered}")
            query_id = str(4_000_000_000_000_000 + next(self._query_ids))
            self._queries[query_id] = user.id
            query = {"id": query_id, "from": user.to_dict(), "message": self._json(message),
                     "chat_instance": str(-7_000_000_000 - user.id), "data": data}
            return self.push_update("callback_query", query, user.id)

    def store_file(self, folder: str, content: bytes | None, filename: str | None,
                   mime_type: str | None) -> StoredFile:
        """Keep bytes downloadable through getFile; return their record."""
        with self._cond:
            n = next(self._file_ids)
            suffix = "." + filename.rsplit(".", 1)[-1] if filename and "." in filename else ""
            stored = StoredFile(f"BQACAgIAAxkBAAI{n:06d}fake", f"AgAD{n:04d}",
                                f"{folder}/file_{n}{suffix}", content, filename, mime_type)
            self._files[stored.file_id] = stored
            return stored

    def fail_next(self, method: str, status: int = 500, description: str | None = None,
                  retry_after: int | None = None) -> None:
        """Make the next call of `method` fail; `retry_after` makes it a 429 flood error."""
        if retry_after is not None:
            status = 429
            description = description or f"Too Many Requests: retry after {retry_after}"
        error = ApiError(status, description or _DEFAULT_ERRORS.get(status, "Error"),
                         {"retry_after": retry_after} if retry_after is not None else None)
        with self._cond:
            self._failures.setdefault(method.lower(), deque()).append(error)

    # --- what the bot did

    @property
    def calls(self) -> list[tuple[str, dict]]:
        """Every API call as (method, params), in order; uploads appear as `Upload`s."""
        with self._cond:
            return list(self._calls)

    @property
    def errors(self) -> list[tuple[str, dict, int, str]]:
        """Every call answered with an error, as (method, params, status, description)."""
        with self._cond:
            return list(self._errors)

    @property
    def commands(self) -> list[dict] | None:
        """The command list of the last setMyCommands call (None before any)."""
        with self._cond:
            return self._last_commands

    @property
    def callback_answers(self) -> list[dict]:
        """The params of every successful answerCallbackQuery, in order."""
        with self._cond:
            return list(self._answers)

    @property
    def open_callback_queries(self) -> list[str]:
        """Ids of button presses the bot has not answered (the user's spinner keeps turning)."""
        with self._cond:
            return list(self._queries)

    @property
    def webhook(self) -> dict:
        """The params of the last setWebhook ({} when none is set)."""
        with self._cond:
            return dict(self._webhook)

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """The bot's messages to a chat, oldest first, with edits applied."""
        with self._cond:
            return [m for m in self._bot_messages.values()
                    if m.chat_id == chat_id and (include_deleted or not m.deleted)]

    def chat_actions(self, chat_id: int) -> list[str]:
        """The chat actions ("typing", …) sent to a chat, in order."""
        with self._cond:
            return [action for chat, action in self._actions if chat == chat_id]

    def dump(self, chat_id: int | None = None) -> str:
        """A readable account of what the bot sent (to one chat or all) and which calls failed."""
        with self._cond:
            chats = [chat_id] if chat_id is not None else sorted(
                {m.chat_id for m in self._bot_messages.values()})
            lines = []
            for chat in chats:
                sent = [m for m in self._bot_messages.values() if m.chat_id == chat]
                lines.append(f"chat {chat}: {len(sent)} message(s)")
                lines += ["  " + m.describe() for m in sent]
            lines += [f"  error: {method} → {status} {desc}"
                      for method, params, status, desc in self._errors
                      if chat_id is None or params.get("chat_id") == chat_id]
            return "\n".join(lines) or "the bot sent nothing"

    # --- waiting, for async tests

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        """Poll `predicate()` without blocking the event loop; return its first truthy value.

        Raises AssertionError with a dump of everything sent if it stays falsy for `timeout`s.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s\n{self.dump()}")
            await asyncio.sleep(0.01)

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10.0, *,
                                since: int = 0) -> list[BotMessage]:
        """Wait until the chat holds `count` bot messages after the first `since`; return those.

        Raises AssertionError listing what the chat did receive on timeout.
        """
        deadline = time.monotonic() + timeout
        while True:
            sent = self.messages(chat_id)[since:]
            if len(sent) >= count:
                return sent
            if time.monotonic() >= deadline:
                raise AssertionError(f"expected {count} message(s) in chat {chat_id} within "
                                     f"{timeout}s, got {len(sent)}\n{self.dump(chat_id)}")
            await asyncio.sleep(0.01)

    async def idle(self, chat_id: int, quiet: float = 0.3, timeout: float = 10.0
                   ) -> list[BotMessage]:
        """Wait until the bot has fetched the chat's updates and then been silent there for
        `quiet` seconds (no message, edit, deletion, chat action or callback answer); return
        the chat's messages.
        """
        start = time.monotonic()
        while True:
            with self._cond:
                undelivered = any(u["update_id"] > self._delivered
                                  and _chat_of(u) == chat_id for u in self._pending)
                last = max(self._activity.get(chat_id, 0.0), start)
            now = time.monotonic()
            if not undelivered and now - last >= quiet:
                return self.messages(chat_id)
            if now - start >= timeout:
                raise AssertionError(f"chat {chat_id} still busy after {timeout}s"
                                     f"{' (updates not fetched)' if undelivered else ''}\n"
                                     f"{self.dump(chat_id)}")
            await asyncio.sleep(0.02)

    # --- HTTP entry point

    def handle(self, path: str, content_type: str, body: bytes) -> tuple[int, bytes, str]:
        """Answer one HTTP request, GET or POST alike as Telegram does: (status, body, type)."""
        parts = urlsplit(path)
        route = unquote(parts.path)
        if route.startswith("/file/bot"):
            return self._download(route.removeprefix("/file/bot"))
        if not route.startswith("/bot"):
            return _envelope_error(ApiError(404, "Not Found"))
        token, _, method = route.removeprefix("/bot").partition("/")
        if token != self.token:
            return _envelope_error(ApiError(401, "Unauthorized"))
        canonical = {m.lower(): m for m in _METHODS}.get(method.lower())
        if canonical is None:
            return _envelope_error(ApiError(404, "Not Found"))
        params: dict[str, Any] = {}
        try:
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            params.update(self._body_params(content_type, body))
            params = _normalise(params)
        except ApiError as error:
            return self._failed(canonical, params, error)
        with self._cond:
            self._calls.append((canonical, params))
            queued = self._failures.get(canonical.lower())
            injected = queued.popleft() if queued else None
        if injected:
            return self._failed(canonical, params, injected)
        try:
            api = getattr(self, f"_api_{canonical.lower()}", None)
            result = api(params) if api else True  # a record-only setting
        except ApiError as error:
            return self._failed(canonical, params, error)
        except Exception as exc:  # a bug in the fake: answer 500 and list it in `errors`
            return self._failed(canonical, params,
                                ApiError(500, f"Internal Server Error: the fake failed: {exc!r}"))
        return 200, json.dumps({"ok": True, "result": result}).encode(), "application/json"

    @staticmethod
    def _body_params(content_type: str, body: bytes) -> dict[str, Any]:
        kind = content_type.split(";")[0].strip().lower()
        if not body:
            return {}
        if kind == "application/json":
            try:
                parsed = json.loads(body)
            except ValueError as exc:
                raise _bad("can't parse JSON object") from exc
            if not isinstance(parsed, dict):
                raise _bad("JSON object expected")
            return parsed
        if kind == "multipart/form-data":
            return _parse_multipart(body, content_type)
        return {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}

    def _failed(self, method: str, params: dict, error: ApiError) -> tuple[int, bytes, str]:
        if not isinstance(error, _Superseded):
            with self._cond:
                self._errors.append((method, params, error.status, error.description))
        return _envelope_error(error)

    def _download(self, rest: str) -> tuple[int, bytes, str]:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return _envelope_error(ApiError(401, "Unauthorized"))
        with self._cond:
            stored = next((f for f in self._files.values() if f.file_path == file_path), None)
        if stored is None or stored.content is None:
            return _envelope_error(ApiError(404, "Not Found"))
        return 200, stored.content, stored.mime_type or "application/octet-stream"

    # --- Bot API methods (each takes the normalised params and returns the result)

    def _api_getme(self, p: dict) -> dict:
        return self.bot_user

    def _api_close(self, p: dict) -> bool:
        return True

    def _api_logout(self, p: dict) -> bool:
        return True

    def _api_getupdates(self, p: dict) -> list[dict]:
        offset = int(p.get("offset") or 0)
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + max(float(p.get("timeout") or 0), 0.0)
        with self._cond:
            if self._webhook.get("url"):
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                    "active; use deleteWebhook to delete the webhook first")
            if "allowed_updates" in p:
                self._allowed_updates = set(p["allowed_updates"] or []) or None
            if offset > 0:  # confirms (forgets) every earlier update
                while self._pending and self._pending[0]["update_id"] < offset:
                    self._pending.popleft()
            elif offset < 0:
                while len(self._pending) > -offset:
                    self._pending.popleft()
            # A newer getUpdates ends an older one still waiting, as on Telegram.
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            while True:
                self._drop_unwanted()
                if self._pending or self._closed:
                    break
                if generation != self._poll_generation:
                    raise _Superseded(409, "Conflict: terminated by other getUpdates request; "
                                           "make sure that only one bot instance is running")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch = list(itertools.islice(self._pending, limit))
            if batch:
                self._delivered = max(self._delivered, batch[-1]["update_id"])
                now = time.monotonic()
                for update in batch:
                    chat = _chat_of(update)
                    if chat is not None:
                        self._activity[chat] = now
            return batch

    def _drop_unwanted(self) -> None:
        """Discard queued updates of types the bot did not ask for, as Telegram does."""

        def wanted(update: dict) -> bool:
            kind = next(k for k in update if k != "update_id")
            if self._allowed_updates:
                return kind in self._allowed_updates
            return kind not in _OPT_IN_UPDATES

        if not all(map(wanted, self._pending)):
            self._pending = deque(filter(wanted, self._pending))

    def _api_setwebhook(self, p: dict) -> bool:
        with self._cond:
            self._webhook = {k: v for k, v in p.items() if not isinstance(v, Upload)} \
                if p.get("url") else {}
            if p.get("drop_pending_updates"):
                self._pending.clear()
        return True

    def _api_deletewebhook(self, p: dict) -> bool:
        with self._cond:
            self._webhook = {}
            if p.get("drop_pending_updates"):
                self._pending.clear()
        return True

    def _api_getwebhookinfo(self, p: dict) -> dict:
        with self._cond:
            info = {"url": self._webhook.get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self._pending)}
            if self._webhook.get("allowed_updates"):
                info["allowed_updates"] = self._webhook["allowed_updates"]
            return info

    @staticmethod
    def _scope_key(p: dict) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), p.get("language_code") or ""

    def _api_setmycommands(self, p: dict) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise _bad("parameter \"commands\" is required")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
        with self._cond:
            self._commands[self._scope_key(p)] = commands
            self._last_commands = commands
        return True

    def _api_getmycommands(self, p: dict) -> list[dict]:
        with self._cond:
            return self._commands.get(self._scope_key(p), [])

    def _api_deletemycommands(self, p: dict) -> bool:
        with self._cond:
            self._commands.pop(self._scope_key(p), None)
        return True

    def _api_sendchataction(self, p: dict) -> bool:
        chat_id = self._chat(p)
        if p.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        with self._cond:
            self._actions.append((chat_id, p["action"]))
            self._activity[chat_id] = time.monotonic()
        return True

    def _api_sendmessage(self, p: dict) -> dict:
        chat_id = self._chat(p)
        if "text" not in p:
            raise _bad("message text is empty")
        text, entities = self._format(str(p["text"]), p)
        markup = _check_markup(p.get("reply_markup"))
        message = BotMessage(0, chat_id, "text", int(time.time()), text=text, html=str(p["text"]),
                             parse_mode=p.get("parse_mode"), entities=entities,
                             reply_markup=markup)
        return self._record(message, p)

    def _api_sendphoto(self, p: dict) -> dict:
        chat_id = self._chat(p)
        stored, content = self._input_file(p.get("photo"), "photos")
        size = _image_size(content) if content is not None else (800, 600)
        if size is None:
            raise _bad("IMAGE_PROCESS_FAILED")
        message = BotMessage(0, chat_id, "photo", int(time.time()), photo=content, file=stored,
                             reply_markup=_check_markup(p.get("reply_markup")),
                             mime_type=stored.mime_type, filename=stored.filename)
        self._caption(message, p)
        return self._record(message, p, size)

    def _api_senddocument(self, p: dict) -> dict:
        chat_id = self._chat(p)
        stored, content = self._input_file(p.get("document"), "documents")
        message = BotMessage(0, chat_id, "document", int(time.time()), document=content,
                             file=stored, filename=stored.filename, mime_type=stored.mime_type,
                             reply_markup=_check_markup(p.get("reply_markup")))
        self._caption(message, p)
        return self._record(message, p)

    def _api_editmessagetext(self, p: dict) -> dict | bool:
        message = self._target(p, "message to edit not found")
        if message.kind != "text":
            raise _bad("there is no text in the message to edit")
        if "text" not in p:
            raise _bad("message text is empty")
        text, entities = self._format(str(p["text"]), p)
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        markup = _check_markup(p.get("reply_markup"))
        with self._cond:
            if (text, entities, markup) == (message.text, message.entities,
                                            message.reply_markup):
                raise _bad(_NOT_MODIFIED)
            message.edits.append(MessageVersion(message.text, message.html, message.entities,
                                                message.reply_markup))
            message.text, message.html, message.entities = text, str(p["text"]), entities
            message.parse_mode, message.reply_markup = p.get("parse_mode"), markup
            return self._edited(message)

    def _api_editmessagecaption(self, p: dict) -> dict | bool:
        message = self._target(p, "message to edit not found")
        if message.kind == "text":
            raise _bad("there is no caption in the message to edit")
        raw = str(p.get("caption") or "")
        caption, entities = self._format(raw, p, caption=True) if raw else ("", [])
        markup = _check_markup(p.get("reply_markup"))
        with self._cond:
            if (caption or None, entities, markup) == (message.caption, message.entities,
                                                      message.reply_markup):
                raise _bad(_NOT_MODIFIED)
            message.edits.append(MessageVersion(message.caption, message.caption_html,
                                                message.entities, message.reply_markup))
            message.caption, message.caption_html = caption or None, raw or None
            message.entities, message.reply_markup = entities, markup
            message.parse_mode = p.get("parse_mode")
            return self._edited(message)

    def _api_editmessagereplymarkup(self, p: dict) -> dict | bool:
        message = self._target(p, "message to edit not found")
        markup = _check_markup(p.get("reply_markup"))
        with self._cond:
            if markup == message.reply_markup:
                raise _bad(_NOT_MODIFIED)
            message.edits.append(MessageVersion(message.text, message.html, message.entities,
                                                message.reply_markup))
            message.reply_markup = markup
            return self._edited(message)

    def _api_deletemessage(self, p: dict) -> bool:
        chat_id = self._chat(p)
        message_id = p.get("message_id")
        with self._cond:
            bot_message = self._bot_messages.get(message_id)
            if bot_message is not None and bot_message.chat_id == chat_id \
                    and not bot_message.deleted:
                bot_message.deleted = True
            elif self._user_messages.pop((chat_id, message_id), None) is None:
                raise _bad("message to delete not found")
            self._activity[chat_id] = time.monotonic()
        return True

    def _api_answercallbackquery(self, p: dict) -> bool:
        with self._cond:
            chat_id = self._queries.pop(str(p.get("callback_query_id")), None)
            if chat_id is None:
                raise _bad("query is too old and response timeout expired or query ID is "
                           "invalid")
            self._answers.append(p)
            self._activity[chat_id] = time.monotonic()
        return True

    def _api_getfile(self, p: dict) -> dict:
        with self._cond:
            stored = self._files.get(str(p.get("file_id")))
        if stored is None:
            raise _bad("invalid file_id")
        size = len(stored.content or b"")
        if size > MAX_DOWNLOAD:
            raise _bad("file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": size, "file_path": stored.file_path}

    # --- helpers of the methods

    def _chat(self, p: dict) -> int:
        chat_id = p.get("chat_id")
        with self._cond:
            if chat_id not in self._users:
                raise _bad("chat not found")
        return chat_id

    def _format(self, raw: str, p: dict, *, caption: bool = False) -> tuple[str, list[dict]]:
        """Parse text or a caption by parse_mode and check it as Telegram does."""
        mode = p.get("parse_mode") or ""
        given = p.get("caption_entities" if caption else "entities")
        if given:
            text, entities = raw, list(given)
        elif mode.lower() == "html":
            text, entities = parse_html(raw, strict=self.strict_html)
        elif mode.lower() in ("", "markdown", "markdownv2"):
            text, entities = raw, []  # Markdown is recorded unparsed; the bot uses HTML
        else:
            raise _bad("unsupported parse_mode")
        text, entities = _strip(text, entities)
        if caption:
            if utf16_len(text) > MAX_CAPTION:
                raise _bad("message caption is too long")
        elif not text:
            raise _bad("message text is empty")
        elif utf16_len(text) > MAX_TEXT:
            raise _bad("message is too long")
        return text, entities

    def _caption(self, message: BotMessage, p: dict) -> None:
        if p.get("caption"):
            message.caption_html = str(p["caption"])
            message.caption, message.entities = self._format(message.caption_html, p,
                                                             caption=True)
            message.parse_mode = p.get("parse_mode")

    def _input_file(self, value: Any, folder: str) -> tuple[StoredFile, bytes | None]:
        """An uploaded file, a known file_id, or a URL (kept without content)."""
        if isinstance(value, Upload):
            if not value.content:
                raise _bad("file must be non-empty")
            stored = self.store_file(folder, value.content, value.filename, value.mime_type)
            return stored, value.content
        with self._cond:
            known = self._files.get(str(value))
        if known is not None:
            return known, known.content
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self.store_file(folder, None, value.rsplit("/", 1)[-1], None), None
        raise _bad("wrong file identifier/HTTP URL specified")

    def _target(self, p: dict, missing: str) -> BotMessage:
        if p.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat_id = self._chat(p)
        with self._cond:
            message = self._bot_messages.get(p.get("message_id"))
        if message is None or message.chat_id != chat_id or message.deleted:
            raise _bad(missing)
        return message

    def _record(self, message: BotMessage, p: dict, size: tuple[int, int] | None = None) -> dict:
        reply = p.get("reply_parameters") or {}
        reply_to = reply.get("message_id", p.get("reply_to_message_id"))
        lenient = reply.get("allow_sending_without_reply",
                            p.get("allow_sending_without_reply", False))
        with self._cond:
            if reply_to is not None and self._message_json(message.chat_id, reply_to) is None:
                if not lenient:
                    raise _bad("message to be replied not found")
                reply_to = None
            message.message_id = next(self._message_ids)
            message.reply_to_message_id = reply_to
            self._bot_messages[message.message_id] = message
            self._activity[message.chat_id] = time.monotonic()
            return self._json(message, size)

    def _edited(self, message: BotMessage) -> dict:
        message.edit_date = int(time.time())
        self._activity[message.chat_id] = time.monotonic()
        return self._json(message)

    def _message_json(self, chat_id: int, message_id: int) -> dict | None:
        bot_message = self._bot_messages.get(message_id)
        if bot_message is not None and bot_message.chat_id == chat_id and not bot_message.deleted:
            return self._json(bot_message)
        return self._user_messages.get((chat_id, message_id))

    def _json(self, m: BotMessage, size: tuple[int, int] | None = None) -> dict:
        """The Bot API Message object of a bot message."""
        sender = {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        data: dict[str, Any] = {"message_id": m.message_id, "from": sender,
                                "chat": self._users[m.chat_id].chat(), "date": m.date}
        if m.edit_date:
            data["edit_date"] = m.edit_date
        if m.kind == "text":
            data["text"] = m.text
            if m.entities:
                data["entities"] = m.entities
        else:
            stored = m.file
            if m.kind == "photo":
                width, height = size or _image_size(m.photo or b"") or (800, 600)
                data["photo"] = [{"file_id": stored.file_id,
                                  "file_unique_id": stored.file_unique_id, "width": width,
                                  "height": height, "file_size": len(m.photo or b"")}]
            else:
                data["document"] = {"file_id": stored.file_id,
                                    "file_unique_id": stored.file_unique_id,
                                    "file_name": m.filename, "mime_type": m.mime_type,
                                    "file_size": len(m.document or b"")}
            if m.caption:
                data["caption"] = m.caption
                if m.entities:
                    data["caption_entities"] = m.entities
        if m.reply_to_message_id is not None:
            replied = self._message_json(m.chat_id, m.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = replied
        # Only inline keyboards belong to the message; reply keyboards are not echoed back.
        if m.reply_markup and "inline_keyboard" in m.reply_markup:
            data["reply_markup"] = m.reply_markup
        return data


def _chat_of(update: dict) -> int | None:
    """The chat an update belongs to, if any."""
    kind, body = next((k, v) for k, v in update.items() if k != "update_id")
    message = body.get("message") or {} if kind == "callback_query" else body
    return (message.get("chat") or {}).get("id")


def _check_markup(markup: Any) -> dict | None:
    """Validate an inline keyboard as Telegram does; return the markup without null fields."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup  # reply keyboards and keyboard removal are accepted as they are
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of '
                   "Arrays")
    clean_rows = []
    for row in rows:
        clean_row = []
        for button in row:
            if not isinstance(button, dict):
                raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be "
                           "an Object")
            button = {k: v for k, v in button.items() if v is not None}
            if not button.get("text"):
                raise _bad("can't parse inline keyboard button: Text must be non-empty")
            if len(button) == 1:
                raise _bad("can't parse inline keyboard button: Text buttons are unallowed in "
                           "the inline keyboard")
            if "callback_data" in button and not (
                    1 <= len(str(button["callback_data"]).encode()) <= MAX_CALLBACK_DATA):
                raise _bad("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
            clean_row.append(button)
        clean_rows.append(clean_row)
    return {**markup, "inline_keyboard": clean_rows}


def _envelope_error(error: ApiError) -> tuple[int, bytes, str]:
    body: dict[str, Any] = {"ok": False, "error_code": error.status,
                            "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return error.status, json.dumps(body).encode(), "application/json"


def _make_handler(server: FakeTelegramServer) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to the fake."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as PTB's connection pool expects

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _read_body(self) -> bytes:
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("content-length") or 0))

        def _serve(self) -> None:
            body = self._read_body()
            try:
                status, payload, content_type = server.handle(
                    self.path, self.headers.get("content-type", ""), body)
            except Exception as exc:  # a bug in the fake must reach the test, not kill a thread
                status, payload, content_type = _envelope_error(
                    ApiError(500, f"Internal Server Error: the fake failed: {exc!r}"))
            try:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (a cancelled long poll at shutdown): nobody to answer.
                self.close_connection = True

    return Handler


def polling(app: Application,
            timeout: float = 1.0) -> contextlib.AbstractAsyncContextManager[Application]:
    """Run a PTB Application's long polling for the duration of the block, then stop it cleanly
    (the bot's own `polling_in_loop`).

    `timeout` is the long-poll timeout in seconds. Updates arrive at once whatever it is; it
    only sets how often an idle bot polls again (each poll is one getUpdates in `tg.calls`).
    """
    return polling_in_loop(app, timeout)
