"""Findings of a case: the currency between analysis, report, viewer and batch (findings.json).

``Findings.to_dict`` / ``to_json`` write the contract documented in the
README ("Outputs"); ``Findings.from_dict`` / ``from_json`` read it back into
the same dataclasses (the closed sets of ``nvc.vocabulary`` checked), so the
report, the viewer and the batch read typed attributes, not string keys.
Keys this version does not know (added by a later version, or ``identifiers``)
are kept in ``extra`` and written back unchanged: a round trip is lossless.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, TypeVar, get_args

from nvc import DISCLAIMER
from nvc.contacts import Contact
from nvc.segments import SEGMENTS
from nvc.vascular_context import NearbyArtery, Offender
from nvc.vertebrobasilar import Vertebrobasilar
from nvc.vocabulary import (
    GRADES,
    SIDES,
    VESSEL_CLASSES,
    VESSEL_NAMES,
    Side,
    closed,
)

_T = TypeVar("_T")

#: Version of the findings.json layout (see README "Outputs").
SCHEMA_VERSION = "1.0"

#: What a reader changed (the ``review`` block's ``edits``).
EditKind = Literal[
    "labels",
    "landmark",
    "course",
    "vessel_class",
    "vessel_name",
    "vessel_deleted",
]
EDIT_KINDS: tuple[EditKind, ...] = get_args(EditKind)


class FindingsError(ValueError):
    """A findings file that is not the nvc layout (one line: what is wrong)."""


def contact_to_dict(c: Contact) -> dict[str, Any]:
    """JSON-ready dictionary of one contact (README 'Outputs', ``contacts``)."""
    return asdict(c) | {"location_ras_mm": list(c.location_ras_mm)}


def contact_from_dict(d: Mapping[str, Any]) -> Contact:
    """A contact read back from findings.json.

    Raises
    ------
    FindingsError
        A key missing or a word outside its closed set.
    """
    try:
        grade = d["grade"]
        loc = d["location_ras_mm"]
        return Contact(
            vessel_class=closed(d["vessel_class"], VESSEL_CLASSES, "vessel class"),
            vessel_name=closed(d["vessel_name"], VESSEL_NAMES, "vessel name"),
            min_distance_mm=float(d["min_distance_mm"]),
            segment=closed(d["segment"], SEGMENTS, "segment"),
            distance_from_rexp_mm=float(d["distance_from_rexp_mm"]),
            in_vulnerable_zone=bool(d["in_vulnerable_zone"]),
            grade=None if grade is None else closed(grade, GRADES, "grade"),
            indentation_mm=float(d["indentation_mm"]),
            contact_length_mm=float(d["contact_length_mm"]),
            position=str(d["position"]),
            location_ras_mm=(float(loc[0]), float(loc[1]), float(loc[2])),
        )
    except KeyError as exc:
        raise FindingsError(f"contact without {exc}") from None
    except (TypeError, IndexError, ValueError) as exc:
        raise FindingsError(f"contact: {exc}") from None


_SIDE_KEYS = (
    "side",
    "nerve_found",
    "nvc",
    "mvd_candidate",
    "confidence",
    "reasons",
    "contacts",
    "rdp_mm",
    "nerve_length_mm",
    "cn8_separated",
    "needs_review",
    "review_reasons",
    "quality",
    "nearest_arteries",
    "offender",
)


@dataclass(frozen=True)
class SideFindings:
    """Findings of one side (the patient's left or right).

    Attributes
    ----------
    extra : dict
        Keys of the side's block this version does not know, kept as read.
    """

    side: Side
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
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (contract: README 'Outputs').

        Keys read back that this version does not know stay in ``extra``
        and are written back as they were.
        """
        d = {k: getattr(self, k) for k in _SIDE_KEYS}
        d["reasons"] = list(self.reasons)
        d["review_reasons"] = list(self.review_reasons)
        d["contacts"] = [contact_to_dict(c) for c in self.contacts]
        d["nearest_arteries"] = [
            asdict(a) | {"location_ras_mm": list(a.location_ras_mm)} for a in self.nearest_arteries
        ]
        d["offender"] = None if self.offender is None else asdict(self.offender)
        return d | self.extra

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SideFindings:
        """One side's block of findings.json.

        Raises
        ------
        FindingsError
            A required key missing or a value of the wrong kind.
        """
        # the additive MVD-plan blocks: one this version cannot read is kept as it was
        nearest = _optional(
            lambda v: tuple(_nearby_artery(a) for a in v), d.get("nearest_arteries", [])
        )
        offender = _optional(_offender, d.get("offender"))
        unread = {
            k
            for k, ok in (
                ("nearest_arteries", nearest is not None),
                ("offender", offender is not None or d.get("offender") is None),
            )
            if not ok and k in d
        }
        try:
            rdp, length = d.get("rdp_mm"), d.get("nerve_length_mm")
            return cls(
                side=closed(d["side"], SIDES, "side"),
                nerve_found=bool(d["nerve_found"]),
                nvc=bool(d["nvc"]),
                mvd_candidate=bool(d["mvd_candidate"]),
                confidence=float(d["confidence"]),
                reasons=tuple(str(r) for r in d["reasons"]),
                contacts=tuple(contact_from_dict(c) for c in d.get("contacts", ())),
                rdp_mm=None if rdp is None else float(rdp),
                nerve_length_mm=None if length is None else float(length),
                cn8_separated=bool(d.get("cn8_separated", False)),
                needs_review=bool(d.get("needs_review", False)),
                review_reasons=tuple(str(r) for r in d.get("review_reasons", ())),
                quality=dict(d.get("quality", {})),
                nearest_arteries=nearest if nearest is not None else (),
                offender=offender,
                extra={k: v for k, v in d.items() if k not in _SIDE_KEYS or k in unread},
            )
        except KeyError as exc:
            raise FindingsError(f"side without {exc}") from None
        except (TypeError, ValueError) as exc:
            raise FindingsError(f"side: {exc}") from None


@dataclass(frozen=True)
class Edit:
    """One change a reader made (an entry of the ``review`` block's ``edits``).

    Attributes
    ----------
    kind : str
        One of ``EDIT_KINDS``.
    side : {"left", "right"} or None
        The side it concerns, when it concerns one.
    description : str
        What was changed, in words (shown in the report).
    data : dict
        What is needed to redo it (points in RAS mm, label values, names).
    """

    kind: EditKind
    side: Side | None
    description: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {"kind": self.kind, "side": self.side, "description": self.description} | {
            "data": self.data
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Edit:
        """An edit read back."""
        side = d.get("side")
        return cls(
            kind=closed(d["kind"], EDIT_KINDS, "edit kind"),
            side=None if side is None else closed(side, SIDES, "side"),
            description=str(d["description"]),
            data=dict(d.get("data", {})),
        )


@dataclass(frozen=True)
class AutomatedVerdict:
    """A side's automated verdict, kept beside the reviewed one."""

    nvc: bool
    mvd_candidate: bool
    confidence: float
    needs_review: bool

    @classmethod
    def of(cls, s: SideFindings) -> AutomatedVerdict:
        """The verdict part of a side's findings."""
        return cls(s.nvc, s.mvd_candidate, s.confidence, s.needs_review)


@dataclass(frozen=True)
class Review:
    """The ``review`` block: who reviewed, when, what they changed, what the automation said.

    Attributes
    ----------
    reader : str or None
        The reader's initials, when given.
    time_utc : str
        When the review was saved (ISO 8601, UTC).
    edits : tuple of Edit
        Every change, in the order made.
    automated : dict
        Per side, the automated verdict.
    """

    reader: str | None
    time_utc: str
    edits: tuple[Edit, ...]
    automated: dict[Side, AutomatedVerdict]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "reader": self.reader,
            "time_utc": self.time_utc,
            "edits": [e.to_dict() for e in self.edits],
            "automated": {k: asdict(v) for k, v in self.automated.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Review:
        """A review block read back.

        Raises
        ------
        FindingsError
            A required key missing or a value of the wrong kind.
        """
        try:
            reader = d.get("reader")
            return cls(
                reader=None if reader is None else str(reader),
                time_utc=str(d["time_utc"]),
                edits=tuple(Edit.from_dict(e) for e in d.get("edits", ())),
                automated={
                    closed(k, SIDES, "side"): AutomatedVerdict(
                        nvc=bool(v["nvc"]),
                        mvd_candidate=bool(v["mvd_candidate"]),
                        confidence=float(v["confidence"]),
                        needs_review=bool(v["needs_review"]),
                    )
                    for k, v in d.get("automated", {}).items()
                },
            )
        except KeyError as exc:
            raise FindingsError(f"review without {exc}") from None
        except (TypeError, ValueError) as exc:
            raise FindingsError(f"review: {exc}") from None


_TOP_KEYS = (
    "schema_version",
    "disclaimer",
    "symptomatic_side",
    "sides",
    "registration",
    "acquisition",
    "provenance",
    "review",
    "vertebrobasilar",
)


@dataclass(frozen=True)
class Findings:
    """Everything the analysis concluded about one patient.

    Attributes
    ----------
    sides : dict
        ``{"left"|"right": SideFindings}``.
    symptomatic_side : {"left", "right"} or None
    registration, acquisition, provenance : dict
        Open records (README 'Outputs').
    review : Review or None
        Present in a reviewed revision (``findings_reviewed.json``).
    extra : dict
        Top-level keys this version does not know (e.g. ``identifiers``), kept as read.
    """

    sides: dict[Side, SideFindings]
    symptomatic_side: Side | None
    registration: dict[str, Any]
    acquisition: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    review: Review | None = None
    #: Deviation, dominance and dolichoectasia of the vertebrobasilar system (additive, 1.0).
    vertebrobasilar: Vertebrobasilar | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def reviewed(self) -> bool:
        """Whether a reader reviewed these findings."""
        return self.review is not None

    def side_order(self) -> tuple[Side, ...]:
        """Symptomatic side first, else right then left."""
        s = self.symptomatic_side
        if s is not None:
            return (s, "left" if s == "right" else "right")
        return ("right", "left")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary with ``schema_version`` first."""
        d: dict[str, Any] = {
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
        d |= self.extra
        if self.review is not None:
            d["review"] = self.review.to_dict()
        return d

    def to_json(self) -> str:
        """The text of findings.json (indented, no NaN)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, d: Any) -> Findings:
        """Findings read back from findings.json's dictionary.

        Raises
        ------
        FindingsError
            Not the nvc layout (no ``sides``), a required key missing, or a word
            outside its closed set.
        """
        if not isinstance(d, Mapping) or not isinstance(d.get("sides"), Mapping):
            raise FindingsError("not an nvc findings file (no 'sides')")
        symptomatic = d.get("symptomatic_side")
        try:
            sides = {
                closed(k, SIDES, "side"): SideFindings.from_dict(v) for k, v in d["sides"].items()
            }
            sym = None if symptomatic is None else closed(symptomatic, SIDES, "symptomatic side")
        except ValueError as exc:
            raise FindingsError(str(exc)) from None
        review, vb = d.get("review"), d.get("vertebrobasilar")
        vertebrobasilar = _optional(_vertebrobasilar, vb)
        unread_vb = vb is not None and vertebrobasilar is None
        return cls(
            sides=sides,
            symptomatic_side=sym,
            registration=dict(d.get("registration", {})),
            acquisition=dict(d.get("acquisition", {})),
            provenance=dict(d.get("provenance", {})),
            review=None if review is None else Review.from_dict(review),
            vertebrobasilar=vertebrobasilar,
            extra={
                k: v
                for k, v in d.items()
                if k not in _TOP_KEYS or (k == "vertebrobasilar" and unread_vb)
            },
        )

    @classmethod
    def from_json(cls, text: str) -> Findings:
        """Findings read back from the text of findings.json.

        Raises
        ------
        FindingsError
            Not JSON, or not the nvc layout.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FindingsError(f"not valid JSON ({exc})") from None
        return cls.from_dict(data)


def _optional(read: Callable[[Any], _T], value: Any) -> _T | None:
    """``read(value)``, or None when ``value`` is None or not in the layout ``read`` knows."""
    if value is None:
        return None
    try:
        return read(value)
    except (KeyError, TypeError, ValueError):
        return None


def _nearby_artery(d: Mapping[str, Any]) -> NearbyArtery:
    """A ``nearest_arteries`` entry read back."""
    return NearbyArtery(
        vessel_name=str(d["vessel_name"]),
        distance_mm=float(d["distance_mm"]),
        segment=closed(d["segment"], SEGMENTS, "segment"),
        distance_from_rexp_mm=float(d["distance_from_rexp_mm"]),
        location_ras_mm=_xyz(d["location_ras_mm"]),
    )


def _offender(d: Mapping[str, Any]) -> Offender:
    """The ``offender`` block read back (every field of ``Offender``)."""
    values = {f.name: d[f.name] for f in fields(Offender)}
    return Offender(**values)


def _vertebrobasilar(d: Mapping[str, Any]) -> Vertebrobasilar:
    """The ``vertebrobasilar`` block read back (tuples where the dataclass has them)."""
    values = {f.name: d[f.name] for f in fields(Vertebrobasilar) if f.name in d}
    if values.get("junction_ras_mm") is not None:
        values["junction_ras_mm"] = _xyz(values["junction_ras_mm"])
    return Vertebrobasilar(**values)


def _xyz(v: Any) -> tuple[float, float, float]:
    x, y, z = (float(c) for c in v)
    return (x, y, z)
