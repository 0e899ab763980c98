"""A scripted HTTP server on 127.0.0.1 (random port) that records every request.

Responses are queued per key (by default the path; OK uses the ``method``
form field): each request takes the next one, the last one repeats.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load_fixture(platform: str, name: str) -> Any:
    """A JSON fixture from tests/intake/fixtures/<platform>/<name>."""
    return json.loads((FIXTURES / platform / name).read_text(encoding="utf-8"))


@dataclass
class Recorded:
    """One request as the stub saw it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    json: Any
    headers: dict[str, str]


@dataclass
class StubResponse:
    """What to answer: a JSON-able body (or bytes), a status, headers."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Responder = StubResponse | Callable[[Recorded], StubResponse]


class StubServer:
    """Start with ``with StubServer() as stub:``; ``stub.url`` is its base URL."""

    def __init__(self, key: Callable[[Recorded], str] | None = None) -> None:
        self.key = key or (lambda r: r.path)
        self.requests: list[Recorded] = []
        self._scripts: dict[str, list[Responder]] = {}
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                self._handle()

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                ctype = self.headers.get("Content-Type", "")
                form: dict[str, str] = {}
                payload: Any = None
                if "application/x-www-form-urlencoded" in ctype:
                    form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
                elif "json" in ctype and body:
                    payload = json.loads(body)
                request = Recorded(
                    method=self.command,
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    form=form,
                    json=payload,
                    headers={k: v for k, v in self.headers.items()},
                )
                response = stub._answer(request)
                data = (
                    response.body
                    if isinstance(response.body, bytes)
                    else json.dumps(response.body, ensure_ascii=False).encode()
                )
                self.send_response(response.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def script(self, key: str, *responses: Responder) -> None:
        """Answer requests with this key by ``responses`` in turn (replaces an earlier script)."""
        with self._lock:
            self._scripts[key] = list(responses)

    def calls(self, key: str) -> list[Recorded]:
        """Requests recorded under ``key``."""
        return [r for r in self.requests if self.key(r) == key]

    def _answer(self, request: Recorded) -> StubResponse:
        with self._lock:
            self.requests.append(request)
            queue = self._scripts.get(self.key(request))
            if not queue:
                return StubResponse({"error": f"no script for {self.key(request)}"}, status=404)
            responder = queue.pop(0) if len(queue) > 1 else queue[0]
        return responder(request) if callable(responder) else responder

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
