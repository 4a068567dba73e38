"""The senders of the Outbox, one per channel, and how each sorts its failures.

Each ``send`` runs inside the send's ``Conversation`` (``notifications.conversation``: a deadline
on the whole send, and how far it got) and returns the provider's id of the accepted message, or
raises ``DeliveryError``. Only a failure that proves the provider did not take the message is
``temporary`` (tried again): a connection refused or lost before the message was handed over,
an explicit "try later" (SMTP 4xx, HTTP 429 or 503). A refusal for good (SMTP 5xx, HTTP 4xx, a
refused number, a removed webhook) is permanent. A timeout or a lost connection after the whole
message was written, or an HTTP 5xx other than 503, leaves it ``in_doubt``: the provider may
have it, and it is never sent again by itself. The Twilio client and ``requests`` are imported
when a message is first sent, not before.
"""

from __future__ import annotations

import contextlib
import json
import smtplib
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import get_connection

from notifications.smtp import BACKEND, DJANGO_SMTP_BACKEND
from utils.cronlog import first_line
from utils.errors import JobStop

if TYPE_CHECKING:
    from django.core.mail import EmailMessage

    from notifications.conversation import Conversation

TWILIO_API = "https://api.twilio.com"
# Twilio errors that mean "this number can't take our SMS": the member is flagged, not retried.
# 21211 invalid 'To' number · 21612 can't route to it · 21610 the member replied STOP ·
# 21614 not a mobile number.
TWILIO_BAD_NUMBER = {21211: "invalid number", 21612: "unreachable number", 21610: "unsubscribed (STOP)",
                     21614: "not a mobile number"}  # fmt: skip
# HTTP answers that say "not taken, try later"; any other 5xx may come after the service acted.
TRY_LATER = (429, 503)


class DeliveryError(Exception):
    def __init__(
        self,
        message: str,
        *,
        temporary: bool,
        retry_after: float | None = None,
        block_reason: str = "",
        in_doubt: bool = False,
    ) -> None:
        super().__init__(message)
        self.temporary = temporary and not in_doubt
        self.retry_after = retry_after
        self.block_reason = block_reason  # set: the recipient's number is refused for good
        self.in_doubt = in_doubt  # the provider may have taken it: never sent again by itself


def http_status_error(message: str, status: int, retry_after: float | None = None) -> DeliveryError:
    """An HTTP answer other than success: try later, in doubt (a 5xx), or refused for good."""
    if status in TRY_LATER:
        return DeliveryError(message, temporary=True, retry_after=retry_after)
    if status >= 500:
        return DeliveryError(f"{message} (the service may have acted on it)", temporary=False, in_doubt=True)
    return DeliveryError(message, temporary=False)


def connection_error(service: str, detail: str, conversation: Conversation) -> DeliveryError:
    """A request that got no answer: in doubt once it was written whole, else not taken
    (``detail`` says why, after "<service> unreachable")."""
    if conversation.written_whole:
        return DeliveryError(f"{service}: no answer after the request was sent{detail}", temporary=False,
                             in_doubt=True)  # fmt: skip
    if conversation.expired:
        detail = f" (the send deadline of {conversation.deadline:g}s passed before it was sent)"
    return DeliveryError(f"{service} unreachable{detail}", temporary=True)


def answered_in_time(service: str, conversation: Conversation) -> None:
    """An answer read after the watchdog cut the connection may be a torn one (smtplib and
    http.client accept a status line without its end): the message stays in doubt."""
    if conversation.expired and conversation.written_whole:
        raise DeliveryError(
            f"{service}: the send deadline of {conversation.deadline:g}s passed before the whole answer came",
            temporary=False,
            in_doubt=True,
        )


def reraise_refusal(exc: BaseException, conversation: Conversation) -> None:
    """What the Outbox's hand-over hook raised, or a stop, goes on as it is: not a provider's error."""
    if conversation.aborted is not None:
        raise conversation.aborted
    if isinstance(exc, JobStop):
        raise exc


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


def smtp_error(exc: Exception, conversation: Conversation) -> DeliveryError:
    """An SMTP reply says what became of the message: 4xx temporary, 5xx permanent. Without a
    reply, it depends on how far the conversation got (in doubt after the end-of-data dot)."""
    message = first_line(exc)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = exc.recipients.items()
        codes = [code for _, (code, _) in refused]
        message = "; ".join(f"SMTP {code} for {rcpt}: {_text(reply)}" for rcpt, (code, reply) in refused)
        return DeliveryError(message, temporary=bool(codes) and all(400 <= c < 500 for c in codes))
    if isinstance(exc, smtplib.SMTPResponseException):
        message = f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
        return DeliveryError(message, temporary=400 <= exc.smtp_code < 500)
    if conversation.written_whole:
        return DeliveryError(f"no reply after the message was sent ({message or 'connection lost'})",
                             temporary=False, in_doubt=True)  # fmt: skip
    if conversation.expired:
        return DeliveryError(
            f"the send deadline of {conversation.deadline:g}s passed before the message was sent",
            temporary=True,
        )
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


def twilio_error(exc: Exception) -> DeliveryError:
    status = int(getattr(exc, "status", 0) or 0)
    code = getattr(exc, "code", None)
    text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", None)
    message = f"Twilio {status} error {code}: {text or type(exc).__name__}"
    if code in TWILIO_BAD_NUMBER:
        return DeliveryError(
            message, temporary=False, block_reason=f"Twilio {code}: {TWILIO_BAD_NUMBER[code]}"
        )
    return http_status_error(message, status)


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
