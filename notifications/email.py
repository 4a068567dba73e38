"""Emails rendered from templates: ``<prefix>.subject.txt``, ``<prefix>.txt`` and ``<prefix>.html``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from email.mime.base import MIMEBase
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEText
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string


def base_context() -> dict[str, Any]:
    return {"club_name": settings.CLUB_NAME, "site_url": settings.SITE_URL}


def render_email(
    template_prefix: str,
    to: Sequence[str],
    context: dict[str, Any],
    *,
    cc: Iterable[str] = (),
    attachments: Iterable[tuple[str, bytes | str, str] | MIMEBase] = (),
) -> EmailMultiAlternatives:
    """Build (not send) an email with a plain-text body and, when the template exists, HTML."""
    context = {**base_context(), **context}
    subject = " ".join(render_to_string(f"{template_prefix}.subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template_prefix}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        cc=sorted(set(cc) - set(to)),
    )
    with contextlib.suppress(TemplateDoesNotExist):
        message.attach_alternative(render_to_string(f"{template_prefix}.html", context), "text/html")
    for attachment in attachments:
        if isinstance(attachment, MIMEBase):
            message.attach(attachment)
        else:
            message.attach(*attachment)
    return message


class SharedPart(SafeMIMEText):
    """A MIME part that keeps its bytes once written: ``serialized`` maps a line separator to
    them, filled by ``notifications.smtp.SharedPartsGenerator`` the first time it writes it."""

    def __init__(self, content: str, subtype: str, charset: str) -> None:
        super().__init__(content, subtype, charset)
        self.serialized: dict[str | None, bytes] = {}


def shared_part(filename: str, content: str, subtype: str) -> SharedPart:
    """A text attachment every copy of a notice carries alike (a report's CSV): one MIME part,
    encoded once, which the SMTP backend also writes out once (``SharedPartsGenerator``)."""
    part = SharedPart(content, subtype, settings.DEFAULT_CHARSET)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part
