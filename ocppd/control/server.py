"""The control socket behind ``ocppctl``: a unix stream socket speaking JSON lines.

A request is one line ``{"cmd": "status", ...}``; the answer one line, either
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``. Handlers are
async functions of the request that return a JSON-able result or raise
:class:`ControlError` with a message for the person at the terminal.

The socket is created with mode 0660: root and members of the daemon's group may
use it. A stale socket file from a crash (a socket nobody answers on) is replaced; a
live one (another daemon running) is :class:`SocketInUse`; anything else at the path
(a file, a directory, a symbolic link) is :class:`SocketPathTaken` and left alone.

Every client is bounded, and whatever goes wrong with one is that client's problem,
never the daemon's:

- at most ``MAX_CLIENTS`` at once; one more is answered "busy" and closed;
- a request line is at most ``MAX_LINE`` bytes and nests at most ``MAX_DEPTH``
  levels (measured before the JSON decoder sees it); a line that is not a request
  is answered with an error line;
- a client has ``IDLE_TIMEOUT_S`` to send a whole line and ``SEND_TIMEOUT_S`` to
  take its answer, or it is dropped;
- when ``accept`` fails for want of file descriptors or memory, the server says so
  in the log (once a minute at most), waits a moment and goes on serving.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket as stdlib_socket
import stat
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import trio

from ocppd.protocol.jsondepth import deeper_than

log = logging.getLogger(__name__)

MAX_CLIENTS = 16
MAX_LINE = 64 * 1024
RECEIVE_BYTES = 16 * 1024
MAX_DEPTH = 8  # requests are flat objects; this leaves room and stays far from recursion
IDLE_TIMEOUT_S = 10.0  # to send a whole request line, after connecting or after an answer
SEND_TIMEOUT_S = 10.0  # to take an answer off the socket
ACCEPT_RETRY_S = 0.1  # after accept failed for want of descriptors or memory
ACCEPT_LOG_EVERY_S = 60.0
# accept(2) errors that mean the system is short of something, not that the socket is
# broken: wait and try again (as trio's serve_listeners does)
ACCEPT_CAPACITY_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class ControlError(Exception):
    """The daemon refuses a request; the message is shown to the user (ocppctl exits 1)."""


class SocketInUse(Exception):
    """Another process answers on the control socket path."""


class SocketPathTaken(Exception):
    """Something other than a stale socket is at the control socket path (it is left alone)."""


class _LineTooLong(Exception):
    pass


def _what_is(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe"),
    ):
        if test(mode):
            return name
    return "a device file"


def _prepare_path(path: Path) -> None:
    """Make room for the socket: only a socket that refuses connections is replaced."""
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise SocketPathTaken(
            f"{path}: {_what_is(mode)} is in the way of the control socket; "
            "not touching it (remove it, or set [control] socket to another path)"
        )
    probe = stdlib_socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except ConnectionRefusedError:
        path.unlink(missing_ok=True)  # left over from a crash
    except FileNotFoundError:
        pass  # gone meanwhile
    except OSError as exc:
        raise SocketPathTaken(
            f"{path}: cannot tell whether the socket there is stale ({exc.strerror or exc})"
        ) from None
    else:
        raise SocketInUse(f"{path}: another ocppd answers on this socket")
    finally:
        probe.close()


async def open_control_listener(path: Path) -> trio.SocketListener:
    """Bind the socket (replacing a stale one), mode 0660.

    Raises :class:`SocketInUse` or :class:`SocketPathTaken` when the path is not free.
    The bind is a quick local file system call; trio would run it in a thread, which
    tests on a virtual clock cannot see, so it is done here directly.
    """
    _prepare_path(path)
    raw = stdlib_socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
    try:
        raw.bind(str(path))
        os.chmod(path, 0o660)
        raw.listen(MAX_CLIENTS)
    except BaseException:
        raw.close()
        raise
    await trio.lowlevel.checkpoint()
    return trio.SocketListener(trio.socket.from_stdlib_socket(raw))


class ControlServer:
    """Serves requests from ``ocppctl`` clients: one task per client, each bounded."""

    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self.handlers = handlers
        self.clients = 0  # connected now
        self.refused_busy = 0
        self.dropped = 0  # timed out or misbehaved
        self.accept_failures = 0
        self._failures_reported = 0
        self._reported_at: float | None = None

    def __repr__(self) -> str:
        return (
            f"<ControlServer clients={self.clients}/{MAX_CLIENTS} busy={self.refused_busy} "
            f"dropped={self.dropped} accept_failures={self.accept_failures}>"
        )

    async def serve(
        self,
        listener: trio.SocketListener,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Accept clients until cancelled; closes the listener at the end."""
        async with listener, trio.open_nursery() as nursery:
            task_status.started()
            while True:
                stream = await self._accept(listener)
                nursery.start_soon(self._client, stream)

    async def _accept(self, listener: trio.SocketListener) -> trio.SocketStream:
        while True:
            try:
                return await listener.accept()
            except OSError as exc:
                if exc.errno not in ACCEPT_CAPACITY_ERRNOS:
                    raise
                self._accept_failed(exc)
            await trio.sleep(ACCEPT_RETRY_S)

    def _accept_failed(self, exc: OSError) -> None:
        """Log a failed accept, at most once every ACCEPT_LOG_EVERY_S."""
        self.accept_failures += 1
        now = trio.current_time()
        if self._reported_at is not None and now - self._reported_at < ACCEPT_LOG_EVERY_S:
            return
        since = self.accept_failures - self._failures_reported - 1
        log.error(
            "control socket: accept failed: %s (%s); serving on, retrying every %g s%s",
            errno.errorcode.get(exc.errno or 0, exc.errno),
            os.strerror(exc.errno or 0),
            ACCEPT_RETRY_S,
            f" ({since} more failures since the last report)" if since > 0 else "",
        )
        self._reported_at = now
        self._failures_reported = self.accept_failures

    async def _client(self, stream: trio.SocketStream) -> None:
        """One client's whole conversation; nothing it does escapes from here."""
        async with stream:
            if self.clients >= MAX_CLIENTS:
                self.refused_busy += 1
                await self._send(stream, _error(f"busy: {MAX_CLIENTS} clients connected"))
                return
            self.clients += 1
            try:
                await self._converse(stream)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                log.debug("control client gone: %r", exc)
            except Exception:  # a bug here must not take the daemon down through its socket
                self.dropped += 1
                log.exception("control client failed; its connection is closed")
            finally:
                self.clients -= 1

    async def _converse(self, stream: trio.SocketStream) -> None:
        buffer = bytearray()
        while True:
            try:
                with trio.fail_after(IDLE_TIMEOUT_S):
                    line = await _read_line(stream, buffer)
            except trio.TooSlowError:
                self.dropped += 1
                log.debug("control client sent no whole request within %g s", IDLE_TIMEOUT_S)
                return
            except _LineTooLong:
                await self._send(stream, _error(f"request longer than {MAX_LINE} bytes"))
                return
            if line is None:
                return
            if not line.strip():
                continue
            if not await self._send(stream, await self._answer(line)):
                return

    async def _send(self, stream: trio.SocketStream, reply: dict[str, Any]) -> bool:
        """Send one answer line; False when the client did not take it in time."""
        with trio.move_on_after(SEND_TIMEOUT_S):
            await stream.send_all(_encode(reply))
            return True
        self.dropped += 1
        log.info("control client did not read its answer within %g s: dropped", SEND_TIMEOUT_S)
        return False

    async def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return _error("request is not UTF-8 text")
        if deeper_than(text, MAX_DEPTH):
            return _error(f"request nests deeper than {MAX_DEPTH} levels")
        try:
            request = json.loads(text)
        except (ValueError, RecursionError):
            return _error("request is not JSON")
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            return _error('request must be an object with a "cmd"')
        handler = self.handlers.get(request["cmd"])
        if handler is None:
            return _error(f"unknown command {request['cmd'][:50]!r}")
        try:
            return {"ok": True, "result": await handler(request)}
        except ControlError as exc:
            return _error(str(exc))
        except Exception:  # a bug must not take the daemon down through its control socket
            log.exception("control command %r failed", request["cmd"])
            return _error("internal error (see the daemon's log)")


def _error(message: str) -> dict[str, Any]:
    return {"ok": False, "error": message}


def _encode(reply: dict[str, Any]) -> bytes:
    try:
        return json.dumps(reply).encode() + b"\n"
    except (TypeError, ValueError, RecursionError):  # a handler returned something odd
        log.exception("control answer cannot be written as JSON")
        return json.dumps(_error("internal error (see the daemon's log)")).encode() + b"\n"


async def _read_line(stream: trio.abc.ReceiveStream, buffer: bytearray) -> bytes | None:
    """The next line without its newline; None at end of stream (a partial line is dropped).

    Raises _LineTooLong past MAX_LINE bytes, without reading further.
    """
    while True:
        end = buffer.find(b"\n")
        if end > MAX_LINE or (end < 0 and len(buffer) > MAX_LINE):
            raise _LineTooLong
        if end >= 0:
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            return line
        data = await stream.receive_some(RECEIVE_BYTES)
        if not data:
            return None
        buffer.extend(data)


async def serve_control(
    path: Path,
    handlers: Mapping[str, Handler],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``handlers`` on ``path`` until cancelled; the socket file is removed at the end.

    Raises :class:`SocketInUse` or :class:`SocketPathTaken` (before ``task_status``
    is started) when the path is not free.
    """
    listener = await open_control_listener(path)
    ours = os.lstat(path).st_ino
    try:
        await ControlServer(handlers).serve(listener, task_status=task_status)
    finally:
        _remove_socket(path, ours)


def _remove_socket(path: Path, inode: int) -> None:
    """Remove our socket file, and only ours (a file put there since stays)."""
    try:
        st = os.lstat(path)  # a socket file: not worth a thread
        if st.st_ino == inode and stat.S_ISSOCK(st.st_mode):
            os.unlink(path)
    except OSError:
        pass
