"""ocppctl: look at and poke a running ocppd through its control socket.

Exit codes: 0 success, 1 the daemon refused (message on stderr), 2 usage error,
3 the daemon cannot be reached. Plain blocking sockets: a one-shot tool needs no
event loop, and starts fast.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import sys
from typing import Any

from ocppd import __version__

DEFAULT_SOCKET = "/run/ocppd/control.sock"
TIMEOUT_S = 15.0

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class Unreachable(Exception):
    pass


class Refused(Exception):
    pass


def request(path: str, message: dict[str, Any], timeout: float = TIMEOUT_S) -> Any:
    """Send one request, return its result; raise Unreachable or Refused."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(json.dumps(message).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except FileNotFoundError:
        raise Unreachable(f"{path}: no such socket (is ocppd running?)") from None
    except PermissionError:
        raise Unreachable(
            f"{path}: permission denied (run as root or a member of group ocppd)"
        ) from None
    except OSError as exc:
        raise Unreachable(f"{path}: {exc.strerror or exc}") from None
    try:
        reply = json.loads(data)
    except ValueError:
        raise Unreachable(f"{path}: the daemon closed the connection without an answer") from None
    if not reply.get("ok"):
        raise Refused(reply.get("error", "refused"))
    return reply.get("result")


# --- the human status table ------------------------------------------------------------------


def _kw(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f} kW" if abs(value) >= 1000 else f"{value:.0f} W"


def _kwh(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:.3f} kWh"


def format_status(status: dict[str, Any]) -> str:
    conn = status["connection"]
    lines = [f"ocppd {status.get('version', '?')}  {status.get('charge_point_id', '')}".rstrip()]
    since = f" since {conn['since']}" if conn.get("since") else ""
    registration = conn.get("registration") or "-"
    profile = conn.get("security_profile")
    shown = f", security profile {profile}" if profile is not None else ""
    if conn.get("slot"):  # a 2.0.1 network profile slot other than the config file's
        shown += f", network profile slot {conn['slot']}"
    spoken = f" in {conn['protocol']}" if conn.get("protocol") else ""
    lines.append(f"  connection    {conn['state']}{spoken}{since}  ({conn.get('url', '')}{shown})")
    if conn.get("last_error"):
        lines.append(f"  last error    {conn['last_error']}")
    lines.append(f"  registration  {registration}")
    queue = status.get("queue", {})
    extra = []
    if queue.get("dead"):
        extra.append(f"{queue['dead']} given up")
    if queue.get("dropped"):
        extra.append(f"{queue['dropped']} meter values thinned")
    for version, count in (queue.get("waiting_for") or {}).items():
        extra.append(f"{count} wait for a connection in {version}")
    lines.append(
        f"  queue         {queue.get('pending', 0)} pending"
        + ("; " + ", ".join(extra) if extra else "")
    )
    journal = status.get("journal")
    if journal and journal.get("problem"):
        lines.append(f"  journal       {journal['problem']}")
    if journal and journal.get("quarantined"):
        lines.append(
            f"  quarantine    {journal['quarantined']} damaged record(s) kept aside "
            "(docs/journal.md: what to do)"
        )
    point = status.get("charge_point")
    if point and point.get("error_code", "NoError") != "NoError":
        info = f" ({point['info']})" if point.get("info") else ""
        lines.append(f"  charge point  {point['status']}, {point['error_code']}{info}")
    local_list = status.get("local_list")
    if local_list:
        state = "" if local_list.get("enabled") else " (not in use: LocalAuthListEnabled is false)"
        lines.append(
            f"  local list    version {local_list.get('version', 0)}, "
            f"{local_list.get('entries', 0)} tag(s){state}"
        )
    certs = status.get("certificates")
    if certs and certs.get("problem"):
        lines.append(f"  certificates  {certs['problem']}")
    elif certs and (certs.get("own") or any(certs.get("roots", {}).values())):
        roots = certs.get("roots", {})
        own = certs.get("own")
        mine = f"{own['subject']} until {own['not_after'][:10]}" if own else "none of its own"
        lines.append(
            f"  certificates  {mine}; roots: {roots.get('csms', 0)} central system, "
            f"{roots.get('manufacturer', 0)} manufacturer"
        )
    tag = status.get("last_tag")
    if tag:
        verdict = "accepted" if tag.get("accepted") else "refused"
        at = f" at {tag['at']}" if tag.get("at") else ""
        lines.append(f"  last tag      {verdict} ({tag.get('source')}{at}): {tag.get('outcome')}")
    zeros = point.get("reservations", [point.get("reservation")]) if point else []
    reserved = [(0, z) for z in zeros]
    reserved += [(c["id"], c.get("reservation")) for c in status.get("connectors", [])]
    for cid, reservation in reserved:
        if reservation:
            where = "any connector" if cid == 0 else f"connector {cid}"
            lines.append(
                f"  reservation   {reservation['id']} on {where} until {reservation['expiry']}"
            )
    for c in status.get("connectors", []):
        refusal = c.get("last_refusal")
        if refusal:
            at = f" at {refusal['at']}" if refusal.get("at") else ""
            what, why = refusal.get("what"), refusal.get("why")
            lines.append(f"  connector {c['id']}   {what} not started{at}: {why}")
        by = _limited_by(c.get("current_limit_source"))
        if by is not None:
            lines.append(
                f"  connector {c['id']}   current limited to {c['current_limit_a']:g} A {by}"
            )
    header = (
        "connector",
        "status",
        "error",
        "plugged",
        "contactor",
        "limit",
        "power",
        "energy",
        "transaction",
    )
    rows = [header]
    for c in status.get("connectors", []):
        tx = c.get("transaction")
        tx_text = "-"
        if tx:
            tx_id = tx.get("id")
            tx_text = f"{tx_id if tx_id is not None else 'pending'} {tx.get('id_tag', '')}".strip()
            if tx.get("started"):
                tx_text += f" since {tx['started']}"
        limit = c.get("current_limit_a")
        rows.append(
            (
                str(c["id"]),
                c["status"],
                c["error_code"],
                "yes" if c.get("plugged") else "no",
                "closed" if c.get("contactor_closed") else "open",
                "-" if limit is None else f"{limit:g} A",
                _kw(c.get("power_w")),
                _kwh(c.get("energy_wh")),
                tx_text,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines.append("")
    for r in rows:
        lines.append(
            "  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        )
    return "\n".join(lines)


LIMIT_SOURCES = {"temperature": "by temperature derating", "cable": "by the cable's rating"}


def _limited_by(source: dict[str, Any] | None) -> str | None:
    """Who limits the current below the configured maximum, in words (None: nobody)."""
    if not source or source.get("source") == "local_max":
        return None
    if source.get("source") == "profile":
        return (
            f"by charging profile {source.get('profile_id')} "
            f"({source.get('purpose')}, stack level {source.get('stack_level')})"
        )
    return LIMIT_SOURCES.get(source["source"], f"by {source['source']}")


def format_tag(found: dict[str, Any]) -> str:
    """One line: where the tag is known and its status (``ocppctl tag``)."""
    source = found.get("source")
    if source == "unknown":
        return "unknown: neither in the local list nor in the authorization cache"
    where = {"local-list": "local list", "cache": "authorization cache"}.get(str(source), source)
    until = f" until {found['expiry']}" if found.get("expiry") else ""
    return f"{where}: {found.get('status')}{until}"


# --- command line ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ocppctl", description="Control a running ocppd.")
    p.add_argument(
        "-s",
        "--socket",
        default=os.environ.get("OCPPCTL_SOCKET", DEFAULT_SOCKET),
        help=f"control socket (default {DEFAULT_SOCKET})",
    )
    p.add_argument("--version", action="version", version=f"ocppctl {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    status = sub.add_parser("status", help="connection, connectors, transactions, queue")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    swipe = sub.add_parser("swipe", help="present an idTag as if the RFID reader read it")
    swipe.add_argument("tag")
    tag = sub.add_parser("tag", help="where a tag is known here: local list, cache or unknown")
    tag.add_argument("tag")
    sim = sub.add_parser("sim", help="drive a simulated connector")
    simsub = sim.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("plug", "plug the simulated EV in"),
        ("unplug", "unplug it"),
        ("suspend", "the EV pauses drawing power"),
        ("resume", "the EV draws power again"),
    ):
        a = simsub.add_parser(action, help=text)
        a.add_argument("connector", type=int)
    power = simsub.add_parser("power", help="power the EV draws while the contactor is closed")
    power.add_argument("connector", type=int)
    power.add_argument("watts", type=float)
    fault = simsub.add_parser("fault", help="raise a ChargePointErrorCode (NoError clears)")
    fault.add_argument("connector", type=int)
    fault.add_argument("error_code")
    sub.add_parser("firmware", help="the firmware update: what, where, next attempt, last error")
    diag = sub.add_parser("diagnostics", help="make the GetDiagnostics bundle here")
    diag.add_argument("--since", help="start of the log window (ISO 8601)")
    diag.add_argument("--until", help="end of the log window (ISO 8601)")
    diag.add_argument("-o", "--output", help="file to write (default: its name, here)")
    diag.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    sub.choices["firmware"].add_argument("--json", action="store_true", help="machine-readable")
    press = simsub.add_parser("press", help="press a simulated button: stop or info")
    press.add_argument("button", choices=("stop", "info"))
    seclog = sub.add_parser("security-log", help="the security log: clear it")
    seclog.add_argument("log_action", choices=("clear",), metavar="clear")
    messages = sub.add_parser("messages", help="the display messages the central system set")
    messages.add_argument("--json", action="store_true", help="machine-readable")
    messages.add_argument("--clear", type=int, metavar="ID", help="remove this message here")
    screen = sub.add_parser("screen", help="what the display shows, as text (or a PNG)")
    screen.add_argument("--connector", type=int, help="the screen of this connector")
    screen.add_argument("--png", metavar="FILE", help="write the display's image to FILE")
    return p


def format_firmware(state: dict[str, Any]) -> str:
    rows = [
        ("status", state.get("status")),
        ("phase", state.get("phase")),
        ("location", state.get("location")),
        ("package", " ".join(str(v) for v in (state.get("package"), state.get("version")) if v)),
        ("signed", f"yes, requestId {state.get('request_id')}" if state.get("signed") else None),
        (
            "asked in",
            f"{state['ocpp']}, requestId {state.get('request_id')}"
            if state.get("ocpp") and state.get("request_id") is not None
            else state.get("ocpp"),
        ),
        ("retrieve date", state.get("retrieve_date")),
        ("install date", state.get("install_date")),
        ("next attempt", state.get("next_attempt")),
        ("attempts", f"{state.get('attempts', 0)} of {1 + (state.get('retries') or 0)}"),
        ("last error", state.get("last_error")),
        (
            "new sessions",
            f"refused: {state['sessions_held']}" if state.get("sessions_held") else "allowed",
        ),
        ("diagnostics", state.get("diagnostics")),
    ]
    return "\n".join(
        f"{name:<14} {value if value not in (None, '') else '-'}" for name, value in rows
    )


def format_messages(result: dict[str, Any]) -> str:
    """One block per display message: id, priority, when it applies, its text."""
    found = result.get("messages") or []
    out = [f"{len(found)} display message(s) of at most {result.get('capacity')}"]
    for msg in found:
        when = [
            f"state {msg['state']}" if msg.get("state") else "",
            f"from {msg['start']}" if msg.get("start") else "",
            f"until {msg['end']}" if msg.get("end") else "",
            f"transaction {msg['transaction_id']}" if msg.get("transaction_id") else "",
            f"EVSE {msg['evse']}" if msg.get("evse") else "",
            "" if msg.get("in_window") else "(not in its time window now)",
        ]
        head = f"#{msg['id']} {msg['priority']} {msg['format']}"
        out.append(" ".join(part for part in (head, *when) if part))
        out.append(f"    {msg['text']}")
    return "\n".join(out)


def _write_bundle(result: dict[str, Any], output: str | None) -> str:
    path = output or os.path.basename(str(result["name"]))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(base64.b64decode(result["data"]))
    return path


def _screen(result: dict[str, Any], png: str | None) -> int:
    if png:
        try:
            with open(png, "wb") as out:
                out.write(base64.b64decode(result["png"]))
        except OSError as exc:
            print(f"ocppctl: {png}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_REFUSED
    level = result.get("level")
    print(result["text"] + (f"\n(display {level})" if level and level != "on" else ""))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    message: dict[str, Any]
    if args.command in ("status", "firmware"):
        message = {"cmd": args.command}
    elif args.command == "messages":
        message = {"cmd": "messages", "clear": args.clear}
    elif args.command == "diagnostics":
        message = {"cmd": "diagnostics", "since": args.since, "until": args.until}
    elif args.command == "swipe":
        message = {"cmd": "swipe", "id_tag": args.tag}
    elif args.command == "tag":
        message = {"cmd": "tag", "id_tag": args.tag}
    elif args.command == "security-log":
        message = {"cmd": "security-log", "action": args.log_action}
    elif args.command == "screen":
        message = {"cmd": "screen", "png": bool(args.png)}
        if args.connector is not None:
            message["connector"] = args.connector
    elif args.action == "press":
        message = {"cmd": "sim", "action": "press", "button": args.button}
    else:
        message = {"cmd": "sim", "action": args.action, "connector": args.connector}
        if args.action == "power":
            message["watts"] = args.watts
        elif args.action == "fault":
            message["error_code"] = args.error_code
    try:
        result = request(args.socket, message)
    except Unreachable as exc:
        print(f"ocppctl: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except Refused as exc:
        print(f"ocppctl: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if args.command == "status":
        print(json.dumps(result, indent=2) if args.json else format_status(result))
    elif args.command == "firmware":
        print(json.dumps(result, indent=2) if args.json else format_firmware(result))
    elif args.command == "messages":
        print(json.dumps(result, indent=2) if args.json else format_messages(result))
    elif args.command == "diagnostics":
        try:
            print(_write_bundle(result, args.output))
        except OSError as exc:
            print(f"ocppctl: cannot write the bundle: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_REFUSED
    elif args.command == "tag":
        print(format_tag(result))
    elif args.command == "screen":
        return _screen(result, args.png)
    elif isinstance(result, str) and result:
        print(result)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
