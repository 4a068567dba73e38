"""A real SMTP server on loopback (aiosmtpd) that records what it accepts.

``SMTPServer(refuse=[451])`` answers the first DATA commands with the given codes before
accepting, to show retries. ``hold_after=n`` holds the (n+1)-th transaction at MAIL FROM until
``release()``: a sender killed there has not handed that message over. ``stall_data_after=n``
accepts the (n+1)-th message and each after it, then holds the final reply: the in-doubt window
of SMTP, where a message is delivered although its sender never heard so. ``stall_count`` limits
that to so many messages, ``stall_seconds`` answers after that long instead of at ``release()``,
and ``drip_seconds`` sends the held reply one byte at a time, that far apart (a server that
never lets a socket timeout fire).
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Sequence
from email.message import EmailMessage, MIMEPart
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ReceivedMessage(EmailMessage):
    """An accepted message. A test asks for a body the message has: one it lacks fails the test
    on the spot, with what was asked for."""

    def get_body(self, preferencelist: Sequence[str] = ("related", "html", "plain")) -> MIMEPart:
        body = super().get_body(preferencelist)
        if body is None:
            raise AssertionError(f"the message has no {'/'.join(preferencelist)} body")
        return body


# email.policy.default, making ReceivedMessage objects.
_RECEIVED = email.policy.EmailPolicy(message_factory=ReceivedMessage)


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_MAIL(
        self, smtp: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        await self.server._hold_before(self.server.hold_after)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, smtp: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.server.reject_recipients:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        return await self.server._receive(smtp, envelope)


class SMTPServer:
    def __init__(
        self,
        refuse: list[int] | None = None,
        hold_after: int | None = None,
        stall_data_after: int | None = None,
        stall_count: int | None = None,
        stall_seconds: float | None = None,
        drip_seconds: float = 0.0,
    ) -> None:
        self.port = free_port()
        self.messages: list[ReceivedMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.raw: list[bytes] = []  # each accepted message as it came (the benchmark resends them)
        self.refuse = list(refuse or [])
        self.reject_recipients: set[str] = set()
        self.hold_after = hold_after
        self.stall_data_after = stall_data_after
        self.stall_count = stall_count
        self.stall_seconds = stall_seconds
        self.drip_seconds = drip_seconds
        self.holding = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    async def _hold_before(self, threshold: int | None) -> None:
        """Hold this transaction until release() once ``threshold`` messages were accepted."""
        import asyncio

        with self._lock:
            hold = threshold is not None and len(self.messages) >= threshold
        if hold:
            self.holding.set()
            while not self._release.is_set():
                await asyncio.sleep(0.05)

    async def _receive(self, smtp: Any, envelope: Any) -> str:
        with self._lock:
            if self.refuse:
                return f"{self.refuse.pop(0)} Try again later"
        with self._lock:
            stall = self._stalls(len(self.messages))
            # Like a real MTA, the message is queued before the reply is sent: a sender that
            # dies waiting for the reply can't know the message is already on its way.
            message = email.message_from_bytes(envelope.content, policy=_RECEIVED)
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.raw.append(envelope.original_content or envelope.content)
        reply = "250 Message accepted for delivery"
        if stall:
            return await self._stall(smtp, reply)
        return reply

    def _stalls(self, number: int) -> bool:
        """Whether the reply to message ``number`` (0 the first) is held."""
        first = self.stall_data_after
        if first is None or number < first:
            return False
        return self.stall_count is None or number < first + self.stall_count

    async def _stall(self, smtp: Any, reply: str) -> str:
        """Hold the reply (until release(), or stall_seconds), or drip it: the reply to return."""
        import asyncio

        self.holding.set()
        if self.drip_seconds:
            for char in reply[:-1]:
                smtp._writer.write(char.encode())
                await asyncio.sleep(self.drip_seconds)
            return reply[-1]
        if self.stall_seconds is not None:
            await asyncio.sleep(self.stall_seconds)
            return reply
        await self._hold_before(0)
        return reply

    def release(self) -> None:
        self._release.set()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.controller.stop()

    def take(self) -> list[tuple[str, list[str], bytes]]:
        """Every message accepted so far as (sender, recipients, bytes), forgetting them all."""
        with self._lock:
            pairs = zip(self.envelopes, self.raw, strict=True)
            taken = [(sender, rcpts, raw) for (sender, rcpts), raw in pairs]
            self.messages.clear()
            self.envelopes.clear()
            self.raw.clear()
        return taken

    def recipients(self) -> list[str]:
        return sorted(addr for _, rcpts in self.envelopes for addr in rcpts)

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]
