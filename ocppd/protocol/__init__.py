"""The sans-IO OCPP-J core: frames, error codes, message ids and the RPC state.

Nothing here does I/O, sleeps or imports trio or a websocket library: the
session shell feeds text in and sends the text that comes out. Import the
modules directly (``from ocppd.protocol.rpc import Rpc``); this package
re-exports nothing, so importing one part stays cheap.
"""
