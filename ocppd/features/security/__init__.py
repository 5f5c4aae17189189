"""The OCPP 1.6 security whitepaper (edition 3): security profiles over OCPP, the
security events and their log.

- ``profiles.py``: SecurityProfile raised over OCPP, its prerequisites, the trial and
  the fall-back (use case A05).
"""
