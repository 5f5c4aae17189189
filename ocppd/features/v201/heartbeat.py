"""Heartbeat in OCPP 2.0.1 (G02): the request. The interval (the HeartbeatInterval key,
which is 2.0.1's OCPPCommCtrlr.HeartbeatInterval) and the loop are the Core's
(``features/core/heartbeat.py``); the answer's ``currentTime`` sets the clock in both."""

from __future__ import annotations

from ocppd.protocol.v201 import messages as m


def heartbeat_request() -> m.HeartbeatRequest:
    return m.HeartbeatRequest()
