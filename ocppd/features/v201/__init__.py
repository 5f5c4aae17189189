"""OCPP 2.0.1 features, one module per functional block (docs/architecture.md)."""
