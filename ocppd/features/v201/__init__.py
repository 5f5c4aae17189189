"""OCPP 2.0.1 features, one module per functional block (design decision 2).

The registry (``V201_PROFILES``) is v201-core's; this file only makes the package."""
