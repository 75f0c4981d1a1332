"""Per-side verdict: neurovascular compression, MVD candidate, confidence and reasons."""

from __future__ import annotations

from dataclasses import dataclass

from nvc.contacts import Contact


@dataclass(frozen=True)
class DecisionParams:
    """Decision thresholds.

    Attributes
    ----------
    uncertain_margin_mm : float
        Distances this close to ``contact_mm`` (or within a voxel, whichever
        is more) lower the confidence, in proportion to their margin.
    min_distance_factor : float
        Lowest factor a distance at the threshold leaves of the confidence.
    zone_margin_mm : float
        Contacts this close to the end of the vulnerable zone lower the confidence.
    """

    uncertain_margin_mm: float = 0.25
    min_distance_factor: float = 0.3
    zone_margin_mm: float = 1.0


@dataclass(frozen=True)
class SideVerdict:
    """Verdict of one side."""

    nvc: bool
    mvd_candidate: bool
    confidence: float
    reasons: tuple[str, ...]


def decide(
    contacts: list[Contact],
    *,
    rdp_mm: float,
    symptomatic: bool | None,
    registration_ok: bool,
    nerve_quality: float,
    contact_mm: float,
    voxel_mm: float = 0.0,
    params: DecisionParams = DecisionParams(),
) -> SideVerdict:
    """NVC: any vessel touching CN VII in the vulnerable zone (RExP to RDP + 4 mm).

    MVD candidate: an artery touching CN VII in the vulnerable zone on the
    symptomatic side. When the symptomatic side is not given, a side with
    arterial NVC is flagged and the reasons say the side was not given.

    Parameters
    ----------
    contacts : list of Contact
        The side's vessels within the reporting distance of CN VII
        (``nvc.contacts.measure_contacts``), nearest first.
    rdp_mm : float
        Arc length of the root detachment point from the root exit point, mm.
    symptomatic : bool or None
        Whether this is the symptomatic side; None when not given.
    registration_ok : bool
        False when the registration was rated poor (lowers the confidence).
    nerve_quality : float
        0-1, how clearly CN VII was traced.
    contact_mm : float
        The contact threshold the contacts were graded with
        (``ContactParams.contact_mm``); a contact is a graded one.
    voxel_mm : float
        Largest voxel side of the T2 (mm): distances are measured to about a
        voxel, so a distance within a voxel of ``contact_mm`` lowers the
        confidence, the more the nearer.
    params : DecisionParams
        Margins that lower the confidence.

    Returns
    -------
    SideVerdict
        ``nvc``, ``mvd_candidate``, ``confidence`` (0-1) and the reasons (text),
        the contact behind the verdict first.

    Examples
    --------
    >>> from nvc.contacts import Contact
    >>> aica = Contact(
    ...     vessel_class="artery", vessel_name="AICA", min_distance_mm=0.1, segment="AS",
    ...     distance_from_rexp_mm=3.0, in_vulnerable_zone=True, grade="contact",
    ...     indentation_mm=0.0, contact_length_mm=2.5, position="anterior-inferior",
    ...     location_ras_mm=(10.0, -2.0, -30.0),
    ... )
    >>> verdict = decide([aica], rdp_mm=8.0, symptomatic=True, registration_ok=True,
    ...                  nerve_quality=1.0, contact_mm=0.5)
    >>> verdict.nvc, verdict.mvd_candidate, verdict.confidence
    (True, True, 0.95)
    >>> print(verdict.reasons[0])
    AICA (artery) contact at AS, 3.0 mm from the root exit point, 0.1 mm from the nerve,
    anterior-inferior
    >>> decide([], rdp_mm=8.0, symptomatic=False, registration_ok=True, nerve_quality=1.0,
    ...        contact_mm=0.5).reasons
    ('no vessel within 2 mm of the facial nerve',)
    """
    reasons: list[str] = []
    touching = [c for c in contacts if c.grade is not None]
    in_zone = [c for c in touching if c.in_vulnerable_zone]
    arterial = [c for c in in_zone if c.vessel_class == "artery"]
    for c in in_zone:
        grade = c.grade or "contact"
        reasons.append(
            f"{c.vessel_name} ({c.vessel_class}) {grade} at {c.segment}, "
            f"{c.distance_from_rexp_mm:.1f} mm from the root exit point, "
            f"{c.min_distance_mm:.1f} mm from the nerve, {c.position}"
        )
    for c in touching:
        if not c.in_vulnerable_zone:
            reasons.append(
                f"{c.vessel_name} touches the distal cisternal segment "
                f"({c.distance_from_rexp_mm:.1f} mm from the root exit point): outside the "
                f"vulnerable zone (RExP to RDP + 4 mm = {rdp_mm + 4.0:.1f} mm)"
            )
    near = [c for c in contacts if c.grade is None]
    for c in near[:2]:
        reasons.append(
            f"{c.vessel_name} near but apart ({c.min_distance_mm:.1f} mm) at {c.segment}"
        )
    nvc = bool(in_zone)
    if not contacts:
        reasons.append("no vessel within 2 mm of the facial nerve")
    if nvc and not arterial:
        reasons.append("venous contact only: not an arterial offender")
    mvd = bool(arterial) and symptomatic is not False
    if arterial and symptomatic is None:
        reasons.append("symptomatic side not given: flagged on arterial contact alone")
    if arterial and symptomatic is False:
        reasons.append("arterial contact on the asymptomatic side (common in healthy people)")

    confidence = 0.95 * max(min(nerve_quality, 1.0), 0.0)
    if not registration_ok:
        confidence *= 0.5
        reasons.append("registration of the angiogram is doubtful")
    decisive = in_zone if nvc else [c for c in contacts if c.in_vulnerable_zone]
    # a gap is measured to about a voxel on partial-volume images: within that of the
    # threshold, touching and apart cannot be told apart, and the nearer the less
    uncertainty = max(params.uncertain_margin_mm, voxel_mm)
    for c in decisive[:1]:
        margin = abs(c.min_distance_mm - contact_mm)
        if margin < uncertainty:
            confidence *= max(params.min_distance_factor, margin / uncertainty)
            reasons.append(
                f"distance close to the contact threshold ({c.min_distance_mm:.1f} mm against"
                f" {contact_mm:g} mm, measured to about {uncertainty:.1f} mm)"
            )
        if abs(c.distance_from_rexp_mm - (rdp_mm + 4.0)) < params.zone_margin_mm:
            confidence *= 0.8
            reasons.append("contact close to the end of the vulnerable zone")
    return SideVerdict(nvc, mvd, round(confidence, 2), tuple(reasons))
