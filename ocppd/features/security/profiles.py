"""Security profiles over OCPP: the central system raises SecurityProfile, never lowers it.

The security whitepaper (edition 3, use case A05) lets the central system raise the
profile with ChangeConfiguration(SecurityProfile):

- a value lower than or equal to the profile in force is Rejected, and nothing happens:
  no reconnect [A05.FR.01, A00.FR.005; OCTT TC_084];
- a raise without its prerequisites is Rejected: a usable AuthorizationKey for profiles
  1 and 2, a CentralSystemRootCertificate for 2 and 3, a valid charge point certificate
  for 3 [A05.FR.02-04];
- otherwise Accepted; the charger then reconnects with the new profile and, when that
  fails, falls back to the previous one [A05.FR.05-08].

The raise is a *trial* until a link with the new profile reaches its steady state
(registered): the trial is kept in the journal's settings (``security.trial``), so a
charger that restarts during it still falls back if the new profile never works. The
fall-back is durable too: the previous value is persisted as the key's value. Both
the raise and the fall-back are written to the security log.

The prerequisites are read through :class:`Credentials`, so that the certificate
store can answer instead of the config files once it exists.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from ocppd.features.profile import Persist
from ocppd.model.keys import Keys, Value

if TYPE_CHECKING:
    from ocppd.security.store import CertificateStore

log = logging.getLogger(__name__)

KEY = "SecurityProfile"
TRIAL_SETTING = "security.trial"  # "<previous>><new>" while a raised profile is on trial


class Credentials(Protocol):
    """What the prerequisites of a profile look at (today the config files; later the
    certificate store as well)."""

    def authorization_key(self) -> str | None:
        """The basic-auth password in force (the AuthorizationKey, else the config file's)."""
        ...

    def central_system_roots(self) -> bool:
        """A CentralSystemRootCertificate is available to verify the central system."""
        ...

    def charge_point_certificate(self) -> str | None:
        """None when a valid charge point certificate (and its key) is available, else why not."""
        ...


def usable_authorization_key(key: str | None) -> bool:
    """The password in force is 16 to 40 bytes [A00.FR.205]: the key as written, or the text
    of a 1.6 hex key (features/core/keys.py basic_auth_password, whose 16-20 bytes pass)."""
    return key is not None and 16 <= len(key.encode()) <= 40


def certificate_problem(cert_file: str | None, key_file: str | None, now: datetime) -> str | None:
    """None when ``cert_file`` holds a certificate valid at ``now`` and ``key_file`` is
    readable; else why not. The certificate is read with ``cryptography``."""
    from cryptography import x509  # only needed for profile 3

    if not (cert_file and key_file):
        return "no charge point certificate (cert_file and key_file)"
    if not os.access(key_file, os.R_OK):
        return f"cannot read the charge point key {key_file}"
    try:
        with open(cert_file, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
    except (OSError, ValueError) as exc:
        return f"cannot read the charge point certificate {cert_file}: {exc}"
    if not _valid_from(cert) <= now <= _valid_until(cert):
        return "the charge point certificate is not valid now"
    return None


def _valid_from(cert: Any) -> datetime:
    # cryptography 42 added the aware ``*_utc``; Debian bookworm has 38 (naive UTC)
    found = getattr(cert, "not_valid_before_utc", None)
    return found if found is not None else cert.not_valid_before.replace(tzinfo=UTC)


def _valid_until(cert: Any) -> datetime:
    found = getattr(cert, "not_valid_after_utc", None)
    return found if found is not None else cert.not_valid_after.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Trial:
    """A raised profile not yet proven by a link that reached its steady state."""

    previous: int
    new: int

    def text(self) -> str:
        return f"{self.previous}>{self.new}"

    @classmethod
    def parse(cls, text: str | None) -> Trial | None:
        if not text:
            return None
        previous, sep, new = text.partition(">")
        try:
            return cls(int(previous), int(new)) if sep else None
        except ValueError:
            return None


SecurityNote = Callable[[str, str], Awaitable[None]]
"""Writes a security log entry: (event type, text)."""
Store = Callable[[str, str | None], Awaitable[None]]
"""Keeps a journal setting (None removes it)."""


class SecurityProfiles:
    """The SecurityProfile key's rules and its trial. ``reconnect(why)`` redials at once;
    ``note(event, text)`` writes the security log."""

    def __init__(
        self,
        *,
        keys: Keys,
        credentials: Credentials,
        persist_key: Persist,
        store: Store,
        trial: Trial | None,
        reconnect: Callable[[str], None],
        note: SecurityNote,
    ) -> None:
        self._keys = keys
        self._credentials = credentials
        self._persist_key = persist_key
        self._store = store
        self.trial = trial
        self._reconnect = reconnect
        self._note = note
        self._own_change = False
        # the last profile a link proved (or the config file's): where a failed trial goes
        self._settled = trial.previous if trial is not None else keys.get_int(KEY)
        keys.guard(KEY, self.refusal)
        keys.on_change(KEY, self._raised)

    def __repr__(self) -> str:
        return f"<SecurityProfiles in force={self.current} trial={self.trial}>"

    @property
    def current(self) -> int:
        return self._keys.get_int(KEY)

    def refusal(self, value: Value) -> str | None:
        """Why ChangeConfiguration(SecurityProfile=value) is Rejected, or None."""
        assert isinstance(value, int)
        if value <= self.current:
            return f"the security profile is {self.current}: it can only be raised [A05.FR.01]"
        if value in (1, 2) and not usable_authorization_key(self._credentials.authorization_key()):
            return f"profile {value} needs an AuthorizationKey of 16-40 bytes [A05.FR.02]"
        if value >= 2 and not self._credentials.central_system_roots():
            return f"profile {value} needs a CentralSystemRootCertificate [A05.FR.03]"
        if value == 3 and (problem := self._credentials.charge_point_certificate()) is not None:
            return f"profile 3 needs a valid charge point certificate: {problem} [A05.FR.04]"
        return None

    async def _raised(self, value: Value) -> None:
        """The central system raised the profile (persisted already): try it."""
        if self._own_change:
            return
        assert isinstance(value, int)
        previous = self._settled
        self.trial = Trial(previous, value)
        await self._store(TRIAL_SETTING, self.trial.text())
        await self._note(
            "ReconfigurationOfSecurityParameters",
            f"SecurityProfile raised from {previous} to {value}; reconnecting",
        )
        self._reconnect(f"new SecurityProfile {value}")

    async def confirmed(self) -> None:
        """A link with the profile on trial reached its steady state: it stays."""
        if self.trial is None or self.current != self.trial.new:
            return
        trial, self.trial = self.trial, None
        self._settled = trial.new
        await self._store(TRIAL_SETTING, None)
        log.info("security profile %d works; it stays", trial.new)

    async def link_ended(self, profile: int | None, reason: str, healthy: bool) -> None:
        """A link (dialled with ``profile``; None: it could not even be dialled) ended: one
        with the profile on trial that never reached its steady state fails the trial."""
        trial = self.trial
        if trial is None or healthy or profile not in (None, trial.new):
            return
        await self.fall_back(reason)

    async def settle(self, value: int, why: str) -> None:
        """A link with the higher profile ``value`` registered (2.0.1: a network profile
        raised it, A05): it is the profile in force from now on, durably, with no trial (a
        registered link proved it) and no reconnect (the link has it already)."""
        if value <= self.current:
            return
        previous = self.current
        self._own_change = True
        try:
            await self._persist_key(KEY, str(value))
            await self._keys.apply(KEY, value)
        finally:
            self._own_change = False
        self._settled = value
        if self.trial is not None:
            self.trial = None
            await self._store(TRIAL_SETTING, None)
        log.info("security profile %d is in force (%s)", value, why)
        await self._note(
            "ReconfigurationOfSecurityParameters",
            f"SecurityProfile raised from {previous} to {value} ({why})",
        )

    async def fall_back(self, reason: str) -> None:
        """The profile on trial failed: the previous one is in force again, durably."""
        trial = self.trial
        if trial is None:
            return
        self._own_change = True
        try:
            await self._persist_key(KEY, str(trial.previous))
            await self._keys.apply(KEY, trial.previous)
        finally:
            self._own_change = False
        self.trial = None
        await self._store(TRIAL_SETTING, None)
        log.warning(
            "security profile %d failed (%s): back to profile %d", trial.new, reason, trial.previous
        )
        await self._note(
            "ReconfigurationOfSecurityParameters",
            f"SecurityProfile {trial.new} failed ({reason}); fell back to {trial.previous}",
        )


class ConfiguredCredentials:
    """The prerequisites as the keys, the certificate store and the config file give them:
    the AuthorizationKey the central system set (else ``ocpp.authorization_key``); a
    CentralSystemRootCertificate installed in the store, else ``ocpp.ca_file`` (the
    system's CAs do not count: the whitepaper wants a root installed for this purpose); the
    store's valid charge point certificate (made through SignCertificate), else
    ``ocpp.cert_file``/``key_file`` checked against ``now()``. The store is what the link
    dials with, so a raise is judged by the same certificates the next connection uses."""

    def __init__(
        self,
        keys: Keys,
        *,
        config_key: str | None,
        ca_file: str | None,
        cert_file: str | None,
        key_file: str | None,
        now: Callable[[], datetime | None],
        store: CertificateStore | None = None,
    ) -> None:
        self._keys = keys
        self._store = store
        self._config_key = config_key
        self._ca_file = ca_file
        self._cert_file = cert_file
        self._key_file = key_file
        self._now = now

    def __repr__(self) -> str:
        return f"<ConfiguredCredentials ca={self._ca_file} cert={self._cert_file}>"

    def authorization_key(self) -> str | None:
        return self._keys.get_str("AuthorizationKey") or self._config_key

    def central_system_roots(self) -> bool:
        if self._store is not None and self._store.trust() is not None:
            return True
        return self._ca_file is not None and os.access(self._ca_file, os.R_OK)

    def charge_point_certificate(self) -> str | None:
        if self._store is not None and self._store.identity() is not None:
            return None  # valid now: identity() is the newest certificate valid at this time
        return certificate_problem(
            self._cert_file, self._key_file, self._now() or datetime.now(UTC)
        )


class Watched(Protocol):
    """What the trial watches of the link: whether it reached its steady state."""

    @property
    def healthy(self) -> bool: ...

    async def wait_changed(self) -> None: ...


async def confirm_trials(profiles: SecurityProfiles, link: Watched) -> None:
    """For as long as the daemon runs: a link that reaches its steady state proves the
    profile on trial."""
    while True:
        if link.healthy:
            await profiles.confirmed()
        await link.wait_changed()
