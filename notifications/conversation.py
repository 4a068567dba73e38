"""One send's conversation with its provider: how far it got, and a deadline on the whole of it.

A socket timeout bounds each read or write, so a server that answers one byte at a time holds a
send as long as it likes. A ``Conversation`` arms a watchdog for the whole send instead
(``EMAIL_TIMEOUT`` for an email, ``CHANNEL_TIMEOUT`` for an SMS or a Slack post): when it fires
it shuts the socket down, which ends the blocked read or write at once.

The transports (``notifications.smtp``, ``notifications.http``) report how far they got, so a
failure can be sorted by what the provider may have:

- before ``hand_over()``: nothing of the message went out; trying again is safe;
- after ``hand_over()`` but before ``written()``: the message went out in part (a server acts
  only on a whole one: SMTP needs the end-of-data dot, HTTP the whole body); still safe;
- after ``written()`` (SMTP's dot, the last byte of the HTTP request) and before an answer: the
  provider may have taken it. That message is *in doubt* and is never sent again by itself.

``hand_over()`` runs the Outbox's hook right before the first byte of the message itself goes
out: it records the moment on the ledger, fenced by the job's lease, and may refuse (the job is
stopping, its lease is lost, another run took the row over). What it raised is kept in
``aborted``, for the channel to raise again instead of sorting it as a provider's error.

The transports find the conversation of the send in progress with ``current()`` (one send at a
time per thread: the connections are created deep inside smtplib and urllib3).
"""

from __future__ import annotations

import contextlib
import enum
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

_active = threading.local()


class _Watchdog:
    """One thread for every send's deadline (a timer thread per message would cost a thread's
    start and stop per message): it expires each armed conversation when its deadline comes."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._armed: dict[int, tuple[float, Conversation]] = {}
        self._thread: threading.Thread | None = None

    def arm(self, conversation: Conversation, at: float) -> None:
        with self._wake:
            self._armed[id(conversation)] = (at, conversation)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="send-watchdog", daemon=True)
                self._thread.start()
            self._wake.notify()

    def disarm(self, conversation: Conversation) -> None:
        with self._wake:
            self._armed.pop(id(conversation), None)

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._armed:
                    self._wake.wait()
                    continue
                key, (at, conversation) = min(self._armed.items(), key=lambda item: item[1][0])
                left = at - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                del self._armed[key]
            conversation._expire()


_watchdog = _Watchdog()


class Phase(enum.IntEnum):
    CONNECTING = 0  # nothing of the message sent yet
    HANDING_OVER = 1  # the message is going out; a failure now means it was not all sent
    WRITTEN = 2  # all of it written: the provider may have taken it


class Conversation:
    """A send's deadline and progress; a context manager around the one send."""

    def __init__(self, deadline: float, hand_over: Callable[[], None] | None = None) -> None:
        self.deadline = deadline
        self.phase = Phase.CONNECTING
        self.expired = False
        self.aborted: BaseException | None = None
        self._hook = hand_over
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._started = time.monotonic()

    def __enter__(self) -> Conversation:
        self._started = time.monotonic()
        _watchdog.arm(self, self._started + self.deadline)
        _active.conversation = self
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _watchdog.disarm(self)
        _active.conversation = None

    @property
    def handed_over(self) -> bool:
        return self.phase >= Phase.HANDING_OVER

    @property
    def written_whole(self) -> bool:
        return self.phase >= Phase.WRITTEN

    def remaining(self) -> float:
        """Seconds left before the deadline (at least a millisecond: a socket timeout can't be 0)."""
        return max(self.deadline - (time.monotonic() - self._started), 0.001)

    def watch(self, sock: socket.socket | None) -> None:
        """The socket the watchdog shuts down at the deadline (the transport's current one)."""
        with self._lock:
            self._sock = sock
            expired = self.expired
        if expired:
            _shut(sock)

    def hand_over(self) -> None:
        """The message itself is about to go out: the hook records it, or refuses by raising."""
        if self.expired:
            raise TimeoutError(f"the send deadline of {self.deadline:g}s passed before the message went out")
        try:
            if self._hook is not None:
                self._hook()
        except BaseException as exc:
            self.aborted = exc
            raise
        self.phase = Phase.HANDING_OVER

    def written(self) -> None:
        self.phase = Phase.WRITTEN

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self._sock
        _shut(sock)


def _shut(sock: socket.socket | None) -> None:
    """End every blocked read and write on ``sock`` now (from any thread)."""
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


def current() -> Conversation | None:
    """The conversation of the send in progress in this thread, if any."""
    conversation: Conversation | None = getattr(_active, "conversation", None)
    return conversation
