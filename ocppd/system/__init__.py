"""The operating system as the daemon needs it for Firmware Management: file transfers
(``transfer.py``), Debian package checks (``package.py``), the hand-over to the
privileged update helper (``handover.py``, ``helper.py``) and the diagnostics bundle
(``diagnostics.py``).

This room speaks no OCPP: it moves files, runs ``dpkg-deb`` and ``journalctl`` and
writes the files the helper reads. ``features/firmware/`` says what they mean in 1.6.
"""
