"""A part every copy of a notice carries alike is encoded and written once, and reads the same."""

from __future__ import annotations

from email.generator import BytesGenerator
from email.message import Message
from email.mime.base import MIMEBase
from io import BytesIO

from notifications.email import render_email, shared_part
from notifications.smtp import SharedPartsGenerator

CSV = "member,flights\n" + "".join(f"Pilot {n},{n}\n" for n in range(500))


def written(message: Message, generator: type[BytesGenerator]) -> bytes:
    buffer = BytesIO()
    generator(buffer, mangle_from_=False).flatten(message, linesep="\r\n")
    return buffer.getvalue()


def copy_for(name: str, part: MIMEBase) -> Message:
    context = {"member": {"first_name": name}}
    email = render_email(
        "notifications/email/test_greeting", [f"{name}@example.org"], context, attachments=[part]
    )
    email.extra_headers["Message-ID"] = f"<{name}@example.org>"
    return email.message()


def test_each_copy_reads_as_if_written_whole_and_the_shared_part_is_written_once() -> None:
    part = shared_part("list.csv", CSV, "csv")
    first, second = copy_for("ada", part), copy_for("bea", part)
    assert written(first, SharedPartsGenerator) == written(first, BytesGenerator)
    assert list(part.serialized) == ["\r\n"]
    part.serialized["\r\n"] = part.serialized["\r\n"].replace(b"Pilot 499", b"Pilot 4xx")
    # The second copy takes the part's bytes from the first: its own text, the shared part as written.
    second_bytes = written(second, SharedPartsGenerator)
    assert b"bea@example.org" in second_bytes and b"Pilot 4xx" in second_bytes
    assert written(second, BytesGenerator).replace(b"Pilot 499", b"Pilot 4xx") == second_bytes
