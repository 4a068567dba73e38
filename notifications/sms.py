"""SMS text that fits: GSM-7 or UCS-2 segments, and a message cut to at most two of them.

A text message is sent in GSM-7 (7-bit, 160 characters in one segment, 153 per segment of a
longer one) when every character is in the GSM alphabet, else in UCS-2 (70, then 67 per segment,
counted in UTF-16 code units: an emoji takes two). Characters of the GSM extension table
(``€ [ ] { } | ~ ^ \\``) take two septets, and a segment never splits one, nor a surrogate pair.
Typographic quotes and dashes, which would switch a whole message to UCS-2, are replaced first.
"""

from __future__ import annotations

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7 = "GSM-7"
UCS2 = "UCS-2"
# (one segment alone, each segment of a longer message), in septets or UTF-16 code units.
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}
MAX_SEGMENTS = 2

_PLAIN = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
        "…": "...",
        "\u00a0": " ",
        "\u202f": " ",
        "•": "*",
    }
)


def plain(text: str) -> str:
    """The text with typographic punctuation replaced by its GSM look-alike."""
    return text.translate(_PLAIN)


def encoding(text: str) -> str:
    return GSM7 if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text) else UCS2


def _units(char: str, enc: str) -> int:
    if enc == GSM7:
        return 2 if char in GSM_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def length(text: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes."""
    enc = encoding(text)
    return sum(_units(c, enc) for c in text)


def segments(text: str) -> int:
    """How many segments the text is sent in (an empty text is one)."""
    enc = encoding(text)
    single, multi = LIMITS[enc]
    if sum(_units(c, enc) for c in text) <= single:
        return 1
    count, used = 1, 0
    for char in text:
        units = _units(char, enc)
        if used + units > multi:  # a character is never split across two segments
            count, used = count + 1, 0
        used += units
    return count


def fit(text: str, max_segments: int = MAX_SEGMENTS) -> str:
    """The text, plain, cut at a word (with an ellipsis) so that it takes at most ``max_segments``."""
    text = " ".join(part for part in plain(text).strip().split(" ") if part) if text else ""
    if segments(text) <= max_segments:
        return text
    end = len(text)
    while end > 0 and segments(_cut(text[:end])) > max_segments:
        end -= 1
    space = text.rfind(" ", 0, end + 1)
    if space >= end * 3 // 4:  # back to a word boundary, unless that loses too much
        end = space
    return _cut(text[:end])


def _cut(text: str) -> str:
    """A shortened text with its ellipsis (three dots in GSM-7, one character in UCS-2)."""
    text = text.rstrip(" ,;:-.\n")
    return text + ("..." if encoding(text) == GSM7 else "…")
