"""Build and run the Telegram bot: long polling by default, a webhook when configured."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from urllib.parse import urlparse

from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from agents.service import Tutor
from bot.settings import Settings
from bot.telegram.access import redact_logs
from bot.telegram.front import TelegramFront
from bot.telegram.ordering import PerChatOrder

log = logging.getLogger(__name__)


def build_application(settings: Settings,
                      tutor_factory: Callable[[], AbstractAsyncContextManager[Tutor]]
                      ) -> Application:
    """A PTB application wired to the tutor; the tutor opens in post_init, closes at shutdown."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    token = settings.telegram_bot_token.get_secret_value()
    redact_logs(token, *(s.get_secret_value() for s in (settings.anthropic_api_key,
                                                         settings.telegram_webhook_secret) if s))
    front = TelegramFront(settings, tutor_factory)
    base_url, file_url = settings.telegram_urls
    app = (ApplicationBuilder().token(token).base_url(base_url).base_file_url(file_url)
           .concurrent_updates(PerChatOrder())
           .post_init(front.startup).post_shutdown(front.shutdown)
           .build())
    front.register(app)
    return app


@contextlib.asynccontextmanager
async def polling_in_loop(app: Application, timeout: float = 10.0) -> AsyncIterator[Application]:
    """Run `app` with long polling inside an already running event loop (tests, benchmarks), in
    run_polling's order: the tutor opens before updates flow and closes after the last
    update's handler has finished."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=timeout)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


def run(settings: Settings, tutor_factory: Callable[[], AbstractAsyncContextManager[Tutor]]
        ) -> None:
    """Run until interrupted: a webhook server if TELEGRAM_WEBHOOK_URL is set, else polling."""
    app = build_application(settings, tutor_factory)
    if settings.telegram_webhook_url:
        url = settings.telegram_webhook_url
        secret = settings.telegram_webhook_secret
        log.info("Telegram webhook mode: listening on %s:%s for %s",
                    settings.telegram_webhook_listen, settings.telegram_webhook_port, url)
        app.run_webhook(listen=settings.telegram_webhook_listen,
                        port=settings.telegram_webhook_port,
                        url_path=urlparse(url).path.lstrip("/"), webhook_url=url,
                        secret_token=secret.get_secret_value() if secret else None,
                        allowed_updates=Update.ALL_TYPES)
    else:
        log.info("Telegram long polling started — press Ctrl+C to stop.")
        app.run_polling(allowed_updates=Update.ALL_TYPES)
