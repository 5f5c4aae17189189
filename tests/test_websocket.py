"""RFC 6455 client, sans-IO: handshake, masking, fragments, control frames, violations."""

from __future__ import annotations

import pytest

from ocppd.transport import websocket as ws


def server_frame(opcode: int, payload: bytes, *, fin: bool = True, extra: int = 0) -> bytes:
    n = len(payload)
    first = (0x80 if fin else 0) | extra | opcode
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65536:
        return bytes((first, 126)) + n.to_bytes(2, "big") + payload
    return bytes((first, 127)) + n.to_bytes(8, "big") + payload


def unmask_client_frame(frame: bytes) -> tuple[int, bytes]:
    assert frame[0] & 0x80, "client frames are final"
    assert frame[1] & 0x80, "client frames are masked"
    n, pos = frame[1] & 0x7F, 2
    if n == 126:
        n, pos = int.from_bytes(frame[2:4], "big"), 4
    elif n == 127:
        n, pos = int.from_bytes(frame[2:10], "big"), 10
    key, body = frame[pos : pos + 4], frame[pos + 4 :]
    assert len(body) == n
    return frame[0] & 0x0F, bytes(b ^ key[i % 4] for i, b in enumerate(body))


def events(reader: ws.Reader) -> list[ws.Event]:
    out = []
    while (event := reader.next_event()) is not None:
        out.append(event)
    return out


# --- handshake ---


def test_accept_token_is_the_rfc_example() -> None:
    assert ws.accept_token("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def answer(
    key: str, *, status: str = "101 Switching Protocols", protocol: str = "ocpp1.6"
) -> bytes:
    lines = [
        f"HTTP/1.1 {status}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {ws.accept_token(key)}",
    ]
    if protocol:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_request_carries_key_version_subprotocol_and_extra_headers() -> None:
    hs = ws.Handshake.build("csms:9000", "/ocpp/CP1", ["ocpp1.6"], [(b"Authorization", b"Basic x")])
    text = hs.request.decode()
    assert text.startswith("GET /ocpp/CP1 HTTP/1.1\r\nHost: csms:9000\r\n")
    assert f"Sec-WebSocket-Key: {hs.key}\r\n" in text
    assert "Sec-WebSocket-Version: 13\r\n" in text
    assert "Sec-WebSocket-Protocol: ocpp1.6\r\n" in text
    assert text.endswith("Authorization: Basic x\r\n\r\n")


def test_a_good_answer_gives_the_subprotocol_and_what_followed_it() -> None:
    hs = ws.Handshake.build("h", "/", ["ocpp1.6"])
    data = answer(hs.key) + server_frame(ws.TEXT, b"[]")
    assert hs.response_complete(data)
    protocol, rest = hs.accept(data)
    assert protocol == "ocpp1.6"
    assert rest == server_frame(ws.TEXT, b"[]")


def test_an_answer_without_subprotocol_says_so() -> None:
    hs = ws.Handshake.build("h", "/", ["ocpp1.6"])
    assert hs.accept(answer(hs.key, protocol=""))[0] is None


def test_a_refusal_keeps_the_http_status() -> None:
    hs = ws.Handshake.build("h", "/", ["ocpp1.6"])
    with pytest.raises(ws.HandshakeFailed) as caught:
        hs.accept(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
    assert caught.value.status == 401
    assert "HTTP 401" in caught.value.reason


def test_a_wrong_accept_token_is_refused() -> None:
    hs = ws.Handshake.build("h", "/", ["ocpp1.6"])
    other = ws.Handshake.build("h", "/", ["ocpp1.6"])
    with pytest.raises(ws.HandshakeFailed, match="Sec-WebSocket-Accept"):
        hs.accept(answer(other.key))


def test_endless_headers_are_refused() -> None:
    hs = ws.Handshake.build("h", "/", ["ocpp1.6"])
    with pytest.raises(ws.HandshakeFailed):
        hs.response_complete(b"HTTP/1.1 101\r\n" + b"X: y\r\n" * 5000)


# --- frames we send ---


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 70000])
def test_client_frames_are_masked_and_sized(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    opcode, body = unmask_client_frame(ws.encode(ws.TEXT, payload))
    assert (opcode, body) == (ws.TEXT, payload)


def test_a_close_frame_carries_code_and_reason() -> None:
    opcode, body = unmask_client_frame(ws.encode_close(1002, "bad"))
    assert opcode == ws.CLOSE and body == b"\x03\xeabad"
    assert unmask_client_frame(ws.encode_close(ws.NO_STATUS_RCVD))[1] == b""


# --- frames we receive ---


def test_messages_arrive_whole_however_the_bytes_are_cut() -> None:
    stream = server_frame(ws.TEXT, b'[2,"1","Reset",{}]') + server_frame(
        ws.TEXT, "é".encode() * 200
    )
    reader = ws.Reader(1 << 20)
    got: list[ws.Event] = []
    for i in range(len(stream)):
        reader.feed(stream[i : i + 1])
        got += events(reader)
    assert got == [ws.Message('[2,"1","Reset",{}]'), ws.Message("é" * 200)]


def test_fragments_are_joined_and_control_frames_may_come_between() -> None:
    reader = ws.Reader(1 << 20)
    reader.feed(server_frame(ws.TEXT, b"[2,", fin=False))
    reader.feed(server_frame(ws.PING, b"p"))
    reader.feed(server_frame(ws.CONTINUATION, b'"1",', fin=False))
    reader.feed(server_frame(ws.CONTINUATION, b'"Reset",{}]'))
    assert events(reader) == [ws.Ping(b"p"), ws.Message('[2,"1","Reset",{}]')]


def test_binary_pong_and_close_events() -> None:
    reader = ws.Reader(1 << 20)
    reader.feed(server_frame(ws.BINARY, b"\x00\x01"))
    reader.feed(server_frame(ws.PONG, b"abc"))
    reader.feed(server_frame(ws.CLOSE, (1001).to_bytes(2, "big") + b"bye"))
    reader.feed(server_frame(ws.CLOSE, b""))
    assert events(reader) == [
        ws.Message(b"\x00\x01"),
        ws.Pong(b"abc"),
        ws.Close(1001, "bye"),
        ws.Close(ws.NO_STATUS_RCVD, ""),
    ]


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([server_frame(ws.TEXT, b"x" * 101)], ws.MESSAGE_TOO_BIG),
        ([server_frame(ws.TEXT, b"x" * 60, fin=False), server_frame(0, b"x" * 60)], 1009),
        ([server_frame(ws.TEXT, b"\xff\xfe")], ws.INVALID_PAYLOAD),
        ([server_frame(ws.TEXT, b"x", extra=0x40)], ws.PROTOCOL_ERROR),
        ([bytes((0x81, 0x81)) + b"mask" + b"x"], ws.PROTOCOL_ERROR),
        ([server_frame(ws.CONTINUATION, b"x")], ws.PROTOCOL_ERROR),
        ([server_frame(ws.TEXT, b"x", fin=False), server_frame(ws.TEXT, b"y")], 1002),
        ([server_frame(ws.PING, b"x" * 126)], ws.PROTOCOL_ERROR),
        ([server_frame(ws.PING, b"x", fin=False)], ws.PROTOCOL_ERROR),
        ([server_frame(0x3, b"x")], ws.PROTOCOL_ERROR),
        ([server_frame(ws.CLOSE, b"\x03")], ws.PROTOCOL_ERROR),
    ],
)
def test_violations_name_the_close_code_to_answer_with(frames: list[bytes], code: int) -> None:
    reader = ws.Reader(100)
    for frame in frames:
        reader.feed(frame)
    with pytest.raises(ws.ProtocolViolation) as caught:
        events(reader)
    assert caught.value.code == code


def test_a_frame_too_big_is_refused_from_its_header_alone() -> None:
    reader = ws.Reader(100)
    reader.feed(bytes((0x81, 127)) + (10**9).to_bytes(8, "big"))
    with pytest.raises(ws.ProtocolViolation) as caught:
        reader.next_event()
    assert caught.value.code == ws.MESSAGE_TOO_BIG


def test_close_names() -> None:
    assert ws.close_name(1000) == "NORMAL_CLOSURE"
    assert ws.close_name(1009) == "MESSAGE_TOO_BIG"
    assert ws.close_name(4001) == "PRIVATE_RESERVED"
