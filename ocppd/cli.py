"""``ocppd``: run the daemon, check a config, or show the whole product in a demo.

Exit statuses: 0 orderly stop; 78 (EX_CONFIG) bad configuration; 73 (EX_CANTCREAT)
the journal cannot be opened, or something other than a stale socket is at the control
socket path; 75 (EX_TEMPFAIL) another daemon holds the control socket; 1 an unexpected
error (the traceback is in the log). ``ocppd journal`` has its own (ocppd/journal/check.py).
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import subprocess
import sys
from pathlib import Path

import trio

from ocppd import __version__, config, logs

log = logging.getLogger("ocppd")

EX_CONFIG = 78
EX_CANTCREAT = 73
EX_TEMPFAIL = 75


def _load(path: Path) -> config.Settings:
    from ocppd.app import key_checker

    settings = config.load(path, key_checker())
    for warning in config.permission_warnings(settings):
        print(f"warning: {warning}", file=sys.stderr)
    return settings


def check_config(path: Path) -> int:
    try:
        settings = _load(path)
    except config.ConfigError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return EX_CONFIG
    print(settings.summary())
    return 0


def run(path: Path) -> int:
    try:
        settings = _load(path)
    except config.ConfigError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return EX_CONFIG
    logs.setup(settings.log.level)
    faulthandler.enable()  # a watchdog SIGABRT leaves a Python stack in the journal
    from ocppd.app import Daemon, Outcome, StartupError
    from ocppd.control.server import SocketInUse, SocketPathTaken

    daemon = Daemon(settings)
    try:
        outcome = trio.run(daemon.run, strict_exception_groups=True)
    except BaseException as raised:
        error = _single(raised)
        if isinstance(error, StartupError):
            log.error("%s", error)
            return error.status
        if isinstance(error, SocketInUse):
            log.error("%s", error)
            return EX_TEMPFAIL
        if isinstance(error, SocketPathTaken):
            log.error("%s", error)
            return EX_CANTCREAT
        raise
    settings = daemon.settings
    if outcome is Outcome.SOFT_RESET:
        log.warning("soft reset: restarting in place")
        logging.shutdown()
        os.execv(sys.executable, [sys.executable, "-m", "ocppd", *sys.argv[1:]])
    if outcome is Outcome.HARD_RESET:
        command = list(settings.system.hard_reset_command)
        log.warning("hard reset: running %s", " ".join(command))
        try:
            result = subprocess.run(command, check=False, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.error("hard reset command failed: %s; exiting so systemd restarts ocppd", exc)
            return 1
        if result.returncode != 0:
            log.error(
                "hard reset command exited %d; exiting so systemd restarts ocppd", result.returncode
            )
            return 1
    log.info("stopped")
    return 0


def journal(args: argparse.Namespace) -> int:
    """``ocppd journal check`` / ``ocppd journal salvage PATH`` (ocppd/journal/check.py)."""
    try:
        settings = _load(args.config)
    except config.ConfigError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return EX_CONFIG
    from ocppd.journal import check

    state_dir = settings.storage.state_dir
    if args.journal_command == "check":
        return check.check(state_dir, sys.stdout)
    return check.salvage(state_dir, args.path, sys.stdout)


def _single(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def demo(args: argparse.Namespace) -> int:
    from ocppd.demo import main as demo_main

    return demo_main(fast=args.fast)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ocppd", description="OCPP-J 1.6 charge point daemon.")
    p.add_argument("--version", action="version", version=f"ocppd {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (
        ("run", "run the daemon in the foreground (what systemd starts)"),
        ("check-config", "check the configuration file and exit"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument(
            "-c",
            "--config",
            type=Path,
            default=config.DEFAULT_PATH,
            help=f"configuration file (default {config.DEFAULT_PATH})",
        )
    j = sub.add_parser("journal", help="check the journal, or salvage a moved-aside one")
    jsub = j.add_subparsers(dest="journal_command", required=True, metavar="ACTION")
    jc = jsub.add_parser(
        "check", help="judge the files, integrity_check, every record checksum (never writes)"
    )
    js = jsub.add_parser(
        "salvage", help="bring back what can be read from a moved-aside journal (stop ocppd first)"
    )
    js.add_argument("path", type=Path, help="the moved-aside journal.db.corrupt-<time> file")
    for cmd in (jc, js):
        cmd.add_argument(
            "-c",
            "--config",
            type=Path,
            default=config.DEFAULT_PATH,
            help=f"configuration file (default {config.DEFAULT_PATH})",
        )
    d = sub.add_parser("demo", help="a central system, simulated hardware, one charging session")
    d.add_argument(
        "--fast", action="store_true", help="run on a virtual clock: an hour of charging in seconds"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check-config":
        return check_config(args.config)
    if args.command == "journal":
        return journal(args)
    if args.command == "run":
        try:
            return run(args.config)
        except KeyboardInterrupt:
            return 130
    return demo(args)


if __name__ == "__main__":
    raise SystemExit(main())
