"""ocppd: an OCPP-J 1.6 charge point daemon for Linux single-board computers."""

__version__ = "0.1.0"
