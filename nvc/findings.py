"""Findings of a case: the currency between analysis, report, viewer and batch (findings.json)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from nvc import DISCLAIMER
from nvc.contacts import Contact
from nvc.vascular_context import NearbyArtery, Offender
from nvc.vertebrobasilar import Vertebrobasilar

#: Version of the findings.json layout (see README "Outputs").
SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class SideFindings:
    """Findings of one side (the patient's left or right)."""

    side: str
    nerve_found: bool
    nvc: bool
    mvd_candidate: bool
    confidence: float
    reasons: tuple[str, ...]
    contacts: tuple[Contact, ...] = ()
    rdp_mm: float | None = None
    nerve_length_mm: float | None = None
    cn8_separated: bool = False
    needs_review: bool = False
    review_reasons: tuple[str, ...] = ()
    quality: dict[str, Any] = field(default_factory=dict)
    #: The nearest one or two arteries, whatever the reporting threshold (additive, 1.0).
    nearest_arteries: tuple[NearbyArtery, ...] = ()
    #: The primary arterial offender, its origin, course and porus distance (additive, 1.0).
    offender: Offender | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (contract: README 'Outputs')."""
        d = asdict(self)
        d["nearest_arteries"] = [
            asdict(a) | {"location_ras_mm": list(a.location_ras_mm)} for a in self.nearest_arteries
        ]
        d["reasons"] = list(self.reasons)
        d["review_reasons"] = list(self.review_reasons)
        d["contacts"] = [
            asdict(c) | {"location_ras_mm": list(c.location_ras_mm)} for c in self.contacts
        ]
        return d


@dataclass(frozen=True)
class Findings:
    """Everything the analysis concluded about one patient."""

    sides: dict[str, SideFindings]
    symptomatic_side: str | None
    registration: dict[str, Any]
    acquisition: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    #: Deviation, dominance and dolichoectasia of the vertebrobasilar system (additive, 1.0).
    vertebrobasilar: Vertebrobasilar | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary with ``schema_version`` first."""
        return {
            "schema_version": SCHEMA_VERSION,
            "disclaimer": DISCLAIMER,
            "symptomatic_side": self.symptomatic_side,
            "sides": {k: v.to_dict() for k, v in self.sides.items()},
            "registration": self.registration,
            "acquisition": self.acquisition,
            "provenance": self.provenance,
            "vertebrobasilar": None
            if self.vertebrobasilar is None
            else asdict(self.vertebrobasilar),
        }
