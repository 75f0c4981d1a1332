"""Label values shared by the phantom, the segmentation and the viewers.

The label map of a case lives on the T2 grid as unsigned integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Label(IntEnum):
    """Label values of a case's label map (0 is background)."""

    BACKGROUND = 0
    BRAINSTEM = 1
    CN7 = 2
    CN8 = 3
    ARTERY = 4
    VEIN = 5
    CSF = 6
    OTHER_NERVE = 7


@dataclass(frozen=True)
class LabelInfo:
    """Name and display colour of one label."""

    value: int
    name: str
    abbreviation: str
    rgb: tuple[int, int, int]

    @property
    def hex(self) -> str:
        """Colour as ``#rrggbb``."""
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)


#: Conventional colours: arteries red, veins blue, nerves yellow/orange/green.
LABEL_TABLE: tuple[LabelInfo, ...] = (
    LabelInfo(Label.BRAINSTEM, "brainstem", "BS", (200, 170, 140)),
    LabelInfo(Label.CN7, "facial nerve (CN VII)", "CN7", (255, 220, 0)),
    LabelInfo(Label.CN8, "vestibulocochlear nerve (CN VIII)", "CN8", (60, 200, 90)),
    LabelInfo(Label.ARTERY, "artery", "ART", (220, 30, 30)),
    LabelInfo(Label.VEIN, "vein", "VEIN", (40, 80, 230)),
    LabelInfo(Label.CSF, "cerebrospinal fluid", "CSF", (150, 210, 255)),
    LabelInfo(Label.OTHER_NERVE, "other cranial nerve", "CN", (255, 140, 0)),
)
