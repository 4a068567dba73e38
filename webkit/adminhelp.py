"""A short help text on an admin page: what the table is and what to do with it.

A ``ModelAdmin`` that mixes in ``AdminHelpMixin`` sets ``admin_help`` (one or two sentences)
and, if a page of docs/ says more, ``admin_help_doc`` (its path, e.g.
``docs/notifications.md#in-doubt``). Both show above the list and the form.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse


class AdminHelpMixin:
    admin_help: str = ""
    admin_help_doc: str = ""
    change_list_template: ClassVar[Any] = "admin/webkit/change_list.html"
    change_form_template: ClassVar[Any] = "admin/webkit/change_form.html"

    def help_context(self, extra_context: dict[str, Any] | None) -> dict[str, Any]:
        return {**(extra_context or {}), "admin_help": self.admin_help, "admin_help_doc": self.admin_help_doc}

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, self.help_context(extra_context))  # type: ignore[misc]

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return super().changeform_view(  # type: ignore[misc]
            request, object_id, form_url, self.help_context(extra_context)
        )
