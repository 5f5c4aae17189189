"""Dialling the central system (transport/link.py) against servers that misbehave.

``connect_timeout_s`` bounds the TCP connect, the TLS handshake and the WebSocket
handshake together, whatever the server does; a server that refuses or closes makes
the attempt fail at once, with a reason and a kind. The TLS refusals that the security
whitepaper names (version, cipher suite) need a server that sends OpenSSL's alerts, so
they run against a blocking ``ssl`` server in a thread, on real time.
"""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio
import trustme

from ocppd.transport.link import LinkError, LinkFailure, LinkTarget, open_link


@asynccontextmanager
async def tcp_server(
    handler: Callable[[trio.SocketStream], object],
) -> AsyncIterator[int]:
    """A raw TCP server on 127.0.0.1; yields its port."""
    async with trio.open_nursery() as nursery:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        nursery.start_soon(trio.serve_listeners, handler, listeners)
        yield port
        nursery.cancel_scope.cancel()


def target(port: int, *, scheme: str = "ws", **options: object) -> LinkTarget:
    options.setdefault("subprotocols", ("ocpp1.6",))
    return LinkTarget(
        url=f"{scheme}://127.0.0.1:{port}/ocpp/CP-LINK",
        charge_point_id="CP-LINK",
        **options,  # type: ignore[arg-type]
    )


async def dial(link_target: LinkTarget) -> LinkError:
    with pytest.raises(LinkError) as failed:
        async with open_link(link_target):
            pass
    return failed.value


# --- the deadline and early ends (virtual time) ------------------------------------------------


async def test_a_server_that_never_answers_the_handshake_fails_at_connect_timeout(autojump_clock):
    async def silent(stream: trio.SocketStream) -> None:
        await stream.receive_some(65536)  # the HTTP upgrade request, never answered
        await trio.sleep_forever()

    async with tcp_server(silent) as port:
        start = trio.current_time()
        with trio.fail_after(60):
            error = await dial(target(port, connect_timeout_s=12))
        assert trio.current_time() - start == pytest.approx(12, abs=0.1)
    assert error.kind is LinkFailure.TIMEOUT
    assert error.reason == "connect timed out after 12 s in the WebSocket handshake"


async def test_a_server_that_never_starts_tls_fails_at_connect_timeout(autojump_clock):
    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    async with tcp_server(silent) as port:
        start = trio.current_time()
        with trio.fail_after(60):
            error = await dial(target(port, scheme="wss", connect_timeout_s=12))
        assert trio.current_time() - start == pytest.approx(12, abs=0.1)
    assert error.kind is LinkFailure.TIMEOUT
    assert "TLS handshake" in error.reason


async def test_a_server_that_closes_before_answering_fails_at_once(autojump_clock):
    async def closer(stream: trio.SocketStream) -> None:
        await stream.receive_some(65536)
        await stream.aclose()

    async with tcp_server(closer) as port:
        start = trio.current_time()
        with trio.fail_after(60):
            error = await dial(target(port, connect_timeout_s=30))
        assert trio.current_time() - start < 0.5
    assert error.kind is LinkFailure.PROTOCOL
    assert "without answering the WebSocket handshake" in error.reason


async def test_a_server_that_answers_garbage_fails_at_once(autojump_clock):
    async def babbler(stream: trio.SocketStream) -> None:
        await stream.receive_some(65536)
        await stream.send_all(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        await trio.sleep_forever()

    async with tcp_server(babbler) as port:
        start = trio.current_time()
        with trio.fail_after(60):
            error = await dial(target(port, connect_timeout_s=30))
        assert trio.current_time() - start < 0.5
    assert error.kind is LinkFailure.PROTOCOL


async def test_a_closed_port_fails_at_once_and_says_so(autojump_clock):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: connections are refused
        with trio.fail_after(60):
            error = await dial(target(port))
    assert error.kind is LinkFailure.NETWORK
    assert error.reason == f"cannot reach 127.0.0.1:{port}: Connection refused"


async def test_a_target_that_offers_no_ocpp_version_fails_before_dialling(autojump_clock):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        with trio.fail_after(60):
            error = await dial(target(unused.getsockname()[1], subprotocols=()))
    assert error.kind is LinkFailure.CONFIG
    assert "no OCPP version to offer" in error.reason


# --- TLS refusals the whitepaper names (real time, a server that sends its alerts) --------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def refusing_tls_server(context: ssl.SSLContext) -> int:
    """One TLS connection, handshaken by OpenSSL on a blocking socket (which, unlike a memory
    BIO server, sends its alert before closing); returns the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        with listener:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                try:
                    context.wrap_socket(conn, server_side=True).close()
                except (OSError, ssl.SSLError):
                    pass  # the refusal this test is about

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def tls_target(port: int, ca: trustme.CA, tmp_path: Path) -> LinkTarget:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return target(
        port,
        scheme="wss",
        security_profile=2,
        ca_file=str(ca_file),
        authorization_key="0123456789abcdef0123",
    )


async def test_a_server_offering_only_tls_1_1_is_refused_at_once_as_a_tls_version(ca, tmp_path):
    context = server_context(ca)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # that is the point
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    port = refusing_tls_server(context)
    with trio.fail_after(2):
        error = await dial(tls_target(port, ca, tmp_path))
    assert error.kind is LinkFailure.TLS_VERSION
    assert error.reason.startswith("TLS: the central system offers no TLS version we accept")


async def test_a_server_with_only_weak_cipher_suites_is_refused_at_once_as_a_cipher(ca, tmp_path):
    context = server_context(ca)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("AES128-SHA:@SECLEVEL=0")  # SHA-1, no forward secrecy: ours refuse it
    port = refusing_tls_server(context)
    with trio.fail_after(2):
        error = await dial(tls_target(port, ca, tmp_path))
    assert error.kind is LinkFailure.TLS_CIPHER
    assert error.reason.startswith("TLS: no cipher suite in common")


async def test_an_untrusted_certificate_is_named_as_such(ca, tmp_path):
    port = refusing_tls_server(server_context(trustme.CA()))
    with trio.fail_after(2):
        error = await dial(tls_target(port, ca, tmp_path))
    assert error.kind is LinkFailure.TLS_CERTIFICATE
    assert error.reason == "TLS: certificate not trusted: unable to get local issuer certificate"


async def test_a_suite_the_whitepaper_does_not_list_is_refused_as_a_cipher(ca, tmp_path):
    """CBC with SHA-256 and forward secrecy: OpenSSL's defaults take it, the whitepaper's
    list (A00.FR.318) does not."""
    context = server_context(ca)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-ECDSA-AES128-SHA256")
    port = refusing_tls_server(context)
    with trio.fail_after(2):
        error = await dial(tls_target(port, ca, tmp_path))
    assert error.kind is LinkFailure.TLS_CIPHER


async def test_a_certificate_for_another_host_is_refused(ca, tmp_path):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("csms.example").configure_cert(context)  # we dial 127.0.0.1
    port = refusing_tls_server(context)
    with trio.fail_after(2):
        error = await dial(tls_target(port, ca, tmp_path))
    assert error.kind is LinkFailure.TLS_CERTIFICATE
    assert "127.0.0.1" in error.reason


def test_the_tls_context_is_the_whitepapers(ca, tmp_path):
    """TLS 1.2 or newer, the whitepaper's suites for TLS 1.2 (AES-GCM with ECDHE, or RSA
    key exchange as A00.FR.318 allows), no compression, the peer and its name verified."""
    context = tls_target(1, ca, tmp_path).ssl_context()
    assert context is not None
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.options & ssl.OP_NO_COMPRESSION
    tls12 = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert tls12 <= {
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "AES128-GCM-SHA256",
        "AES256-GCM-SHA384",
    }
    assert {"ECDHE-ECDSA-AES128-GCM-SHA256", "AES128-GCM-SHA256"} <= tls12
