"""The senders of the Outbox, one per channel, and how each sorts its failures.

Each ``send`` returns the provider's id of the accepted message or raises ``DeliveryError``,
which says whether trying again later may succeed (``temporary``: SMTP 4xx, a dropped
connection, HTTP 429 or 5xx, a network error) or not (SMTP 5xx, a refused number, a removed
webhook), and whether the recipient's number should be blocked. The Twilio client and
``requests`` are imported when a message is first sent, not before.
"""

from __future__ import annotations

import contextlib
import json
import smtplib
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import get_connection

from utils.cronlog import first_line

if TYPE_CHECKING:
    from django.core.mail import EmailMessage

TWILIO_API = "https://api.twilio.com"
# Twilio errors that mean "this number can't take our SMS": the member is flagged, not retried.
# 21211 invalid 'To' number · 21612 can't route to it · 21610 the member replied STOP ·
# 21614 not a mobile number.
TWILIO_BAD_NUMBER = {21211: "invalid number", 21612: "unreachable number", 21610: "unsubscribed (STOP)",
                     21614: "not a mobile number"}  # fmt: skip


class DeliveryError(Exception):
    def __init__(
        self,
        message: str,
        *,
        temporary: bool,
        retry_after: float | None = None,
        block_reason: str = "",
    ) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.retry_after = retry_after
        self.block_reason = block_reason  # set: the recipient's number is refused for good


def temporary_http(status: int) -> bool:
    return status == 429 or status >= 500


# --- Email -----------------------------------------------------------------------------------
class EmailChannel:
    name = "email"

    def __init__(self) -> None:
        self._connection: Any = None

    def send(self, message: EmailMessage, message_id: str) -> str:
        message.extra_headers["Message-ID"] = message_id
        try:
            if self._connection is None:
                # Opened here and kept for the whole run: a backend that opens its own connection
                # closes it after every message (a new SMTP session per notice).
                self._connection = get_connection()
                self._connection.open()
            message.connection = self._connection
            message.send()
        except Exception as exc:
            self.close()  # the next attempt starts a fresh SMTP conversation
            raise smtp_error(exc) from exc
        return message_id

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # a broken connection is being dropped anyway
                self._connection.close()
            self._connection = None


def smtp_error(exc: Exception) -> DeliveryError:
    """SMTP 4xx, a lost connection or a network error is temporary; SMTP 5xx is not."""
    message = first_line(exc)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = exc.recipients.items()
        codes = [code for _, (code, _) in refused]
        message = "; ".join(f"SMTP {code} for {rcpt}: {_text(reply)}" for rcpt, (code, reply) in refused)
        return DeliveryError(message, temporary=bool(codes) and all(400 <= c < 500 for c in codes))
    if isinstance(exc, smtplib.SMTPResponseException):
        message = f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
        return DeliveryError(message, temporary=400 <= exc.smtp_code < 500)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return DeliveryError(message or "the SMTP server closed the connection", temporary=True)
    if isinstance(exc, smtplib.SMTPException):
        return DeliveryError(message, temporary=False)
    if isinstance(exc, OSError):  # refused, reset, timed out, no route
        return DeliveryError(message, temporary=True)
    return DeliveryError(message, temporary=False)


def _text(reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


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

            # No retries inside the client: the Outbox retries, and records every attempt.
            http = TwilioHttpClient(timeout=settings.CHANNEL_TIMEOUT)
            self._client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http)
        return self._client

    def send(self, to: str, body: str) -> str:
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
            response = self.client.request("POST", uri, data=data)
            if not 200 <= response.status_code < 300:
                raise Version.exception("POST", uri, response, "Unable to create record")
        except TwilioException as exc:
            raise twilio_error(exc) from exc
        except requests.RequestException as exc:
            raise DeliveryError(f"Twilio unreachable: {first_line(exc)}", temporary=True) from exc
        try:
            return str(json.loads(response.text)["sid"])
        except (ValueError, KeyError, TypeError):
            return ""  # accepted (2xx) all the same: never send it again

    def close(self) -> None:
        session = getattr(getattr(self._client, "http_client", None), "session", None)
        if session is not None:
            session.close()
        self._client = None


def twilio_error(exc: Exception) -> DeliveryError:
    status = int(getattr(exc, "status", 0) or 0)
    code = getattr(exc, "code", None)
    text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", None)
    message = f"Twilio {status} error {code}: {text or type(exc).__name__}"
    if code in TWILIO_BAD_NUMBER:
        return DeliveryError(
            message, temporary=False, block_reason=f"Twilio {code}: {TWILIO_BAD_NUMBER[code]}"
        )
    return DeliveryError(message, temporary=temporary_http(status))


# --- Slack -----------------------------------------------------------------------------------
def slack_escape(text: str) -> str:
    """Text from people or errors, made inert in a Slack message: no <!channel> pings, no
    disguised <url|links> (Slack's own escaping of &, < and >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackChannel:
    name = "slack"

    @staticmethod
    def configured() -> bool:
        return bool(settings.SLACK_WEBHOOK_URL)

    def send(self, text: str) -> str:
        import requests

        try:
            response = requests.post(
                settings.SLACK_WEBHOOK_URL, json={"text": text}, timeout=settings.CHANNEL_TIMEOUT
            )
        except requests.RequestException as exc:
            # Not the exception's text: it names the webhook's path, which is the secret.
            raise DeliveryError(f"Slack unreachable ({type(exc).__name__})", temporary=True) from exc
        if response.status_code == 200:
            return ""
        body = " ".join(response.text.split())[:200]
        retry_after = response.headers.get("Retry-After")
        raise DeliveryError(
            f"Slack {response.status_code}: {body or response.reason}",
            temporary=temporary_http(response.status_code),
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )

    def close(self) -> None:
        pass
