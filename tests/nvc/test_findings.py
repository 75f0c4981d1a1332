"""findings.json read back into the same typed dataclasses it was written from."""

from __future__ import annotations

import json

import pytest

from nvc.contacts import Contact
from nvc.findings import (
    AutomatedVerdict,
    Edit,
    Findings,
    FindingsError,
    Review,
    SideFindings,
)
from nvc.io import VolumeLoadError, write_text
from nvc.io.results import load_findings

CONTACT = Contact(
    vessel_class="artery",
    vessel_name="AICA",
    min_distance_mm=0.12,
    segment="AS",
    distance_from_rexp_mm=4.3,
    in_vulnerable_zone=True,
    grade="indentation",
    indentation_mm=0.41,
    contact_length_mm=2.5,
    position="anterior-inferior",
    location_ras_mm=(12.5, -3.25, -20.0),
)


def _findings(review: Review | None = None) -> Findings:
    right = SideFindings(
        side="right",
        nerve_found=True,
        nvc=True,
        mvd_candidate=True,
        confidence=0.93,
        reasons=("AICA (artery) indentation at AS",),
        contacts=(CONTACT, CONTACT.__class__(**{**CONTACT.__dict__, "grade": None})),
        rdp_mm=8.6,
        nerve_length_mm=22.1,
        cn8_separated=True,
        quality={"needs_review": False, "review_reasons": [], "checks": {}},
    )
    left = SideFindings(
        side="left",
        nerve_found=False,
        nvc=False,
        mvd_candidate=False,
        confidence=0.0,
        reasons=("facial nerve not found: no path",),
        needs_review=True,
        review_reasons=("facial nerve not found: no path",),
        extra={"a_later_key": [{"name": "PICA", "distance_mm": 3.1}]},
    )
    return Findings(
        sides={"left": left, "right": right},
        symptomatic_side="right",
        registration={"quality": "good", "t2_to_mra_ras": [[1.0, 0, 0, 0]] * 4},
        acquisition={"t2": {"shape": [10, 10, 10]}},
        provenance={"config_sha256": "abc"},
        review=review,
        extra={"identifiers": {"t2": {"patient_name": "<b>X</b>"}}},
    )


def test_findings_written_and_read_back_are_equal(tmp_path):
    review = Review(
        reader="AB",
        time_utc="2026-12-07T06:00:00Z",
        edits=(Edit("landmark", "right", "RDP moved 3.0 mm", {"ras_mm": [1.0, 2.0, 3.0]}),),
        automated={"right": AutomatedVerdict(True, True, 0.93, False)},
    )
    for f in (_findings(), _findings(review)):
        path = write_text(tmp_path / "findings.json", f.to_json())
        back = load_findings(path)
        assert back == f
        assert back.to_json() == f.to_json()
        assert back.sides["right"].contacts[0].vessel_name == "AICA"
        assert isinstance(back.sides["right"].contacts[0].location_ras_mm, tuple)
    assert load_findings(path).review == review and load_findings(path).reviewed


def test_the_keys_written_stay_those_of_the_contract():
    d = json.loads(_findings().to_json())
    assert list(d)[:7] == [
        "schema_version",
        "disclaimer",
        "symptomatic_side",
        "sides",
        "registration",
        "acquisition",
        "provenance",
    ]
    assert "review" not in d and d["identifiers"]["t2"]["patient_name"] == "<b>X</b>"
    side = d["sides"]["right"]
    assert set(side) == {
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
    }
    assert "vertebrobasilar" in d
    assert set(side["contacts"][0]) == set(CONTACT.__dict__)
    assert side["contacts"][1]["grade"] is None
    # a key a later version adds is kept where it was, unchanged
    assert d["sides"]["left"]["a_later_key"][0]["name"] == "PICA"


def test_a_word_outside_its_closed_set_is_refused_in_one_line(tmp_path):
    good = json.loads(_findings().to_json())
    for path, value in (
        (("symptomatic_side",), "both"),
        (("sides", "right", "contacts", 0, "vessel_name"), "MCA"),
        (("sides", "right", "contacts", 0, "segment"), "canal"),
        (("sides", "right", "contacts", 0, "grade"), "squeezed"),
        (("sides", "right", "contacts", 0, "vessel_class"), "nerve"),
    ):
        bad = json.loads(json.dumps(good))
        node = bad
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        with pytest.raises(FindingsError, match=repr(value)):
            Findings.from_dict(bad)
        file = write_text(tmp_path / "f.json", json.dumps(bad))
        with pytest.raises(VolumeLoadError) as err:
            load_findings(file)
        assert "\n" not in str(err.value)
    for text in ("{", "[]", '{"sides": 3}'):
        with pytest.raises(FindingsError):
            Findings.from_json(text)
