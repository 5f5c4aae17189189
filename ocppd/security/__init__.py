"""The charger's security material kept on disk: the certificate store (``store.py``)."""
