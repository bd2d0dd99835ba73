"""Telegram formatting and access helpers: every reply parses, fits, and keeps secrets out."""

from __future__ import annotations

import io
import logging

from bot.telegram.access import AllowList, RateLimiter, RedactSecrets
from bot.telegram.format import LIMIT, escape, markdown_messages, markdown_to_html, split_text
from bot.telegram.render import render_grade, render_question, render_summary
from tests.fakes.telegram_server import parse_html, utf16_len

HOSTILE = "if a < b && c > d then x_i = <b>5</b> & y_2 **σ²** `code <tag> & more` </pre> &amp;"


def plain(html: str) -> str:
    """What Telegram would show; raises like Telegram if the HTML does not parse."""
    text, _ = parse_html(html, strict=True)
    return text


def test_escaping_keeps_special_characters_literal():
    assert plain(escape(HOSTILE)) == HOSTILE
    shown = plain(markdown_to_html(HOSTILE))
    assert "a < b && c > d" in shown and "<b>5</b>" in shown and "&amp;" in shown
    assert "code <tag> & more" in shown and "σ²" in shown and "**" not in shown


def test_notes_markdown_becomes_tags():
    html = markdown_to_html("# Adam\n\nUses **m̂/(√v̂ + ε)**.\n\n```python\nx = a<b\n```\nend")
    assert "<b>Adam</b>" in html and "<b>m̂/(√v̂ + ε)</b>" in html
    assert "<pre>x = a&lt;b</pre>" in html
    assert plain(html).endswith("end")


def test_long_text_splits_at_paragraphs_under_the_limit():
    paragraphs = [f"Paragraph {i}: " + "word " * 150 for i in range(40)]  # ~30k characters
    messages = markdown_messages("\n\n".join(paragraphs))
    assert len(messages) > 5
    shown = [plain(m) for m in messages]
    assert all(utf16_len(t) <= LIMIT for t in shown)
    assert all(t.startswith("Paragraph") for t in shown)  # breaks fall between paragraphs
    assert " ".join(shown).split() == " ".join(paragraphs).split()  # nothing lost or reordered


def test_unbreakable_text_is_cut_but_complete():
    pieces = split_text("x" * 9000)
    assert [len(p) for p in pieces] == [LIMIT - 96, LIMIT - 96, 9000 - 2 * (LIMIT - 96)]


def test_grade_question_and_summary_parse_with_hostile_content():
    grade = {"grade": {"score": 40, "confidence": 0.62, "covered": ["<i>a</i> & b"],
                       "gaps": ["p < 0.05 && n_1 > 30"], "misconceptions": ["x </b> y"],
                       "feedback": HOSTILE * 3, "grader": "offline-rubric/3"},
             "next_review": "2026-03-03T09:00:00+00:00", "previous_score": 20}
    messages = render_grade(grade)
    text = "\n".join(plain(m) for m in messages)
    assert "Re-graded" in text and "Score 40/100" in text and "p < 0.05 && n_1 > 30" in text
    assert "next review 2026-03-03" in text
    question = render_question({"prompt": "Is <x> & y_1 > 0?", "note_id": "n", "position": "2/10",
                                "is_review": True}, {"n": "Norms & <stuff>"})
    assert "Question 2/10" in plain(question) and "Norms & <stuff>" in plain(question)

    rows = [{"number": i, "topic": f"Topic <{i}> & co", "is_review": i % 2 == 0, "score": 55.0,
             "gaps": ["g"], "note_id": "n", "question": "q", "confidence": 0.8, "feedback": ""}
            for i in range(1, 121)]
    summary = {"rows": rows, "overall": 55.0, "new_average": 50.0, "review_average": 60.0,
               "strengths": [], "gaps": ["<gap> & more"] * 8,
               "weak_items": [("Topic <1>", "tomorrow")], "action_items": ["Review <x>"],
               "recommendation": "Re-read & retry.", "ungraded": 1,
               "retention": [{"label": "Reviews from Mar 1", "average": 60.0, "questions": [2]}],
               "improvements": ["A: 50% → 80%"], "corrections": []}
    messages = render_summary(summary)
    assert len(messages) >= 2 and all(len(m) <= LIMIT for m in messages)
    shown = "\n".join(plain(m) for m in messages)
    assert "Q120" in shown and "Topic <1>" in shown and "not graded" in shown
    assert "Retention" in shown and "A: 50% → 80%" in shown


def test_allow_list_refuses_by_default_and_names_the_id():
    assert not AllowList([]).allows(5)
    assert AllowList([5]).allows(5) and not AllowList([5]).allows(None)
    assert "<code>77</code>" in AllowList.refusal(77)
    plain(AllowList.refusal(77))


def test_rate_limiter_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(per_minute=2, clock=lambda: now[0])
    assert limiter.allow(1) == 0 and limiter.allow(1) == 0
    wait = limiter.allow(1)
    assert 29 <= wait <= 31  # one message every 30 s at 2 per minute
    assert limiter.allow(2) == 0  # another learner has their own bucket
    now[0] += 31
    assert limiter.allow(1) == 0


def test_secrets_are_redacted_from_messages_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(["123:SECRET"]))
    logger = logging.getLogger("test.redact")
    logger.addHandler(handler)
    try:
        logger.error("calling https://api.telegram.org/bot%s/getMe", "123:SECRET")
        try:
            raise RuntimeError("POST https://api.telegram.org/bot123:SECRET/sendMessage failed")
        except RuntimeError:
            logger.exception("send failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "123:SECRET" not in out and out.count("[redacted]") >= 2
    assert "RuntimeError" in out


async def test_chats_run_concurrently_while_each_chat_keeps_its_order():
    import asyncio

    from telegram import Chat, Message, Update

    from bot.telegram.ordering import PerChatOrder

    def update(update_id: int, chat_id: int) -> Update:
        chat = Chat(chat_id, Chat.PRIVATE)
        return Update(update_id, message=Message(update_id, None, chat))

    order = PerChatOrder(max_concurrent_updates=8)
    done: list[str] = []

    async def handle(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        done.append(name)

    await order.initialize()
    tasks = [asyncio.create_task(order.process_update(update(i, chat), handle(name, delay)))
             for i, (chat, name, delay) in enumerate([(1, "ada-slow", 0.3), (1, "ada-next", 0),
                                                      (2, "bob", 0.05)])]
    await asyncio.gather(*tasks)
    await order.shutdown()
    # Bob is not held up by Ada's slow turn; Ada's second message waits for her first.
    assert done == ["bob", "ada-slow", "ada-next"]
    assert not order._locks  # locks of idle chats are dropped
