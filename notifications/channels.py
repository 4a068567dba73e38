"""The senders of the Outbox, one per channel.

Each ``send`` runs inside the send's ``Conversation`` (``notifications.conversation``: a deadline
on the whole send, and how far it got) and returns the provider's id of the accepted message, or
raises ``DeliveryError``, sorted by ``notifications.failures``: temporary (the provider did not
take it), in doubt (it may have), or refused for good. The Twilio client and ``requests`` are
imported when a message is first sent, not before.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import get_connection

from notifications.failures import (
    answered_in_time,
    connection_error,
    http_status_error,
    reraise_refusal,
    smtp_error,
    twilio_error,
)
from utils.cronlog import first_line

if TYPE_CHECKING:
    from django.core.mail import EmailMessage

    from notifications.conversation import Conversation

TWILIO_API = "https://api.twilio.com"


# --- Email -----------------------------------------------------------------------------------
class EmailChannel:
    name = "email"

    def __init__(self) -> None:
        self._connection: Any = None
        self._tracked = False  # whether the backend reports the SMTP conversation's steps

    def send(self, message: EmailMessage, message_id: str, conversation: Conversation) -> str:
        message.extra_headers["Message-ID"] = message_id
        try:
            if self._connection is None:
                self._connection = self._open(conversation)
            message.connection = self._connection
            if not self._tracked:  # console, file, locmem: no conversation to follow
                conversation.hand_over()
            message.send()
        except Exception as exc:
            self.close()  # the next attempt starts a fresh SMTP conversation
            reraise_refusal(exc, conversation)
            raise smtp_error(exc, conversation) from exc
        if conversation.expired:  # the watchdog cut the connection as the reply came
            self.close()
            answered_in_time("SMTP", conversation)
        return message_id

    def _open(self, conversation: Conversation) -> Any:
        """The run's connection (kept for the whole run: a backend that opens its own connection
        closes it after every message, a new SMTP session per notice)."""
        from notifications.smtp import BACKEND, DJANGO_SMTP_BACKEND  # smtplib, ssl: only to send

        self._tracked = settings.EMAIL_BACKEND in (DJANGO_SMTP_BACKEND, BACKEND)
        if self._tracked:
            timeout = min(settings.EMAIL_TIMEOUT, conversation.remaining())
            connection = get_connection(BACKEND, timeout=timeout)
        else:
            connection = get_connection()
        connection.open()
        return connection

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # a broken connection is being dropped anyway
                self._connection.close()
            self._connection = None


# --- SMS through Twilio ----------------------------------------------------------------------
class SmsChannel:
    name = "sms"

    def __init__(self) -> None:
        self._client: Any = None

    @staticmethod
    def configured() -> bool:
        sender = settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID
        return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and sender)

    @property
    def client(self) -> Any:
        if self._client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            from notifications.http import mount_watched

            # No retries inside the client: the Outbox retries, and records every attempt.
            http = TwilioHttpClient()
            mount_watched(http.session)
            self._client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http)
        return self._client

    def send(self, to: str, body: str, conversation: Conversation) -> str:
        """POST the message with the client's own request (auth, headers, edge/region, errors).

        Not ``client.messages.create()``: that loads the client's whole generated 2010 API (some
        hundred modules, 8 MiB) to send one form; the request and the answer are the same.
        """
        import requests
        from twilio.base.exceptions import TwilioException
        from twilio.base.version import Version

        base = settings.TWILIO_API_BASE_URL or TWILIO_API
        uri = f"{base}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Messages.json"
        data = {"To": to, "Body": body}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            data["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            data["From"] = settings.TWILIO_FROM_NUMBER
        try:
            self.client.http_client.timeout = channel_timeout(conversation)
            response = self.client.request("POST", uri, data=data)
            if not 200 <= response.status_code < 300:
                raise Version.exception("POST", uri, response, "Unable to create record")
        except TwilioException as exc:
            raise twilio_error(exc) from exc
        except requests.RequestException as exc:
            reraise_refusal(exc, conversation)
            raise connection_error("Twilio", f": {first_line(exc)}", conversation) from exc
        except Exception as exc:
            reraise_refusal(exc, conversation)
            raise
        answered_in_time("Twilio", conversation)
        try:
            return str(json.loads(response.text)["sid"])
        except (ValueError, KeyError, TypeError):
            return ""  # accepted (2xx) all the same: never send it again

    def close(self) -> None:
        session = getattr(getattr(self._client, "http_client", None), "session", None)
        if session is not None:
            session.close()
        self._client = None


def channel_timeout(conversation: Conversation) -> tuple[float, float]:
    """(connect, read) socket timeouts: CHANNEL_TIMEOUT each, the connection within the send's
    deadline (after it, the conversation's watchdog cuts whatever is still going on)."""
    return min(settings.CHANNEL_TIMEOUT, conversation.remaining()), settings.CHANNEL_TIMEOUT


# --- Slack -----------------------------------------------------------------------------------
def slack_escape(text: str) -> str:
    """Text from people or errors, made inert in a Slack message: no <!channel> pings, no
    disguised <url|links> (Slack's own escaping of &, < and >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackChannel:
    name = "slack"

    def __init__(self) -> None:
        self._session: Any = None

    @staticmethod
    def configured() -> bool:
        return bool(settings.SLACK_WEBHOOK_URL)

    def send(self, text: str, conversation: Conversation) -> str:
        import requests

        from notifications.http import mount_watched

        if self._session is None:
            self._session = mount_watched(requests.Session())
        try:
            response = self._session.post(
                settings.SLACK_WEBHOOK_URL, json={"text": text}, timeout=channel_timeout(conversation)
            )
        except requests.RequestException as exc:
            reraise_refusal(exc, conversation)
            # Not the exception's text: it names the webhook's path, which is the secret.
            raise connection_error("Slack", f" ({type(exc).__name__})", conversation) from exc
        except Exception as exc:
            reraise_refusal(exc, conversation)
            raise
        answered_in_time("Slack", conversation)
        if response.status_code == 200:
            return ""
        body = " ".join(response.text.split())[:200]
        retry_after = response.headers.get("Retry-After")
        raise http_status_error(
            f"Slack {response.status_code}: {body or response.reason}",
            response.status_code,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
