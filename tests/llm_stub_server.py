"""A tiny OpenAI-compatible server that misbehaves on purpose, run as its own process.

    python tests/llm_stub_server.py --port 8123 --mode truncated --text "Peskow warnte [1]."

GET /v1/models lists one model; POST /v1/chat/completions streams `--text` word by word
as server-sent events, then ends as `--mode` says:
- complete: finish_reason "stop" and `data: [DONE]` (a well-behaved server);
- length: finish_reason "length" and `[DONE]` (the answer hit the token limit);
- truncated: the connection closes with neither finish_reason nor `[DONE]`;
- slow: one word every `--delay` seconds, the text repeated without end;
- html: an HTML page instead of an API response (`--status`, default 200).
Standard library only; binds 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import time

HTML_PAGE = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body>It works</body></html>"


def _event(content: str | None, finish: str | None) -> bytes:
    delta = {"content": content} if content is not None else {}
    payload = {
        "id": "stub",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "stub",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    options: argparse.Namespace

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.options.mode == "html":
            return self._html()
        body = json.dumps({"object": "list", "data": [{"id": "stub", "object": "model"}]})
        self._send(200, "application/json", body.encode())

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.options.mode == "html":
            return self._html()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        words = self.options.text.split(" ")
        with contextlib.suppress(OSError):  # the client may hang up first
            self.wfile.write(_event("", None))
            i = 0
            while i < len(words) or self.options.mode == "slow":
                word = words[i % len(words)]
                self.wfile.write(_event(word if i == 0 else " " + word, None))
                self.wfile.flush()
                i += 1
                if self.options.mode == "slow":
                    time.sleep(self.options.delay)
            if self.options.mode in ("complete", "length"):
                finish = "stop" if self.options.mode == "complete" else "length"
                self.wfile.write(_event(None, finish) + b"data: [DONE]\n\n")
            self.wfile.flush()
        self.close_connection = True

    def _html(self) -> None:
        self._send(self.options.status, "text/html; charset=utf-8", HTML_PAGE)

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--mode", choices=["complete", "length", "truncated", "slow", "html"], required=True
    )
    parser.add_argument("--text", default="Peskow warned [1].")
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--status", type=int, default=200)
    options = parser.parse_args()
    handler = type("StubHandler", (Handler,), {"options": options})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", options.port), handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
