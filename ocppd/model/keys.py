"""OCPP configuration keys: declared by the features that own them, read and changed generically.

A feature declares each key it owns as a :class:`KeySpec` (type, default, limits,
read-only, reboot-required, write-only). :class:`Keys` holds the effective values:
the declared default, overridden by ``[ocpp.keys]`` in the config file, overridden
by what the central system set with ChangeConfiguration (persisted in the journal,
so it survives restarts). GetConfiguration and ChangeConfiguration work on any
declared key without knowing it; code that uses a key reads it typed
(``keys.get_int("HeartbeatInterval")``) and may wait for it to change.

Key names are CiString50Type in OCPP 1.6 (§6.9, §6.23, §7.17): case-insensitive.
``heartbeatinterval`` from the central system, the config file or the journal is
HeartbeatInterval; answers always give the declared spelling, and a list of unknown
keys repeats what was asked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import trio

log = logging.getLogger(__name__)

Value = bool | int | str | tuple[str, ...]


class KeyType(Enum):
    BOOL = "boolean"
    INT = "integer"
    CSL = "comma-separated list"
    STRING = "text"


class ChangeResult(Enum):
    """Values of ConfigurationStatus, as this layer decides them."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    REBOOT_REQUIRED = "RebootRequired"
    NOT_SUPPORTED = "NotSupported"


@dataclass(frozen=True)
class KeySpec:
    """One configuration key.

    ``choices`` limits the items of a CSL (or the value of a STRING); ``max_items``
    bounds a CSL. ``check`` is an extra rule returning a problem text or None.
    ``derived`` keys (NumberOfConnectors, SupportedFeatureProfiles) come from the
    charger itself and cannot be set in the config file either. A key that is not
    ``listed`` is out of GetConfiguration's and ChangeConfiguration's reach (an unknown
    key there): only another view of the configuration reaches it (the 2.0.1 device
    model's own variables); it persists, and the config file sets it, like any other.
    """

    name: str
    type: KeyType
    default: Value
    readonly: bool = False
    reboot_required: bool = False
    secret: bool = False
    derived: bool = False
    minimum: int | None = None
    maximum: int | None = None
    choices: frozenset[str] | None = None
    max_items: int | None = None
    max_length: int = 500
    check: Callable[[Value], str | None] | None = None
    doc: str = ""
    listed: bool = True

    def parse(self, text: str) -> Value:
        """The typed value of a ChangeConfiguration text; ValueError with the reason otherwise."""
        if len(text) > self.max_length:
            raise ValueError(f"longer than {self.max_length} characters")
        value: Value
        if self.type is KeyType.BOOL:
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError(f"{text!r} is not true or false")
            value = lowered == "true"
        elif self.type is KeyType.INT:
            if not re.fullmatch(r"\s*[+-]?\d{1,18}\s*", text):
                raise ValueError(f"{text!r} is not an integer")
            value = int(text)
        elif self.type is KeyType.CSL:
            items = tuple(item.strip() for item in text.split(",")) if text.strip() else ()
            if any(not item for item in items):
                raise ValueError(f"{text!r} has an empty item")
            value = items
        else:
            value = text
        self.validate(value)
        return value

    def validate(self, value: Value) -> None:
        """Raise ValueError when ``value`` is outside what this key allows."""
        if self.type is KeyType.INT:
            assert isinstance(value, int)
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"{value} is below {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"{value} is above {self.maximum}")
        elif self.type is KeyType.CSL:
            assert isinstance(value, tuple)
            if self.max_items is not None and len(value) > self.max_items:
                raise ValueError(f"more than {self.max_items} items")
            if self.choices is not None:
                bad = [item for item in value if item not in self.choices]
                if bad:
                    raise ValueError(f"not supported: {', '.join(bad)}")
        elif self.type is KeyType.STRING and self.choices is not None and value not in self.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(sorted(self.choices))}")
        if self.check is not None and (problem := self.check(value)) is not None:
            raise ValueError(problem)

    def from_config(self, raw: Any) -> Value:
        """A TOML value from ``[ocpp.keys]`` (typed booleans/integers, or text as on the wire)."""
        if isinstance(raw, str):
            return self.parse(raw)
        if self.type is KeyType.BOOL and isinstance(raw, bool):
            return raw
        if self.type is KeyType.INT and isinstance(raw, int) and not isinstance(raw, bool):
            self.validate(raw)
            return raw
        raise ValueError(f"got {raw!r} (expected {self.expected()})")

    def expected(self) -> str:
        if self.type is KeyType.INT:
            low = "" if self.minimum is None else f" >= {self.minimum}"
            high = "" if self.maximum is None else f" <= {self.maximum}"
            return f"an integer{low}{' and' if low and high else ''}{high}"
        if self.type is KeyType.CSL and self.choices:
            return "a comma-separated list of " + ", ".join(sorted(self.choices))
        return f"a {self.type.value}"

    def format(self, value: Value) -> str:
        """The wire text of a value (GetConfiguration, persistence)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return ",".join(value)
        return str(value)


Hook = Callable[[Value], Awaitable[None]]
Guard = Callable[[Value], "str | None"]
"""A rule on a new value that depends on state: None when allowed, else why not."""


class KeySpecs(Mapping[str, KeySpec]):
    """The declared keys by name, looked up case-insensitively (CiString); iterating gives
    the declared spellings."""

    def __init__(self, specs: Iterable[KeySpec]) -> None:
        self._specs: dict[str, KeySpec] = {}
        for spec in specs:
            folded = spec.name.casefold()
            if folded in self._specs:
                raise ValueError(f"configuration key {spec.name} declared twice")
            self._specs[folded] = spec

    def __getitem__(self, name: str) -> KeySpec:
        return self._specs[name.casefold()]

    def __iter__(self) -> Iterator[str]:
        return (spec.name for spec in self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"<KeySpecs {len(self)} keys>"


class Keys:
    """The effective configuration. Mutations go through :meth:`change`."""

    def __init__(
        self,
        specs: Iterable[KeySpec],
        config: Mapping[str, Any] | None = None,
        persisted: Mapping[str, str] | None = None,
    ) -> None:
        self.specs = KeySpecs(specs)
        self._values: dict[str, Value] = {name: s.default for name, s in self.specs.items()}
        self._pending_reboot: set[str] = set()
        self._changed = trio.Event()
        self._hooks: dict[str, list[Hook]] = {}
        self._guards: dict[str, list[Guard]] = {}
        for name, raw in (config or {}).items():
            spec = self.specs[name]  # the config loader already checked names and values
            self._values[spec.name] = spec.from_config(raw)
        for name, text in (persisted or {}).items():
            known = self.specs.get(name)
            if known is None:
                log.warning("ignoring persisted value of unknown configuration key %s", name)
                continue
            try:
                self._values[known.name] = known.parse(text)
            except ValueError as exc:
                log.warning("ignoring persisted %s: %s", name, exc)

    def __repr__(self) -> str:
        return f"<Keys {len(self.specs)} declared, pending reboot: {sorted(self._pending_reboot)}>"

    # --- typed reads ---

    def get(self, name: str) -> Value:
        return self._values[name]

    def get_bool(self, name: str) -> bool:
        value = self._values[name]
        assert isinstance(value, bool), name
        return value

    def get_int(self, name: str) -> int:
        value = self._values[name]
        assert isinstance(value, int) and not isinstance(value, bool), name
        return value

    def get_csl(self, name: str) -> tuple[str, ...]:
        value = self._values[name]
        assert isinstance(value, tuple), name
        return value

    def get_str(self, name: str) -> str:
        value = self._values[name]
        assert isinstance(value, str), name
        return value

    def has(self, name: str) -> bool:
        return name in self.specs

    # --- change ---

    def on_change(self, name: str, hook: Hook) -> None:
        """Run ``await hook(new_value)`` after the central system changed ``name``."""
        self._hooks.setdefault(self.specs[name].name, []).append(hook)

    def guard(self, name: str, rule: Guard) -> None:
        """Also refuse a ChangeConfiguration of ``name`` when ``rule(value)`` says why: a rule
        that depends on the charger's state now (SecurityProfile: upgrade only, and only
        with its prerequisites). :meth:`apply` does not ask it: the charger's own changes
        (a fall-back) go through."""
        self._guards.setdefault(self.specs[name].name, []).append(rule)

    def check_change(self, name: str, text: str) -> tuple[ChangeResult, Value | None, str]:
        """Decide a ChangeConfiguration without applying it: (result, parsed value, why).

        ``name`` in any case: the key is a CiString50Type."""
        spec = self.specs.get(name)
        if spec is None:
            return ChangeResult.NOT_SUPPORTED, None, "unknown key"
        if spec.readonly:
            return ChangeResult.REJECTED, None, "read-only"
        try:
            value = spec.parse(text)
        except ValueError as exc:
            return ChangeResult.REJECTED, None, str(exc)
        for rule in self._guards.get(spec.name, []):
            if (problem := rule(value)) is not None:
                return ChangeResult.REJECTED, None, problem
        return (
            ChangeResult.REBOOT_REQUIRED if spec.reboot_required else ChangeResult.ACCEPTED,
            value,
            "",
        )

    async def apply(self, name: str, value: Value) -> None:
        """Take a value already checked by :meth:`check_change` (and persisted by the caller)."""
        spec = self.specs[name]
        if spec.reboot_required:
            self._pending_reboot.add(spec.name)  # takes effect after the next start
            return
        self._values[spec.name] = value
        self._changed.set()
        self._changed = trio.Event()
        for hook in self._hooks.get(spec.name, []):
            await hook(value)

    async def wait_changed(self) -> None:
        """Wait for any change (callers re-read the keys they use)."""
        await self._changed.wait()

    def text(self, name: str) -> str:
        spec = self.specs[name]
        return spec.format(self._values[name])

    def listing(
        self, names: Iterable[str] | None
    ) -> tuple[list[tuple[KeySpec, str | None]], list[str]]:
        """GetConfiguration: (known keys with their value text, None for write-only; unknown).

        Known keys come once each, in their declared spelling; unknown names as asked. A key
        that is not ``listed`` is unknown here."""
        wanted = list(self.specs) if names is None else list(names)
        known: dict[str, tuple[KeySpec, str | None]] = {}
        unknown: list[str] = []
        for name in wanted:
            spec = self.specs.get(name)
            if spec is None or not spec.listed:
                if names is None:
                    continue
                unknown.append(name)
            elif spec.name not in known:
                known[spec.name] = (spec, None if spec.secret else self.text(spec.name))
        return list(known.values()), unknown
