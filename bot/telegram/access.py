"""Who may use the bot, how often, and keeping secrets out of the logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable


class AllowList:
    """Telegram user ids allowed to use the bot. Empty means nobody: the bot is private by
    default, and a refused user is told their id so the owner can add it."""

    def __init__(self, user_ids: Iterable[int]) -> None:
        self.user_ids = frozenset(user_ids)

    def allows(self, user_id: int | None) -> bool:
        """True for a listed user."""
        return user_id is not None and user_id in self.user_ids

    @staticmethod
    def refusal(user_id: int | None) -> str:
        """A polite refusal (HTML)."""
        return ("Sorry — this tutor is private. If you run it, add your Telegram user id "
                f"<code>{user_id}</code> to <code>TUTOR_ALLOWED_USERS</code> and restart it.")


class RateLimiter:
    """A token bucket per learner: `per_minute` messages, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = max(1, per_minute)
        self.rate = self.capacity / 60.0
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}

    def allow(self, user_id: int) -> float:
        """0 if the message may go ahead, else how many seconds until it could."""
        now = self.clock()
        tokens, since = self._buckets.get(user_id, (float(self.capacity), now))
        tokens = min(self.capacity, tokens + (now - since) * self.rate)
        if tokens >= 1:
            self._buckets[user_id] = (tokens - 1, now)
            return 0.0
        self._buckets[user_id] = (tokens, now)
        return (1 - tokens) / self.rate


class RedactSecrets(logging.Filter):
    """Replace secrets (the bot token appears in Bot API URLs) in every log record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets masked; never drops a record."""
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            record.msg, record.args = self._mask(message), None
        if record.exc_info and not record.exc_text:
            # Tracebacks can quote request URLs; format now so the cached text is masked.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._mask(record.exc_text)
        return True

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


def redact_logs(*secrets: str) -> RedactSecrets:
    """Install the redacting filter on every root handler (and return it)."""
    flt = RedactSecrets(secrets)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING)
    for handler in root.handlers:
        handler.addFilter(flt)
    return flt
