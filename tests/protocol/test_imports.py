"""The protocol core stays sans-IO and free of dev-only dependencies at runtime."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("trio", "trio_websocket", "wsproto", "websockets", "ocpp", "jsonschema")


def test_importing_the_protocol_core_pulls_in_no_io_library_and_no_dev_dependency():
    script = (
        "import sys, ocppd.protocol.rpc, ocppd.protocol.v16.codec, ocppd.protocol.v16.dialect\n"
        f"print(sorted(m for m in {FORBIDDEN!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
