"""Downloads and uploads over HTTP(S) (httpx on trio, through anyio) and FTP(S) (the
standard library's ftplib in a worker thread).

Nothing here blocks the event loop. A stalled server times out: for HTTP every wait
(connect, each chunk) is a cancel scope on trio's clock; for FTP the socket timeout
of ftplib in its worker thread. A file larger than ``max_bytes`` (the caller passes
what the disk can spare) is refused before it is written when the server says its
size, and cut off the moment it grows past it when it does not. TLS is verified
(the system CAs, or ``ca_file``). A URL is logged and reported only through
:func:`redact_url`: credentials in it never leave.
"""

from __future__ import annotations

import inspect
import logging
import os
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

import trio

if TYPE_CHECKING:
    import ftplib

    import httpx

log = logging.getLogger(__name__)

SCHEMES = ("http", "https", "ftp", "ftps")
"""What :func:`download` and :func:`upload` speak (1.6 SupportedFileTransferProtocols)."""
CHUNK = 64 * 1024


class TransferError(Exception):
    """A transfer did not happen; ``reason`` is safe to log and to show (no credentials)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooLarge(TransferError):
    """The file would not fit in the space it may take."""


class Denied(TransferError):
    """The server refused us: our credentials or our right to the file (HTTP 401 or 403;
    FTP 530 not logged in, 532 an account is needed)."""


DENIED_HTTP = frozenset({401, 403})
DENIED_FTP = ("530", "532")


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a transfer may wait for the peer, and for how long in all."""

    stall_s: float = 60.0  # no byte for this long: the server stalled
    total_s: float = 3600.0


def redact_url(url: str) -> str:
    """``url`` without its user and password: what logs, ocppctl and the journal show."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable URL>"
    netloc = host if port is None else f"{host}:{port}"
    if parts.username is not None or parts.password is not None:
        netloc = "***@" + netloc
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scheme_of(url: str) -> str:
    """The scheme of ``url``, lower case; TransferError when it is not one we speak."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise TransferError(f"unsupported protocol {scheme or '(none)'!r}")
    return scheme


def _ssl_context(ca_file: str | None) -> ssl.SSLContext:
    # verified against the system CAs, or the operator's CA file (ocpp.ca_file)
    return ssl.create_default_context(cafile=ca_file)


def file_name(url: str) -> str:
    """The last path segment of ``url`` (what a download is called), or ``download``."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return name if name and name not in (".", "..") else "download"


# trio 0.23 renamed cancellable= to abandon_on_cancel= (bookworm has 0.22)
_ABANDON = (
    "abandon_on_cancel"
    if "abandon_on_cancel" in inspect.signature(trio.to_thread.run_sync).parameters
    else "cancellable"
)


async def in_thread(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` in a worker thread that a cancellation abandons (its socket timeout
    ends it soon after)."""
    run: Any = trio.to_thread.run_sync
    return await run(fn, *args, **{_ABANDON: True})


async def inline(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` on the event loop: only under trio's MockClock (tests), where a worker
    thread is invisible to the clock and virtual time would race past it."""
    await trio.lowlevel.checkpoint()
    return fn(*args)


Runner = Callable[..., Awaitable[Any]]


async def download(
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    limits: Limits = Limits(),
    ca_file: str | None = None,
    runner: Runner = in_thread,
) -> int:
    """Fetch ``url`` into ``dest`` (created 0600; removed again on any failure); returns
    its size. Raises TransferError (TooLarge when it would exceed ``max_bytes``)."""
    scheme = scheme_of(url)
    try:
        with trio.fail_after(limits.total_s):
            if scheme in ("http", "https"):
                return await _http_get(url, dest, max_bytes, limits, ca_file)
            size: int = await runner(_ftp_get, url, dest, max_bytes, limits.stall_s, ca_file)
            return size
    except trio.TooSlowError:
        _remove(dest)
        raise TransferError(f"no complete download within {limits.total_s:g} s") from None
    except BaseException:
        _remove(dest)
        raise


async def upload(
    url: str,
    path: Path,
    *,
    limits: Limits = Limits(),
    ca_file: str | None = None,
    runner: Runner = in_thread,
) -> None:
    """Send the file at ``path`` to ``url``: HTTP(S) PUT when the URL names a file (its last
    segment has a dot), else a POST of the file as multipart form data; FTP(S) STOR
    into the URL's directory, or to its file name."""
    scheme = scheme_of(url)
    try:
        with trio.fail_after(limits.total_s):
            if scheme in ("http", "https"):
                await _http_send(url, path, limits, ca_file, runner)
            else:
                await runner(_ftp_put, url, path, limits.stall_s, ca_file)
    except trio.TooSlowError:
        raise TransferError(f"no complete upload within {limits.total_s:g} s") from None


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _open_private(dest: Path) -> int:
    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove(dest)
    return os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


# --- HTTP(S) ---


def _client(ca_file: str | None) -> httpx.AsyncClient:
    import httpx

    # httpx's own timeouts off: every wait is a trio cancel scope (virtual time in tests)
    return httpx.AsyncClient(verify=_ssl_context(ca_file), timeout=None, follow_redirects=True)


async def _http_get(
    url: str, dest: Path, max_bytes: int, limits: Limits, ca_file: str | None
) -> int:
    import httpx

    shown = redact_url(url)
    try:
        async with _client(ca_file) as client:
            with trio.fail_after(limits.stall_s):
                request = client.build_request("GET", url)
                response = await client.send(request, stream=True)
            try:
                if response.status_code != 200:
                    raise TransferError(f"{shown}: HTTP {response.status_code}")
                announced = response.headers.get("content-length")
                if announced is not None and announced.isdigit() and int(announced) > max_bytes:
                    raise TooLarge(f"{shown}: {announced} bytes do not fit ({max_bytes} free)")
                return await _http_body(response, dest, max_bytes, limits, shown)
            finally:
                with trio.CancelScope(shield=True), trio.move_on_after(5):
                    await response.aclose()
    except trio.TooSlowError:
        raise TransferError(f"{shown}: the server sent nothing for {limits.stall_s:g} s") from None
    except httpx.HTTPError as exc:
        raise TransferError(f"{shown}: {type(exc).__name__}") from None
    except (OSError, ssl.SSLError) as exc:
        raise TransferError(f"{shown}: {exc.__class__.__name__}: {exc.strerror or exc}") from None


async def _http_body(response: Any, dest: Path, max_bytes: int, limits: Limits, shown: str) -> int:
    fd = _open_private(dest)
    size = 0
    with os.fdopen(fd, "wb") as out:
        chunks = response.aiter_bytes(CHUNK).__aiter__()
        while True:
            with trio.fail_after(limits.stall_s):
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(f"{shown}: larger than the {max_bytes} bytes free")
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size


async def _http_send(
    url: str, path: Path, limits: Limits, ca_file: str | None, runner: Runner
) -> None:
    import httpx

    shown = redact_url(url)
    data = await runner(path.read_bytes)  # a diagnostics bundle: small, made by us
    try:
        async with _client(ca_file) as client:
            with trio.fail_after(limits.stall_s):
                if "." in file_name(url) and file_name(url) != "download":
                    response = await client.put(url, content=data)
                else:
                    files = {"file": (path.name, data, "application/gzip")}
                    response = await client.post(url, files=files)
    except trio.TooSlowError:
        raise TransferError(f"{shown}: no answer within {limits.stall_s:g} s") from None
    except httpx.HTTPError as exc:
        raise TransferError(f"{shown}: {type(exc).__name__}") from None
    except OSError as exc:
        raise TransferError(f"{shown}: {exc.__class__.__name__}") from None
    if not 200 <= response.status_code < 300:
        kind = Denied if response.status_code in DENIED_HTTP else TransferError
        raise kind(f"{shown}: HTTP {response.status_code}")


# --- FTP(S), in a worker thread ---


def _ftp_connect(url: str, stall_s: float, ca_file: str | None) -> tuple[ftplib.FTP, str]:
    # ftplib only when an FTP transfer runs: the daemon's idle memory is a feature
    import ftplib

    parts = urlsplit(url)
    if parts.scheme.lower() == "ftps":
        ftp: ftplib.FTP = ftplib.FTP_TLS(context=_ssl_context(ca_file), timeout=stall_s)
    else:
        ftp = ftplib.FTP(timeout=stall_s)
    ftp.connect(parts.hostname or "", parts.port or 21)
    ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or ""))
    if isinstance(ftp, ftplib.FTP_TLS):
        ftp.prot_p()
    return ftp, unquote(parts.path)


def _ftp_get(url: str, dest: Path, max_bytes: int, stall_s: float, ca_file: str | None) -> int:
    import ftplib  # only when an FTP transfer runs (see _ftp_connect)

    shown = redact_url(url)
    try:
        ftp, path = _ftp_connect(url, stall_s, ca_file)
        with ftp:
            ftp.voidcmd("TYPE I")
            try:
                announced = ftp.size(path)
            except ftplib.error_perm:
                announced = None
            if announced is not None and announced > max_bytes:
                raise TooLarge(f"{shown}: {announced} bytes do not fit ({max_bytes} free)")
            size = 0
            with os.fdopen(_open_private(dest), "wb") as out:
                with ftp.transfercmd(f"RETR {path}") as conn:
                    while chunk := conn.recv(CHUNK):
                        size += len(chunk)
                        if size > max_bytes:
                            raise TooLarge(f"{shown}: larger than the {max_bytes} bytes free")
                        out.write(chunk)
                    if isinstance(conn, ssl.SSLSocket):
                        conn.unwrap()
                out.flush()
                os.fsync(out.fileno())
            ftp.voidresp()
            return size
    except TransferError:
        raise
    except ftplib.Error as exc:
        raise TransferError(f"{shown}: FTP {str(exc)[:80]}") from None
    except (OSError, EOFError) as exc:
        raise TransferError(f"{shown}: {exc.__class__.__name__}") from None


def _ftp_put(url: str, path: Path, stall_s: float, ca_file: str | None) -> None:
    import ftplib  # only when an FTP transfer runs (see _ftp_connect)

    shown = redact_url(url)
    try:
        ftp, target = _ftp_connect(url, stall_s, ca_file)
        with ftp:
            if not target or target.endswith("/"):
                target = f"{target}{path.name}"
            with path.open("rb") as data:
                ftp.storbinary(f"STOR {target}", data)
    except ftplib.Error as exc:
        kind = Denied if str(exc).startswith(DENIED_FTP) else TransferError
        raise kind(f"{shown}: FTP {str(exc)[:80]}") from None
    except (OSError, EOFError) as exc:
        raise TransferError(f"{shown}: {exc.__class__.__name__}") from None


__all__ = [
    "SCHEMES",
    "Limits",
    "TooLarge",
    "TransferError",
    "download",
    "file_name",
    "redact_url",
    "scheme_of",
    "upload",
]
