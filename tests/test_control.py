"""The control socket against hostile and odd clients: every client is bounded, and what goes
wrong with one is that client's problem, never the daemon's.

Most tests run a real ``serve_control`` on a unix socket with handlers of their own, on
virtual time; the rest drive the real daemon (in-process, or as a process for a real
shortage of file descriptors and for start-up refusals).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from ocppd import ctl
from ocppd.control.server import (
    IDLE_TIMEOUT_S,
    MAX_CLIENTS,
    MAX_LINE,
    SEND_TIMEOUT_S,
    SocketInUse,
    SocketPathTaken,
    open_control_listener,
    serve_control,
)
from tests.harness import charger, config_text, make_csms

REPO = Path(__file__).resolve().parent.parent
DEEP = 30_000  # deep enough to break json's recursion, short enough for one request line


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    """A short directory for sockets (a unix socket path has at most 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="ocppd-ctl-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def echo(request: dict[str, Any]) -> Any:
    return request.get("say", "hello")


async def big(request: dict[str, Any]) -> str:
    return "x" * (8 * 2**20)  # more than any socket buffer holds


async def odd(request: dict[str, Any]) -> Any:
    return object()  # not JSON


HANDLERS = {"echo": echo, "big": big, "odd": odd}


@asynccontextmanager
async def server(path: Path) -> AsyncIterator[None]:
    async with trio.open_nursery() as nursery:
        await nursery.start(serve_control, path, HANDLERS)
        yield
        nursery.cancel_scope.cancel()


async def connect(path: Path) -> trio.SocketStream:
    return await trio.open_unix_socket(str(path))


async def read_line(stream: trio.SocketStream) -> Any:
    """One answer line, or None when the server closed first (a unix socket closed with
    unread data in it resets the connection instead of ending it)."""
    data = b""
    with trio.fail_after(60):
        while not data.endswith(b"\n"):
            try:
                chunk = await stream.receive_some(65536)
            except trio.BrokenResourceError:
                return None
            if not chunk:
                return None
            data += chunk
    return json.loads(data)


async def read_to_end(stream: trio.SocketStream) -> int:
    """Bytes received until the server closed the connection."""
    received = 0
    with trio.fail_after(60):
        while True:
            try:
                chunk = await stream.receive_some(2**20)
            except trio.BrokenResourceError:
                return received
            if not chunk:
                return received
            received += len(chunk)


async def ask(path: Path, line: bytes) -> Any:
    stream = await connect(path)
    async with stream:
        await stream.send_all(line)
        return await read_line(stream)


async def test_a_line_nested_thousands_deep_gets_an_error_line_and_the_server_goes_on(
    sock_dir: Path, autojump_clock: Any
) -> None:
    path = sock_dir / "c.sock"
    async with server(path):
        for line in ("[" * DEEP, '{"cmd": "echo", "say": ' + "[" * DEEP + "]" * DEEP + "}"):
            answer = await ask(path, line.encode() + b"\n")
            assert answer == {"ok": False, "error": "request nests deeper than 8 levels"}
        assert await ask(path, b'{"cmd": "echo", "say": [[["fine"]]]}\n') == {
            "ok": True,
            "result": [[["fine"]]],
        }


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"\xff\xfe{}", "request is not UTF-8 text"),
        (b"{not json", "request is not JSON"),
        (b"[1, 2]", 'request must be an object with a "cmd"'),
        (b'{"cmd": 7}', 'request must be an object with a "cmd"'),
        (b'{"cmd": "dance"}', "unknown command 'dance'"),
        (b'{"cmd": "odd"}', "internal error (see the daemon's log)"),
    ],
)
async def test_a_line_that_is_no_request_gets_an_error_line(
    sock_dir: Path, autojump_clock: Any, line: bytes, error: str
) -> None:
    path = sock_dir / "c.sock"
    async with server(path):
        assert await ask(path, line + b"\n") == {"ok": False, "error": error}
        assert (await ask(path, b'{"cmd": "echo"}\n'))["ok"] is True


async def test_a_line_longer_than_the_limit_is_refused_and_the_client_closed(
    sock_dir: Path, autojump_clock: Any
) -> None:
    path = sock_dir / "c.sock"
    async with server(path):
        # a well-formed request just over the limit, newline included in what is sent
        padded = b'{"cmd": "echo", "say": "' + b"x" * MAX_LINE + b'"}\n'
        assert await ask(path, padded) == {
            "ok": False,
            "error": f"request longer than {MAX_LINE} bytes",
        }
        stream = await connect(path)
        async with stream:  # a client that streams without end is cut off, not buffered
            with trio.move_on_after(5):
                try:
                    while True:
                        await stream.send_all(b"y" * 65536)
                except trio.BrokenResourceError:
                    pass  # the server closed its end
            assert (await read_line(stream))["error"] == f"request longer than {MAX_LINE} bytes"
            assert await read_line(stream) is None
        assert (await ask(path, b'{"cmd": "echo"}\n'))["ok"] is True


async def test_two_hundred_clients_at_once_the_ones_over_the_limit_are_told_busy(
    sock_dir: Path, autojump_clock: Any
) -> None:
    path = sock_dir / "c.sock"
    async with server(path):
        streams = [await connect(path) for _ in range(200)]
        answers: dict[int, Any] = {}

        async def listen(i: int, stream: trio.SocketStream) -> None:
            answers[i] = await read_line(stream)

        with trio.move_on_after(1):  # the held ones have sent nothing: no answer yet
            async with trio.open_nursery() as nursery:
                for i, stream in enumerate(streams):
                    nursery.start_soon(listen, i, stream)
        busy = {"ok": False, "error": f"busy: {MAX_CLIENTS} clients connected"}
        assert list(answers.values()) == [busy] * (200 - MAX_CLIENTS)
        held = [s for i, s in enumerate(streams) if i not in answers]
        assert len(held) == MAX_CLIENTS
        assert await ask(path, b'{"cmd": "echo"}\n') == busy
        await held[0].aclose()  # one leaves: the next client is served
        await trio.sleep(0.1)
        assert await ask(path, b'{"cmd": "echo"}\n') == {"ok": True, "result": "hello"}
        # the rest never sent a whole line: dropped after IDLE_TIMEOUT_S
        await trio.sleep(IDLE_TIMEOUT_S)
        for stream in held[1:]:
            assert await read_line(stream) is None
            await stream.aclose()
        for stream in streams:
            await stream.aclose()


async def test_a_client_that_never_reads_its_answer_is_dropped_and_others_are_served(
    sock_dir: Path, autojump_clock: Any
) -> None:
    path = sock_dir / "c.sock"
    async with server(path):
        stuck = await connect(path)
        stuck.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        await stuck.send_all(b'{"cmd": "big"}\n')
        await trio.sleep(1)
        assert (await ask(path, b'{"cmd": "echo"}\n'))["ok"] is True  # served meanwhile
        await trio.sleep(SEND_TIMEOUT_S)
        received = await read_to_end(stuck)
        assert 0 < received < 8 * 2**20  # cut off part way, then closed
        await stuck.aclose()


async def test_a_client_that_sends_only_part_of_a_line_is_dropped(
    sock_dir: Path, autojump_clock: Any
) -> None:
    path = sock_dir / "c.sock"
    async with server(path):
        slow = await connect(path)
        async with slow:
            start = trio.current_time()
            for _ in range(3):  # a byte now and then does not keep it alive
                await slow.send_all(b"{")
                await trio.sleep(IDLE_TIMEOUT_S / 4)
            assert await read_line(slow) is None
            assert trio.current_time() - start == pytest.approx(IDLE_TIMEOUT_S, abs=0.1)


# --- what is at the socket path -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["file", "directory", "symlink", "dangling symlink"])
async def test_something_other_than_a_socket_at_the_path_is_refused_and_left_alone(
    sock_dir: Path, kind: str
) -> None:
    path = sock_dir / "c.sock"
    target = sock_dir / "elsewhere"
    if kind == "file":
        path.write_text("precious\n")
    elif kind == "directory":
        path.mkdir()
    else:
        if kind == "symlink":
            target.write_text("precious\n")
        path.symlink_to(target)
    before = os.lstat(path)
    with pytest.raises(SocketPathTaken, match=f"^{path}: .* is in the way of the control socket"):
        await open_control_listener(path)
    after = os.lstat(path)
    assert (after.st_ino, after.st_mode, after.st_mtime_ns) == (
        before.st_ino,
        before.st_mode,
        before.st_mtime_ns,
    )
    if kind in ("file", "symlink"):
        assert path.read_text() == "precious\n"


async def test_a_stale_socket_is_replaced_and_a_live_one_refused(sock_dir: Path) -> None:
    path = sock_dir / "c.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens: what a crash leaves
    listener = await open_control_listener(path)
    async with listener:
        with pytest.raises(SocketInUse):
            await open_control_listener(path)
    assert path.exists()  # the live one was not touched


async def test_the_socket_file_is_removed_at_the_end_but_not_what_replaced_it(
    sock_dir: Path,
) -> None:
    path = sock_dir / "c.sock"
    async with server(path):
        assert path.is_socket()
    assert not path.exists()
    async with server(path):
        path.unlink()
        path.write_text("someone else's\n")
    assert path.read_text() == "someone else's\n"


# --- the real daemon ---------------------------------------------------------------------------


async def test_hostile_control_clients_do_not_disturb_a_charging_session(
    nursery: trio.Nursery, start_csms: Any, autojump_clock: Any
) -> None:
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("04A2B3C4")
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
        path = cp.socket
        answer = await ask(path, b"[" * DEEP + b"\n")
        assert answer == {"ok": False, "error": "request nests deeper than 8 levels"}
        # a client that asks for status again and again and never reads the answers
        stuck = await connect(path)
        stuck.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        with trio.move_on_after(5):
            while True:
                await stuck.send_all(b'{"cmd": "status"}\n' * 100)
        status = await cp.status()  # others are served meanwhile
        assert status["connectors"][0]["status"] == "Charging"
        await trio.sleep(SEND_TIMEOUT_S + 1)
        received = await read_to_end(stuck)  # it was dropped: the stream ends
        assert 0 < received < 100 * len(json.dumps(status))
        await stuck.aclose()
        assert (await cp.status())["connectors"][0]["status"] == "Charging"
        assert not cp.done.is_set()
        assert not [c for c in station.calls("StopTransaction")]


def _daemon_config(tmp_path: Path, url: str, socket_path: Path) -> Path:
    text = config_text(url=url, state_dir=tmp_path / "state", socket=socket_path, log_level="info")
    path = tmp_path / "ocppd.toml"
    path.write_text(text)
    return path


def test_a_regular_file_at_the_socket_path_refuses_the_start_and_stays(tmp_path: Path) -> None:
    sock = Path(tempfile.mkdtemp(prefix="ocppd-ctl-")) / "c.sock"
    try:
        sock.write_text("precious\n")
        config = _daemon_config(tmp_path, "ws://127.0.0.1:9/ocpp", sock)
        config.write_text(config.read_text().replace('level = "info"', 'level = "warning"'))
        done = subprocess.run(
            [sys.executable, "-m", "ocppd", "run", "-c", str(config)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 73, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert f"{sock}: a regular file is in the way of the control socket" in lines[0]
        assert sock.read_text() == "precious\n"
    finally:
        shutil.rmtree(sock.parent, ignore_errors=True)


def test_out_of_file_descriptors_on_accept_the_daemon_logs_once_and_serves_on(
    tmp_path: Path,
) -> None:
    """A real EMFILE: the daemon as a process whose descriptor limit is lowered (prlimit)
    to a few more than it uses, then more clients than that connect at once."""
    sock_dir = Path(tempfile.mkdtemp(prefix="ocppd-ctl-"))
    sock = sock_dir / "c.sock"
    log_path = tmp_path / "stderr"

    async def main() -> None:
        csms = make_csms()
        async with trio.open_nursery() as nursery:
            await nursery.start(csms.serve)
            config = _daemon_config(tmp_path, csms.url, sock)
            with log_path.open("w") as stderr:
                process = await trio.lowlevel.open_process(
                    [sys.executable, "-m", "ocppd", "run", "-c", str(config)],
                    cwd=REPO,
                    stderr=stderr,
                )
            try:
                with trio.fail_after(60):
                    station = await csms.wait_station("CP-TEST")
                    await station.wait_for("StatusNotification", lambda p: p["connectorId"] == 1)
                limits = resource.prlimit(process.pid, resource.RLIMIT_NOFILE)
                in_use = len(os.listdir(f"/proc/{process.pid}/fd"))
                resource.prlimit(process.pid, resource.RLIMIT_NOFILE, (in_use + 2, limits[1]))
                clients = [await connect(sock) for _ in range(12)]  # the backlog holds them
                await trio.sleep(1.5)  # accept fails again and again meanwhile
                assert process.returncode is None
                resource.prlimit(process.pid, resource.RLIMIT_NOFILE, limits)
                for client in clients:
                    await client.aclose()
                result = await trio.to_thread.run_sync(ctl.request, str(sock), {"cmd": "status"})
                assert result["connection"]["state"] == "connected"
                assert process.returncode is None
            finally:
                if process.returncode is None:
                    process.terminate()
                    with trio.fail_after(30):
                        await process.wait()
                nursery.cancel_scope.cancel()

    try:
        trio.run(main)
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)
    errors = [line for line in log_path.read_text().splitlines() if "accept failed" in line]
    assert len(errors) == 1, log_path.read_text()
    assert "EMFILE" in errors[0]
