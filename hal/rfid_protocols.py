"""What RFID readers say on a serial line, decoded without I/O (sans-IO, plain ``def`` tests).

- **RDM6300 / RDM630** (125 kHz EM4100, transmit only, 9600 8N1): ``0x02``, 10 ASCII hex
  digits (2 version/customer + 8 tag), 2 ASCII hex digits checksum = XOR of the 5 data
  bytes, ``0x03``. Sources: arduino12/rdm6300 ``src/rdm6300.cpp``, mad-tinkerer/python-rdm6300.
- **Line readers** (USB CDC readers, ESP or PN532 bridges that print the UID): one UID per
  line, separators ``:`` ``-`` and spaces removed, hex upper-cased, decimal kept.
- **PN532 HSU** (UART): frames ``00 00 FF LEN LCS D4 <command> DCS 00``; the chip answers
  with an ACK frame, then a response frame with TFI ``D5`` and the command code + 1.
  Sources: NXP PN532 User Manual UM0701-02 §6.2; EVerest/everest-core
  ``modules/PN532TokenProvider/pn532_serial/PN532Serial.cpp`` (wake-up preamble,
  SAMConfiguration ``14 01 00 01``, InListPassiveTarget ``4A 01 00``).

idTags are upper-case hex without separators, at most 20 characters (OCPP 1.6 IdToken is
CiString20Type).
"""

from __future__ import annotations

import logging
import string
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_ID_LENGTH = 20
_HEX = frozenset(string.hexdigits)


# --- RDM6300 ---------------------------------------------------------------------------------

STX, ETX = 0x02, 0x03
RDM6300_FRAME = 14


def rdm6300_id(data10: str, id_format: str) -> str:
    """The idTag for the 10 hex digits of a frame: ``hex10`` all, ``hex8`` the tag number,
    ``dec10`` the tag number as the 10-digit decimal printed on many cards."""
    data10 = data10.upper()
    if id_format == "hex10":
        return data10
    if id_format == "hex8":
        return data10[2:]
    if id_format == "dec10":
        return f"{int(data10[2:], 16):010d}"
    raise ValueError(f"unknown id_format {id_format!r}")


def rdm6300_frame(data10: str) -> bytes:
    """A valid frame for ``data10`` (for tests and simulators)."""
    checksum = 0
    for i in range(0, 10, 2):
        checksum ^= int(data10[i : i + 2], 16)
    return bytes([STX]) + f"{data10.upper()}{checksum:02X}".encode() + bytes([ETX])


class Rdm6300Decoder:
    """Bytes in, idTags out: resynchronises on ``0x02`` after garbage, joins split frames,
    drops frames with a bad checksum. Every valid frame yields its tag (the reader repeats
    frames while the tag is held; the device debounces)."""

    def __init__(self, id_format: str = "hex10") -> None:
        rdm6300_id("0000000000", id_format)  # fail early on a bad format
        self.id_format = id_format
        self._buf = bytearray()
        self.rejected = 0

    def feed(self, data: bytes) -> list[str]:
        self._buf += data
        tags: list[str] = []
        while True:
            start = self._buf.find(STX)
            if start < 0:
                self.rejected += bool(self._buf)
                self._buf.clear()
                return tags
            if start:
                self.rejected += 1
                del self._buf[:start]
            if len(self._buf) < RDM6300_FRAME:
                return tags
            tag = self._frame(bytes(self._buf[:RDM6300_FRAME]))
            if tag is None:
                self.rejected += 1
                del self._buf[:1]  # resynchronise on the next STX
                continue
            del self._buf[:RDM6300_FRAME]
            tags.append(tag)

    def _frame(self, frame: bytes) -> str | None:
        if frame[-1] != ETX:
            return None
        try:
            text = frame[1:13].decode("ascii")
        except UnicodeDecodeError:
            return None
        if not set(text) <= _HEX:
            return None
        checksum = 0
        for i in range(0, 10, 2):
            checksum ^= int(text[i : i + 2], 16)
        if checksum != int(text[10:12], 16):
            log.debug("rdm6300: bad checksum in %r", frame)
            return None
        return rdm6300_id(text[:10], self.id_format)


# --- line readers ---------------------------------------------------------------------------------

MAX_LINE = 256


def normalise_uid(text: str) -> str | None:
    """``"04:a2:b3:c4"`` → ``"04A2B3C4"``; decimal strings stay as they are; None when the
    text is not a UID (other characters, empty, longer than 20)."""
    uid = "".join(ch for ch in text.strip() if ch not in ":- \t")
    if not uid or len(uid) > MAX_ID_LENGTH or not set(uid) <= _HEX:
        return None
    return uid.upper()


class LineDecoder:
    """Bytes in, idTags out, one per ``\\n`` / ``\\r`` terminated line."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.rejected = 0

    def feed(self, data: bytes) -> list[str]:
        self._buf += data
        tags: list[str] = []
        while True:
            cut = min(
                (i for i in (self._buf.find(b"\n"), self._buf.find(b"\r")) if i >= 0), default=-1
            )
            if cut < 0:
                if len(self._buf) > MAX_LINE:  # no line end in sight: noise
                    self.rejected += 1
                    self._buf.clear()
                return tags
            line = bytes(self._buf[:cut])
            del self._buf[: cut + 1]
            if not line.strip():
                continue
            uid = normalise_uid(line.decode("ascii", errors="replace"))
            if uid is None:
                self.rejected += 1
                log.debug("line reader: ignoring %r", line)
                continue
            tags.append(uid)


# --- PN532 over HSU --------------------------------------------------------------------------

ACK = bytes([0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00])
NACK = bytes([0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00])
WAKEUP = bytes([0x55, 0x55]) + bytes(14)
HOST_TO_PN532, PN532_TO_HOST = 0xD4, 0xD5
SAM_CONFIGURATION = bytes([0x14, 0x01, 0x00, 0x01])  # normal mode, no timeout, use IRQ
GET_FIRMWARE_VERSION = bytes([0x02])
IN_LIST_PASSIVE_TARGET = bytes([0x4A, 0x01, 0x00])  # one target, 106 kbps type A


def pn532_frame(payload: bytes, tfi: int = HOST_TO_PN532) -> bytes:
    """A normal information frame carrying ``payload`` (command code and parameters)."""
    data = bytes([tfi]) + payload
    if len(data) > 255:
        raise ValueError("extended frames are not needed here")
    return (
        bytes([0x00, 0x00, 0xFF, len(data), (-len(data)) & 0xFF])
        + data
        + bytes([(-sum(data)) & 0xFF, 0x00])
    )


@dataclass(frozen=True, slots=True)
class Pn532Message:
    """``kind``: "ack", "nack", "error" (the chip's syntax-error frame) or "response"
    (``payload`` = response code and data, TFI removed)."""

    kind: str
    payload: bytes = b""


class Pn532Decoder:
    """Bytes in, :class:`Pn532Message` out; skips noise and frames with bad checksums."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.rejected = 0

    def feed(self, data: bytes) -> list[Pn532Message]:
        self._buf += data
        out: list[Pn532Message] = []
        while True:
            start = self._buf.find(b"\x00\xff")
            if start < 0:
                del self._buf[: max(0, len(self._buf) - 1)]  # keep a trailing 00
                return out
            del self._buf[:start]
            if len(self._buf) < 4:
                return out
            length, lcs = self._buf[2], self._buf[3]
            if (length, lcs) == (0x00, 0xFF):
                out.append(Pn532Message("ack"))
                del self._buf[:4]
                continue
            if (length, lcs) == (0xFF, 0x00):
                out.append(Pn532Message("nack"))
                del self._buf[:4]
                continue
            if (length + lcs) & 0xFF or length == 0:
                self.rejected += 1
                del self._buf[:2]
                continue
            if len(self._buf) < 4 + length + 1:
                return out
            body = bytes(self._buf[4 : 4 + length])
            dcs = self._buf[4 + length]
            del self._buf[: 4 + length + 1]
            if (sum(body) + dcs) & 0xFF:
                self.rejected += 1
                continue
            if body[0] == 0x7F:
                out.append(Pn532Message("error"))
            elif body[0] == PN532_TO_HOST:
                out.append(Pn532Message("response", body[1:]))
            else:  # our own frame echoed (a line with local echo): not for us
                self.rejected += 1


def pn532_target_uid(payload: bytes) -> str | None:
    """The NFCID of the first target in an InListPassiveTarget response (``4B ...``), as
    upper-case hex; None when no target was found or the response is short."""
    if len(payload) < 2 or payload[0] != 0x4B or payload[1] < 1:
        return None
    # 4B NbTg Tg SENS_RES(2) SEL_RES NFCIDLength NFCID...
    if len(payload) < 7:
        return None
    length = payload[6]
    uid = payload[7 : 7 + length]
    if length == 0 or len(uid) != length or 2 * length > MAX_ID_LENGTH:
        return None
    return uid.hex().upper()
