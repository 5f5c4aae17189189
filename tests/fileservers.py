"""File servers on 127.0.0.1 for the Firmware Management tests: a small real HTTP/1.1
server on trio (so the autojump clock sees it, and a stalled answer times out in
virtual time), pyftpdlib's FTP server in a thread, and real Debian packages built with
dpkg-deb."""

from __future__ import annotations

import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import trio


def build_deb(tmp: Path, name: str = "ocppd", version: str = "9.9.9", arch: str = "all") -> bytes:
    root = tmp / f"{name}-{version}-{arch}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\n"
        "Maintainer: tests <t@example.org>\nDescription: test package\n"
    )
    (root / "usr/share/doc" / name).mkdir(parents=True)
    (root / "usr/share/doc" / name / "README").write_text("hello\n")
    out = tmp / f"{name}_{version}_{arch}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "--build", str(root), str(out)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


class HttpServer:
    """A small real HTTP/1.1 server on loopback: GET serves ``files``; PUT/POST store the
    body in ``received``; a path in ``stall`` is answered never; in ``fail_first`` with
    503 that many times; in ``deny`` with 403."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls  # serve https with this server context
        self.no_length: set[str] = set()  # answered without Content-Length (until close)
        self.files: dict[str, bytes] = {}
        self.received: dict[str, bytes] = {}
        self.stall: set[str] = set()
        self.fail_first: dict[str, int] = {}
        self.deny: set[str] = set()  # answered 403 Forbidden
        self.requests: list[tuple[str, str]] = []
        self.port = 0

    def url(self, path: str, creds: str = "") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{creds}127.0.0.1:{self.port}{path}"

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, raw: trio.SocketStream) -> None:
        stream: Any = raw
        if self.tls is not None:
            stream = trio.SSLStream(raw, self.tls, server_side=True)
            try:
                await stream.do_handshake()
            except trio.BrokenResourceError:
                return  # the client refused our certificate
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = await stream.receive_some(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            body += await stream.receive_some(65536)
        self.requests.append((method, path))
        if path in self.stall:
            await trio.sleep_forever()
        if path in self.deny:
            await self._answer(stream, 403, b"forbidden")
        elif self.fail_first.get(path, 0) > 0:
            self.fail_first[path] -= 1
            await self._answer(stream, 503, b"busy")
        elif method == "GET" and path in self.files:
            await self._answer(stream, 200, self.files[path], length=path not in self.no_length)
        elif method in ("PUT", "POST"):
            self.received[path] = body
            await self._answer(stream, 201, b"")
        else:
            await self._answer(stream, 404, b"no")
        try:
            await stream.aclose()
        except trio.BrokenResourceError:
            pass

    async def _answer(self, stream: Any, code: int, body: bytes, *, length: bool = True) -> None:
        size = f"Content-Length: {len(body)}\r\n" if length else ""
        head = f"HTTP/1.1 {code} X\r\n{size}Connection: close\r\n\r\n"
        await stream.send_all(head.encode() + body)


class FtpServer:
    """pyftpdlib on 127.0.0.1 in a thread of its own, user ``fw`` / ``pw`` in ``root``."""

    def __init__(self, root: Path) -> None:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler
        from pyftpdlib.servers import FTPServer

        authorizer = DummyAuthorizer()
        authorizer.add_user("fw", "pw", str(root), perm="elradfmw")
        handler = type("Handler", (FTPHandler,), {"authorizer": authorizer})
        self.root = root
        self.server = FTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            self.server.serve_forever(timeout=0.05, blocking=False)
        self.server.close_all()

    def url(self, path: str, creds: str = "fw:pw@") -> str:
        return f"ftp://{creds}127.0.0.1:{self.port}{path}"

    def __enter__(self) -> FtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
