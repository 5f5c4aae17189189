"""The sans-IO OCPP-J core: frames, why a CALL is refused, message ids, the RPC state, dialects.

Nothing here does I/O, sleeps or imports trio or a websocket library: the
session shell feeds text in and sends the text that comes out. The frames are
the same in every OCPP-J version; what a version adds (its actions, typed
messages and codecs, the spelling of its CALLERROR codes, its websocket
subprotocol) is a :class:`~ocppd.protocol.dialect.Dialect`, one per version
(``v16/dialect.py``), passed to the RPC state as an argument. Import the
modules directly (``from ocppd.protocol.rpc import Rpc``); this package
re-exports nothing, so importing one part stays cheap.
"""
