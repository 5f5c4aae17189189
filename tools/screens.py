"""``make screens``: the two screen pictures in the README (docs/img/), drawn by the code.

Each is a page of ``ocppd/view`` for a typical moment, drawn by ``hal.display.render``
exactly as the panel gets it (128x64, one bit a pixel), then enlarged 4x (each pixel a
4x4 block) so it can be seen on a web page.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

from hal.display import render
from ocppd.model.status import Status
from ocppd.view.screens import Scene, page_for
from ocppd.view.strings import Words

ROOT = Path(__file__).resolve().parents[1]
SCALE = 4

SCENES = {
    "screen-idle.png": Scene(1, Status.AVAILABLE, qr="https://pay.example.com/start/CP0001"),
    "screen-charging.png": Scene(
        1,
        Status.CHARGING,
        power_w=11040.0,
        session_wh=8420.0,
        elapsed_s=2760.0,
        limit_a=16.0,
        limit_by="charger",
    ),
}


def main(out: Path = ROOT / "docs" / "img") -> int:
    out.mkdir(parents=True, exist_ok=True)
    words = Words("en")
    for name, scene in SCENES.items():
        image = render(page_for(scene, words), (128, 64))
        big = image.resize((128 * SCALE, 64 * SCALE), Image.Resampling.NEAREST)
        big.save(out / name, optimize=True)
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(*(Path(a) for a in sys.argv[1:2])))
