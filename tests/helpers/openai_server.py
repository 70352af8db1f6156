"""A tiny OpenAI-compatible chat-completions server (stdlib only) for driving the answer path
with realistic model answers: records requests, replays a scripted SSE stream."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "zai-org/Glyph"


class FakeServer:
    """A tiny OpenAI-compatible server: records requests, replays a scripted stream."""

    def __init__(self):
        self.requests: list[dict] = []
        self.models = [MODEL]
        self.deltas: list[dict] = []  # each: {"delta": {...}, "logprobs": [(token, lp)]|None}
        self.usage = {"prompt_tokens": 321, "completion_tokens": 9, "total_tokens": 330}
        self.finish_reason = "stop"
        self.fail_chat = 0  # answer this many chat requests with HTTP 503 first
        self.chat_status: tuple[int, dict] | None = None  # a fixed error response
        self.models_status: int | None = None
        self.delay_s = 0.0
        self.max_model_len: int | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, payload, headers=()):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers:
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                server.requests.append(
                    {
                        "method": "GET",
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                    }
                )
                if self.path.endswith("/models"):
                    if server.models_status:
                        return self._json(server.models_status, {"error": {"message": "no"}})
                    data = [
                        {"id": m, "object": "model", "created": 0, "owned_by": "vllm"}
                        for m in server.models
                    ]
                    if server.max_model_len:  # vLLM reports the served context length
                        data[0]["max_model_len"] = server.max_model_len
                    return self._json(200, {"object": "list", "data": data})
                return self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                server.requests.append(
                    {
                        "method": "POST",
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                if server.fail_chat > 0:
                    server.fail_chat -= 1
                    return self._json(
                        503, {"error": {"message": "busy"}}, [("retry-after-ms", "10")]
                    )
                if server.chat_status:
                    return self._json(*server.chat_status)
                time.sleep(server.delay_s)
                # the client may have given up already (timeout test)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._stream()

            def _stream(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i, step in enumerate(server.deltas):
                    last = i == len(server.deltas) - 1
                    choice = {
                        "index": 0,
                        "delta": step["delta"],
                        "logprobs": None
                        if step.get("logprobs") is None
                        else {
                            "content": [
                                {"token": t, "logprob": lp, "bytes": None, "top_logprobs": []}
                                for t, lp in step["logprobs"]
                            ]
                        },
                        "finish_reason": server.finish_reason if last else None,
                    }
                    self._event({"choices": [choice]})
                self._event({"choices": [], "usage": server.usage})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, payload):
                chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0}
                chunk.update(model=MODEL, **payload)
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def chats(self):
        return [r for r in self.requests if r["method"] == "POST"]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def say(self, text: str, logprob: float = -0.01) -> None:
        """Answer every chat request with ``text`` (one token per word, given log-probability)."""
        words = text.split(" ")
        tokens = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
        self.deltas = [
            {"delta": {"role": "assistant", "content": ""}, "logprobs": None},
            *({"delta": {"content": t}, "logprobs": [(t, logprob)]} for t in tokens),
        ]
