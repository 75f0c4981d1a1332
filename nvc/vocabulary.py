"""The closed sets of words findings.json uses: sides, vessel classes and names, grades.

One definition serves the analysis, the findings file, the report and the
viewer, so a value outside these sets is caught where it is made (and where a
file is read back) rather than shown.
"""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

from nvc.segments import SEGMENTS, Segment

__all__ = [
    "GRADES",
    "SEGMENTS",
    "SIDES",
    "VESSEL_CLASSES",
    "VESSEL_NAMES",
    "Grade",
    "Segment",
    "Side",
    "VesselClass",
    "VesselName",
    "closed",
]

#: The patient's side (anatomical, not screen).
Side = Literal["left", "right"]
#: Both sides, left first (the order findings.json lists them).
SIDES: tuple[Side, ...] = ("left", "right")

#: What a vessel near the nerve is.
VesselClass = Literal["artery", "vein", "unknown"]
VESSEL_CLASSES: tuple[VesselClass, ...] = get_args(VesselClass)

#: Which vessel it is (arteries by where they join the trunks; every vein is "vein").
VesselName = Literal["AICA", "PICA", "VA", "BA", "SCA", "vein", "unknown"]
VESSEL_NAMES: tuple[VesselName, ...] = get_args(VesselName)

#: Contact grade (Sindou): touching, the nerve indented, or displaced; None when apart.
Grade = Literal["contact", "indentation", "displacement"]
GRADES: tuple[Grade, ...] = get_args(Grade)

_T = TypeVar("_T", bound=str)


def closed(value: object, allowed: tuple[_T, ...], what: str) -> _T:
    """``value`` as a member of the closed set ``allowed``.

    Parameters
    ----------
    value : object
        The word read (from findings.json, a table or an edit).
    allowed : tuple of str
        The closed set (``SIDES``, ``VESSEL_NAMES``, ...).
    what : str
        What the word names, for the error message.

    Returns
    -------
    str
        ``value``, typed as a member of the set.

    Raises
    ------
    ValueError
        One line naming the value and the allowed words.
    """
    for a in allowed:
        if value == a:
            return a
    raise ValueError(f"{what} {value!r} is not one of {', '.join(allowed)}")
