"""Benchmarks for ocppd: footprint and speed beside a reference charge point.

``python -m bench`` (``make bench``) runs the comparison and the journal figures;
``python -m bench.soak`` (``make soak``) runs 24 simulated hours of sessions.

This package must stay import-free: the reference peer runs as ``python -m bench.peer``
and would otherwise pay for whatever is imported here.
"""
