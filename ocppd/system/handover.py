"""The files between the daemon (unprivileged) and the update helper (root).

All of them live in ``state_dir/update/`` (``UPDATE_DIR``), written atomically
(a temporary file, fsync, rename):

- ``request.json``, written by the daemon: install this package file (``file``, in
  ``state_dir``, mode 0600), of this ``package`` and ``version``, for request ``id``.
  ``ocppd-update.path`` starts ``ocppd-update.service`` (root) when it appears;
- ``registered.json``, written by the daemon once it registered with the central
  system: request ``id`` came up as ``version``. The helper waits for it after the
  restart; without it in time (or with ocppd crash-looping) it rolls back;
- ``outcome.json``, written by the helper: request ``id`` ended ``Installed`` or
  ``InstallationFailed`` (with a ``reason``). The daemon reads it at start.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

UPDATE_DIR = "update"
REQUEST = "request.json"
REGISTERED = "registered.json"
OUTCOME = "outcome.json"
INSTALLED = "Installed"
FAILED = "InstallationFailed"


@dataclass(frozen=True, slots=True)
class Request:
    id: str
    file: str  # absolute path of the package file
    package: str
    version: str


@dataclass(frozen=True, slots=True)
class Outcome:
    id: str
    result: str  # INSTALLED | FAILED
    reason: str = ""


def write_json(
    path: Path, value: dict[str, Any], mode: int = 0o640, owner: tuple[int, int] | None = None
) -> None:
    """``value`` at ``path``, whole or not at all; owned by ``owner`` (uid, gid) if given
    (the helper, root, writes what the unprivileged daemon must read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.unlink()  # never write through a link someone left there (the helper is root)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        if owner is not None:
            os.fchown(out.fileno(), *owner)
        json.dump(value, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The object at ``path``; None when absent or unreadable (a torn file is no request)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


class Handover:
    """The daemon's side of the files, in ``state_dir/update/``."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / UPDATE_DIR

    def __repr__(self) -> str:
        return f"<Handover {self.dir}>"

    def request(self, request: Request) -> None:
        """Hand ``request`` to the helper (the path unit starts it)."""
        write_json(self.dir / REQUEST, asdict(request))

    def pending(self) -> dict[str, Any] | None:
        """A request the helper has not taken yet."""
        return read_json(self.dir / REQUEST)

    def registered(self, request_id: str, version: str) -> None:
        """Tell the helper that this daemon, ``version``, came up and registered."""
        write_json(self.dir / REGISTERED, {"id": request_id, "version": version})

    def outcome(self) -> Outcome | None:
        raw = read_json(self.dir / OUTCOME)
        if raw is None or not isinstance(raw.get("id"), str):
            return None
        result = raw.get("result")
        if result not in (INSTALLED, FAILED):
            return None
        return Outcome(raw["id"], result, str(raw.get("reason", ""))[:200])

    def forget_outcome(self) -> None:
        for name in (OUTCOME, REGISTERED):
            try:
                (self.dir / name).unlink()
            except FileNotFoundError:
                pass


__all__ = ["FAILED", "INSTALLED", "Handover", "Outcome", "Request", "read_json", "write_json"]
