"""Django's SMTP backend, telling the send's ``Conversation`` how far the SMTP dialogue got.

After ``DATA`` is answered ``354``, the conversation's ``hand_over()`` runs before the first byte
of the message (it may refuse: the connection is then dropped, and a server keeps nothing of a
message without its end-of-data dot). Once the message and its dot are written, ``written()``:
from then until the server's reply, the message may be delivered although the sender never hears
so. Every read and write also hands the current socket to the conversation's watchdog.
"""

from __future__ import annotations

import functools
import smtplib
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail.backends import smtp
from django.core.mail.message import sanitize_address

from notifications.conversation import current
from notifications.email import SharedPart

if TYPE_CHECKING:
    from email.policy import Policy

    from _typeshed import ReadableBuffer, SupportsWrite

DJANGO_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
BACKEND = "notifications.smtp.EmailBackend"


class ConversationSMTP(smtplib.SMTP):
    # None, or where the DATA command stands: "command" (its reply awaited), "body" (next write).
    _data_step: str | None = None

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        self._data_step = "command"
        try:
            return super().data(msg)
        finally:
            self._data_step = None

    def getreply(self) -> tuple[int, bytes]:
        self._watch()
        reply = super().getreply()
        if self._data_step == "command":
            self._data_step = None
            conversation = current()
            if reply[0] == 354 and conversation is not None:
                conversation.hand_over()
                self._data_step = "body"
        return reply

    def send(self, s: ReadableBuffer | str) -> None:
        self._watch()
        super().send(s)
        if self._data_step == "body":  # the message and its end-of-data dot are written
            self._data_step = None
            conversation = current()
            if conversation is not None:
                conversation.written()

    def _watch(self) -> None:
        conversation = current()
        if conversation is not None and self.sock is not None:
            conversation.watch(self.sock)


class ConversationSMTPSSL(ConversationSMTP, smtplib.SMTP_SSL):
    pass


class SharedPartsGenerator(BytesGenerator):
    """Writes a ``SharedPart`` (the same object in every copy of a notice: a report's CSV) from
    the bytes it gave the first time, not line by line again."""

    def __init__(
        self,
        outfp: SupportsWrite[bytes],
        mangle_from_: bool | None = None,
        maxheaderlen: int | None = None,
        *,
        policy: Policy[Any] | None = None,
    ) -> None:
        super().__init__(outfp, mangle_from_, maxheaderlen, policy=policy)
        self._out, self._mangle = outfp, mangle_from_  # to write a part's kept bytes, and make them

    def flatten(self, msg: Message, unixfrom: bool = False, linesep: str | None = None) -> None:
        if not isinstance(msg, SharedPart) or unixfrom:
            super().flatten(msg, unixfrom, linesep)
            return
        if linesep not in msg.serialized:
            buffer = BytesIO()
            generator = BytesGenerator(buffer, self._mangle, self.maxheaderlen, policy=self.policy)
            generator.flatten(msg, False, linesep)
            msg.serialized[linesep] = buffer.getvalue()
        self._out.write(msg.serialized[linesep])


@functools.lru_cache(maxsize=4096)
def _sanitized(address: str, encoding: str) -> str:
    """Django's ``sanitize_address``, parsed once per address in a process: a run sends from one
    address and copies the same people in many notices. (A bad address raises every time: an
    exception is not cached.)"""
    return sanitize_address(address, encoding)


class EmailBackend(smtp.EmailBackend):
    """The configured SMTP backend (``EMAIL_URL``), speaking through ``ConversationSMTP``."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return ConversationSMTPSSL if self.use_ssl else ConversationSMTP

    def _send(self, email_message: Any) -> bool:
        """Django's, but the message is written by ``SharedPartsGenerator``."""
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = _sanitized(email_message.from_email, encoding)
        recipients = [_sanitized(address, encoding) for address in email_message.recipients()]
        buffer = BytesIO()
        SharedPartsGenerator(buffer, mangle_from_=False).flatten(email_message.message(), linesep="\r\n")
        try:
            assert self.connection is not None
            self.connection.sendmail(from_email, recipients, buffer.getvalue())
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
