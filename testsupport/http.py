"""A real HTTP server on loopback that records what it receives (monitors, Slack, Sentry).

``HTTPRecorder(status=500)`` answers every request with that status; ``delay=s`` makes it wait
before answering (a monitor that hangs). Requests are kept in ``.requests`` with their method,
path, query, headers and body (gzip-decoded when the client compressed it).
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":  # only if the client had brotli
            import brotli

            body = brotli.decompress(body)
        url = urlsplit(self.path)
        recorder = self.server.recorder
        with recorder.lock:
            recorder.requests.append(
                Request(self.command, url.path, parse_qs(url.query), dict(self.headers.items()), body)
            )
        if recorder.delay:
            time.sleep(recorder.delay)
        payload = recorder.body
        self.send_response(recorder.status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = _handle

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read .requests instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a test's hanging handler must not hold up stop()
    recorder: HTTPRecorder


class HTTPRecorder:
    def __init__(self, status: int = 200, delay: float = 0.0, body: bytes = b"OK") -> None:
        self.status = status
        self.delay = delay
        self.body = body
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.recorder = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HTTPRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Request]:
        """The requests, once at least ``count`` have arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    break
            time.sleep(0.02)
        with self.lock:
            return list(self.requests)
