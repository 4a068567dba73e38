"""In-app notifications kept by scheduled jobs: one live notification per member and key."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.utils import timezone

from notifications.models import Notification

BATCH = 500  # rows per statement when many notifications are written at once

if TYPE_CHECKING:
    from notifications.job import SendingJob


def upsert_notification(user_id: int, key: str, message: str, url: str = "") -> Notification:
    """Create the member's live notification for ``key``, or update it (unread again)."""
    notification, _ = Notification.objects.update_or_create(
        user_id=user_id,
        key=key,
        dismissed=False,
        defaults={"message": message, "url": url, "read": False},
    )
    return notification


def upsert_notifications(key: str, messages: dict[int, str], url: str = "") -> int:
    """``upsert_notification`` for many members at once (member id -> text): one query reads
    their live notifications of ``key``, one per batch updates them, one per batch creates the
    rest. Call inside a unit of work."""
    if not messages:
        return 0
    now = timezone.now()
    live = {
        row.user_id: row
        for row in Notification.objects.filter(key=key, dismissed=False, user_id__in=list(messages)).only(
            "id", "user_id"
        )
    }
    for user_id, row in live.items():
        row.message, row.url, row.read, row.updated_at = messages[user_id], url, False, now
    Notification.objects.bulk_update(
        live.values(), ["message", "url", "read", "updated_at"], batch_size=BATCH
    )
    Notification.objects.bulk_create(
        [
            Notification(user_id=pk, key=key, message=text, url=url)
            for pk, text in messages.items()
            if pk not in live
        ],
        batch_size=BATCH,
    )
    return len(messages)


def dismiss_notifications(
    key: str, *, except_user_ids: Iterable[int] = (), user_ids: Iterable[int] | None = None
) -> int:
    """Dismiss live notifications of ``key`` (for ``user_ids``, or all but ``except_user_ids``)."""
    live = Notification.objects.filter(key=key, dismissed=False)
    if user_ids is not None:
        live = live.filter(user_id__in=list(user_ids))
    return live.exclude(user_id__in=list(except_user_ids)).update(dismissed=True)


def sync_notifications(job: SendingJob, key: str, url: str, wanted: dict[int, tuple[str, str]]) -> None:
    """Make ``key``'s live notifications match ``wanted`` (member id -> (name, text)).

    A notification is rewritten (and unread again) only when its text changes; members no
    longer in ``wanted`` have theirs dismissed; nothing is ever stacked. One query to read, one
    fenced unit of work to write (a few statements, however many members); a dry run only says
    what it would do.
    """
    live = dict(Notification.objects.filter(key=key, dismissed=False).values_list("user_id", "message"))
    changed = {pk: entry for pk, entry in wanted.items() if live.get(pk) != entry[1]}
    finished = set(live) - set(wanted)
    if job.dry_run:
        for pk, (name, message) in changed.items():
            verb = "update" if pk in live else "create"
            job.log("dry_run", f"Would {verb} the in-app notification of {name}: {message}")
        if finished:
            job.log("dry_run", f"Would dismiss {len(finished)} in-app notification(s) that no longer apply")
        if changed:
            job.count("would_notify_in_app", len(changed))
        return
    if not changed and not finished:
        return
    with job.unit_of_work():
        upsert_notifications(key, {pk: message for pk, (_name, message) in changed.items()}, url)
        dismissed = dismiss_notifications(key, user_ids=finished) if finished else 0
    for _pk, (name, message) in changed.items():
        job.log("info", f"In-app notification of {name}: {message}", min_verbosity=2)
    if changed:
        job.count("in_app_updated", len(changed))
    if dismissed:
        job.count("in_app_dismissed", dismissed)
