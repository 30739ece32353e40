"""Global IDs decode only to ASCII digits of the expected type."""

from __future__ import annotations

import base64

import pytest

from schema.ids import MISSING_ID, database_id_or_missing, decode_global_id, encode_global_id


def _raw(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_round_trip() -> None:
    assert decode_global_id(encode_global_id("Invoice", 42)) == ("Invoice", 42)


@pytest.mark.parametrize(
    "value",
    [
        _raw("Invoice:²"),
        _raw("Invoice:\u0661"),  # ARABIC-INDIC DIGIT ONE
        _raw("Invoice:-1"),
        _raw("Invoice:1e3"),
        _raw("Invoice:" + "9" * 19),
        _raw("Invoice"),
        "%%%",
        "",
    ],
)
def test_malformed_id_decodes_to_none(value: str) -> None:
    assert decode_global_id(value) is None


def test_wrong_type_maps_to_missing() -> None:
    assert database_id_or_missing(encode_global_id("Payment", 7), "Invoice") == MISSING_ID


@pytest.mark.parametrize("suffix", ["!!", "=", " ", "\n"])
def test_id_with_extra_characters_rejected(suffix: str) -> None:
    assert decode_global_id(encode_global_id("Payment", 1) + suffix) is None


def test_id_with_leading_zero_rejected() -> None:
    assert decode_global_id(_raw("Payment:01")) is None
