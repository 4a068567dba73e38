"""How a failed send is sorted: what the provider may have, and whether trying again is safe.

``DeliveryError`` says it: ``temporary`` when the failure proves the provider did not take the
message (nothing of it went out whole, or the provider said "try later": SMTP 4xx, HTTP 429 or
503), so it may be tried again; ``in_doubt`` when it may have taken it (the whole message went
out and no answer came, the answer was cut by the send deadline, or an HTTP 5xx other than 503
came), so it is never sent again by itself; neither for a refusal for good (SMTP 5xx, HTTP 4xx, a
refused number). How far the send got is its ``Conversation``'s to say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from utils.cronlog import first_line
from utils.errors import JobStop

if TYPE_CHECKING:
    from notifications.conversation import Conversation

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


def smtp_error(exc: Exception, conversation: Conversation) -> DeliveryError:
    """An SMTP reply says what became of the message: 4xx temporary, 5xx permanent. Without a
    reply, it depends on how far the conversation got (in doubt after the end-of-data dot)."""
    import smtplib  # here: it brings ssl, which a dry run never needs

    message = first_line(exc)
    replied = isinstance(exc, smtplib.SMTPResponseException)
    if conversation.written_whole and (conversation.expired or not replied):
        # No reply after the end-of-data dot, or one the watchdog may have torn ("25" of "250").
        return DeliveryError(f"no reply after the message was sent ({message or 'connection lost'})",
                             temporary=False, in_doubt=True)  # fmt: skip
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = exc.recipients.items()
        codes = [code for _, (code, _) in refused]
        message = "; ".join(f"SMTP {code} for {rcpt}: {_text(reply)}" for rcpt, (code, reply) in refused)
        return DeliveryError(message, temporary=bool(codes) and all(400 <= c < 500 for c in codes))
    if isinstance(exc, smtplib.SMTPResponseException):
        message = f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
        return DeliveryError(message, temporary=400 <= exc.smtp_code < 500)
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
