"""sd_notify without a library: READY, STATUS, WATCHDOG, STOPPING over $NOTIFY_SOCKET.

Works with or without python3-systemd (this is the whole protocol: one datagram).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import trio


class Notifier:
    """Talks to systemd when started by it; does nothing otherwise."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        addr = env.get("NOTIFY_SOCKET") or None
        if addr and addr.startswith("@"):
            addr = "\0" + addr[1:]
        self._addr = addr
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        try:
            mine = not pid or int(pid) == os.getpid()
            self.watchdog_s: float | None = int(usec) / 1e6 if usec and mine else None
        except ValueError:
            self.watchdog_s = None
        self._status = ""

    @property
    def enabled(self) -> bool:
        return self._addr is not None

    def send(self, **values: object) -> bool:
        """``send(READY=1, STATUS="connected")``; False when there is no systemd to tell."""
        if self._addr is None:
            return False
        message = "\n".join(f"{k}={v}" for k, v in values.items()).encode()
        # Never block the event loop: if systemd does not drain its queue, the message is
        # dropped (a missed WATCHDOG=1 is better than a frozen charger).
        flags = socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
        with socket.socket(socket.AF_UNIX, flags) as sock:
            try:
                sock.connect(self._addr)
                sock.send(message)
            except OSError:
                return False
        return True

    def status(self, text: str) -> None:
        """STATUS= for `systemctl status`, sent only when it changes."""
        if text != self._status:
            self._status = text
            self.send(STATUS=text)

    async def run_watchdog(self, healthy: Callable[[], bool] = lambda: True) -> None:
        """Send WATCHDOG=1 at half the interval for as long as the event loop runs and is healthy.

        A loop that hangs stops the pings, and systemd restarts us.
        """
        if not self.watchdog_s:
            return
        interval = self.watchdog_s / 2
        deadline = trio.current_time()
        while True:
            if healthy():
                self.send(WATCHDOG=1)
            deadline += interval
            await trio.sleep_until(deadline)

    def __repr__(self) -> str:
        return f"<Notifier enabled={self.enabled} watchdog={self.watchdog_s}>"
