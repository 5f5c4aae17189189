"""Transfers against real servers on 127.0.0.1: sizes refused before and during a
download, a stalled server timed out on trio's clock, TLS verified, credentials never
shown."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trio
import trustme

from ocppd.system.transfer import (
    Limits,
    TooLarge,
    TransferError,
    download,
    file_name,
    inline,
    redact_url,
    scheme_of,
    upload,
)
from tests.fileservers import FtpServer, HttpServer


@pytest.fixture
async def http(nursery: trio.Nursery) -> HttpServer:
    server = HttpServer()
    await nursery.start(server.serve)
    return server


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https(nursery: trio.Nursery, ca: trustme.CA) -> HttpServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = HttpServer(tls=context)
    await nursery.start(server.serve)
    return server


def test_redacted_urls_keep_where_but_not_who() -> None:
    assert redact_url("ftp://fw:pw@host:2121/a/b.deb?x=1") == "ftp://***@host:2121/a/b.deb"
    assert redact_url("https://token@host/f") == "https://***@host/f"
    assert redact_url("http://host/f") == "http://host/f"
    assert redact_url("http://[::1/") == "<unparsable URL>"
    assert file_name("http://h/dir/ocppd_1.0_all.deb") == "ocppd_1.0_all.deb"
    with pytest.raises(TransferError, match="unsupported protocol 'file'"):
        scheme_of("file:///etc/shadow")


async def test_a_file_larger_than_allowed_is_refused_before_a_byte_is_written(
    http: HttpServer, tmp_path: Path
) -> None:
    http.files["/big"] = b"x" * 5000
    dest = tmp_path / "big"
    with pytest.raises(TooLarge, match="5000 bytes do not fit"):
        await download(http.url("/big"), dest, max_bytes=4000)
    assert not dest.exists()


async def test_a_file_without_a_size_is_cut_off_when_it_grows_too_large(
    http: HttpServer, tmp_path: Path
) -> None:
    http.files["/big"] = b"x" * 300_000
    http.no_length.add("/big")
    dest = tmp_path / "big"
    with pytest.raises(TooLarge, match="larger than the 200000 bytes free"):
        await download(http.url("/big"), dest, max_bytes=200_000)
    assert not dest.exists()
    size = await download(http.url("/big"), dest, max_bytes=400_000)
    assert size == 300_000 and (await trio.Path(dest).stat()).st_mode & 0o777 == 0o600


async def test_a_stalled_server_times_out_on_the_clock(
    http: HttpServer, tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    http.stall.add("/slow")
    start = trio.current_time()
    with pytest.raises(TransferError, match="sent nothing for 30 s"):
        await download(http.url("/slow"), tmp_path / "x", max_bytes=10, limits=Limits(stall_s=30))
    assert 30 <= trio.current_time() - start < 31


async def test_tls_is_verified_against_the_ca_file(
    https: HttpServer, ca: trustme.CA, tmp_path: Path
) -> None:
    https.files["/f"] = b"firmware"
    with pytest.raises(TransferError) as refused:
        await download(https.url("/f", "user:hunter2@"), tmp_path / "f", max_bytes=100)
    assert "hunter2" not in refused.value.reason
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    size = await download(https.url("/f"), tmp_path / "f", max_bytes=100, ca_file=str(ca_file))
    assert size == 8


async def test_uploads_put_to_a_file_and_post_to_a_directory(
    http: HttpServer, tmp_path: Path
) -> None:
    bundle = tmp_path / "d.tar.gz"
    bundle.write_bytes(b"\x1f\x8bbundle")
    await upload(http.url("/in/d.tar.gz"), bundle)
    await upload(http.url("/in/"), bundle)
    assert http.requests == [("PUT", "/in/d.tar.gz"), ("POST", "/in/")]
    assert http.received["/in/d.tar.gz"] == b"\x1f\x8bbundle"
    assert b'filename="d.tar.gz"' in http.received["/in/"]
    with pytest.raises(TransferError, match="HTTP 404"):
        await download(http.url("/missing"), tmp_path / "m", max_bytes=10)


async def test_ftp_both_ways_and_a_refused_login(tmp_path: Path) -> None:
    root = tmp_path / "ftp"
    root.mkdir()
    (root / "fw.deb").write_bytes(b"p" * 70_000)
    bundle = tmp_path / "d.tar.gz"
    bundle.write_bytes(b"bundle")
    with FtpServer(root) as ftp:
        dest = tmp_path / "fw.deb"
        assert await download(ftp.url("/fw.deb"), dest, max_bytes=100_000) == 70_000
        with pytest.raises(TooLarge):
            await download(ftp.url("/fw.deb"), dest, max_bytes=1000)
        with pytest.raises(TransferError, match="530") as refused:
            await download(ftp.url("/fw.deb", "fw:bad@"), dest, max_bytes=100_000, runner=inline)
        assert "bad" not in refused.value.reason
        await upload(ftp.url("/"), bundle)
    assert (root / "d.tar.gz").read_bytes() == b"bundle"
