"""The router turns loose phrasing and slash commands into intents."""

import pytest

from agents.router import parse


@pytest.mark.parametrize(("text", "kind", "topic"), [
    ("teach me batch norm", "learn", "batch norm"),
    ("Teach me about dropout?", "learn", "dropout"),
    ("explain the bias-variance tradeoff", "learn", "the bias-variance tradeoff"),
    ("/learn kv cache", "learn", "kv cache"),
    ("quiz me", "quiz", ""),
    ("quiz me on regularization", "quiz", "regularization"),
    ("test me about adam vs sgd", "quiz", "adam vs sgd"),
    ("/quiz@MlTutorBot transformers", "quiz", "transformers"),
    ("summary", "summary", ""),
    ("/check", "check", ""),
    ("start a knowledge check", "check", ""),
    ("daily check", "check", ""),
    ("check", "check", ""),
    ("review", "review", ""),
    ("what's due?", "review", ""),
    ("review dropout", "quiz", "dropout"),
    ("dispute: I named both moments", "dispute", "I named both moments"),
    ("/summary", "summary", ""),
    ("how did i do?", "summary", ""),
    ("help", "help", ""),
    ("topics", "topics", ""),
    ("why does adam need bias correction?", "question", ""),
    ("", "empty", ""),
    ("/nonsense", "help", ""),
])
def test_parse(text, kind, topic):
    intent = parse(text)
    assert intent.kind == kind
    assert intent.topic == topic
