"""Posterior-fossa geometry of a phantom case, in anatomical RAS millimetres.

The anatomical frame has x to the patient's right, y anterior, z superior,
the origin near the midline of the pontomedullary junction. Structures are
ellipsoids, half-spaces and tubes around smooth centerlines; every tube keeps
its dense centerline so truth distances are computed on the geometry itself,
not on a voxel grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d
from scipy.spatial import cKDTree

from nvc.labels import Label
from nvc.phantom import curves
from nvc.phantom.params import SIDES, CourseParams, PhantomParams, Side, SideParams, WideParams
from nvc.segments import RDP_HALF_WIDTH_MM, REXP_HALF_WIDTH_MM, TRANSITION_ZONE_MM

UP = np.array([0.0, 0.0, 1.0])
ANTERIOR = np.array([0.0, 1.0, 0.0])

#: Vessels nearer than this (surface gap, mm) to CN VII are listed in the truth.
REPORT_WITHIN_MM = 2.0
#: Vessels that are not routed to CN VII keep at least this surface gap (mm) to it.
BYSTANDER_CLEARANCE_MM = 3.0


@dataclass(frozen=True)
class Ellipsoid:
    """Axis-aligned ellipsoid (mm)."""

    center: NDArray[np.float64]
    radii: NDArray[np.float64]

    def sdf(self, p: NDArray[np.floating]) -> NDArray[np.float64]:
        """Approximate signed distance (mm, negative inside), exact on the surface."""
        p = np.asarray(p)
        dtype = p.dtype if p.dtype == np.float32 else np.float64
        q = (p - self.center.astype(dtype)) / self.radii.astype(dtype)
        k0 = np.sqrt(np.einsum("...i,...i->...", q, q))
        qr = q / self.radii.astype(dtype)
        k1 = np.sqrt(np.einsum("...i,...i->...", qr, qr))
        return np.where(k1 > 1e-9, k0 * (k0 - 1) / np.maximum(k1, 1e-9), -self.radii.min())


@dataclass(frozen=True)
class Tube:
    """A nerve or vessel: constant radius around a dense centerline (mm)."""

    name: str
    label: Label
    curve: NDArray[np.float64]
    radius: float
    vessel_class: str | None = None
    vessel_name: str | None = None
    side: Side | None = None


@dataclass(frozen=True)
class Canal:
    """Internal auditory canal: a cylinder from the porus into the petrous bone."""

    porus: NDArray[np.float64]
    axis: NDArray[np.float64]
    radius: float
    length: float


@dataclass(frozen=True)
class NerveCourse:
    """CN VII of one side: dense centerline with its landmarks.

    Attributes
    ----------
    centerline : ndarray, shape (N, 3)
        From the root exit point (index 0) to the fundus of the canal, mm.
    rdp_mm, porus_mm : float
        Arc lengths of the root detachment point and of the porus.
    """

    centerline: NDArray[np.float64]
    rdp_mm: float
    porus_mm: float


@dataclass(frozen=True)
class Sulcus:
    """Shape of the pontomedullary sulcus beyond the plain union of pons and medulla.

    Attributes
    ----------
    fillet_mm : float
        Radius of a smooth union of pons and medulla (rounds the crease; 0 = sharp).
    groove_mm : float
        Depth of a groove along the crease (deepens it).
    groove_z_mm, groove_width_mm : float
        Height of the groove and its Gaussian half-width.
    """

    fillet_mm: float = 0.0
    groove_mm: float = 0.0
    groove_z_mm: float = 0.0
    groove_width_mm: float = 1.5


def brainstem_sdf(
    pons: Ellipsoid, medulla: Ellipsoid, sulcus: Sulcus | None, p: NDArray[np.floating]
) -> NDArray[np.float64]:
    """Signed distance-like field (mm, negative inside) of the brainstem.

    Without a ``sulcus`` it is the union of pons and medulla (the standard variety).
    """
    a = pons.sdf(p)
    b = medulla.sdf(p)
    if sulcus is None:
        return np.minimum(a, b)
    d = np.minimum(a, b)
    k = sulcus.fillet_mm
    if k > 0:
        h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
        d = b * (1.0 - h) + a * h - k * h * (1.0 - h)
    if sulcus.groove_mm > 0:
        z = np.asarray(p)[..., 2]
        d = d + sulcus.groove_mm * np.exp(
            -(((z - sulcus.groove_z_mm) / sulcus.groove_width_mm) ** 2)
        )
    return d


@dataclass(frozen=True)
class Anatomy:
    """All structures of one case in the anatomical frame.

    ``cerebellum`` holds the hemispheres, the vermis and (wide variety) the flocculi.
    """

    pons: Ellipsoid
    medulla: Ellipsoid
    cerebellum: tuple[Ellipsoid, ...]
    fossa: Ellipsoid
    clivus_y: float
    canals: dict[Side, Canal]
    tubes: tuple[Tube, ...]
    cn7: dict[Side, NerveCourse]
    sulcus: Sulcus | None = None

    def brainstem_sdf(self, p: NDArray[np.floating]) -> NDArray[np.float64]:
        """Signed distance (mm) to the brainstem (pons united with medulla)."""
        return brainstem_sdf(self.pons, self.medulla, self.sulcus, p)

    def tube(self, name: str) -> Tube:
        """The tube of that name."""
        for t in self.tubes:
            if t.name == name:
                return t
        raise KeyError(name)


def build_anatomy(params: PhantomParams) -> Anatomy:
    """Construct the geometry of a case (deterministic in ``params``)."""
    a = params.anatomy
    s = a.scale
    w = params.wide
    pons_c = np.array([0.0, 1.0, 8.0]) * s
    medulla_c = np.array([0.0, -1.0, -14.0]) * s
    if w is not None:
        pons_c = pons_c + np.array(w.pons_shift_mm)
        medulla_c = medulla_c + np.array(w.medulla_shift_mm)
    pons = Ellipsoid(pons_c, np.array(a.pons_radii_mm) * s)
    medulla = Ellipsoid(medulla_c, np.array(a.medulla_radii_mm) * s)
    sulcus = None if w is None else _sulcus(pons, medulla, w)

    def bs(p: NDArray[np.float64]) -> NDArray[np.float64]:
        return brainstem_sdf(pons, medulla, sulcus, p)

    cerebellum: tuple[Ellipsoid, ...] = (
        Ellipsoid(np.array([24.0, -26.0, -1.0]) * s, np.array([23.0, 20.0, 21.0]) * s),
        Ellipsoid(np.array([-24.0, -26.0, -1.0]) * s, np.array([23.0, 20.0, 21.0]) * s),
        Ellipsoid(np.array([0.0, -25.0, -2.0]) * s, np.array([10.0, 10.5, 16.0]) * s),
    )
    if w is not None and w.csf_width_mm:
        c = w.csf_width_mm
        shift = (np.array([0.6 * c, -0.8 * c, 0.0]), np.array([-0.6 * c, -0.8 * c, 0.0]))
        cerebellum = (
            Ellipsoid(cerebellum[0].center + shift[0], cerebellum[0].radii),
            Ellipsoid(cerebellum[1].center + shift[1], cerebellum[1].radii),
            Ellipsoid(cerebellum[2].center + np.array([0.0, -c, 0.0]), cerebellum[2].radii),
        )
    fossa = Ellipsoid(np.array([0.0, -12.0, -2.0]) * s, np.array([60.0, 50.0, 44.0]) * s)
    pons_front = float(pons.center[1] + pons.radii[1])
    ba_y = pons_front + a.ba_radius_mm + 0.6
    clivus_y = ba_y + a.ba_radius_mm + 1.5

    tubes: list[Tube] = []
    cn7: dict[Side, NerveCourse] = {}
    canals: dict[Side, Canal] = {}
    cn8: dict[Side, Tube] = {}
    z_crease = {}
    for side in SIDES:
        sp = params.side(side)
        sigma = 1.0 if side == "right" else -1.0
        z_c = _crease_height(bs, sigma, sp.exit_azimuth_deg)
        z_crease[side] = z_c
        cp = CourseParams() if w is None else w.course(side)
        course, canal, n8 = _facial_and_vestibular(bs, a, sp, sigma, z_c, cp)
        cn7[side] = course
        canals[side] = canal
        cn8[side] = Tube(f"CN8_{side}", Label.CN8, n8, a.cn8_radius_mm, side=side)
        tubes.append(cn8[side])
        tubes.append(_trigeminal(bs, a, sigma, z_c, side))

    z_c = float(np.mean(list(z_crease.values())))
    z_vb = z_c - 6.0 * s
    ba = curves.spline_through(
        np.array([[0, ba_y - 0.5, z_vb], [0, ba_y, z_c + 8 * s], [0, ba_y + 1.0, z_c + 40 * s]])
    )
    ba = curves.keep_clear(ba, bs, a.ba_radius_mm + 0.4)
    vessels: list[Tube] = [Tube("BA", Label.ARTERY, ba, a.ba_radius_mm, "artery", "BA", None)]
    for side in SIDES:
        sigma = 1.0 if side == "right" else -1.0
        loops = None if w is None else w.course(side)
        vessels += _side_vessels(bs, a, loops, side, sigma, z_c, z_vb, ba, ba_y, s)

    # Vessels keep clear of the nerves except where they are routed to them.
    nerve_tubes = {t.name: t for t in tubes}
    final: list[Tube] = []
    for side in SIDES:
        sp = params.side(side)
        course = cn7[side]
        side_vessels = [v for v in vessels if v.side == side]
        for v in side_vessels:
            if v.vessel_name == _offender_name(sp):
                curve, centerline = _route_offender(
                    bs, a, sp, course, v, nerve_tubes[f"CN8_{side}"]
                )
                course = NerveCourse(centerline, course.rdp_mm, course.porus_mm)
                final.append(
                    Tube(v.name, v.label, curve, v.radius, v.vessel_class, v.vessel_name, side)
                )
        cn7[side] = course
    routed = {t.name for t in final}
    for v in vessels:
        if v.name in routed:
            continue
        constraints: list[tuple[curves.Field, float]] = [(bs, v.radius + 0.3)]
        for side in SIDES:
            constraints += [
                (
                    curves.polyline_distance(cn7[side].centerline),
                    a.cn7_radius_mm + v.radius + BYSTANDER_CLEARANCE_MM,
                ),
                (
                    curves.polyline_distance(nerve_tubes[f"CN8_{side}"].curve),
                    a.cn8_radius_mm + v.radius + 1.0,
                ),
            ]
        curve = _settle(v.curve, constraints)
        final.append(Tube(v.name, v.label, curve, v.radius, v.vessel_class, v.vessel_name, v.side))
    for side in SIDES:
        tubes.append(
            Tube(f"CN7_{side}", Label.CN7, cn7[side].centerline, a.cn7_radius_mm, side=side)
        )
    if w is not None:
        flocculi = []
        for side in SIDES:
            radii = w.course(side).flocculus_radii_mm
            if radii is not None:
                sigma = 1.0 if side == "right" else -1.0
                hemisphere = cerebellum[0] if sigma > 0 else cerebellum[1]
                flocculi += _flocculus(
                    a, radii, sigma, cn7[side].centerline, nerve_tubes[f"CN8_{side}"], hemisphere
                )
        cerebellum = (*cerebellum, *flocculi)
        tubes += _decoy_nerves(
            bs,
            a,
            w,
            cn7,
            nerve_tubes,
            final,
            flocculi,
            ba_y,
            clivus_y,
            z_crease,
            {side: params.side(side).exit_azimuth_deg for side in SIDES},
        )
    return Anatomy(
        pons=pons,
        medulla=medulla,
        cerebellum=cerebellum,
        fossa=fossa,
        clivus_y=clivus_y,
        canals=canals,
        tubes=tuple(tubes + final),
        cn7=cn7,
        sulcus=sulcus,
    )


def _sulcus(pons: Ellipsoid, medulla: Ellipsoid, w: WideParams) -> Sulcus:
    """The wide variety's sulcus: the groove follows the crease of the plain union."""

    def union(p: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.minimum(pons.sdf(p), medulla.sdf(p))

    z = 0.5 * (_crease_height(union, 1.0, 20.0) + _crease_height(union, -1.0, 20.0))
    return Sulcus(fillet_mm=w.sulcus_fillet_mm, groove_mm=w.sulcus_groove_mm, groove_z_mm=z)


def _flocculus(
    a,
    radii: tuple[float, float, float],
    sigma: float,
    cn7: NDArray[np.float64],
    cn8: Tube,
    hemisphere: Ellipsoid,
) -> list[Ellipsoid]:
    """A flocculus behind CN VII/VIII near the root exit zone, kept 0.5 mm off both nerves.

    Returns the flocculus and, where it lies in front of the cerebellar hemisphere,
    a stalk (its peduncle) joining it to the hemisphere.
    """
    lateral = np.array([sigma, 0.0, 0.0])
    s8 = curves.arc_length(cn8.curve)
    anchor = cn8.curve[int(np.argmin(np.abs(s8 - 4.0)))]
    direction = -ANTERIOR + 0.3 * lateral - 0.4 * UP
    direction /= np.linalg.norm(direction)
    r = np.array(radii, float)
    center = anchor + direction * (r.max() + a.cn8_radius_mm + 0.5)
    for _ in range(60):
        e = Ellipsoid(center, r)
        worst = min(
            float((e.sdf(cn7) - a.cn7_radius_mm).min()),
            float((e.sdf(cn8.curve) - a.cn8_radius_mm).min()),
        )
        if worst >= 0.5:
            break
        center = center + direction * (0.5 - worst + 0.1)
    flocculus = Ellipsoid(center, r)
    # the hemisphere's anterior surface behind the flocculus's centre
    q = 1.0 - np.sum(((center - hemisphere.center)[[0, 2]] / hemisphere.radii[[0, 2]]) ** 2)
    if q <= 0:
        return [flocculus]
    y_h = hemisphere.center[1] + hemisphere.radii[1] * np.sqrt(q)
    if y_h >= center[1] - 0.5 * r[1]:
        return [flocculus]
    half = 0.5 * (center[1] - y_h) + 1.0
    stalk = Ellipsoid(
        np.array([center[0], 0.5 * (center[1] + y_h), center[2]]),
        np.array([0.5 * r[0], half, 0.5 * r[2]]),
    )
    clear = min(
        float((stalk.sdf(cn7) - a.cn7_radius_mm).min()),
        float((stalk.sdf(cn8.curve) - a.cn8_radius_mm).min()),
    )
    return [flocculus, stalk] if clear >= 0.5 else [flocculus]


def _decoy_nerves(
    bs: curves.Field,
    a,
    w: WideParams,
    cn7: dict[Side, NerveCourse],
    nerves: dict[str, Tube],
    vessels: Sequence[Tube],
    flocculi: Sequence[Ellipsoid],
    ba_y: float,
    clivus_y: float,
    z_crease: dict[Side, float],
    exit_azimuth: dict[Side, float],
) -> list[Tube]:
    """Decoy cranial nerves VI, IX and X of both sides, kept clear of everything else.

    CN VI leaves the pontomedullary sulcus near the midline and climbs the clivus
    in front of the pons; CN IX and X leave the medulla's postolivary sulcus below
    CN VII/VIII and run laterally, forward and down to the jugular foramen.
    """
    out: list[Tube] = []
    placed: list[tuple[curves.Field, float]] = []  # decoys so far: (distance field, radius)

    def clivus(p: NDArray[np.float64]) -> NDArray[np.float64]:
        # distance to the clivus plane (bone where y > clivus_y + 0.25 z)
        return (clivus_y + 0.25 * p[:, 2] - p[:, 1]) / np.hypot(1.0, 0.25)

    def constraints_for(radius: float, name: str) -> list[tuple[curves.Field, float]]:
        out_: list[tuple[curves.Field, float]] = [(bs, radius + 0.3)]
        if name == "CN6":
            out_.append((clivus, radius + 0.3))
        for s7 in SIDES:
            out_ += [
                (curves.polyline_distance(cn7[s7].centerline), a.cn7_radius_mm + radius + 1.0),
                (
                    curves.polyline_distance(nerves[f"CN8_{s7}"].curve),
                    a.cn8_radius_mm + radius + 1.0,
                ),
            ]
        out_ += [(curves.polyline_distance(v.curve), v.radius + radius + 0.3) for v in vessels]
        out_ += [(f.sdf, radius + 0.3) for f in flocculi]
        out_ += [(f, r + radius + 0.3) for f, r in placed]
        return out_

    for side in SIDES:
        sigma = 1.0 if side == "right" else -1.0
        lateral = np.array([sigma, 0.0, 0.0])
        z_c = z_crease[side]
        s = a.scale
        y_mid = 0.5 * (ba_y + clivus_y)
        foramen = np.array([sigma * 23.0 * s, 1.0, z_c - 13.0 * s])

        # root exits: CN VI at the sulcus 55-75 degrees toward anterior; CN IX and X in the
        # postolivary sulcus in line with CN VIII's exit and below it
        z6 = _crease_height(bs, sigma, 68.0)
        az9 = exit_azimuth[side] - 22.0
        z9 = z_c - 0.8 - (a.cn8_radius_mm + w.cn9_radius_mm + 1.8)
        z10 = z9 - (w.cn9_radius_mm + w.cn10_radius_mm + 1.5)
        specs = (
            (
                "CN6",
                w.cn6_radius_mm,
                [(az, z6 + dz) for dz in (0, -1, 1) for az in (68, 60, 75, 55)],
                0.0,
            ),
            (
                "CN9",
                w.cn9_radius_mm,
                [(az9 + da, z9 - dz) for dz in (0, 1, 2) for da in (0, -8, 8)],
                1.8,
            ),
            (
                "CN10",
                w.cn10_radius_mm,
                [(az9 + da, z10 - dz) for dz in (0, 1, 2, 3) for da in (0, -8, 8)],
                0.0,
            ),
        )
        for name, radius, candidates, dy_end in specs:
            constraints = constraints_for(radius, name)
            # the root exit: the first candidate clear of everything (else the clearest)
            best: tuple[float, NDArray[np.float64]] | None = None
            for az, z0 in candidates:
                start = _surface_point(bs, sigma, az, z0)
                margin = min(float(f(start[None])[0] - c) for f, c in constraints[1:])
                if best is None or margin > best[0]:
                    best = (margin, start)
                if margin > 0.3:
                    break
            assert best is not None
            start = best[1]
            if name == "CN6":
                # from the sulcus near the midline up the clivus, in front of the pons
                x6, z6s = abs(start[0]), start[2]
                pts = np.array(
                    [
                        start,
                        start + 1.5 * curves.gradient(bs, start[None])[0] + [0.0, 0.0, 1.0],
                        [sigma * (x6 + 1.0), y_mid + 0.25 * (z6s + 8.0), z6s + 8.0],
                        [sigma * (x6 + 3.0), y_mid + 0.25 * (z6s + 22.0), z6s + 22.0],
                    ]
                )
            else:
                # laterally, forward and down to the jugular foramen
                end = foramen + np.array([0.0, dy_end, 0.5 * dy_end])
                pts = np.array(
                    [
                        start,
                        start + 2.5 * curves.gradient(bs, start[None])[0] - 0.3 * UP,
                        start + 0.5 * (end - start) + lateral,
                        end,
                    ]
                )
            curve = curves.spline_through(pts)
            curve = _clear_of(curve, constraints, ends_mm=(1.0, 0.5), rounds=6)
            out.append(Tube(f"{name}_{side}", Label.OTHER_NERVE, curve, radius, side=side))
            placed.append((curves.polyline_distance(curve), radius))
    return out


def _offender_name(sp: SideParams) -> str | None:
    return None if sp.offender == "none" else sp.offender


def _radial_dir(sigma: float, azimuth_deg: float) -> NDArray[np.float64]:
    phi = np.deg2rad(azimuth_deg)
    return np.array([sigma * np.cos(phi), np.sin(phi), 0.0])


def _crease_height(bs: curves.Field, sigma: float, azimuth_deg: float) -> float:
    """Height (mm) of the pontomedullary sulcus along one azimuth: the waist of the surface."""
    z = np.linspace(-12.0, 8.0, 401)
    d = _radial_dir(sigma, azimuth_deg)
    lo = np.zeros_like(z)
    hi = np.full_like(z, 40.0)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        p = np.stack([np.zeros_like(z), np.zeros_like(z), z], axis=1) + mid[:, None] * d
        inside = bs(p) < 0
        lo = np.where(inside, mid, lo)
        hi = np.where(inside, hi, mid)
    r = 0.5 * (lo + hi)
    # the waist between pons and medulla: the local minimum of the radius
    interior = (r[1:-1] <= r[:-2]) & (r[1:-1] <= r[2:])
    idx = np.flatnonzero(interior) + 1
    return float(z[idx[np.argmin(r[idx])]] if idx.size else z[np.argmin(r)])


def _surface_point(
    bs: curves.Field, sigma: float, azimuth_deg: float, z: float
) -> NDArray[np.float64]:
    p = np.array([[0.0, 0.0, z]]) + 12.0 * _radial_dir(sigma, azimuth_deg)
    return curves.project_to_surface(bs, p, iters=20)[0]


def _march_on_surface(
    bs: curves.Field, start: NDArray[np.float64], direction: NDArray[np.float64], length: float
) -> NDArray[np.float64]:
    """Walk ``length`` mm on the surface from ``start``, keeping the heading straight."""
    step = 0.1
    pts = [start]
    d = direction / np.linalg.norm(direction)
    p = start
    for _ in range(int(np.ceil(length / step))):
        q = curves.project_to_surface(bs, (p + step * d)[None], iters=4)[0]
        d = (q - p) / np.linalg.norm(q - p)
        pts.append(q)
        p = q
    return np.array(pts)


def _facial_and_vestibular(
    bs: curves.Field, a, sp: SideParams, sigma: float, z_c: float, cp: CourseParams
) -> tuple[NerveCourse, Canal, NDArray[np.float64]]:
    lateral = np.array([sigma, 0.0, 0.0])
    # CN VII: root exit point at the lateral pontomedullary sulcus, attached course up the pons.
    rexp_surface = _surface_point(bs, sigma, sp.exit_azimuth_deg, z_c + cp.rexp_height_mm)
    heading = 0.75 * UP + cp.heading_lateral * lateral + cp.heading_anterior * ANTERIOR
    surf = _march_on_surface(bs, rexp_surface, heading, sp.attached_length_mm * 1.02)
    normals = curves.gradient(bs, surf)
    attached = curves.resample_polyline(surf + 0.8 * a.cn7_radius_mm * normals)
    s_att = curves.arc_length(attached)
    attached = attached[s_att <= sp.attached_length_mm + 1e-9]
    rdp = attached[-1]
    t_rdp = curves.tangents(attached)[-1]
    n_rdp = curves.gradient(bs, rdp[None])[0]
    n_rdp = n_rdp - (n_rdp @ t_rdp) * t_rdp
    n_rdp /= np.linalg.norm(n_rdp)
    leave = np.cos(np.deg2rad(cp.leave_deg)) * t_rdp + np.sin(np.deg2rad(cp.leave_deg)) * n_rdp
    toward = lateral + 0.35 * ANTERIOR - 0.15 * UP
    toward /= np.linalg.norm(toward)
    chord = 0.93 * sp.cisternal_length_mm
    porus = rdp + chord * toward
    iac_axis = lateral + 0.45 * ANTERIOR
    iac_axis /= np.linalg.norm(iac_axis)
    c1 = rdp + leave * chord / 3
    c2 = porus - iac_axis * chord / 3
    if cp.bow_mm:
        # a cubic Bezier's middle moves by 3/4 of its inner control points' shift
        bow = UP - (UP @ toward) * toward
        bow *= cp.bow_mm / 0.75 / np.linalg.norm(bow)
        c1, c2 = c1 + bow, c2 + bow
    cisternal = curves.bezier(rdp, c1, c2, porus)
    canal_len = 9.0
    in_canal = curves.resample_polyline(np.array([porus, porus + iac_axis * canal_len]))
    centerline = np.concatenate([attached, cisternal[1:], in_canal[1:]])
    rdp_mm = float(curves.arc_length(attached)[-1])
    porus_mm = rdp_mm + float(curves.arc_length(cisternal)[-1])
    centerline = curves.resample_polyline(centerline)

    # CN VIII: leaves the sulcus posterior-inferior to VII, runs posterior-inferior to it.
    exit8 = _surface_point(bs, sigma, sp.exit_azimuth_deg - 22.0, z_c - 0.8)
    surf8 = _march_on_surface(bs, exit8, lateral + 0.3 * UP, 2.0)
    attached8 = surf8 + 0.8 * a.cn8_radius_mm * curves.gradient(bs, surf8)
    e = UP + ANTERIOR
    e = e - (e @ iac_axis) * iac_axis
    e /= np.linalg.norm(e)
    porus8 = porus - e * (a.cn7_radius_mm + a.cn8_radius_mm + 0.7)
    t8 = curves.tangents(attached8)[-1]
    n8 = curves.gradient(bs, attached8[-1:])[0]
    leave8 = np.cos(np.deg2rad(30)) * t8 + np.sin(np.deg2rad(30)) * n8
    chord8 = float(np.linalg.norm(porus8 - attached8[-1]))
    cist8 = curves.bezier(
        attached8[-1],
        attached8[-1] + leave8 * chord8 / 3,
        porus8 - iac_axis * chord8 / 3,
        porus8,
    )
    canal8 = np.array([porus8, porus8 + iac_axis * canal_len])
    n8_curve = curves.resample_polyline(np.concatenate([attached8, cist8[1:], canal8[1:]]))
    n8_curve = curves.keep_clear(
        n8_curve,
        curves.polyline_distance(centerline),
        a.cn7_radius_mm + a.cn8_radius_mm + 0.5,
    )
    canal = Canal(porus - iac_axis * 0.5, iac_axis, a.iac_radius_mm, canal_len + 2.0)
    return NerveCourse(centerline, rdp_mm, porus_mm), canal, n8_curve


def _trigeminal(bs: curves.Field, a, sigma: float, z_c: float, side: Side) -> Tube:
    start = _surface_point(bs, sigma, 35.0, z_c + 14.0)
    end = start + np.array([sigma * 10.0, 9.0, 3.0])
    curve = curves.resample_polyline(np.array([start, end]))
    return Tube(f"CN5_{side}", Label.OTHER_NERVE, curve, a.cn5_radius_mm, side=side)


def _side_vessels(bs, a, cp: CourseParams | None, side, sigma, z_c, z_vb, ba, ba_y, s):
    """VA, PICA, AICA, SCA and a vein of one side (``cp``: the wide variety's loops)."""
    x = np.array([sigma, 1.0, 1.0])
    va_pts = np.array(
        [
            [11, 8, z_c - 30 * s],
            [9, 10, z_c - 18 * s],
            [4, ba_y - 1.0, z_c - 9 * s],
            [0.6, ba_y - 0.5, z_vb],
        ]
    )
    if cp is not None and cp.va_shift_mm:
        va_pts[1:3, 0] += cp.va_shift_mm * np.array([1.0, 0.6])
    va = curves.spline_through(va_pts * x + [0, 0, 0])
    va = curves.keep_clear(va, bs, a.va_radius_mm + 0.3)
    pica_origin = va[np.argmin(np.abs(va[:, 2] - (z_c - 17 * s)))]
    pica = np.array(
        [
            pica_origin,
            [11, 4, z_c - 16 * s],
            [11.5, -4, z_c - 12 * s],
            [9, -11, z_c - 18 * s],
            [5, -15, z_c - 26 * s],
        ],
        dtype=float,
    )
    if cp is not None and cp.pica_loop_mm:
        # a caudal loop reaching up toward the nerve roots
        pica[2] += [cp.pica_loop_mm * 0.3, cp.pica_loop_mm * 0.4, cp.pica_loop_mm]
    pica[1:] *= x
    aica_origin = ba[np.argmin(np.abs(ba[:, 2] - (z_vb + 3 * s)))]
    aica = np.array(
        [
            aica_origin,
            [7, ba_y - 1.5, z_vb + 2 * s],
            [13, 7, z_c - 5 * s],
            [20, 2, z_c - 6 * s],
            [26, -6, z_c - 5 * s],
            [30, -12, z_c - 8 * s],
        ],
        dtype=float,
    )
    if cp is not None and cp.aica_loop_mm:
        # a meatal loop toward the porus
        aica[3] += [cp.aica_loop_mm * 0.5, cp.aica_loop_mm * 0.6, cp.aica_loop_mm * 0.5]
    aica[1:] *= x
    sca_origin = ba[np.argmin(np.abs(ba[:, 2] - (z_c + 26 * s)))]
    sca = np.array(
        [sca_origin, [9, ba_y - 4, z_c + 25 * s], [15, 0, z_c + 23 * s], [17, -12, z_c + 20 * s]],
        dtype=float,
    )
    sca[1:] *= x
    vein = (
        np.array(
            [[12, -6, z_c - 10 * s], [15, -5, z_c], [17, -3, z_c + 10 * s], [24, 2, z_c + 14 * s]],
            dtype=float,
        )
        * x
    )
    specs = [
        ("VA", va, a.va_radius_mm, "artery", True),
        ("PICA", pica, a.pica_radius_mm, "artery", False),
        ("AICA", aica, a.aica_radius_mm, "artery", False),
        ("SCA", sca, a.sca_radius_mm, "artery", False),
        ("vein", vein, a.vein_radius_mm, "vein", False),
    ]
    out = []
    for name, pts, radius, klass, is_curve in specs:
        curve = pts if is_curve else curves.spline_through(pts)
        label = Label.ARTERY if klass == "artery" else Label.VEIN
        out.append(Tube(f"{name}_{side}", label, curve, radius, klass, name, side))
    return out


def contact_arc_length(sp: SideParams, course: NerveCourse) -> float:
    """Arc length (mm from the RExP) at which the side's offender is placed."""
    rdp = course.rdp_mm
    return {
        "RExP": 0.6 * REXP_HALF_WIDTH_MM,
        "AS": 0.5 * (REXP_HALF_WIDTH_MM + rdp - RDP_HALF_WIDTH_MM),
        "RDP": rdp,
        "TZ": rdp + 0.5 * (RDP_HALF_WIDTH_MM + TRANSITION_ZONE_MM),
        "cisternal": rdp + TRANSITION_ZONE_MM + 0.6 * (course.porus_mm - rdp - TRANSITION_ZONE_MM),
    }[sp.segment]


def _route_offender(bs, a, sp: SideParams, course: NerveCourse, vessel: Tube, cn8: Tube):
    """Route a vessel to CN VII at the requested place, gap and indentation.

    Returns the vessel's centerline and CN VII's (possibly indented) centerline.
    """
    line = course.centerline
    s_line = curves.arc_length(line)
    s_c = contact_arc_length(sp, course)
    i = int(np.argmin(np.abs(s_line - s_c)))
    p = line[i]
    t = curves.tangents(line)[i]
    n = curves.gradient(bs, p[None])[0]
    n = n - (n @ t) * t
    n /= np.linalg.norm(n)
    b = ANTERIOR - (ANTERIOR @ t) * t - (ANTERIOR @ n) * n
    b /= max(np.linalg.norm(b), 1e-9)
    theta = np.deg2rad(sp.approach_deg)
    u = np.cos(theta) * n + np.sin(theta) * b
    u /= np.linalg.norm(u)
    w = np.cross(t, u)
    rv = vessel.radius
    # Indentation: CN VII bends away from the vessel around the contact.
    bump = sp.indentation_mm * np.exp(-(((s_line - s_c) / (rv + 1.2)) ** 2))
    line = line - bump[:, None] * u
    c = p + u * (a.cn7_radius_mm + rv + sp.gap_mm - sp.indentation_mm)
    controls = _control_points(vessel.curve)
    k = _insertion_index(controls, c)
    direction = controls[k + 1] - controls[k] if k + 1 < len(controls) else c - controls[k]
    if w @ direction < 0:
        w = -w
    arm = 4.0
    pts = np.concatenate([controls[: k + 1], [c - w * arm, c, c + w * arm], controls[k + 1 :]])
    curve = curves.spline_through(pts)
    curve = _settle(
        curve,
        [
            (bs, rv + 0.3),
            (curves.polyline_distance(cn8.curve), a.cn8_radius_mm + rv + 0.3),
            (curves.polyline_distance(line), a.cn7_radius_mm + rv + max(1.0, sp.gap_mm + 0.5)),
        ],
        hold=(c, 4.5),
    )
    target = a.cn7_radius_mm + rv + sp.gap_mm
    near_site = line[np.abs(s_line - s_c) <= 0.3]
    tree = cKDTree(line)
    for _ in range(4):
        # away from the chosen site the vessel stays farther from the nerve than at the site,
        # so the closest approach (the truth's location) is the site itself
        for _ in range(20):
            d_all, i7 = tree.query(curve)
            bad = (d_all < target + 0.05) & (np.abs(s_line[i7] - s_c) > 0.6)
            if not bad.any():
                break
            away = curve[bad] - line[i7[bad]]
            away /= np.linalg.norm(away, axis=1, keepdims=True)
            curve[bad] += (target + 0.12 - d_all[bad])[:, None] * away
            curve = curves.resample_polyline(gaussian_filter1d(curve, 2, axis=0, mode="nearest"))
        for _ in range(8):
            d, iv, _ = curves.closest_approach(curve, near_site)
            err = target - d
            if abs(err) < 0.002:
                break
            weight = np.exp(-((np.linalg.norm(curve - curve[iv], axis=1) / 3.0) ** 2))
            curve = curve + err * weight[:, None] * u
    return curve, line


def _settle(
    curve: NDArray[np.float64],
    constraints: Sequence[tuple[curves.Field, float]],
    *,
    hold: tuple[NDArray[np.float64], float] | None = None,
    rounds: int = 4,
) -> NDArray[np.float64]:
    """Alternate ``keep_clear`` over several (field, clearance) constraints until all hold.

    ``hold = (point, radius)`` freezes the part of the curve within ``radius`` mm of ``point``.
    """
    for _ in range(rounds):
        ok = True
        for field, clearance in constraints:
            mask = np.zeros(len(curve), bool)
            if hold is not None:
                mask = np.linalg.norm(curve - hold[0], axis=1) < hold[1]
            if np.any((field(curve) < clearance - 0.01) & ~mask):
                ok = False
                curve = curves.keep_clear(curve, field, clearance, frozen=mask)
        if ok:
            break
    return curve


def _clear_of(
    curve: NDArray[np.float64],
    constraints: Sequence[tuple[curves.Field, float]],
    *,
    ends_mm: tuple[float, float],
    rounds: int = 4,
) -> NDArray[np.float64]:
    """Push a curve until every (field, clearance) holds, its two ends held in place.

    The constraints are merged into one field (the least margin), so the curve
    is smoothed once per push, not once per constraint.
    """

    def margin(p: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.min([f(p) - c for f, c in constraints], axis=0)

    for _ in range(rounds):
        s = curves.arc_length(curve)
        frozen = (s < ends_mm[0]) | (s > s[-1] - ends_mm[1])
        if not np.any((margin(curve) < -0.01) & ~frozen):
            break
        curve = curves.keep_clear(curve, margin, 0.0, frozen=frozen)
    return curve


def _control_points(curve: NDArray[np.float64], spacing: float = 6.0) -> NDArray[np.float64]:
    s = curves.arc_length(curve)
    n = max(int(s[-1] / spacing), 2)
    idx = [int(np.argmin(np.abs(s - v))) for v in np.linspace(0, s[-1], n + 1)]
    return curve[idx]


def _insertion_index(controls: NDArray[np.float64], c: NDArray[np.float64]) -> int:
    """Index k such that inserting c between controls k and k+1 lengthens the path least."""
    costs = [
        np.linalg.norm(controls[k] - c)
        + np.linalg.norm(c - controls[k + 1])
        - np.linalg.norm(controls[k + 1] - controls[k])
        for k in range(len(controls) - 1)
    ]
    return int(np.argmin(costs))
