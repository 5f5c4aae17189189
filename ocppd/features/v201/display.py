"""O: display messages (O01-O06): SetDisplayMessage, GetDisplayMessages, ClearDisplayMessage.

The central system sets texts for the drivers; the charger keeps them in the model's
:class:`~ocppd.model.notices.Notices` (on the Charger, persisted in the journal,
migration 0010, so they survive a restart), the screen shows those in force
(``ocppd/view``), ``ocppctl messages`` lists them. This module is the 2.0.1 words for
that room: one table per enum, the refusals of SetDisplayMessage in the order of the
schema's status list, the reports of GetDisplayMessages (NotifyDisplayMessages, in parts
with ``tbc``) and the removal of what ended (a task).

What the charger takes (``DisplayMessageCtrlr``):

- a local display must be configured (``[display]``): without one a message could not be
  shown, so SetDisplayMessage is Rejected (reasonCode ``NoDisplay``) and
  ``DisplayMessageCtrlr.Available`` is false;
- formats ASCII and UTF8 (SupportedFormats). The 128x64 monochrome panel draws plain text
  only: an HTML or URI message is NotSupportedMessageFormat (O01.FR.03 lets the station
  say so) rather than shown as raw markup or a bare link;
- all three priorities and all four states;
- at most ``DisplayMessageCtrlr.DisplayMessages`` messages (default 32, read-only to the
  central system, the installer may set it in ``[ocpp.keys]``): a new id beyond it is
  Rejected, so a hostile central system cannot grow the journal; replacing a message of
  a known id (O06) always fits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import trio

from ocppd.features.link import open_session
from ocppd.features.profile import Handler, Profile, Services, Site, Task, TypedHandler
from ocppd.model.charger import Charger
from ocppd.model.keys import Keys, KeySpec, KeyType
from ocppd.model.notices import DEFAULT_CAPACITY, Notice, Notices, Place, Priority, TextForm, When
from ocppd.model.transaction import StorageUnavailable
from ocppd.protocol.errors import OcppError, Violation
from ocppd.protocol.v201 import codec
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import (
    ClearMessageStatusEnumType,
    DisplayMessageStatusEnumType,
    GetDisplayMessagesStatusEnumType,
    MessageFormatEnumType,
    MessagePriorityEnumType,
    MessageStateEnumType,
)
from ocppd.session import CallFailure, Then

log = logging.getLogger(__name__)

CONTROLLER = "DisplayMessageCtrlr"
ENABLED = f"{CONTROLLER}.Enabled"
CAPACITY = f"{CONTROLLER}.DisplayMessages"
MAX_CAPACITY = 256
MAX_ID = 2**31 - 1  # an OCPP integer (32 bits)
PER_NOTIFY = 8  # messages in one NotifyDisplayMessages (each may carry 512 characters)
RECHECK_S = 600.0  # the wall clock may step: the next end is computed again this often
STORAGE_RETRY_S = 60.0  # the journal failed a removal: try again after this

PRIORITY: Mapping[MessagePriorityEnumType, Priority] = {
    MessagePriorityEnumType.ALWAYS_FRONT: Priority.FRONT,
    MessagePriorityEnumType.IN_FRONT: Priority.AHEAD,
    MessagePriorityEnumType.NORMAL_CYCLE: Priority.CYCLE,
}
STATE: Mapping[MessageStateEnumType, When] = {
    MessageStateEnumType.CHARGING: When.CHARGING,
    MessageStateEnumType.FAULTED: When.FAULTED,
    MessageStateEnumType.IDLE: When.IDLE,
    MessageStateEnumType.UNAVAILABLE: When.UNAVAILABLE,
}
FORM: Mapping[MessageFormatEnumType, TextForm] = {
    MessageFormatEnumType.ASCII: TextForm.ASCII,
    MessageFormatEnumType.UTF8: TextForm.UTF8,
    MessageFormatEnumType.HTML: TextForm.HTML,
    MessageFormatEnumType.URI: TextForm.URI,
}
PRIORITY_WORD = {model: word for word, model in PRIORITY.items()}
STATE_WORD = {model: word for word, model in STATE.items()}
FORM_WORD = {model: word for word, model in FORM.items()}

SUPPORTED_FORMATS = (MessageFormatEnumType.ASCII, MessageFormatEnumType.UTF8)
SUPPORTED_PRIORITIES = tuple(MessagePriorityEnumType)
SUPPORTED_STATES = tuple(MessageStateEnumType)


def keys(_site: Site) -> list[KeySpec]:
    """The 2.0.1-only keys of block O (not ``listed``: 1.6 has no display messages)."""
    return [
        KeySpec(
            ENABLED,
            KeyType.BOOL,
            True,
            listed=False,
            doc="2.0.1 DisplayMessageCtrlr.Enabled: SetDisplayMessage is taken",
        ),
        KeySpec(
            CAPACITY,
            KeyType.INT,
            DEFAULT_CAPACITY,
            readonly=True,
            minimum=1,
            maximum=MAX_CAPACITY,
            listed=False,
            doc="2.0.1 DisplayMessageCtrlr.DisplayMessages: how many messages are kept",
        ),
    ]


def capacity(keys_: Keys) -> int:
    """The room's size from the keys (the default when block O is not declared)."""
    return keys_.get_int(CAPACITY) if keys_.has(CAPACITY) else DEFAULT_CAPACITY


def _info(code: str, text: str = "") -> m.StatusInfoType:
    return m.StatusInfoType(reason_code=code, additional_info=text[:512] or None)


def running_ids(charger: Charger) -> set[str]:
    """The 2.0.1 ids of the transactions running now (a 1.6 one's integer never matches)."""
    return {
        str(c.tx.transaction_id)
        for c in charger.connectors.values()
        if c.tx is not None and c.tx.transaction_id is not None
    }


def notice_of(info: m.MessageInfoType) -> Notice:
    display = info.display
    place = None
    if display is not None:
        evse = display.evse
        place = Place(
            display.name,
            display.instance,
            evse.id if evse is not None else None,
            evse.connector_id if evse is not None else None,
        )
    return Notice(
        notice_id=info.id,
        priority=PRIORITY[info.priority],
        text=info.message.content,
        form=FORM[info.message.format],
        language=info.message.language,
        state=STATE[info.state] if info.state is not None else None,
        start=_aware(info.start_date_time),
        end=_aware(info.end_date_time),
        transaction_id=info.transaction_id,
        place=place,
    )


def _aware(when: datetime | None) -> datetime | None:
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=UTC)


def message_info(notice: Notice) -> m.MessageInfoType:
    """A kept notice as the central system set it."""
    place = notice.place
    display = None
    if place is not None:
        evse = (
            None
            if place.evse_id is None
            else m.EVSEType(id=place.evse_id, connector_id=place.connector_id)
        )
        display = m.ComponentType(name=place.name, instance=place.instance, evse=evse)
    return m.MessageInfoType(
        id=notice.notice_id,
        priority=PRIORITY_WORD[notice.priority],
        message=m.MessageContentType(
            format=FORM_WORD[notice.form], content=notice.text, language=notice.language
        ),
        display=display,
        state=STATE_WORD[notice.state] if notice.state is not None else None,
        start_date_time=notice.start,
        end_date_time=notice.end,
        transaction_id=notice.transaction_id,
    )


def matching(
    notices: Iterable[Notice],
    ids: Sequence[int] | None,
    priority: MessagePriorityEnumType | None,
    state: MessageStateEnumType | None,
) -> list[Notice]:
    """O03/O04: every notice, or those of the ids, priority and state asked for (all given
    filters must match; a notice without a state does not match a state asked for)."""
    wanted = None if ids is None else set(ids)
    return [
        n
        for n in notices
        if (wanted is None or n.notice_id in wanted)
        and (priority is None or n.priority is PRIORITY[priority])
        and (state is None or n.state is STATE[state])
    ]


def parts(infos: Sequence[m.MessageInfoType], max_bytes: int) -> list[list[m.MessageInfoType]]:
    """The report in NotifyDisplayMessages of at most PER_NOTIFY messages and about
    ``max_bytes`` each; at least one message each, so a report always ends."""
    budget = max(max_bytes - 200, 1)
    out: list[list[m.MessageInfoType]] = []
    part: list[m.MessageInfoType] = []
    size = 0
    for info in infos:
        length = len(json.dumps(codec.to_payload(info), separators=(",", ":"))) + 1
        if part and (len(part) >= PER_NOTIFY or size + length > budget):
            out.append(part)
            part, size = [], 0
        part.append(info)
        size += length
    if part:
        out.append(part)
    return out


class DisplayMessages:
    """Block O's handlers and its task, over the charger's notices."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.charger = services.charger
        self.notices: Notices = services.charger.notices

    def __repr__(self) -> str:
        return f"<DisplayMessages {self.notices!r}>"

    @property
    def has_display(self) -> bool:
        settings = self.services.settings
        return settings is not None and settings.display is not None

    def _refusal(self, info: m.MessageInfoType) -> m.SetDisplayMessageResponse | None:
        """Why a SetDisplayMessage cannot be taken, in the order of the schema's statuses;
        None: it can."""
        status = DisplayMessageStatusEnumType
        if not 0 <= info.id <= MAX_ID:  # the schema: a positive integer; the journal's range
            return m.SetDisplayMessageResponse(
                status=status.REJECTED, status_info=_info("InvalidValue", f"id outside 0-{MAX_ID}")
            )
        if not self.has_display:
            return m.SetDisplayMessageResponse(
                status=status.REJECTED, status_info=_info("NoDisplay", "no local display")
            )
        if not self.services.keys.get_bool(ENABLED):
            return m.SetDisplayMessageResponse(
                status=status.REJECTED, status_info=_info("Disabled", f"{ENABLED} is false")
            )
        if info.priority not in SUPPORTED_PRIORITIES:
            return m.SetDisplayMessageResponse(status=status.NOT_SUPPORTED_PRIORITY)
        if info.message.format not in SUPPORTED_FORMATS:
            return m.SetDisplayMessageResponse(
                status=status.NOT_SUPPORTED_MESSAGE_FORMAT,
                status_info=_info("UnsupportedFormat", "the display shows plain text only"),
            )
        if info.state is not None and info.state not in SUPPORTED_STATES:
            return m.SetDisplayMessageResponse(status=status.NOT_SUPPORTED_STATE)
        if info.transaction_id is not None and info.transaction_id not in running_ids(self.charger):
            return m.SetDisplayMessageResponse(status=status.UNKNOWN_TRANSACTION)  # O02.FR.03
        display = info.display
        if (
            display is not None
            and display.evse is not None
            and display.evse.id not in (0, *self.charger.connectors)
        ):
            return m.SetDisplayMessageResponse(
                status=status.REJECTED, status_info=_info("UnknownEvse")
            )
        start, end = _aware(info.start_date_time), _aware(info.end_date_time)
        now = self.services.clock.now()
        if end is not None and ((start is not None and end <= start) or (now and end <= now)):
            return m.SetDisplayMessageResponse(
                status=status.REJECTED,
                status_info=_info("InvalidValue", "endDateTime is not after now and the start"),
            )
        if self.notices.full_for(info.id):
            return m.SetDisplayMessageResponse(
                status=status.REJECTED,
                status_info=_info("NoCapacity", f"{self.notices.capacity} messages are kept"),
            )
        return None

    async def set_message(self, request: m.SetDisplayMessageRequest) -> Any:
        info = request.message
        refused = self._refusal(info)
        if refused is not None:
            log.info("SetDisplayMessage %d: %s", info.id, refused.status.value)
            return refused
        try:
            kept = await self.notices.put(notice_of(info))
        except StorageUnavailable as exc:
            log.error("SetDisplayMessage %d: not kept, journal unavailable: %s", info.id, exc)
            return m.SetDisplayMessageResponse(
                status=DisplayMessageStatusEnumType.REJECTED, status_info=_info("StorageFailure")
            )
        if not kept:  # the room filled between the check and now
            return m.SetDisplayMessageResponse(
                status=DisplayMessageStatusEnumType.REJECTED, status_info=_info("NoCapacity")
            )
        log.info("SetDisplayMessage %d (%s): Accepted", info.id, info.priority.value)
        return m.SetDisplayMessageResponse(status=DisplayMessageStatusEnumType.ACCEPTED)

    async def get_messages(self, request: m.GetDisplayMessagesRequest) -> Any:
        found = matching(self.notices.all(), request.id, request.priority, request.state)
        log.info("GetDisplayMessages (request %d): %d", request.request_id, len(found))
        if not found:  # O03.FR.03, O04.FR.05: nothing to report
            return m.GetDisplayMessagesResponse(status=GetDisplayMessagesStatusEnumType.UNKNOWN)
        settings = self.services.settings
        max_bytes = settings.ocpp.max_frame_bytes if settings is not None else 65536
        chunks = parts([message_info(n) for n in found], max_bytes)
        return Then(
            m.GetDisplayMessagesResponse(status=GetDisplayMessagesStatusEnumType.ACCEPTED),
            self._report(request.request_id, chunks),
        )

    def _report(
        self, request_id: int, chunks: list[list[m.MessageInfoType]]
    ) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            session = open_session(self.services.link)
            for index, chunk in enumerate(chunks):
                try:
                    await session.call(
                        m.NotifyDisplayMessagesRequest(
                            request_id=request_id,
                            message_info=tuple(chunk),
                            tbc=index < len(chunks) - 1,
                        )
                    )
                except CallFailure as exc:
                    log.warning("display message report %d ended: %s", request_id, exc)
                    return

        return send

    async def clear_message(self, request: m.ClearDisplayMessageRequest) -> Any:
        try:
            removed = await self.notices.remove(request.id)
        except StorageUnavailable as exc:
            raise OcppError(Violation.HANDLER_FAILED, f"journal unavailable: {exc}") from exc
        status = ClearMessageStatusEnumType.UNKNOWN
        if removed:
            status = ClearMessageStatusEnumType.ACCEPTED
        log.info("ClearDisplayMessage %d: %s", request.id, status.value)
        return m.ClearDisplayMessageResponse(status=status)

    async def keep_current(self) -> None:
        """Remove what ended: a message past its endDateTime, a message of a transaction
        that ended (the schema: both SHALL be removed). Wakes at the next end, at every
        change the screen would notice (an ended session among them) and at every change
        of the messages."""
        while True:
            try:
                await self.notices.prune(self.services.clock.now(), running_ids(self.charger))
            except StorageUnavailable as exc:
                log.error("display messages: cannot remove what ended: %s", exc)
                await trio.sleep(STORAGE_RETRY_S)
                continue
            now = self.services.clock.now()
            ends = [(n.end - now).total_seconds() for n in self.notices.all() if n.end and now]
            with trio.move_on_after(max(0.0, min([RECHECK_S, *ends]))):
                await _first_of(self.charger.wait_notice, self.notices.wait_changed)


async def _first_of(*waits: Callable[[], Awaitable[None]]) -> None:
    """Return when the first of ``waits`` returns."""
    async with trio.open_nursery() as nursery:

        async def one(wait: Callable[[], Awaitable[None]]) -> None:
            await wait()
            nursery.cancel_scope.cancel()

        for wait in waits:
            nursery.start_soon(one, wait)


def _block(services: Services) -> DisplayMessages:
    return services.part("v201.display", lambda: DisplayMessages(services))


def handlers(services: Services) -> Mapping[str, Handler]:
    block = _block(services)
    return {
        "SetDisplayMessage": TypedHandler(m.SetDisplayMessageRequest, block.set_message),
        "GetDisplayMessages": TypedHandler(m.GetDisplayMessagesRequest, block.get_messages),
        "ClearDisplayMessage": TypedHandler(m.ClearDisplayMessageRequest, block.clear_message),
    }


def tasks(services: Services) -> Iterable[Task]:
    return (_block(services).keep_current,)


profile = Profile("DisplayMessage", keys=keys, handlers=handlers, tasks=tasks, advertised=False)
"""O01-O06."""
