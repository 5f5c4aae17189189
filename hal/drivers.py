"""Registration of the real (non-sim) drivers: GPIO, Modbus, serial, sysfs.

Each entry names its options and its factory module; nothing here imports a device
library, so loading this table costs nothing on a sim-only charger.
"""

from __future__ import annotations
