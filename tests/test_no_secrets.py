"""ocppd never logs a key, a password or a private key, nor returns one over OCPP or
``ocppctl`` (security whitepaper A00.FR.204-205, A01.FR.12). A whole run with every
logger at DEBUG (frames included): profile 2 with a password from the config file, a new
AuthorizationKey from the central system, a raise to profile 3 with a client key, every
GetConfiguration and status answer, the security log: none of them holds a secret.
"""

from __future__ import annotations

import base64
import json
import logging
import ssl

import trio
import trustme
from ocpp.v16 import call

from tests.harness import CP_ID, charger

CONFIG_KEY = "config-password-0123"
NEW_KEY = "4F43415F4F4354545F61646D696E5F74657374"  # the OCTT's (TC_073_CS), hex
NEW_PASSWORD = "OCA_OCTT_admin_test"  # what it stands for: the basic-auth password


def _server(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    context.verify_mode = ssl.CERT_OPTIONAL
    ca.configure_trust(context)
    return context


def _secrets(private_key_pem: bytes) -> list[str]:
    """Every form a secret could leak in: as written, in either case, decoded from hex, as
    a basic-auth token, and each line of the private key's body."""
    found = []
    for key in (CONFIG_KEY, NEW_KEY, NEW_PASSWORD):
        found += [key, key.lower(), base64.b64encode(f"{CP_ID}:{key}".encode()).decode()]
    body = [line for line in private_key_pem.decode().splitlines() if "-----" not in line]
    return found + [line for line in body if len(line) >= 16]


async def test_no_secret_in_any_log_line_answer_or_status(
    nursery, start_csms, autojump_clock, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    ca = trustme.CA()
    csms = await start_csms(ssl_context=_server(ca), passwords={CP_ID: CONFIG_KEY})
    client = ca.issue_cert(CP_ID)
    files = {"ca_file": tmp_path / "ca.pem", "cert_file": tmp_path / "client.pem"}
    ca.cert_pem.write_to_path(str(files["ca_file"]))
    client.cert_chain_pems[0].write_to_path(str(files["cert_file"]))
    key_file = tmp_path / "client.key"
    client.private_key_pem.write_to_path(str(key_file))
    ocpp = {
        "security_profile": 2,
        "authorization_key": CONFIG_KEY,
        "key_file": str(key_file),
        **{name: str(path) for name, path in files.items()},
    }
    answers: list[str] = []
    async with charger(nursery, csms, state_dir=tmp_path, ocpp=ocpp) as cp:
        station = await cp.registered()
        answers.append(json.dumps(await cp.control({"cmd": "status"}), default=str))
        csms.passwords[CP_ID] = NEW_PASSWORD
        changed = await station.call(
            call.ChangeConfiguration(key="AuthorizationKey", value=NEW_KEY)
        )
        assert changed.status == "Accepted"
        station = await cp.station(connection=2)
        listing = await station.call(call.GetConfiguration())
        answers.append(json.dumps(listing.configuration_key))
        csms.passwords.clear()
        raised = await station.call(call.ChangeConfiguration(key="SecurityProfile", value="3"))
        assert raised.status == "Accepted"
        station = await cp.station(connection=3)
        answers.append(json.dumps((await station.call(call.GetConfiguration())).configuration_key))
        answers.append(json.dumps(await cp.control({"cmd": "status"}), default=str))
        await trio.sleep(10)
    everything = "\n".join(
        [
            caplog.text,
            *answers,
            (tmp_path / "security.log").read_text(),
            *(map(str, csms.all_calls(CP_ID))),
        ]
    )
    assert "AuthorizationKey" in everything and "SecurityProfile" in everything  # it did look
    assert any(NEW_KEY in str(c) for c in station.csms.frames)  # the key did cross the wire
    leaks = [s for s in _secrets(client.private_key_pem.bytes()) if s in everything]
    assert leaks == []
    assert '"ChangeConfiguration"' in caplog.text  # the frames were logged, redacted
