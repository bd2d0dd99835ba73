"""Round-trip time of quiz turns through the real Telegram stack, offline.

The real PTB Application and our handlers run against the local fake Bot API server (the same
one the tests use); the learner's message goes out through long polling and the timer stops
when the bot's reply is recorded. `python -m evals.bench_telegram`; `make bench` prints it too.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from bot.settings import Settings
from bot.telegram.app import build_application, polling_in_loop
from bot.wiring import open_tutor
from evals.common import EVAL_INDEX_DIR, embedder, knowledge
from tests.fakes.telegram_server import FakeTelegramServer

TOKEN = "1:bench"
LEARNER = 7
# (topic, answer): a complete-ish answer, so every turn runs the full grade path.
TURNS = [
    ("batch norm", "BatchNorm normalizes each feature over the examples of the batch; LayerNorm "
     "normalizes each example over its features. Both then apply a learned scale and shift."),
    ("dropout", "Dropout zeroes each activation with probability p during training and rescales "
     "the rest by 1/(1-p), so nothing changes at inference; it stops co-adaptation."),
    ("adam", "Adam keeps moving averages of the gradient and of its square, bias-corrects them "
     "and divides the step by the square root of the second moment plus epsilon."),
    ("precision and recall", "Precision is TP/(TP+FP), the share of predicted positives that "
     "are right; recall is TP/(TP+FN), the share of actual positives found."),
    ("kv cache", "The KV cache stores the keys and values of past tokens so each decoding step "
     "only computes attention for the new token, trading memory for speed."),
]


async def _reply_after(tg: FakeTelegramServer, text: str, needle: str) -> float:
    """Seconds from the learner sending `text` to the first bot message containing `needle`."""
    seen = len(tg.messages(LEARNER))
    start = time.perf_counter()
    tg.user(LEARNER).send_text(text)
    await tg.wait_for(lambda: any(needle in (m.text or "") for m in tg.messages(LEARNER)[seen:]),
                      timeout=120)
    return time.perf_counter() - start


async def quiz_turns() -> dict[str, list[float]]:
    """Per turn: seconds for the question to arrive, and for the grade to arrive."""
    knowledge()  # the cached curriculum index, built once
    timings: dict[str, list[float]] = {"question": [], "grade": []}
    with tempfile.TemporaryDirectory() as data, FakeTelegramServer(token=TOKEN) as tg:
        settings = Settings(TUTOR_DATA_DIR=Path(data), TUTOR_CHROMA=str(EVAL_INDEX_DIR / "chroma"),
                            TELEGRAM_BASE_URL=tg.base_url, TUTOR_ALLOWED_USERS=str(LEARNER),
                            TUTOR_RATE_LIMIT_PER_MINUTE=1000)
        settings = settings.model_copy(update={"telegram_bot_token": SecretStr(TOKEN),
                                               "anthropic_api_key": None})
        app = build_application(settings, lambda: open_tutor(settings, embedder=embedder(),
                                                             progress=False))
        async with polling_in_loop(app, timeout=1):
            await _reply_after(tg, "/help", "Commands")  # warm-up: first-call costs
            for topic, answer in TURNS:
                timings["question"].append(await _reply_after(tg, f"/quiz {topic}", "Question"))
                timings["grade"].append(await _reply_after(tg, answer, "Score"))
    return timings


def summary_lines(timings: dict[str, list[float]]) -> list[tuple[str, str]]:
    """(what, median ms) rows for the bench table."""
    whole = [q + g for q, g in zip(timings["question"], timings["grade"], strict=True)]

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.0f} ms"

    return [("Telegram: /quiz → question (median)", ms(timings["question"])),
            ("Telegram: answer → grade (median)", ms(timings["grade"])),
            ("Telegram: one quiz turn, both legs (median)", ms(whole))]


def main() -> None:
    """Print the figures."""
    for what, value in summary_lines(asyncio.run(quiz_turns())):
        print(f"{what}: {value}")


if __name__ == "__main__":
    main()
