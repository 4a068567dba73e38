"""Emails rendered from templates: ``<prefix>.subject.txt``, ``<prefix>.txt`` and ``<prefix>.html``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
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
    attachments: Iterable[tuple[str, bytes | str, str]] = (),
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
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message
