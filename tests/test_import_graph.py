"""The walls of the house, checked on the import graph of ocppd/ and hal/ (read with ast).

Layers, lowest first; a module may import its own layer and the layers below it
(docs/architecture.md draws them):

    hal/                         devices; imports nothing of ocppd
    protocol/                    sans-IO framing and dialects; no trio, no I/O library
    clock, cadence, logs, config, sdnotify   the basics everything may use
    transport/, system/          the websocket link (knows no OCPP version); the OS (files, dpkg)
    session, connection          one conversation; the supervisor
    journal/                     durable, version-neutral records
    model/                       what the charger is, in its own words
    features/                    OCPP behaviour per dialect and profile
    view/                        what the local display says: a view of the model
    control/, testing/           ocppctl's socket; the test central system
    app, cli, ctl, demo          wiring and entry points

Every import counts, also one inside a function and ``importlib.import_module`` of a
literal name; one under ``if TYPE_CHECKING:`` counts for the layers but not for
circles (it never runs). ``from package import module`` depends on the module, not on
the package's ``__init__``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ocppd", "hal")

LAYERS: tuple[tuple[str, ...], ...] = (
    ("hal", "ocppd"),  # ocppd/__init__.py is the version string alone
    ("ocppd.protocol",),
    (
        "ocppd.clock",
        "ocppd.cadence",
        "ocppd.logs",
        "ocppd.config",
        "ocppd.sdnotify",
        "ocppd.security",
    ),
    ("ocppd.transport", "ocppd.system"),
    ("ocppd.session", "ocppd.connection"),
    ("ocppd.journal",),
    ("ocppd.model",),
    ("ocppd.features",),
    ("ocppd.view",),
    ("ocppd.control", "ocppd.testing"),
    ("ocppd.app", "ocppd.cli", "ocppd.ctl", "ocppd.demo", "ocppd.__main__"),
)

IO_LIBRARIES = ("trio", "trio_websocket", "wsproto", "websockets", "ocpp", "jsonschema")


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str  # a module of ocppd/hal, or the top-level name of anything else
    line: int
    typing_only: bool  # under ``if TYPE_CHECKING:``

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str) -> str:
    """The module of ocppd/hal that ``name`` lives in, or the top-level name of a library."""
    known = modules()
    if name.split(".", maxsplit=1)[0] not in PACKAGES:
        return name.split(".", maxsplit=1)[0]
    while name not in known and "." in name:
        name = name.rpartition(".")[0]
    return name


def _imports(name: str, path: Path) -> Iterator[Edge]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    known = modules()

    def walk(node: ast.AST, typing_only: bool) -> Iterator[Edge]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from walk(child, True)
            for child in node.orelse:
                yield from walk(child, typing_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Edge(name, _resolve(alias.name), node.lineno, typing_only)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                target = submodule if submodule in known else _resolve(origin)
                yield Edge(name, target, node.lineno, typing_only)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield Edge(name, _resolve(node.args[0].value), node.lineno, typing_only)
        for child in ast.iter_child_nodes(node):
            yield from walk(child, typing_only)

    for edge in walk(tree, False):
        if edge.target != name:
            yield edge


@cache
def edges() -> tuple[Edge, ...]:
    return tuple(edge for name, path in modules().items() for edge in _imports(name, path))


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _layer(module: str) -> int:
    best, depth = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if _in(module, prefix) and prefix.count(".") > depth:
                best, depth = index, prefix.count(".")
    assert best >= 0, f"{module} is in no layer: add it to LAYERS"
    return best


def _ours(edge: Edge) -> bool:
    return edge.target.split(".")[0] in PACKAGES


def _forbidden(source: str, targets: tuple[str, ...]) -> list[str]:
    return [
        str(e) for e in edges() if _in(e.source, source) and any(_in(e.target, t) for t in targets)
    ]


# --- the rules ---------------------------------------------------------------------------------


def test_the_graph_is_read_at_all() -> None:
    """A guard for the guard: the reader sees the imports it should."""
    found = {(e.source, e.target) for e in edges()}
    assert ("ocppd.protocol.rpc", "ocppd.protocol.frames") in found
    assert ("ocppd.connection", "trio") in found
    assert all(_layer(name) >= 0 for name in modules())


def test_there_are_no_import_circles() -> None:
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    for edge in edges():
        if _ours(edge) and not edge.typing_only:
            graph[edge.source].add(edge.target)
    circles = [sorted(c) for c in _strongly_connected(graph) if len(c) > 1]
    assert circles == []


def test_dependencies_point_down_only() -> None:
    upward = [
        f"{e} (layer {_layer(e.source)} -> {_layer(e.target)})"
        for e in edges()
        if _ours(e) and _layer(e.target) > _layer(e.source)
    ]
    assert upward == []


def test_hal_imports_nothing_of_ocppd() -> None:
    assert _forbidden("hal", ("ocppd",)) == []


def test_protocol_imports_no_io_library_and_nothing_outside_itself() -> None:
    assert _forbidden("ocppd.protocol", IO_LIBRARIES) == []
    outside = [
        str(e)
        for e in edges()
        if _in(e.source, "ocppd.protocol") and _ours(e) and not _in(e.target, "ocppd.protocol")
    ]
    assert outside == []


def test_transport_knows_no_ocpp_version() -> None:
    assert _forbidden("ocppd.transport", ("ocppd.protocol",)) == []


def test_the_model_imports_no_protocol_feature_session_or_transport() -> None:
    assert (
        _forbidden(
            "ocppd.model",
            (
                "ocppd.protocol",
                "ocppd.features",
                "ocppd.session",
                "ocppd.connection",
                "ocppd.transport",
            ),
        )
        == []
    )


def test_the_view_sees_the_model_only() -> None:
    """The screen is a view of the model: no OCPP wire words, no link, no journal."""
    assert (
        _forbidden(
            "ocppd.view",
            (
                "ocppd.protocol",
                "ocppd.features",
                "ocppd.session",
                "ocppd.connection",
                "ocppd.transport",
                "ocppd.journal",
            ),
        )
        == []
    )


def test_the_journal_imports_no_model_feature_or_protocol() -> None:
    """Version-neutral storage: it keeps what it is given and names no OCPP message."""
    assert (
        _forbidden(
            "ocppd.journal",
            (
                "ocppd.model",
                "ocppd.features",
                "ocppd.protocol",
                "ocppd.session",
                "ocppd.connection",
                "ocppd.transport",
            ),
        )
        == []
    )


def test_features_see_the_link_through_a_view_not_the_connection() -> None:
    assert _forbidden("ocppd.features", ("ocppd.connection",)) == []


def test_docs_architecture_draws_these_layers() -> None:
    """The diagram in docs/architecture.md is LAYERS, top first (a row names its modules
    before two spaces; a package ends with "/")."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("\n## Layers\n", 1)[1].split("```", 2)[1]
    rows = [line.split("  ", 1)[0].strip() for line in block.strip().splitlines()]
    drawn = [tuple(name.strip().rstrip("/") for name in row.split(",")) for row in rows]
    expected = [
        tuple(p.removeprefix("ocppd.") for p in layer if p != "ocppd") for layer in LAYERS[::-1]
    ]
    assert drawn == expected


# The configuration keys of OCPP 1.6 edition 2 §9 and of the security white paper: the model reads
# policies, not these names (features/core/keys.py turns the keys into policies).
KEYS_16 = frozenset(
    [
        "AllowOfflineTxForUnknownId",
        "AuthorizationCacheEnabled",
        "AuthorizeRemoteTxRequests",
        "BlinkRepeat",
        "ClockAlignedDataInterval",
        "ConnectionTimeOut",
        "ConnectorPhaseRotation",
        "ConnectorPhaseRotationMaxLength",
        "GetConfigurationMaxKeys",
        "HeartbeatInterval",
        "LightIntensity",
        "LocalAuthorizeOffline",
        "LocalPreAuthorize",
        "MaxEnergyOnInvalidId",
        "MeterValuesAlignedData",
        "MeterValuesAlignedDataMaxLength",
        "MeterValuesSampledData",
        "MeterValuesSampledDataMaxLength",
        "MeterValueSampleInterval",
        "MinimumStatusDuration",
        "NumberOfConnectors",
        "ResetRetries",
        "StopTransactionOnEVSideDisconnect",
        "StopTransactionOnInvalidId",
        "StopTxnAlignedData",
        "StopTxnAlignedDataMaxLength",
        "StopTxnSampledData",
        "SupportedFileTransferProtocols",
        "StopTxnSampledDataMaxLength",
        "SupportedFeatureProfiles",
        "SupportedFeatureProfilesMaxLength",
        "TransactionMessageAttempts",
        "TransactionMessageRetryInterval",
        "UnlockConnectorOnEVSideDisconnect",
        "WebSocketPingInterval",
        "LocalAuthListEnabled",
        "LocalAuthListMaxLength",
        "SendLocalListMaxLength",
        "ReserveConnectorZeroSupported",
        "ChargeProfileMaxStackLevel",
        "ChargingScheduleAllowedChargingRateUnit",
        "ChargingScheduleMaxPeriods",
        "ConnectorSwitch3to1PhaseSupported",
        "MaxChargingProfilesInstalled",
        "AuthorizationKey",
        "AdditionalRootCertificateCheck",
        "CertificateSignedMaxChainSize",
        "CertificateStoreMaxLength",
        "CpoName",
        "SecurityProfile",
    ]
)


def test_the_model_names_no_16_configuration_key() -> None:
    named = []
    for name, path in modules().items():
        if _in(name, "ocppd.model"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value in KEYS_16:
                    named.append(f"{name}:{node.lineno} {node.value}")
    assert named == []


def test_the_16_key_list_is_spelled_as_the_charge_point_declares_them() -> None:
    declared = {
        name
        for path in (ROOT / "ocppd/features").rglob("*.py")
        for name in re.findall(r'KeySpec\(\s*"(\w+)"', path.read_text(encoding="utf-8"))
    }
    assert declared and declared <= KEYS_16


# --- Tarjan's strongly connected components ----------------------------------------------------


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
