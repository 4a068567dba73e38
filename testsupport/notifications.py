"""Loopback stand-ins for Twilio and a Slack webhook, driven by the real clients in tests.

``FakeTwilio`` answers ``POST /2010-04-01/Accounts/<sid>/Messages.json`` the way Twilio does
(201 with the message's JSON; errors as Twilio's JSON ``{code, message, more_info, status}``);
``FakeSlack`` answers a webhook the way Slack does (200 ``ok``; ``no_service``...). Each keeps
what it accepted, and answers the next requests from ``script`` first (e.g.
``server.script += [429, 500]``), then (Twilio) from ``script_for[number]``, then normally.
``hold()`` makes it wait before answering, so a test can kill the sender while a request is in
the air. ``stall(n, seconds)`` accepts the next ``n`` messages (kept, as the service would) and
answers each only ``seconds`` later (None: at ``release()``): a reply lost after the message was
taken. ``drip_seconds`` sends every answer one byte at a time, that far apart, so no socket
timeout of the client ever fires. The fixtures at the end point Django's settings at them (a
test module or conftest imports the ones it uses).
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs

import pytest

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "loopback-test-token"
FROM_NUMBER = "+15405550100"
WEBHOOK_PATH = "/services/T0000000/B0000000/loopbacktestsecret"

TWILIO_ERRORS: dict[int, tuple[int, str]] = {
    # HTTP status -> (Twilio code, message): what Twilio says for a status without a code.
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}
TWILIO_CODES: dict[int, str] = {
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS",
    21614: "'To' number is not a valid mobile number",
}
SLACK_ERRORS = {400: "invalid_payload", 403: "invalid_token", 404: "no_service", 410: "channel_is_archived",
                429: "rate_limited", 500: "internal_error", 503: "service_unavailable"}  # fmt: skip


class LoopbackServer:
    """An HTTP server on 127.0.0.1 in a thread, with a script of answers to give first."""

    def __init__(self) -> None:
        self.script: list[int] = []  # HTTP statuses (or Twilio error codes) to answer next
        self.requests: list[dict[str, Any]] = []  # every request, with the status it got
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._release.set()
        self.held = threading.Event()
        self.stalled = threading.Event()  # set when an accepted message's answer is being held
        self._stall_next = 0
        self._stall_seconds: float | None = None
        self._unstall = threading.Event()
        self.drip_seconds = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server._handle(self, self.rfile.read(length).decode())

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def hold(self) -> None:
        """Keep the next requests waiting (``held`` is set when one arrives) until ``release()``."""
        self._release.clear()

    def release(self) -> None:
        self._release.set()
        self._unstall.set()

    def stall(self, count: int = 1, seconds: float | None = None) -> None:
        """Accept the next ``count`` messages but answer each only after ``seconds`` (or release())."""
        with self._lock:
            self._stall_next, self._stall_seconds = count, seconds
        self._unstall.clear()

    def _wait_if_held(self, body: str) -> None:
        if not self._release.is_set():
            self.held.set()
            self._release.wait(timeout=60)

    def _next_scripted(self) -> int | None:
        with self._lock:
            return self.script.pop(0) if self.script else None

    def _handle(self, handler: BaseHTTPRequestHandler, body: str) -> None:
        self._wait_if_held(body)
        status, headers, payload = self.answer(handler, body)
        with self._lock:
            self.requests.append({"path": handler.path, "body": body, "status": status})
            stall = self._stall_next > 0 and 200 <= status < 300
            self._stall_next -= stall
        if stall:
            self.stalled.set()
            self._unstall.wait(timeout=60 if self._stall_seconds is None else self._stall_seconds)
        data = payload.encode()
        lines = [f"HTTP/1.0 {status} {handler.responses.get(status, ('Error',))[0]}"]
        lines += [f"{name}: {value}" for name, value in {**headers, "Content-Length": str(len(data))}.items()]
        response = ("\r\n".join(lines) + "\r\n\r\n").encode() + data
        with contextlib.suppress(OSError):  # the client gave up waiting
            self._write(handler, response)

    def _write(self, handler: BaseHTTPRequestHandler, response: bytes) -> None:
        if not self.drip_seconds:
            handler.wfile.write(response)
            return
        self.stalled.set()
        for index in range(len(response)):
            handler.wfile.write(response[index : index + 1])
            handler.wfile.flush()
            time.sleep(self.drip_seconds)

    def answer(self, handler: BaseHTTPRequestHandler, body: str) -> tuple[int, dict[str, str], str]:
        raise NotImplementedError


class FakeTwilio(LoopbackServer):
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, str]] = []  # accepted: To, From, Body, Sid
        self.refuse_numbers: dict[str, int] = {}  # number -> Twilio error code (400), always
        self.script_for: dict[str, list[int]] = {}  # number -> statuses its next requests get
        self._held_numbers: dict[str, threading.Event] = {}  # number -> set when released
        self._waiting: Counter[str] = Counter()  # number -> requests that were held for it

    def hold_number(self, number: str) -> None:
        """Keep every request to ``number`` waiting, before it is answered, until release_number()."""
        with self._lock:
            self._held_numbers[number] = threading.Event()

    def release_number(self, number: str) -> None:
        with self._lock:
            released = self._held_numbers.pop(number, None)
        if released is not None:
            released.set()

    def held_count(self, number: str) -> int:
        """How many requests to ``number`` were held (released ones included)."""
        with self._lock:
            return self._waiting[number]

    def wait_held(self, number: str, count: int, timeout: float = 30) -> bool:
        """Whether ``count`` requests to ``number`` have been held within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.held_count(number) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def _wait_if_held(self, body: str) -> None:
        super()._wait_if_held(body)
        number = parse_qs(body).get("To", [""])[0]
        with self._lock:
            event = self._held_numbers.get(number)
            self._waiting[number] += event is not None
        if event is not None:
            event.wait(timeout=60)

    def answer(self, handler: BaseHTTPRequestHandler, body: str) -> tuple[int, dict[str, str], str]:
        if handler.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return self._error(404)
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if handler.headers.get("Authorization") != f"Basic {expected}":
            return self._error(401)
        form = {key: values[0] for key, values in parse_qs(body).items()}
        scripted = self._next_scripted()
        with self._lock:
            for_number = self.script_for.get(form.get("To", ""))
            if scripted is None and for_number:
                scripted = for_number.pop(0)
        if scripted is not None:
            return self._error(scripted)
        if form.get("To") in self.refuse_numbers:
            return self._error(self.refuse_numbers[form["To"]])
        sid = "SM" + secrets.token_hex(16)
        with self._lock:
            self.messages.append(
                {
                    "To": form.get("To", ""),
                    "From": form.get("From", ""),
                    "Body": form.get("Body", ""),
                    "MessagingServiceSid": form.get("MessagingServiceSid", ""),
                    "Sid": sid,
                }
            )
        now = formatdate(usegmt=True)
        message: dict[str, object] = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {},
        }
        return 201, {"Content-Type": "application/json"}, json.dumps(message)

    def _error(self, status_or_code: int) -> tuple[int, dict[str, str], str]:
        if status_or_code in TWILIO_CODES:
            status, code, message = 400, status_or_code, TWILIO_CODES[status_or_code]
        else:
            status = status_or_code
            code, message = TWILIO_ERRORS.get(status, (status, "Error"))
        body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status}  # fmt: skip
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    def bodies_to(self, number: str) -> list[str]:
        return [m["Body"] for m in self.messages if m["To"] == number]


class FakeSlack(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.posts: list[str] = []  # the texts accepted

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    def answer(self, handler: BaseHTTPRequestHandler, body: str) -> tuple[int, dict[str, str], str]:
        if handler.path != WEBHOOK_PATH:
            return 404, {"Content-Type": "text/plain"}, "no_service"
        scripted = self._next_scripted()
        if scripted is not None:
            headers = {"Content-Type": "text/plain"}
            if scripted == 429:
                headers["Retry-After"] = "1"
            return scripted, headers, SLACK_ERRORS.get(scripted, "error")
        try:
            text = json.loads(body)["text"]
        except (ValueError, KeyError, TypeError):
            return 400, {"Content-Type": "text/plain"}, "invalid_payload"
        with self._lock:
            self.posts.append(text)
        return 200, {"Content-Type": "text/plain"}, "ok"


# --- Fixtures ----------------------------------------------------------------------------------
@pytest.fixture
def fast_retries(settings: Any) -> None:
    """Back-offs of milliseconds, so a test of retries doesn't wait."""
    settings.NOTIFY_RETRY_BASE_SECONDS = 0.01
    settings.NOTIFY_RETRY_MAX_SECONDS = 0.05


@pytest.fixture
def twilio_server() -> Iterator[FakeTwilio]:
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def twilio_settings(settings: Any, twilio_server: FakeTwilio, fast_retries: None) -> FakeTwilio:
    """The real Twilio client, talking to the loopback stand-in."""
    settings.TWILIO_ACCOUNT_SID = twilio_server.account_sid
    settings.TWILIO_AUTH_TOKEN = twilio_server.auth_token
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = twilio_server.url
    return twilio_server


@pytest.fixture
def slack_server() -> Iterator[FakeSlack]:
    server = FakeSlack().start()
    yield server
    server.stop()


@pytest.fixture
def slack_settings(settings: Any, slack_server: FakeSlack, fast_retries: None) -> FakeSlack:
    settings.SLACK_WEBHOOK_URL = slack_server.webhook_url
    return slack_server
