"""What a feature profile is: a module's declaration of its keys, its handlers and its tasks.

A profile is data (:class:`Profile`), made in its own module
(``features/<profile>.py`` or a package, as ``features/core/``) and listed once in
``features/__init__.py`` (``PROFILES``). The daemon (``app.py``) asks each profile
for its configuration keys with the facts of this charger (:class:`Site`), builds the
model and the Core pieces, then asks each profile for its CSMS-call handlers and its
tasks with what it may use (:class:`Services`). ``SupportedFeatureProfiles`` is the
list of the profiles' names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from ocppd.model.keys import Keys, KeySpec
from ocppd.protocol.rpc import IncomingCall

if TYPE_CHECKING:  # the Core's pieces import this module's package at run time
    from ocppd.clock import Clock
    from ocppd.config import Settings
    from ocppd.features.core.heartbeat import Heartbeat
    from ocppd.features.core.registration import Registration
    from ocppd.features.core.status_report import StatusReporter
    from ocppd.features.link import LinkView
    from ocppd.journal import Journal
    from ocppd.model.charger import Charger
    from ocppd.security.store import CertificateStore

Handler = Callable[[IncomingCall], Awaitable[Any]]
"""Answers one CSMS call: a response, or :class:`ocppd.session.Then` (a response and work
to start once it is on the wire)."""
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class TypedHandler(Generic[R]):
    """A :data:`Handler` whose ``answer`` takes the typed request of its action. The dialect
    decodes each action into one request type, so a request of another type is a mistake
    in the wiring: TypeError, which the session answers as an InternalError."""

    request_type: type[R]
    answer: Callable[[R], Awaitable[Any]]

    async def __call__(self, call: IncomingCall) -> Any:
        request = call.request
        if not isinstance(request, self.request_type):
            raise TypeError(
                f"{call.action} came as {type(request).__name__}, not {self.request_type.__name__}"
            )
        return await self.answer(request)


Task = Callable[[], Awaitable[None]]
"""Work that lives as long as the daemon: started in its nursery, supervised (a failure is
a logged bug, never the end of the daemon: ``ocppd/model/supervise.py``)."""
Persist = Callable[[str, str], Awaitable[None]]
T = TypeVar("T")


class RecordStore(Protocol):
    """Durable records a profile keeps beside the keys (the charging profiles): JSON texts
    by id, replaced as a whole. Both raise the model's StorageUnavailable."""

    async def load(self) -> list[str]: ...

    async def replace(self, records: list[tuple[int, str]]) -> None: ...


class NoRecords:
    """A RecordStore that keeps nothing (a daemon built without a journal for them)."""

    async def load(self) -> list[str]:
        return []

    async def replace(self, records: list[tuple[int, str]]) -> None:
        return None


SecurityEvent = Callable[[str, str], Awaitable[None]]
"""Raises a security event of the whitepaper (its type, its techInfo): the security log,
journald and SecurityEventNotification (``features/security/events.py``). Never raises."""


async def no_security_events(_kind: str, _tech_info: str) -> None:
    return None


RemoteStartProfileTaker = Callable[[int, Any], str | None]
"""Takes the charging profile a RemoteStartTransaction carries (connector id, the 1.6
``ChargingProfile``, or 2.0.1's RequestStartTransaction profile already in the engine's
words) for the transaction about to start there: None when taken, else why not (the remote
start is then Rejected)."""


class RemoteStartProfiles:
    """The hand-over of a RemoteStartTransaction's ``chargingProfile`` from the Core's handler
    to the profile that implements Smart Charging (which registers itself with
    :meth:`taken_by`). Without one, the profile is ignored and the start goes ahead
    (1.6 §5.11: a charge point without Smart Charging ignores it)."""

    def __init__(self) -> None:
        self._taker: RemoteStartProfileTaker | None = None

    def __repr__(self) -> str:
        return f"<RemoteStartProfiles taker={self._taker is not None}>"

    def taken_by(self, taker: RemoteStartProfileTaker) -> None:
        self._taker = taker

    @property
    def supported(self) -> bool:
        return self._taker is not None

    def hand_over(self, connector_id: int, profile: Any) -> str | None:
        """None: taken (or nobody takes profiles); else why the start must be Rejected."""
        return None if self._taker is None else self._taker(connector_id, profile)


Trigger = Callable[["Services", "int | None"], "Task | None"]
"""What a TriggerMessage (1.6 §5.17) of one message does: given the services and the
request's connectorId as sent (None: every connector; a trigger for which it is relevant
checks it, one for which it is not ignores it), the work that sends the message once the
answer is on the wire, or None when it cannot be sent (answered Rejected). A profile offers the
messages it can send in :attr:`Profile.triggers`; one nobody offers is NotImplemented."""


@dataclass(frozen=True, slots=True)
class Site:
    """The facts of this charger that key declarations depend on."""

    phases: Mapping[int, int]  # connector id -> phase count
    measurands: frozenset[str]  # what every connector's meter can give
    security_profile: int
    profiles: tuple[str, ...]  # the names of the profiles offered (SupportedFeatureProfiles)


@dataclass(frozen=True, slots=True)
class Services:
    """What a profile's handlers and tasks may use: the model, the keys, the journal, and the Core's
    public verbs (``registration.send_boot()``, ``heartbeat.send_heartbeat()``,
    ``statuses.send_status(connector_id)``)."""

    charger: Charger
    keys: Keys
    clock: Clock
    registration: Registration
    heartbeat: Heartbeat
    statuses: StatusReporter
    persist_key: Persist  # a key the central system changed, kept across restarts
    journal: Journal  # what a profile keeps across restarts (e.g. the local list)
    link: LinkView  # the open link, for a profile's own messages (features/link.py)
    records: RecordStore = field(default_factory=NoRecords)  # the charging profiles
    remote_start_profiles: RemoteStartProfiles = field(default_factory=RemoteStartProfiles)
    shared: dict[str, Any] = field(default_factory=dict)  # see part()
    triggers: Mapping[str, Trigger] = field(default_factory=lambda: MappingProxyType({}))
    """Every profile's triggerable messages, by the requestedMessage word."""
    certificates: CertificateStore | None = None  # the roots and the charger's own certificate
    serial_number: str | None = None  # the charge point's unique serial (a certificate's CN)
    # For a profile that queues messages of its own (Firmware Management): a way to wake
    # the courier, the daemon's settings, and whether blocking work runs inline (trio's
    # MockClock in tests: no worker threads)
    wake_outbox: Callable[[], None] = lambda: None
    security_event: SecurityEvent = no_security_events  # what a profile saw (a refused chain)
    settings: Settings | None = None
    inline: bool = False
    protocol: Callable[[], str] = lambda: "ocpp1.6"
    """The OCPP version a message queued now is recorded in (features/link.py, Versions)."""

    def part(self, name: str, make: Callable[[], T]) -> T:
        """The one ``name`` of this daemon that a profile's handlers and tasks share (made
        by ``make`` the first time): state that lives as long as the daemon, not a global."""
        if name not in self.shared:
            self.shared[name] = make()
        found: T = self.shared[name]
        return found


def no_handlers(_services: Services) -> Mapping[str, Handler]:
    return {}


def no_tasks(_services: Services) -> Iterable[Task]:
    return ()


@dataclass(frozen=True, slots=True)
class Profile:
    """One feature profile. ``name`` is its word in SupportedFeatureProfiles; ``keys`` its
    configuration keys (1.6 §9); ``handlers`` its CSMS calls by action; ``tasks`` what it
    runs for as long as the daemon does; ``triggers`` the messages of its own that a
    TriggerMessage may ask for (:data:`Trigger`; the RemoteTrigger profile answers)."""

    name: str
    keys: Callable[[Site], Iterable[KeySpec]]
    handlers: Callable[[Services], Mapping[str, Handler]] = no_handlers
    tasks: Callable[[Services], Iterable[Task]] = no_tasks
    triggers: Mapping[str, Trigger] = field(default_factory=lambda: MappingProxyType({}))
    advertised: bool = True
    """Named in SupportedFeatureProfiles. The security whitepaper's messages belong to no 1.6
    feature profile and add no name there: a profile of them is not advertised."""

    def __repr__(self) -> str:
        return f"<Profile {self.name}>"
