"""Artery naming on a drawn vertebrobasilar tree: trunks, branches, gaps and crossings."""

from __future__ import annotations

import numpy as np
import pytest

from nvc.phantom.curves import spline_through, tube_sdf
from nvc.vessel_names import NamingParams, artery_tree, name_artery

SPACING = np.array([0.5, 0.5, 0.6])
SHAPE = (120, 110, 100)
#: voxel index -> mm in the drawing frame (x right, y anterior, z superior), origin at the corner
INDEX_TO_MM = np.diag([*SPACING, 1.0])
MID_X = 30.0  # midline (mm)
PMJ_Z = 20.0  # pontomedullary junction height (mm)


def _draw(tubes: dict[str, tuple[np.ndarray, float]]) -> np.ndarray:
    mask = np.zeros(SHAPE, bool)
    for curve, radius in tubes.values():
        mask |= tube_sdf(curve, radius, index_to_mm=INDEX_TO_MM, shape=SHAPE, reach=1.0) <= 0
    return mask


def _tree_parts(*, pica_gap_mm: float = 0.0, aica_touches_pica: bool = False):
    """BA at the midline, both VAs joining it, a right PICA from the VA and a right AICA."""
    va_r = spline_through(np.array([[44, 40, 2], [40, 42, 10], [33, 44, 17], [MID_X, 45, 21]]))
    va_l = spline_through(np.array([[16, 40, 2], [20, 42, 10], [27, 44, 17], [MID_X, 45, 21]]))
    ba = spline_through(np.array([[MID_X, 45, 21], [MID_X, 46, 35], [MID_X, 46, 55]]))
    origin = va_r[np.argmin(np.abs(va_r[:, 2] - 8.0))]
    # a surface gap of pica_gap_mm between the PICA's first end and the VA's wall
    shift = 1.7 + 0.75 + pica_gap_mm if pica_gap_mm else 0.0
    pica_start = origin + np.array([shift, 0.0, 0.0])
    loop_top = [50, 37, 29.4] if aica_touches_pica else [49, 34, 22]
    pica = spline_through(np.array([pica_start, [48, 40, 12], loop_top, [50, 28, 12], [46, 22, 4]]))
    aica_origin = ba[np.argmin(np.abs(ba[:, 2] - 25.0))]
    aica = spline_through(np.array([aica_origin, [38, 42, 28], [50, 38, 31], [56, 32, 30]]))
    return {
        "VA_r": (va_r, 1.7),
        "VA_l": (va_l, 1.7),
        "BA": (ba, 1.5),
        "PICA": (pica, 0.75),
        "AICA": (aica, 0.75),
    }


def _name(parts, which: str, at: float, params: NamingParams | None = None) -> str:
    """Name the artery at fraction ``at`` along the ``which`` tube."""
    params = params or NamingParams()
    mask = _draw(parts)
    tree = artery_tree(
        mask, SPACING, midline_i=MID_X / SPACING[0], pmj_k=PMJ_Z / SPACING[2], params=params
    )
    curve, radius = parts[which]
    centre = curve[int(at * (len(curve) - 1))]
    grid = np.argwhere(mask)
    near = grid[np.linalg.norm(grid * SPACING - centre, axis=1) <= radius + 1.0]
    assert len(near), "the probe must hit the drawn vessel"
    return name_artery(tree, near, params=params)


@pytest.mark.parametrize(
    ("which", "at", "expected"),
    [("BA", 0.6, "BA"), ("VA_r", 0.3, "VA"), ("PICA", 0.5, "PICA"), ("AICA", 0.7, "AICA")],
)
def test_each_artery_of_a_connected_tree_gets_its_name(which, at, expected):
    assert _name(_tree_parts(), which, at) == expected


def test_a_pica_cut_off_from_its_vertebral_artery_by_a_gap_is_still_pica():
    parts = _tree_parts(pica_gap_mm=1.5)
    assert _name(parts, "PICA", 0.5) == "PICA"


def test_a_pica_loop_touching_the_aica_keeps_its_name():
    """The loop merges with the AICA in the mask: the walk must not hop across to the basilar."""
    parts = _tree_parts(aica_touches_pica=True)
    assert _name(parts, "PICA", 0.65) == "PICA"
    assert _name(parts, "AICA", 0.85) == "AICA"


def test_without_bridges_and_turn_costs_the_touching_loop_is_misnamed():
    """The same drawing with gap bridging and turn costs off: shows what they fix."""
    bare = NamingParams(bridge_mm=0.0, turn_mm=0.0, course_bend_deg=180.0)
    parts = _tree_parts(pica_gap_mm=1.5, aica_touches_pica=True)
    assert _name(parts, "PICA", 0.65, bare) == "AICA"
    assert _name(parts, "PICA", 0.65) == "PICA"


def test_a_thinned_stretch_of_the_vertebral_artery_is_not_a_branch():
    """Where the mask thins (e.g. against a nerve) the trunk keeps its name."""
    parts = _tree_parts()
    va, _ = parts["VA_r"]
    third, half = len(va) // 3, len(va) // 2
    parts["VA_r"] = (va[: third + 1], 1.7)
    parts["VA_r_thin"] = (va[third : half + 1], 1.1)
    parts["VA_r_upper"] = (va[half:], 1.7)
    assert _name(parts, "VA_r_thin", 0.5) == "VA"


def test_no_arteries_give_unknown():
    tree = artery_tree(np.zeros((8, 8, 8), bool), SPACING, midline_i=4.0, pmj_k=4.0)
    assert name_artery(tree, np.array([[1, 1, 1]])) == "unknown"


def test_an_aica_crossing_a_pica_keeps_its_name_beyond_the_crossing():
    """The crossing merges the two in the mask; going straight through it is the AICA's course.

    Without turn costs, the AICA's far part walks down the PICA to the VA (shorter than back
    to the basilar) and is misnamed.
    """
    parts = _tree_parts()
    ba, pica = parts["BA"][0], parts["PICA"][0]
    origin = ba[np.argmin(np.abs(ba[:, 2] - 25.0))]
    ascending = pica[: len(pica) // 2]
    cross = ascending[np.argmin(np.abs(ascending[:, 2] - 16.0))]
    aica = spline_through(
        np.array([origin, [38, 44, 21], cross, cross + np.array([8.0, 0.0, -2.5])])
    )
    parts["AICA"] = (aica, 0.75)
    assert _name(parts, "AICA", 0.9) == "AICA"
    assert _name(parts, "AICA", 0.4) == "AICA"
    assert _name(parts, "PICA", 0.65) == "PICA"
    assert _name(parts, "AICA", 0.9, NamingParams(turn_mm=0.0)) == "PICA"


def test_a_pica_cut_off_from_its_vertebral_artery_and_touching_the_aica_is_still_pica():
    """Its origin not segmented, the PICA's loop meets the AICA at a right angle from below.

    The only walk to a trunk turns into the AICA and reaches the basilar
    artery; followed without that turn, the PICA's own course runs down
    beside the medulla, where PICA comes from. Without the rule (every turn
    allowed on the own course) it is misnamed AICA; the AICA keeps its name.
    """
    parts = _tree_parts()
    ba = parts["BA"][0]
    origin = ba[np.argmin(np.abs(ba[:, 2] - 27.0))]
    aica = spline_through(np.array([origin, [40, 40, 28.5], [48, 38, 29], [57, 36, 29]]))
    pica = spline_through(
        np.array(
            [[48, 39, 13], [48, 38.5, 20], [48, 38, 28.4], [49, 33, 24], [50, 28, 12], [46, 22, 4]]
        )
    )
    parts["AICA"], parts["PICA"] = (aica, 0.75), (pica, 0.75)
    for at in (0.45, 0.7):
        assert _name(parts, "PICA", at) == "PICA"
        assert _name(parts, "PICA", at, NamingParams(course_bend_deg=180.0)) == "AICA"
    assert _name(parts, "AICA", 0.5) == "AICA"
    assert _name(parts, "AICA", 0.9) == "AICA"


def _rolled(parts, degrees: float):
    """The whole drawing turned about the AP axis through the junction (a head rolled)."""
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])
    centre = np.array([MID_X, 45.0, PMJ_Z])
    return {k: ((c - centre) @ rot.T + centre, r) for k, (c, r) in parts.items()}, rot


@pytest.mark.parametrize("degrees", [-15.0, 15.0])
def test_names_in_the_brainstem_frame_of_a_rolled_head(degrees):
    """Rolled 15 degrees, the upper basilar artery lies 7-9 mm off the grid's midline.

    Measured across the grid's axis i it would read as a vertebral artery; in the
    brainstem's frame (its axis turned with the head) it is the basilar artery,
    and the AICA joining it is named by its height along that axis.
    """
    parts, rot = _rolled(_tree_parts(), degrees)
    mask = _draw(parts)
    up = rot @ np.array([0.0, 0.0, 1.0])
    tree = artery_tree(
        mask,
        SPACING,
        midline_i=MID_X / SPACING[0],
        pmj_k=PMJ_Z / SPACING[2],
        axis=up,
        pmj_j=45.0 / SPACING[1],
    )
    grid = np.argwhere(mask)

    def probe(which: str, at: float) -> np.ndarray:
        curve, radius = parts[which]
        centre = curve[int(at * (len(curve) - 1))]
        return grid[np.linalg.norm(grid * SPACING - centre, axis=1) <= radius + 1.0]

    top = probe("BA", 0.95)
    assert np.abs(top[:, 0] * SPACING[0] - MID_X).min() > 5.0  # off the grid's midline
    assert name_artery(tree, top) == "BA"
    assert name_artery(tree, probe("AICA", 0.8)) == "AICA"
    # the same tree without the axis: the grid's frame calls the upper basilar artery VA
    flat = artery_tree(mask, SPACING, midline_i=MID_X / SPACING[0], pmj_k=PMJ_Z / SPACING[2])
    assert name_artery(flat, top) == "VA"
