"""Label values shared by the phantom, the segmentation and the viewers.

The label map of a case lives on the T2 grid as unsigned integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray


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
        """Colour as ``#rrggbb`` (lower-case hexadecimal)."""
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


def slicer_color_table(table: tuple[LabelInfo, ...] = LABEL_TABLE) -> str:
    """3D Slicer colour table (``.ctbl``): lines ``index name R G B A`` (names without spaces).

    Parameters
    ----------
    table : tuple of LabelInfo
        The labels (default: ``LABEL_TABLE``); background 0 is added.

    Returns
    -------
    str
        The file's text, newline-terminated.

    Examples
    --------
    >>> slicer_color_table().splitlines()[2:4]
    ['0 background 0 0 0 0', '1 BS_brainstem 200 170 140 255']
    """
    rows = ["# nvc label colours (3D Slicer colour table)", f"# {len(table) + 1} values"]
    rows.append("0 background 0 0 0 0")
    for t in table:
        rows.append(
            f"{t.value} {t.abbreviation}_{_token(t.name)} {t.rgb[0]} {t.rgb[1]} {t.rgb[2]} 255"
        )
    return "\n".join(rows) + "\n"


def itksnap_label_description(table: tuple[LabelInfo, ...] = LABEL_TABLE) -> str:
    """ITK-SNAP label description file (Segmentation > Import Label Descriptions).

    Parameters
    ----------
    table : tuple of LabelInfo
        The labels (default: ``LABEL_TABLE``); "Clear Label" 0 is added.

    Returns
    -------
    str
        The file's text: one line per label (index, R G B, opacity, visibility, name).

    Examples
    --------
    >>> itksnap_label_description().splitlines()[6]
    '    1   200  170  140        1  1  1    "brainstem"'
    """
    rows = [
        "################################################",
        "# ITK-SnAP Label Description File",
        "# File format:",
        "# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL",
        "################################################",
        '    0     0    0    0        0  0  0    "Clear Label"',
    ]
    for t in table:
        r, g, b = t.rgb
        rows.append(f'{t.value:5d} {r:5d} {g:4d} {b:4d}        1  1  1    "{t.name}"')
    return "\n".join(rows) + "\n"


def _token(name: str) -> str:
    keep = "".join(c if c.isalnum() else "_" for c in name)
    return "_".join(p for p in keep.split("_") if p)


#: Which label wins where masks overlap, lowest first: an artery drawn over a nerve stays
#: an artery (TOF brightness is the surest evidence), a nerve over the brainstem or a vein
#: stays a nerve (traced along its course), CSF only where nothing else is.
PRECEDENCE: tuple[Label, ...] = (
    Label.CSF,
    Label.BRAINSTEM,
    Label.VEIN,
    Label.CN8,
    Label.CN7,
    Label.ARTERY,
)


def compose_labels(
    masks: dict[Label, NDArray[np.bool_]], shape: tuple[int, ...]
) -> NDArray[np.uint8]:
    """One label map from per-structure masks, overlaps resolved by ``PRECEDENCE``.

    Parameters
    ----------
    masks : dict of Label to ndarray of bool, each of shape ``shape``
        The structures found (missing labels are absent).
    shape : tuple of int, (I, J, K)

    Returns
    -------
    ndarray, uint8, shape ``shape``
        0 where no mask holds.

    Examples
    --------
    >>> import numpy as np
    >>> nerve = np.array([[[True, True, False]]])
    >>> artery = np.array([[[False, True, True]]])
    >>> compose_labels({Label.CN7: nerve, Label.ARTERY: artery}, (1, 1, 3)).ravel().tolist()
    [2, 4, 4]
    """
    out = np.zeros(shape, np.uint8)
    for label in PRECEDENCE:
        if label in masks:
            out[masks[label]] = label
    return out
