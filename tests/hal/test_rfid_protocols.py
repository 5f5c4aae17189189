"""RFID wire protocols without I/O: RDM6300 frames, UID lines, PN532 HSU frames."""

from __future__ import annotations

import pytest

from hal.rfid_protocols import (
    ACK,
    NACK,
    SAM_CONFIGURATION,
    LineDecoder,
    Pn532Decoder,
    Pn532Message,
    Rdm6300Decoder,
    normalise_uid,
    pn532_frame,
    pn532_target_uid,
    rdm6300_frame,
)

TAG = "0F00A1B2C3"


def test_rdm6300_frame_layout_and_checksum() -> None:
    frame = rdm6300_frame(TAG)
    assert len(frame) == 14 and frame[0] == 0x02 and frame[-1] == 0x03
    checksum = 0x0F ^ 0x00 ^ 0xA1 ^ 0xB2 ^ 0xC3
    assert frame[11:13] == f"{checksum:02X}".encode()


@pytest.mark.parametrize(
    ("id_format", "expected"),
    [("hex10", TAG), ("hex8", "00A1B2C3"), ("dec10", f"{0x00A1B2C3:010d}")],
)
def test_rdm6300_id_formats(id_format: str, expected: str) -> None:
    assert Rdm6300Decoder(id_format).feed(rdm6300_frame(TAG)) == [expected]


def test_rdm6300_joins_split_frames_byte_by_byte() -> None:
    decoder = Rdm6300Decoder()
    out: list[str] = []
    for byte in rdm6300_frame(TAG) + rdm6300_frame("1122334455"):
        out += decoder.feed(bytes([byte]))
    assert out == [TAG, "1122334455"]


def test_rdm6300_resynchronises_after_garbage_and_drops_bad_checksums() -> None:
    bad = bytearray(rdm6300_frame("AABBCCDDEE"))
    bad[11:13] = b"00"
    truncated = rdm6300_frame("1234567890")[:9]
    stream = b"\xff\x00junk" + bytes(bad) + truncated + rdm6300_frame(TAG) + b"\x02ZZZZZZZZZZZZ\x03"
    decoder = Rdm6300Decoder()
    assert decoder.feed(stream) == [TAG]
    assert decoder.rejected >= 3
    assert decoder.feed(rdm6300_frame(TAG)) == [TAG]  # still in sync


def test_rdm6300_lowercase_hex_is_upper_cased() -> None:
    frame = rdm6300_frame(TAG).replace(b"F", b"f")
    assert Rdm6300Decoder().feed(frame) == [TAG]


def test_unknown_id_format_fails_early() -> None:
    with pytest.raises(ValueError):
        Rdm6300Decoder("base64")


@pytest.mark.parametrize(
    ("text", "uid"),
    [
        ("04:a2:b3:c4", "04A2B3C4"),
        ("04 A2 B3 C4", "04A2B3C4"),
        ("04-a2-b3-c4-11-22-33", "04A2B3C4112233"),
        ("  1234567890 ", "1234567890"),  # decimal kept as it is
        ("0123456789abcdef0123", "0123456789ABCDEF0123"),  # 20 characters: the limit
        ("0123456789abcdef01234", None),
        ("hello", None),
        ("", None),
    ],
)
def test_uid_lines_are_normalised(text: str, uid: str | None) -> None:
    assert normalise_uid(text) == uid


def test_line_decoder_splits_on_cr_lf_and_across_reads() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"04:a2:b3") == []
    assert decoder.feed(b":c4\r\n\r\nDEADBEEF\nnoise here\n") == ["04A2B3C4", "DEADBEEF"]
    assert decoder.rejected == 1
    assert decoder.feed(b"x" * 300) == []  # no line end in sight: dropped
    assert decoder.feed(b"\n01020304\n") == ["01020304"]


def test_pn532_frame_checksums() -> None:
    assert pn532_frame(SAM_CONFIGURATION) == bytes.fromhex("0000ff 05fb d4 14010001 16 00")
    with pytest.raises(ValueError):
        pn532_frame(bytes(300))


def test_pn532_decoder_finds_ack_nack_responses_and_errors_in_a_stream() -> None:
    response = pn532_frame(b"\x15", tfi=0xD5)
    error = bytes.fromhex("0000ff01ff7f8100")
    corrupt = bytearray(pn532_frame(b"\x4b\x00", tfi=0xD5))
    corrupt[-2] ^= 0xFF
    stream = b"\x55\x55" + ACK + response[:4] + response[4:] + bytes(corrupt) + NACK + error
    decoder = Pn532Decoder()
    got: list[Pn532Message] = []
    for i in range(0, len(stream), 3):
        got += decoder.feed(stream[i : i + 3])
    assert got == [
        Pn532Message("ack"),
        Pn532Message("response", b"\x15"),
        Pn532Message("nack"),
        Pn532Message("error"),
    ]
    assert decoder.rejected == 1


@pytest.mark.parametrize(
    ("payload", "uid"),
    [
        (bytes.fromhex("4b0101000408 04 deadbeef"), "DEADBEEF"),
        (bytes.fromhex("4b0101004400070488a1b2c3d4e5"), "0488A1B2C3D4E5"),
        (bytes.fromhex("4b00"), None),  # no target
        (bytes.fromhex("4b010100040804dead"), None),  # short
        (bytes.fromhex("1500"), None),
    ],
)
def test_pn532_target_uid(payload: bytes, uid: str | None) -> None:
    assert pn532_target_uid(payload) == uid
