"""Names for files put in the default storage that nobody can guess or read a person from.

The club's media bucket serves files to whoever has the link, so a report's path must not be
guessable (128 bits of randomness) and must not carry a member's name.
"""

from __future__ import annotations

import re
import secrets
from pathlib import PurePosixPath

# 16 random bytes: 128 bits, 22 URL-safe characters.
TOKEN_BYTES = 16

_SAFE_EXTENSION = re.compile(r"^\.[a-z0-9]{1,10}$")


def random_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def entropy_name(prefix: str, suffix: str) -> str:
    """``<prefix>-<random><suffix>``, e.g. ``reports/duty-delinquents/2026-12-01-<random>.csv``."""
    if not prefix or prefix.startswith("/") or ".." in PurePosixPath(prefix).parts:
        raise ValueError(f"prefix {prefix!r} must be a relative path inside the storage")
    if suffix and not _SAFE_EXTENSION.match(suffix):
        raise ValueError(f"suffix {suffix!r} must be empty or an extension like '.csv'")
    return f"{prefix}-{random_token()}{suffix}"
