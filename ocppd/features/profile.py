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
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ocppd.model.keys import Keys, KeySpec
from ocppd.protocol.rpc import IncomingCall

if TYPE_CHECKING:  # the Core's pieces import this module's package at run time
    from ocppd.clock import Clock
    from ocppd.config import Settings
    from ocppd.features.core.heartbeat import Heartbeat
    from ocppd.features.core.registration import Registration
    from ocppd.features.core.status_report import StatusReporter
    from ocppd.journal import Journal
    from ocppd.model.charger import Charger

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


@dataclass(frozen=True, slots=True)
class Site:
    """The facts of this charger that key declarations depend on."""

    phases: Mapping[int, int]  # connector id -> phase count
    measurands: frozenset[str]  # what every connector's meter can give
    security_profile: int
    profiles: tuple[str, ...]  # the names of the profiles offered (SupportedFeatureProfiles)


@dataclass(frozen=True, slots=True)
class Services:
    """What a profile's handlers and tasks may use: the model, the keys, and the Core's
    public verbs (``registration.send_boot()``, ``heartbeat.send_heartbeat()``,
    ``statuses.send_status(connector_id)``)."""

    charger: Charger
    keys: Keys
    clock: Clock
    registration: Registration
    heartbeat: Heartbeat
    statuses: StatusReporter
    persist_key: Persist  # a key the central system changed, kept across restarts
    # For profiles that journal work of their own (Firmware Management): the journal, a
    # way to wake the courier after queueing a message, and the daemon's settings.
    journal: Journal | None = None
    wake_outbox: Callable[[], None] = lambda: None
    settings: Settings | None = None
    inline: bool = False  # trio MockClock (tests): blocking work on the loop, no threads
    # a profile's own objects by profile name, shared by its handlers, tasks and verbs
    shared: dict[str, Any] = field(default_factory=dict)


def no_handlers(_services: Services) -> Mapping[str, Handler]:
    return {}


def no_tasks(_services: Services) -> Iterable[Task]:
    return ()


@dataclass(frozen=True, slots=True)
class Profile:
    """One feature profile. ``name`` is its word in SupportedFeatureProfiles; ``keys`` its
    configuration keys (1.6 §9); ``handlers`` its CSMS calls by action; ``tasks`` what it
    runs for as long as the daemon does."""

    name: str
    keys: Callable[[Site], Iterable[KeySpec]]
    handlers: Callable[[Services], Mapping[str, Handler]] = no_handlers
    tasks: Callable[[Services], Iterable[Task]] = no_tasks

    def __repr__(self) -> str:
        return f"<Profile {self.name}>"
