"""A local fake of the Anthropic Messages API, so the real `anthropic` SDK can be exercised offline.

Tests script replies with `enqueue(...)`; unscripted requests get a plausible default (a
structured grade or question when the request asks for one, otherwise text). Every request body
is recorded for assertions (prompt caching markers, fenced learner text, …).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted reply: text, a JSON object (sent as text), an HTTP error, or raw bytes."""

    text: str | None = None
    json: Any = None
    status: int = 200
    raw: str | None = None
    stop_reason: str = "end_turn"


@dataclass
class FakeAnthropic:
    """The server's scripted state."""

    replies: deque[Reply] = field(default_factory=deque)
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies; each request consumes one."""
        with self.lock:
            self.replies.extend(replies)

    def next_reply(self, body: dict) -> Reply:
        with self.lock:
            self.requests.append(body)
            if self.replies:
                return self.replies.popleft()
        return default_reply(body)


def default_reply(body: dict) -> Reply:
    """A sensible answer for an unscripted request."""
    schema = ((body.get("output_config") or {}).get("format") or {}).get("schema") or {}
    props = schema.get("properties", {})
    if "score" in props:
        return Reply(json={"score": 75, "confidence": 0.8, "covered": ["a key point"],
                           "gaps": ["another key point"], "misconceptions": [],
                           "feedback": "Good start; add the missing point.", "grader": ""})
    if "prompt" in props:
        return Reply(json={"prompt": "Explain the idea in your own words.",
                           "reference_answer": "A model answer with three facts in it.",
                           "key_points": ["fact one", "fact two", "fact three"],
                           "difficulty": "medium"})
    return Reply(text="Here is an explanation from the fake Claude. Source: the notes.")


def _message(body: dict, text: str, stop_reason: str) -> dict:
    return {"id": "msg_fake", "type": "message", "role": "assistant",
            "model": body.get("model", "fake"), "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": max(1, len(text) // 4),
                      "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}


def _sse(body: dict, text: str, stop_reason: str) -> bytes:
    msg = _message(body, "", stop_reason)
    msg["content"] = []
    msg["stop_reason"] = None
    events: list[tuple[str, dict]] = [
        ("message_start", {"type": "message_start", "message": msg}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}})]
    for i in range(0, len(text), 16):  # several deltas, as a real stream sends
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta",
                                                         "text": text[i:i + 16]}}))
    events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
               ("message_delta", {"type": "message_delta",
                                  "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                  "usage": {"output_tokens": max(1, len(text) // 4)}}),
               ("message_stop", {"type": "message_stop"})]
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n"
                   for name, data in events).encode()


def make_handler(state: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to the scripted state."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def _send(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(payload)))
            self.send_header("request-id", "req_fake")
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.startswith("/v1/messages"):
                self._send(404, b'{"type":"error","error":{"type":"not_found_error",'
                                b'"message":"no such endpoint"}}', "application/json")
                return
            if not (self.headers.get("x-api-key") or self.headers.get("authorization")):
                self._send(401, b'{"type":"error","error":{"type":"authentication_error",'
                                b'"message":"missing key"}}', "application/json")
                return
            reply = state.next_reply(body)
            if reply.status != 200:
                err = {"type": "error", "error": {"type": "api_error",
                                                  "message": f"fake failure {reply.status}"}}
                self._send(reply.status, json.dumps(err).encode(), "application/json")
                return
            text = reply.raw if reply.raw is not None else (
                json.dumps(reply.json) if reply.json is not None else reply.text or "")
            if body.get("stream"):
                self._send(200, _sse(body, text, reply.stop_reason), "text/event-stream")
            else:
                self._send(200, json.dumps(_message(body, text, reply.stop_reason)).encode(),
                           "application/json")

    return Handler


class FakeAnthropicServer:
    """Runs the fake on 127.0.0.1 in a background thread. Use as a context manager."""

    def __init__(self) -> None:
        self.state = FakeAnthropic()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL for ANTHROPIC_BASE_URL."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeAnthropicServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
