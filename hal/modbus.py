"""One Modbus line (an RS-485 port or a TCP endpoint) shared by every device on it, and the small
adapter that hides the pymodbus API changes between Debian bookworm's 3.0 and current 3.1x.

Devices get their :class:`ModbusBus` through ``context.shared`` (key: the port, or host and
TCP port), so a meter and an EVSE board on one RS-485 port use one client and one
``CapacityLimiter(1)``: one transaction at a time, never interleaved. Calls run in trio
worker threads; after any transport failure the client is closed and reopened on the
next call (a late answer on RS-485 must not be taken for the next request's).

pymodbus traps handled here (verified on 3.0.0 and 3.16.1): the unit keyword is
``slave=`` (3.0-3.9) or ``device_id=`` (3.10+), and 3.0 swallows the wrong one silently;
3.0 truncates float timeouts with ``int()`` (so timeouts are whole seconds >= 1); 3.16
retries 3 times by default (we ask for none: the driver's back-off is the retry).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import trio
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ModbusException

from hal.base import DeviceError, DeviceUnavailable
from hal.context import DeviceContext

log = logging.getLogger(__name__)

T = TypeVar("T")
Table = Literal["holding", "input"]


class ModbusRefused(DeviceError):
    """The device answered with a Modbus exception (e.g. 2, illegal data address)."""

    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class LineSettings:
    """How to reach a Modbus line: ``rtu`` (serial port) or ``tcp`` (host, tcp_port)."""

    transport: Literal["rtu", "tcp"]
    port: str = ""
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8
    host: str = ""
    tcp_port: int = 502
    timeout_s: int = 1

    @property
    def key(self) -> tuple[str, ...]:
        """The shared-resource key: one bus per serial port / TCP endpoint."""
        if self.transport == "rtu":
            return ("modbus-rtu", self.port)
        return ("modbus-tcp", self.host, str(self.tcp_port))

    def framing(self) -> tuple[Any, ...]:
        """What must agree between devices sharing the line."""
        if self.transport == "rtu":
            return (self.baudrate, self.bytesize, self.parity, self.stopbits)
        return ()

    def describe(self) -> str:
        if self.transport == "rtu":
            return f"{self.port} {self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"
        return f"{self.host}:{self.tcp_port}"


def line_settings(options: Any, transport: Literal["rtu", "tcp"]) -> LineSettings:
    """Settings from a device table's options (keys as INTERFACE.md names them)."""
    if transport == "rtu":
        return LineSettings(
            "rtu",
            port=options["port"],
            baudrate=options["baudrate"],
            parity=options["parity"],
            stopbits=options["stopbits"],
            bytesize=options["bytesize"],
            timeout_s=options["timeout_s"],
        )
    return LineSettings(
        "tcp", host=options["host"], tcp_port=options["tcp_port"], timeout_s=options["timeout_s"]
    )


def open_bus(context: DeviceContext, settings: LineSettings) -> ModbusBus:
    """The charger's one bus for ``settings``' port; DeviceError when another device already
    configured that port with different framing (baud rate, parity, ...)."""
    bus = context.shared.get(settings.key, lambda: ModbusBus(settings))
    if bus.settings.framing() != settings.framing():
        raise DeviceError(
            f"{context.name}: {settings.port} is already used as {bus.settings.describe()}; "
            "every device on one RS-485 line needs the same baudrate, parity and stopbits"
        )
    return bus


_UNIT_KEYWORDS: dict[str, str] = {}


def unit_keyword(method: Callable[..., Any]) -> str:
    """``device_id`` (pymodbus >= 3.10), ``slave`` (3.0-3.9) or ``unit`` (2.x), by signature."""
    name = getattr(method, "__name__", repr(method))
    if name not in _UNIT_KEYWORDS:
        params = inspect.signature(method).parameters
        for keyword in ("device_id", "slave", "unit"):
            if keyword in params:
                _UNIT_KEYWORDS[name] = keyword
                break
        else:
            raise RuntimeError(f"unsupported pymodbus API: {name}{inspect.signature(method)}")
    return _UNIT_KEYWORDS[name]


class ModbusBus:
    """A pymodbus client used from trio, one transaction at a time."""

    def __init__(self, settings: LineSettings) -> None:
        self.settings = settings
        self._client: Any = None
        self._limiter = trio.CapacityLimiter(1)
        self.transactions = 0
        self.failures = 0

    # --- blocking side (worker thread, serialised by the limiter) ---

    def _make_client(self) -> Any:
        s = self.settings
        if s.transport == "tcp":
            return ModbusTcpClient(s.host, port=s.tcp_port, timeout=s.timeout_s, retries=0)
        return ModbusSerialClient(
            s.port,
            baudrate=s.baudrate,
            bytesize=s.bytesize,
            parity=s.parity,
            stopbits=s.stopbits,
            timeout=s.timeout_s,
            retries=0,
        )

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # the port may already be gone; nothing more to release
                log.debug("closing modbus client failed", exc_info=True)

    def _transact(self, call: Callable[[Any], Any], what: str) -> Any:
        self.transactions += 1
        try:
            if self._client is None:
                self._client = self._make_client()
            if not self._client.connect():
                raise DeviceUnavailable(f"{self.settings.describe()}: cannot connect")
            response = call(self._client)
        except DeviceUnavailable:
            self.failures += 1
            self._drop()
            raise
        except (ModbusException, OSError, ValueError) as exc:
            self.failures += 1
            self._drop()
            raise DeviceUnavailable(f"{self.settings.describe()}: {what}: {exc}") from exc
        except Exception as exc:  # a pymodbus bug on a garbled frame must not end a driver
            self.failures += 1
            self._drop()
            log.exception("%s: %s: unexpected error in pymodbus", self.settings.describe(), what)
            raise DeviceUnavailable(f"{self.settings.describe()}: {what}: {exc!r}") from exc
        if response is None or not hasattr(response, "isError"):
            self.failures += 1
            self._drop()
            raise DeviceUnavailable(f"{self.settings.describe()}: {what}: no answer")
        if response.isError():
            code = getattr(response, "exception_code", None)
            if code is not None:  # the device answered: it is there, it refused
                raise ModbusRefused(f"{self.settings.describe()}: {what}: exception {code}", code)
            self.failures += 1
            self._drop()  # no or a broken answer (pymodbus 3.0 returns it instead of raising)
            raise DeviceUnavailable(f"{self.settings.describe()}: {what}: {response}")
        return response

    def _read_sync(self, unit: int, table: Table, address: int, count: int) -> list[int]:
        def call(client: Any) -> Any:
            fn = (
                client.read_holding_registers if table == "holding" else client.read_input_registers
            )
            return fn(address, count=count, **{unit_keyword(fn): unit})

        response = self._transact(call, f"unit {unit} read {table} {address}+{count}")
        registers = list(response.registers)[:count]
        if len(registers) != count:
            raise DeviceUnavailable(f"unit {unit}: {len(registers)} registers for {count}")
        return registers

    def _write_sync(self, unit: int, address: int, values: Sequence[int]) -> None:
        def call(client: Any) -> Any:
            fn = client.write_registers
            return fn(address, list(values), **{unit_keyword(fn): unit})

        self._transact(call, f"unit {unit} write {address}={list(values)}")

    # --- trio side ---

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await trio.to_thread.run_sync(fn, *args, limiter=self._limiter)

    async def read(self, unit: int, table: Table, address: int, count: int) -> list[int]:
        """Registers ``address`` .. ``address + count - 1`` (FC 3 holding / FC 4 input).
        Raises DeviceUnavailable (no answer) or ModbusRefused (exception response)."""
        return await self._in_thread(self._read_sync, unit, table, address, count)

    def _read_many_sync(
        self, unit: int, table: Table, ranges: Sequence[tuple[int, int]]
    ) -> list[list[int] | ModbusRefused]:
        out: list[list[int] | ModbusRefused] = []
        for address, count in ranges:
            try:
                out.append(self._read_sync(unit, table, address, count))
            except ModbusRefused as exc:
                out.append(exc)
        return out

    async def read_many(
        self, unit: int, table: Table, ranges: Sequence[tuple[int, int]]
    ) -> list[list[int] | ModbusRefused]:
        """Several reads in one worker-thread call (one wake-up, one consistent snapshot);
        a refused range gives its ModbusRefused in place. Raises DeviceUnavailable."""
        return await self._in_thread(self._read_many_sync, unit, table, tuple(ranges))

    async def write(self, unit: int, address: int, values: Sequence[int]) -> None:
        """Write holding registers with FC 16 (write multiple registers)."""
        await self._in_thread(self._write_sync, unit, address, tuple(values))

    async def aclose(self) -> None:
        with trio.CancelScope(shield=True):
            await self._in_thread(self._drop)

    def __repr__(self) -> str:
        state = "open" if self._client is not None else "closed"
        return (
            f"<ModbusBus {self.settings.describe()} {state} "
            f"transactions={self.transactions} failures={self.failures}>"
        )
