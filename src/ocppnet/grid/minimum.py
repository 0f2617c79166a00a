"""The power a grid operator must leave a site: the guaranteed minimum of §14a EnWG (pure).

BNetzA determination BK6-22-300 (27 Nov 2023, in force 1 Jan 2024): a directly controlled
controllable device (steuVE, e.g. a wallbox) may be dimmed to no less than 4.2 kW. Several
steuVE behind one energy management system (EMS: here, the node at the grid connection
point) are dimmed together, to no less than

    P_min = 4.2 kW + (n - 1) * GZF(n) * 4.2 kW

with the simultaneity factor GZF falling from 0.8 (n = 2) by 0.05 per device to 0.45 from
n = 9 on. docs/grid-operator.md cites the source.
"""

from __future__ import annotations

import math

#: guaranteed minimum of one directly controlled device (W)
DEVICE_MINIMUM_W = 4_200.0

#: simultaneity factor (Gleichzeitigkeitsfaktor) by number of steuVE behind one EMS
_GZF = {2: 0.80, 3: 0.75, 4: 0.70, 5: 0.65, 6: 0.60, 7: 0.55, 8: 0.50}
_GZF_FROM_9 = 0.45


def simultaneity_factor(devices: int) -> float:
    """GZF for ``devices`` steuVE behind one EMS (1.0 for a single device)."""
    if devices < 1:
        raise ValueError(f"devices must be >= 1, got {devices}")
    if devices == 1:
        return 1.0
    return _GZF.get(devices, _GZF_FROM_9)


def guaranteed_minimum_w(devices: int = 1, *, per_device_w: float = DEVICE_MINIMUM_W) -> float:
    """The lowest limit (W) a grid operator may set for ``devices`` steuVE behind one EMS
    (``devices=1``: one directly controlled device), rounded up to whole watts."""
    factor = simultaneity_factor(devices)
    extra = (devices - 1) * factor * per_device_w
    return float(math.ceil(round(per_device_w + extra, 6)))
