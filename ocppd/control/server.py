"""The control socket behind ``ocppctl``: a unix stream socket speaking JSON lines.

A request is one line ``{"cmd": "status", ...}``; the answer one line, either
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``. Handlers are
async functions of the request that return a JSON-able result or raise
:class:`ControlError` with a message for the person at the terminal.

The socket is created with mode 0660: root and members of the daemon's group may
use it. A stale socket file from a crash is replaced; a live one (another daemon
running) is an error.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket as stdlib_socket
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import trio

log = logging.getLogger(__name__)

MAX_LINE = 64 * 1024
REQUEST_TIMEOUT_S = 30.0

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class ControlError(Exception):
    """The daemon refuses a request; the message is shown to the user (ocppctl exits 1)."""


class SocketInUse(Exception):
    """Another process answers on the control socket path."""


def _prepare_path(path: Path) -> None:
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    if not path.exists() and not path.is_symlink():
        return
    probe = stdlib_socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError as exc:
        if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTSOCK):
            raise
        path.unlink(missing_ok=True)  # left over from a crash
    else:
        raise SocketInUse(f"{path}: another ocppd answers on this socket")
    finally:
        probe.close()


async def open_control_listener(path: Path) -> trio.SocketListener:
    """Bind the socket (replacing a stale one), mode 0660.

    The bind is a quick local file system call; trio would run it in a thread, which
    tests on a virtual clock cannot see, so it is done here directly.
    """
    _prepare_path(path)
    raw = stdlib_socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
    try:
        raw.bind(str(path))
        os.chmod(path, 0o660)
        raw.listen(16)
    except BaseException:
        raw.close()
        raise
    await trio.lowlevel.checkpoint()
    return trio.SocketListener(trio.socket.from_stdlib_socket(raw))


async def _read_line(stream: trio.abc.ReceiveStream, buffer: bytearray) -> bytes | None:
    while b"\n" not in buffer:
        if len(buffer) > MAX_LINE:
            raise ControlError(f"request longer than {MAX_LINE} bytes")
        data = await stream.receive_some(4096)
        if not data:
            return None
        buffer.extend(data)
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line


async def _answer(handlers: Mapping[str, Handler], line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except ValueError:
        return {"ok": False, "error": "request is not JSON"}
    if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
        return {"ok": False, "error": 'request must be an object with a "cmd"'}
    handler = handlers.get(request["cmd"])
    if handler is None:
        return {"ok": False, "error": f"unknown command {request['cmd']!r}"}
    try:
        return {"ok": True, "result": await handler(request)}
    except ControlError as exc:
        return {"ok": False, "error": str(exc)}
    except Exception:  # a bug must not take the daemon down through its control socket
        log.exception("control command %r failed", request["cmd"])
        return {"ok": False, "error": "internal error (see the daemon's log)"}


async def _serve_connection(handlers: Mapping[str, Handler], stream: trio.SocketStream) -> None:
    buffer = bytearray()
    async with stream:
        while True:
            try:
                with trio.fail_after(REQUEST_TIMEOUT_S):
                    line = await _read_line(stream, buffer)
            except ControlError as exc:
                reply: dict[str, Any] = {"ok": False, "error": str(exc)}
                await stream.send_all(json.dumps(reply).encode() + b"\n")
                return
            except (trio.TooSlowError, trio.BrokenResourceError):
                return
            if line is None:
                return
            if not line.strip():
                continue
            reply = await _answer(handlers, line)
            try:
                await stream.send_all(json.dumps(reply).encode() + b"\n")
            except trio.BrokenResourceError:
                return


async def serve_control(
    path: Path,
    handlers: Mapping[str, Handler],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``handlers`` on ``path`` until cancelled; the socket file is removed at the end."""
    listener = await open_control_listener(path)
    try:
        async with trio.open_nursery() as nursery:
            task_status.started()
            async with listener:
                while True:
                    stream = await listener.accept()
                    nursery.start_soon(_serve_connection, handlers, stream)
    finally:
        try:
            os.unlink(path)  # a socket file: not worth a thread
        except OSError:
            pass
