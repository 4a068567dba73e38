"""SMS length: GSM-7 and UCS-2 segments, and texts cut to two of them."""

from __future__ import annotations

import pytest

from notifications import sms


@pytest.mark.parametrize(
    ("text", "encoding", "length", "segments"),
    [
        ("", sms.GSM7, 0, 1),
        ("x" * 160, sms.GSM7, 160, 1),
        ("x" * 161, sms.GSM7, 161, 2),
        ("x" * 306, sms.GSM7, 306, 2),
        ("x" * 307, sms.GSM7, 307, 3),
        ("€" * 80, sms.GSM7, 160, 1),  # the extension table takes two septets
        ("€" * 81, sms.GSM7, 162, 2),
        ("Café Zürich, Ørsted & Ñandú à 9h", sms.UCS2, 32, 1),  # ú is not GSM
        ("Café Zürich, Ørsted & Ñandù à 9h", sms.GSM7, 32, 1),  # ù is
        ("ä" * 70 + "á", sms.UCS2, 71, 2),
        ("á" * 70, sms.UCS2, 70, 1),
        ("😀" * 35, sms.UCS2, 70, 1),  # an emoji is two UTF-16 code units
        ("😀" * 36, sms.UCS2, 72, 2),
    ],
)
def test_encoding_length_and_segments(text: str, encoding: str, length: int, segments: int) -> None:
    assert sms.encoding(text) == encoding
    assert sms.length(text) == length
    assert sms.segments(text) == segments


def test_a_segment_never_splits_an_extension_character_or_an_emoji() -> None:
    # 152 septets, then a two-septet character: it goes whole into the second segment.
    assert sms.segments("x" * 152 + "€" + "y" * 152) == 3
    assert sms.segments("x" * 153 + "y" * 153) == 2
    # UCS-2: 66 code units and an emoji (two) don't fit in a 67-unit segment.
    assert sms.segments("á" * 66 + "😀" + "á" * 66) == 3


def test_typographic_punctuation_stays_gsm() -> None:
    text = "Duty tomorrow — “don’t” forget… the 9:00 briefing"
    assert sms.encoding(text) == sms.UCS2
    assert sms.fit(text) == 'Duty tomorrow - "don\'t" forget... the 9:00 briefing'
    assert sms.encoding(sms.fit(text)) == sms.GSM7


def test_a_short_text_is_unchanged() -> None:
    assert sms.fit("Your currency lapses on 2026-12-01.") == "Your currency lapses on 2026-12-01."


def test_a_long_gsm_text_is_cut_at_a_word_to_two_segments() -> None:
    text = "Skyline Soaring Club: you are duty officer at KFRR tomorrow. " * 8
    fitted = sms.fit(text)
    assert sms.segments(fitted) == 2 and sms.encoding(fitted) == sms.GSM7
    assert fitted.endswith("...") and not fitted.endswith(" ...")
    assert text.startswith(fitted[:-3])
    assert fitted[:-3].split()[-1] in {word.rstrip(".:") for word in text.split()}  # a whole word
    assert len(fitted) > 280  # nearly all of the two segments is used


def test_a_long_text_with_emoji_and_accents_is_cut_to_two_ucs2_segments() -> None:
    text = "Grüße aus Zürich 🛩️ — Ihr Flugtag ist morgen, bitte pünktlich sein! " * 5
    fitted = sms.fit(text)
    assert sms.encoding(fitted) == sms.UCS2
    assert sms.segments(fitted) == 2 and sms.length(fitted) <= 134
    assert fitted.endswith("…")
    assert "\ud83d" not in fitted  # no half of a surrogate pair


def test_one_segment_can_be_asked_for() -> None:
    fitted = sms.fit("word " * 100, max_segments=1)
    assert sms.segments(fitted) == 1 and len(fitted) <= 160 and fitted.endswith("...")


def test_a_text_without_spaces_is_cut_where_it_must() -> None:
    fitted = sms.fit("x" * 1000)
    assert fitted == "x" * 303 + "..."
