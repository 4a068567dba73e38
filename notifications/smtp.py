"""Django's SMTP backend, telling the send's ``Conversation`` how far the SMTP dialogue got.

After ``DATA`` is answered ``354``, the conversation's ``hand_over()`` runs before the first byte
of the message (it may refuse: the connection is then dropped, and a server keeps nothing of a
message without its end-of-data dot). Once the message and its dot are written, ``written()``:
from then until the server's reply, the message may be delivered although the sender never hears
so. Every read and write also hands the current socket to the conversation's watchdog.
"""

from __future__ import annotations

import smtplib
from typing import TYPE_CHECKING

from django.core.mail.backends import smtp

from notifications.conversation import current

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

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


class EmailBackend(smtp.EmailBackend):
    """The configured SMTP backend (``EMAIL_URL``), speaking through ``ConversationSMTP``."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return ConversationSMTPSSL if self.use_ssl else ConversationSMTP
