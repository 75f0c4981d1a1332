"""Segments of the facial nerve's course, by arc length from the root exit point.

One definition serves the phantom's truth and the analysis, so both name a
position on CN VII the same way. Arc length ``s`` is in mm along the nerve's
centerline from the root exit point (RExP, ``s = 0``); ``rdp_mm`` is the arc
length of the root detachment point (RDP).

=========  =====================================================
segment    arc length
=========  =====================================================
RExP       ``s <= REXP_HALF_WIDTH_MM``
AS         attached segment, up to ``RDP - RDP_HALF_WIDTH_MM``
RDP        within ``RDP_HALF_WIDTH_MM`` of the RDP
TZ         transition zone, up to ``RDP + TRANSITION_ZONE_MM``
cisternal  beyond, to the internal auditory canal
=========  =====================================================

The vulnerable zone runs from the RExP to ``RDP + VULNERABLE_BEYOND_RDP_MM``.
"""

from __future__ import annotations

from typing import Literal

Segment = Literal["RExP", "AS", "RDP", "TZ", "cisternal"]
SEGMENTS: tuple[Segment, ...] = ("RExP", "AS", "RDP", "TZ", "cisternal")

#: The root exit point is a point; contacts within this arc length of it are "at the RExP".
REXP_HALF_WIDTH_MM = 1.5
#: Contacts within this arc length of the root detachment point are "at the RDP".
RDP_HALF_WIDTH_MM = 1.0
#: Transition zone (central to peripheral myelin) length beyond the RDP (literature: 2-2.5 mm).
TRANSITION_ZONE_MM = 2.5
#: The vulnerable zone extends this far beyond the RDP.
VULNERABLE_BEYOND_RDP_MM = 4.0


def segment_at(s_mm: float, rdp_mm: float) -> Segment:
    """Name the segment of CN VII at an arc length.

    Parameters
    ----------
    s_mm : float
        Arc length along CN VII's centerline from the root exit point, mm.
    rdp_mm : float
        Arc length of the root detachment point, mm.

    Returns
    -------
    {"RExP", "AS", "RDP", "TZ", "cisternal"}
        See the table of the module docstring.

    Examples
    --------
    >>> rdp = 8.0
    >>> [segment_at(s, rdp) for s in (0.5, 4.0, 8.5, 10.0, 15.0)]
    ['RExP', 'AS', 'RDP', 'TZ', 'cisternal']
    """
    if s_mm <= REXP_HALF_WIDTH_MM:
        return "RExP"
    if abs(s_mm - rdp_mm) <= RDP_HALF_WIDTH_MM:
        return "RDP"
    if s_mm < rdp_mm:
        return "AS"
    if s_mm <= rdp_mm + TRANSITION_ZONE_MM:
        return "TZ"
    return "cisternal"


def in_vulnerable_zone(s_mm: float, rdp_mm: float) -> bool:
    """Whether an arc length lies in the vulnerable zone (RExP to RDP + 4 mm).

    Parameters
    ----------
    s_mm : float
        Arc length along CN VII from the root exit point, mm.
    rdp_mm : float
        Arc length of the root detachment point, mm.

    Returns
    -------
    bool
        True from the RExP to ``VULNERABLE_BEYOND_RDP_MM`` beyond the RDP.

    Examples
    --------
    >>> in_vulnerable_zone(11.5, rdp_mm=8.0), in_vulnerable_zone(12.5, rdp_mm=8.0)
    (True, False)
    """
    return s_mm <= rdp_mm + VULNERABLE_BEYOND_RDP_MM
