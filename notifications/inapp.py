"""In-app notifications kept by scheduled jobs: one live notification per member and key."""

from __future__ import annotations

from collections.abc import Iterable

from notifications.models import Notification


def upsert_notification(user_id: int, key: str, message: str, url: str = "") -> Notification:
    """Create the member's live notification for ``key``, or update it (unread again)."""
    notification, _ = Notification.objects.update_or_create(
        user_id=user_id,
        key=key,
        dismissed=False,
        defaults={"message": message, "url": url, "read": False},
    )
    return notification


def dismiss_notifications(
    key: str, *, except_user_ids: Iterable[int] = (), user_ids: Iterable[int] | None = None
) -> int:
    """Dismiss live notifications of ``key`` (for ``user_ids``, or all but ``except_user_ids``)."""
    live = Notification.objects.filter(key=key, dismissed=False)
    if user_ids is not None:
        live = live.filter(user_id__in=list(user_ids))
    return live.exclude(user_id__in=list(except_user_ids)).update(dismissed=True)
