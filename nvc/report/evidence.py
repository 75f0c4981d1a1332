"""What the report says about the evidence of one side, read from findings.json.

Small readers of the (additive) findings fields: the nearest arteries, the
unsegmented TOF signal near the nerve (the ``unlabelled_tof_near_nerve``
self-check), the primary offender and the vertebrobasilar system; and the
verdict's wording and colour. Each takes the side's dictionary as
findings.json holds it (or the whole findings) and returns plain text; older
findings without a field give nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from nvc.segments import VULNERABLE_BEYOND_RDP_MM

Status = Literal["positive", "negative", "review"]
#: How the self-check's reason starts (``nvc.quality.unlabelled_tof_check``).
UNSEGMENTED_REASON = "unsegmented TOF signal near the nerve"

#: Segment names as a surgeon reads them.
SEGMENT_NAMES = {
    "RExP": "root exit point",
    "AS": "attached segment",
    "RDP": "root detachment point",
    "TZ": "transition zone",
    "cisternal": "cisternal segment",
}


def arterial_compression(side: dict[str, Any]) -> bool:
    """An artery touching CN VII in its vulnerable zone (the imaging finding, either side)."""
    return any(
        c.get("vessel_class") == "artery" and c.get("grade") and c.get("in_vulnerable_zone")
        for c in side.get("contacts", [])
    )


def verdict_status(side: dict[str, Any], symptomatic: bool | None) -> Status:
    """Colour of a side's verdict: red positive, amber review, green negative.

    A side whose checks failed, or whose nerve was not found, needs review.
    On the symptomatic side of a hemifacial spasm an offender is expected:
    finding none is a reason to look again (amber), never a green "no".
    """
    if not side.get("nerve_found") or side.get("needs_review"):
        return "review"
    if arterial_compression(side):
        return "positive"
    if symptomatic:
        return "review"
    return "negative"


def finding_line(side: dict[str, Any], symptomatic: bool | None) -> str:
    """The imaging finding in words (not advice): arterial compression yes or no."""
    if not side.get("nerve_found"):
        return "Facial nerve not found: no verdict, review the images"
    if arterial_compression(side):
        return "Arterial compression in the vulnerable zone: YES"
    venous = side.get("nvc") and not arterial_compression(side)
    tail = " (venous contact only)" if venous else ""
    if symptomatic:
        return (
            f"Arterial compression in the vulnerable zone: no offender found{tail} — "
            "review the images"
        )
    return f"Arterial compression in the vulnerable zone: no{tail}"


def confidence_line(side: dict[str, Any], voxel_mm: float | None, contact_mm: float = 0.5) -> str:
    """One line: what the confidence is and what it was measured against."""
    conf = float(side.get("confidence", 0.0))
    checks = side.get("quality", {}).get("checks", {})
    passed = sum(1 for c in checks.values() if c.get("passed"))
    contacts = [c for c in side.get("contacts", []) if c.get("in_vulnerable_zone")]
    against = [f"the {contact_mm:g} mm contact threshold"]
    if contacts:
        d = float(contacts[0]["min_distance_mm"])
        against[0] += f" (nearest {d:.1f} mm"
        against[0] += f", measured to about {voxel_mm:.1f} mm)" if voxel_mm else ")"
    rdp = side.get("rdp_mm")
    if rdp is not None:
        against.append(f"the vulnerable zone's end ({rdp + VULNERABLE_BEYOND_RDP_MM:.1f} mm)")
    against.append("the registration")
    if checks:
        against.append(f"{passed} of {len(checks)} self-checks passed")
    return (
        f"Confidence {conf:.2f} of 1 (a score, not a probability): 0.95 for a clearly traced "
        f"nerve, lowered against {', '.join(against)}."
    )


def nearest_lines(side: dict[str, Any]) -> list[str]:
    """ "Nearest arteries: AICA 0.1 mm at the attached segment ...", or nothing for old findings."""
    if "nearest_arteries" not in side or not side.get("nerve_found"):
        return []
    items = side.get("nearest_arteries") or []
    if not items:
        return ["Nearest artery: none within 12 mm of the facial nerve."]
    parts = [
        f"{a['vessel_name']} {float(a['distance_mm']):.1f} mm from the nerve at the "
        f"{SEGMENT_NAMES.get(a['segment'], a['segment'])} "
        f"({float(a['distance_from_rexp_mm']):.1f} mm from the root exit point)"
        for a in items
    ]
    label = "Nearest artery" if len(parts) == 1 else "Nearest arteries"
    return [f"{label}: {'; '.join(parts)}."]


def unsegmented_tof_line(side: dict[str, Any]) -> str | None:
    """The unsegmented TOF signal near the nerve, from the side's self-check (None if absent)."""
    check = side.get("quality", {}).get("checks", {}).get("unlabelled_tof_near_nerve")
    if not check:
        return None
    volume = check.get("value")
    if not isinstance(volume, int | float):
        return None
    if check.get("passed"):
        return (
            f"Unsegmented TOF signal near the nerve: {volume:.1f} mm³ "
            f"(allowed {check.get('allowed', '')}); nothing bright was left unlabelled."
        )
    return (
        f"Unsegmented TOF signal near the nerve: {volume:.1f} mm³ of TOF-bright voxels are not "
        "labelled as vessel: an unsegmented artery may be the offender; check the TOF on the "
        "quality-control page."
    )


def offender_line(side: dict[str, Any]) -> str | None:
    """The primary offender, its origin, course, indentation and distance to the porus."""
    o = side.get("offender")
    if not o:
        return None
    return (
        f"Primary offender: {o['description']}; indentation {float(o['indentation_mm']):.1f} mm; "
        f"{float(o['to_porus_mm']):.1f} mm from the porus acusticus "
        f"({float(o['to_porus_along_nerve_mm']):.1f} mm along the nerve). "
        f"Chosen as {o['why_primary']}."
    )


def vertebrobasilar_line(findings: dict[str, Any]) -> str | None:
    """The vertebrobasilar system in one line, saying when it leans to the symptomatic side."""
    vb = findings.get("vertebrobasilar")
    if not vb:
        return None
    text = f"Vertebrobasilar system: {vb.get('summary', '')}."
    sym = findings.get("symptomatic_side")
    toward = {vb.get("basilar_deviation"), vb.get("vertebral_deviation")} & {sym}
    if sym and toward:
        text += f" It deviates toward the symptomatic ({sym}) side."
    return text
