"""Security events the daemon finds by looking (security whitepaper edition 3, §8), rather
than ones a message or a link reports:

- ``FirmwareUpdated`` (critical): the ocppd that starts is another version than the one
  that ran before. Whatever installed it (UpdateFirmware, a signed update, the
  operator's ``apt``), the charger's firmware was updated; the version is kept in the
  journal's settings (``security.version``).
- ``SecurityLogWasCleared`` (critical), found at start: the security log is gone although
  an ocppd ran here before (someone removed it while ocppd was stopped). The operator's
  ``ocppctl security-log clear`` raises it too (``SecurityEvents.clear``). The log's
  own rolling over is not a clearing: the whitepaper asks for a rolling log [A04.FR.04].
- ``MemoryExhaustion`` (critical): "the Flash or RAM memory is getting full". The flash
  is the state directory's filesystem: less than :data:`LOW_SPACE_FRACTION` of it free
  (at least :data:`LOW_SPACE_BYTES`), or the journal refusing a write for want of
  space. Raised once when it happens, again only after it went away.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import trio

from ocppd import __version__
from ocppd.features.security.events import SecurityEvents
from ocppd.journal import Journal

log = logging.getLogger(__name__)

VERSION_SETTING = "security.version"  # the ocppd version that ran last
LOW_SPACE_FRACTION = 0.05  # "getting full": less than 5 % of the filesystem free ...
LOW_SPACE_BYTES = 64 * 2**20  # ... or less than 64 MB, whichever is more
CHECK_S = 300.0  # how often the free space is looked at


async def start_checks(events: SecurityEvents, journal: Journal) -> None:
    """At start, before StartupOfTheDevice: a log that vanished, a new version (none on the
    first start with this journal)."""
    try:
        previous = (await journal.settings()).get(VERSION_SETTING)
    except Exception as exc:
        log.error("cannot read the version that ran before: %s", exc)
        return
    if previous is not None and not events.log.files():
        await events.occurred(
            "SecurityLogWasCleared", "the security log was gone at start (removed while stopped)"
        )
    if previous is not None and previous != __version__:
        await events.occurred("FirmwareUpdated", f"ocppd {previous} replaced by {__version__}")
    if previous != __version__:
        try:
            await journal.set_setting(VERSION_SETTING, __version__)
        except Exception as exc:  # a journal that refuses: asked again at the next start
            log.error("cannot keep the running version in the journal: %s", exc)


def low_space(free: int, total: int) -> bool:
    """True when a filesystem of ``total`` bytes with ``free`` bytes left is getting full."""
    return free < max(LOW_SPACE_BYTES, int(total * LOW_SPACE_FRACTION))


def _space(path: Path) -> tuple[int, int] | None:
    """(free, total) bytes of the filesystem of ``path`` for an unprivileged writer."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize


def exhaustion(journal: Journal, state_dir: Path) -> str | None:
    """Why the charger's memory is getting full, or None."""
    if journal.storage_full:
        return journal.problem or "the journal's storage is full"
    space = _space(state_dir)
    if space is not None and low_space(*space):
        free, total = space
        return f"{free // 2**20} MB of {total // 2**20} MB free in {state_dir}"
    return None


async def memory_watch(events: SecurityEvents, journal: Journal, state_dir: Path) -> None:
    """MemoryExhaustion once per episode; and the critical events the journal refused while
    it was unwell are queued again as soon as it works."""
    told = False
    while True:
        why = exhaustion(journal, state_dir)
        if why is not None and not told:
            await events.occurred("MemoryExhaustion", why)
            told = True
        elif why is None:
            told = False
        if journal.healthy and events.unqueued:
            await events.requeue()
        with trio.move_on_after(CHECK_S):
            if journal.healthy:
                await journal.wait_unhealthy()
            else:
                await journal.wait_healthy()
