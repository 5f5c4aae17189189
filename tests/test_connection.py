"""The link to the central system: back-off, re-dial, dead links, refusals, security profiles."""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import signal
import ssl
from pathlib import Path

import pytest
import trio
import trustme
from ocpp.v16 import call

from ocppd.app import STOP_GRACE_S
from ocppd.session import redact
from ocppd.testing.csms import NoAnswer
from ocppd.transport.backoff import Backoff
from tests.harness import CP_ID, charger
from tests.netutil import Proxy
from tests.test_operator import daemon_process

# --- back-off ---------------------------------------------------------------------------------


def test_backoff_doubles_its_ceiling_between_floor_and_cap() -> None:
    backoff = Backoff(1.0, 60.0, random.Random(7))
    for n in range(12):
        ceiling = min(60.0, 2.0 ** (n + 1))
        assert backoff.ceiling() == ceiling
        delay = backoff.next_delay()
        assert 1.0 <= delay <= ceiling


def test_backoff_jitter_spreads_a_fleet() -> None:
    delays = [Backoff(1.0, 60.0, random.Random(seed)) for seed in range(200)]
    for b in delays:
        for _ in range(6):
            b.next_delay()
    sixth = sorted(b.next_delay() for b in delays)
    assert sixth[0] < 15 and sixth[-1] > 45, "the 7th waits must spread over [1, 60]"
    assert len({round(d, 3) for d in sixth}) > 190


def test_backoff_reset_starts_from_the_floor() -> None:
    backoff = Backoff(2.0, 30.0, random.Random(1))
    for _ in range(10):
        backoff.next_delay()
    backoff.reset()
    assert backoff.failures == 0
    assert backoff.ceiling() == 4.0  # the first window again: [2, 4]


def test_backoff_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(5.0, 1.0)


async def test_refused_connections_are_retried_within_the_backoff_bounds(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True
    attempts: list[tuple[int, float]] = []  # (failures before this attempt, when)
    async with charger(nursery, csms, url=proxy.url) as cp:
        conn = cp.parts.connection
        while len(attempts) < 9:
            await conn.wait_changed()
            if conn.state == "connecting":
                attempts.append((conn.backoff.failures, trio.current_time()))
        for (_, before), (failures, at) in itertools.pairwise(attempts):
            ceiling = min(30.0, 2.0**failures)  # the wait chosen after failure n-1
            assert 1.0 <= at - before <= ceiling + 0.01, attempts
        assert "handshake" in (conn.last_error or "") or "closed" in (conn.last_error or "")
        proxy.refuse = False
        station = await cp.registered()
        assert station.calls("BootNotification")


# --- staying connected -------------------------------------------------------------------------


async def test_a_reconnect_does_not_boot_again_and_reports_every_current_status(
    nursery, start_csms, autojump_clock
):
    """The central system may have restarted meanwhile (Home Assistant does, issue 20): every
    connector's current status is sent once on the new connection, changed or not."""
    csms = await start_csms()
    async with charger(nursery, csms, connectors=2) as cp:
        first = await cp.registered()
        await first.wait_for("StatusNotification", count=3)
        await first.close()
        await cp.sim("plug", 1)  # happens while offline
        second = await cp.station(connection=2)
        await second.wait_for("StatusNotification", count=3)
        await trio.sleep(30)
        assert [c.action for c in second.inbox] == ["StatusNotification"] * 3
        assert [(c.payload["connectorId"], c.payload["status"]) for c in second.inbox] == [
            (0, "Available"),
            (1, "Preparing"),
            (2, "Available"),  # unchanged since the first connection, sent again
        ]
        assert len(csms.all_calls(CP_ID)) == len(first.inbox) + 3


async def test_a_link_closed_while_our_call_waits_is_redialled(nursery, start_csms, autojump_clock):
    csms = await start_csms(heartbeat_interval=10, overrides={"Heartbeat": lambda *_: NoAnswer()})
    async with charger(nursery, csms) as cp:
        first = await cp.registered()
        await first.wait_for("Heartbeat")  # our Heartbeat now waits for an answer
        await first.close()
        second = await cp.station(connection=2)
        await second.wait_for("Heartbeat")
        assert "closed" in (cp.parts.connection.last_error or "")
        assert cp.parts.connection.last_error.count("closed (") == 1, "one reason, said once"


async def test_a_dead_link_is_found_by_ping_and_redialled(nursery, start_csms, autojump_clock):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, url=proxy.url, keys={"WebSocketPingInterval": 20}) as cp:
        await cp.registered()
        conn = cp.parts.connection
        proxy.blackhole()
        dead_at = trio.current_time()
        while conn.state == "connected":
            await conn.wait_changed()
        assert trio.current_time() - dead_at <= 2 * 20 + 5 + 1  # + the close handshake limit
        assert "pong" in (conn.last_error or "")
        proxy.restore()
        proxy.cut()
        station = await cp.station(connection=2)
        assert station is not None


async def test_a_central_system_without_the_ocpp16_subprotocol_is_refused(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(accept_subprotocol=False)
    async with charger(nursery, csms) as cp:
        conn = cp.parts.connection
        while conn.last_error is None:
            await conn.wait_changed()
        assert "subprotocol" in conn.last_error
        assert not any(f.message_type == 2 for _, f in csms.frames), "no OCPP frame may be sent"


async def test_a_frame_over_the_size_limit_closes_the_link_and_it_is_redialled(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms, ocpp={"max_frame_bytes": 8192}) as cp:
        station = await cp.registered()
        big = '[2,"x1","DataTransfer",{"vendorId":"big","data":"' + "x" * 10000 + '"}]'
        await station.send_text(big)
        await cp.station(connection=2)
        assert "1009" in (cp.parts.connection.last_error or "")


# --- security profiles -------------------------------------------------------------------------


async def test_profile_1_sends_basic_auth_and_a_wrong_password_is_refused(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(passwords={CP_ID: "s3cret-password"})
    async with charger(
        nursery, csms, ocpp={"security_profile": 1, "authorization_key": "s3cret-password"}
    ) as cp:
        await cp.registered()
    csms.passwords[CP_ID] = "another-password"
    async with charger(
        nursery, csms, ocpp={"security_profile": 1, "authorization_key": "s3cret-password"}
    ) as cp:
        conn = cp.parts.connection
        while conn.last_error is None:
            await conn.wait_changed()
        assert "401" in conn.last_error
        assert any("bad credentials" in r for r in csms.rejections)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA, *, client_certs: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    if client_certs:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    return context


def _write(tmp: Path, name: str, blob: trustme.Blob) -> str:
    path = tmp / name
    blob.write_to_path(str(path))
    return str(path)


async def test_profile_2_verifies_the_server_against_the_configured_ca(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    csms = await start_csms(
        ssl_context=_server_context(ca, client_certs=False), passwords={CP_ID: "tls-password-1234"}
    )
    assert csms.url.startswith("wss://")
    ca_file = _write(tmp_path, "ca.pem", ca.cert_pem)
    async with charger(
        nursery,
        csms,
        ocpp={"security_profile": 2, "ca_file": ca_file, "authorization_key": "tls-password-1234"},
    ) as cp:
        await cp.registered()


async def test_profile_2_never_connects_to_a_server_of_another_ca(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    csms = await start_csms(
        ssl_context=_server_context(ca, client_certs=False), passwords={CP_ID: "tls-password-1234"}
    )
    stranger = _write(tmp_path, "other-ca.pem", trustme.CA().cert_pem)
    async with charger(
        nursery,
        csms,
        ocpp={"security_profile": 2, "ca_file": stranger, "authorization_key": "tls-password-1234"},
    ) as cp:
        conn = cp.parts.connection
        errors: set[str] = set()
        with trio.move_on_after(200):  # several attempts, none may get through
            while True:
                await conn.wait_changed()
                if conn.last_error:
                    errors.add(conn.last_error)
        assert conn.connects == 0
        assert not csms.stations
        assert any("certificate" in e for e in errors), errors


async def test_profile_3_presents_a_client_certificate(
    nursery, start_csms, autojump_clock, ca, tmp_path
):
    csms = await start_csms(ssl_context=_server_context(ca, client_certs=True))
    client = ca.issue_cert(CP_ID)
    files = {
        "ca_file": _write(tmp_path, "ca.pem", ca.cert_pem),
        "cert_file": _write(tmp_path, "client.pem", client.cert_chain_pems[0]),
        "key_file": _write(tmp_path, "client.key", client.private_key_pem),
    }
    async with charger(nursery, csms, ocpp={"security_profile": 3, **files}) as cp:
        await cp.registered()
    # the same server refuses a charge point without a certificate
    async with charger(
        nursery,
        csms,
        ocpp={
            "security_profile": 2,
            "ca_file": files["ca_file"],
            "authorization_key": "unused-password-1",
        },
    ) as cp:
        conn = cp.parts.connection
        while conn.last_error is None:
            await conn.wait_changed()
        assert conn.connects == 0 or cp.parts.registration.status is None


async def test_a_link_failure_during_a_stop_does_not_escape_the_supervisor(
    nursery, start_csms, autojump_clock
):
    """The conversation fails at the very moment the daemon is being stopped: only the
    cancellation may leave the supervisor, never the failure (it would end the daemon with a
    traceback instead of an orderly stop)."""
    from ocppd.connection import Connection
    from ocppd.protocol.ids import MessageIds
    from ocppd.protocol.v16.dialect import V16
    from ocppd.session import SessionClosed
    from ocppd.transport.link import LinkTarget

    csms = await start_csms()

    async def failing_conversation(session) -> None:
        await trio.sleep(5)
        with trio.CancelScope(shield=True):  # e.g. a stop being journaled
            await trio.sleep(1)  # meanwhile the daemon is told to stop
        raise SessionClosed("the link went away")

    async def no_calls(call) -> None:
        raise AssertionError("no calls expected")

    connection = Connection(
        target=lambda: LinkTarget(
            url=csms.url + "/" + CP_ID, charge_point_id=CP_ID, subprotocols=(V16.subprotocol,)
        ),
        dialects={V16.subprotocol: V16},
        ids=MessageIds(),
        supported=lambda _dialect: frozenset(),
        handler=no_calls,
        conversation=failing_conversation,
        backoff=Backoff(1, 2),
        call_timeout=5,
        secret_keys=frozenset(),
    )
    with trio.CancelScope() as scope:
        scope.deadline = trio.current_time() + 5.5  # the stop lands while it fails
        await connection.run()
    assert scope.cancelled_caught


# --- reconnecting gently -----------------------------------------------------------------------


def test_the_first_wait_is_jittered_too() -> None:
    firsts = [Backoff(1.0, 60.0, random.Random(seed)).next_delay() for seed in range(200)]
    assert all(1.0 <= d <= 2.0 for d in firsts)
    assert min(firsts) < 1.1 and max(firsts) > 1.9, "a fleet spreads over [1, 2] s at once"


def test_only_a_link_that_lasted_the_longest_wait_resets_the_backoff() -> None:
    backoff = Backoff(1.0, 60.0, random.Random(3))
    for _ in range(5):
        backoff.next_delay()
    backoff.stayed_up(59.0)  # e.g. accepted, then dropped: still a failing central system
    assert backoff.failures == 5
    backoff.stayed_up(60.0)
    assert backoff.failures == 0


async def test_a_central_system_that_drops_every_link_gets_jittered_growing_waits(
    nursery, start_csms, autojump_clock
):
    """Accepted boot, then the link is dropped, again and again (reconnects need no boot): the
    waits grow and are jittered; neither the Accepted boot nor a new link resets them."""
    csms = await start_csms()
    waits: list[float] = []
    async with charger(nursery, csms) as cp:  # reconnect_min_s 1, reconnect_max_s 30
        station = await cp.registered()
        with trio.fail_after(600):
            for n in range(2, 10):
                dropped = trio.current_time()
                await station.close()
                station = await cp.station(connection=n)
                waits.append(trio.current_time() - dropped)
    ceilings = [2, 4, 8, 16, 30, 30, 30, 30]
    assert all(1.0 <= w <= c + 0.1 for w, c in zip(waits, ceilings, strict=True)), waits
    assert len({round(w, 3) for w in waits}) == len(waits), f"not jittered: {waits}"
    assert max(waits[4:]) > 2.0, f"not growing: {waits}"


async def test_a_new_authorization_key_redials_at_once_without_counting_a_failure(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        key = "00112233445566778899AABBCCDDEEFF"
        answer = await station.call(call.ChangeConfiguration(key="AuthorizationKey", value=key))
        answered = trio.current_time()
        assert answer.status == "Accepted"
        await cp.station(connection=2)
        assert trio.current_time() - answered < 0.5
        conn = cp.parts.connection
        assert conn.backoff.failures == 0
        assert conn.last_error == "hung up: new AuthorizationKey"
        assert station.ws.closed is not None and station.ws.closed.code == 1000


async def test_a_reload_with_a_corrected_url_dials_at_once_instead_of_waiting_out_the_backoff(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True  # the installer typed the wrong address
    async with charger(nursery, csms, url=proxy.url) as cp:
        conn = cp.parts.connection
        with trio.fail_after(120):
            while conn.backoff.failures < 5:  # now waiting up to 30 s for the next try
                await conn.wait_changed()
        await trio.Path(cp.settings.path).write_text(cp.settings_text.replace(proxy.url, csms.url))
        assert cp.daemon.reload() == []
        fixed = trio.current_time()
        await cp.station()
        assert trio.current_time() - fixed < 0.5


async def test_a_reload_while_disconnected_dials_at_once(nursery, start_csms, autojump_clock):
    """The settings may be the same file names with new contents (a CA file replaced)."""
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    proxy.refuse = True
    async with charger(nursery, csms, url=proxy.url) as cp:
        conn = cp.parts.connection
        with trio.fail_after(120):
            while conn.backoff.failures < 5:
                await conn.wait_changed()
        proxy.refuse = False
        assert cp.daemon.reload() == []
        fixed = trio.current_time()
        await cp.station()
        assert trio.current_time() - fixed < 0.5


# --- closing cleanly and quickly ---------------------------------------------------------------


async def test_an_orderly_stop_closes_the_link_cleanly_within_a_second(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        start = trio.current_time()
        await cp.stop()
        assert trio.current_time() - start < 1.0
        assert station.ws.closed is not None and station.ws.closed.code == 1000


async def test_an_orderly_stop_delivers_the_stop_and_exits_as_soon_as_it_is_answered(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("TAG-STOP")
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
        start = trio.current_time()
        await cp.stop()
        assert trio.current_time() - start < 1.0
        stop = await station.wait_for("StopTransaction")
        assert stop.payload["reason"] == "Reboot"
        assert stop.t - start < 0.5


async def test_an_orderly_stop_waits_at_most_the_grace_period_for_an_unanswered_stop(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(overrides={"StopTransaction": lambda *_: NoAnswer()})
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        await cp.sim("plug", 1)
        await cp.swipe("TAG-STOP")
        await station.wait_for("StatusNotification", lambda p: p["status"] == "Charging")
        start = trio.current_time()
        await cp.stop()
        took = trio.current_time() - start
        assert STOP_GRACE_S <= took < STOP_GRACE_S + 1.0
        assert station.calls("StopTransaction")  # sent, never answered: kept for the next start


def test_a_soft_reset_reaches_the_new_boot_notification_within_about_a_second(tmp_path):
    """The real process: from the Reset CALLRESULT to the BootNotification of the re-executed
    daemon (which includes starting Python again) on real time."""

    async def main() -> float:
        async with daemon_process(tmp_path) as (csms, process):
            await csms.stations[CP_ID].call(call.Reset(type="Soft"))
            answered = trio.current_time()
            with trio.fail_after(30):
                again = await csms.wait_station(CP_ID, connection=2)
                boot = await again.wait_for("BootNotification")
                os.kill(process.pid, signal.SIGTERM)
                await process.wait()
            return boot.t - answered

    took = trio.run(main)
    assert took < 3.0, f"{took:.2f} s from the Reset answer to the new BootNotification"


def test_sigterm_with_an_empty_queue_exits_within_about_a_second(tmp_path):
    async def main() -> tuple[int, float]:
        async with daemon_process(tmp_path) as (_csms, process):
            start = trio.current_time()
            os.kill(process.pid, signal.SIGTERM)
            with trio.fail_after(30):
                code = await process.wait()
            return code, trio.current_time() - start

    code, took = trio.run(main)
    assert code == 0
    assert took < 1.5, f"{took:.2f} s from SIGTERM to exit"


# --- TLS fails fast and says why (real time, real TLS on 127.0.0.1) -----------------------------


async def _tls_failures(
    nursery, start_csms, server: ssl.SSLContext, ca_file: str, caplog
) -> tuple[list[float], str, Proxy]:
    """Two failed attempts against ``server`` behind a proxy: how long each took, the reason."""
    csms = await start_csms(ssl_context=server, passwords={CP_ID: "tls-password-1234"})
    proxy = await nursery.start(Proxy(csms.port).serve)
    took: list[float] = []
    ocpp = {
        "security_profile": 2,
        "ca_file": ca_file,
        "authorization_key": "tls-password-1234",
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 0.2,
    }
    url = f"wss://127.0.0.1:{proxy.port}/ocpp"
    async with charger(nursery, csms, url=url, ocpp=ocpp, log_level="info") as cp:
        conn = cp.parts.connection
        with trio.fail_after(10):
            while len(took) < 2:  # retried
                while conn.state != "connecting":
                    await conn.wait_changed()
                began = trio.current_time()
                with trio.fail_after(2):
                    while conn.state == "connecting":
                        await conn.wait_changed()
                took.append(trio.current_time() - began)
        assert conn.connects == 0 and not csms.stations
        assert conn.last_error is not None
        assert conn.last_error in caplog.text
        return took, conn.last_error, proxy


async def test_an_untrusted_certificate_fails_at_once_says_why_and_never_falls_back_to_ws(
    nursery, start_csms, ca, tmp_path, caplog
):
    stranger = _write(tmp_path, "other-ca.pem", trustme.CA().cert_pem)
    server = _server_context(ca, client_certs=False)
    took, reason, proxy = await _tls_failures(nursery, start_csms, server, stranger, caplog)
    assert reason == "TLS: certificate not trusted: unable to get local issuer certificate"
    assert all(t < 2 for t in took), took
    assert proxy.openings and all(o.startswith(b"\x16\x03") for o in proxy.openings), (
        "every attempt must open with a TLS handshake record, none in plain text"
    )


async def test_a_certificate_for_another_host_fails_at_once_and_says_why(
    nursery, start_csms, ca, tmp_path, caplog
):
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("csms.example.org").configure_cert(server)
    ca_file = _write(tmp_path, "ca.pem", ca.cert_pem)
    took, reason, proxy = await _tls_failures(nursery, start_csms, server, ca_file, caplog)
    assert reason.startswith("TLS: certificate not valid for 127.0.0.1:"), reason
    assert all(t < 2 for t in took), took
    assert all(o.startswith(b"\x16\x03") for o in proxy.openings)


# --- deadlines that unrelated keys do not restart ----------------------------------------------


async def test_heartbeats_keep_their_cadence_while_the_central_system_changes_other_keys(
    nursery, start_csms, autojump_clock
):
    csms = await start_csms(heartbeat_interval=30)
    async with charger(nursery, csms) as cp:
        station = await cp.registered()
        start = trio.current_time()
        for i in range(20):  # a key every 10 s, for 200 s
            await trio.sleep(10)
            answer = await station.call(
                call.ChangeConfiguration(key="MeterValueSampleInterval", value=str(60 + i))
            )
            assert answer.status == "Accepted"
        beats = [r.t for r in station.calls("Heartbeat") if r.t >= start]
    assert len(beats) >= 6, beats
    assert all(b - a == pytest.approx(30, abs=0.5) for a, b in itertools.pairwise(beats)), beats


async def test_pings_keep_their_cadence_while_other_keys_change(
    nursery, start_csms, autojump_clock
):
    """A dead link is still found by its missing pong while keys keep changing."""
    csms = await start_csms()
    proxy = await nursery.start(Proxy(csms.port).serve)
    async with charger(nursery, csms, url=proxy.url, keys={"WebSocketPingInterval": 20}) as cp:
        await cp.registered()
        conn = cp.parts.connection
        proxy.blackhole()
        dead_at = trio.current_time()

        async def churn() -> None:
            for i in range(1000):
                await trio.sleep(5)
                await cp.keys.apply("MeterValueSampleInterval", 60 + i)

        async with trio.open_nursery() as churning:
            churning.start_soon(churn)
            with trio.fail_after(200):
                while conn.state == "connected":
                    await conn.wait_changed()
            churning.cancel_scope.cancel()
        # the next ping is due within 20 s, its pong within 20 s more, the close takes <= 1 s
        assert trio.current_time() - dead_at <= 2 * 20 + 1 + 0.5
        assert "pong" in (conn.last_error or "")


# --- secrets -----------------------------------------------------------------------------------


async def test_a_secret_key_in_any_case_is_redacted_in_the_frame_log(
    nursery, start_csms, autojump_clock, caplog
):
    caplog.set_level(logging.DEBUG)
    secret = "00112233445566778899AABBCCDDEEFF"
    csms = await start_csms()
    async with charger(nursery, csms) as cp:
        await cp.registered()
        for name in ("authorizationKey", "AUTHORIZATIONKEY", "AuthorizationKey"):
            station = csms.stations[CP_ID]  # the newest link: a new key re-dials
            await station.call(call.ChangeConfiguration(key=name, value=secret))
            await trio.sleep(5)
    frames = [r.getMessage() for r in caplog.records if r.name == "ocppd.frames"]
    assert sum('"ChangeConfiguration"' in f for f in frames) == 3
    assert not [f for f in frames if secret in f]
    assert secret not in caplog.text  # nor in the line that logs the change


SECRET_KEYS = frozenset({"AuthorizationKey"})


@pytest.mark.parametrize(
    "name", ["AuthorizationKey", "authorizationKey", "AUTHORIZATIONKEY", "\\u0041uthorizationKey"]
)
def test_redact_hides_the_value_of_a_secret_key_however_it_is_spelled(name: str) -> None:
    frame = f'[2,"c1","ChangeConfiguration",{{"key":"{name}","value":"0011223344556677"}}]'
    shown = redact(frame, SECRET_KEYS)
    assert "0011223344556677" not in shown
    assert json.loads(shown)[3]["value"] == "***"


def test_redact_leaves_frames_without_a_secret_value_alone() -> None:
    listing = '[2,"c2","GetConfiguration",{"key":["AuthorizationKey","HeartbeatInterval"]}]'
    assert redact(listing, SECRET_KEYS) == listing
    heartbeat = '[2,"c3","Heartbeat",{}]'
    assert redact(heartbeat, SECRET_KEYS) is heartbeat


@pytest.mark.parametrize(
    "frame",
    [
        '[2,"c4","DataTransfer",{"vendorId":"x","data":"authorizationkey=0011223344556677"}]',
        "not json, but authorizationKey=0011223344556677",
        "[" * 100_000 + '"AuthorizationKey"' + "]" * 100_000,
    ],
)
def test_redact_withholds_a_frame_that_names_a_secret_key_in_any_other_way(frame: str) -> None:
    assert redact(frame, SECRET_KEYS) == "[frame withheld: it names a secret configuration key]"
