"""Parameters of the nerve tracing (``NerveParams``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NerveParams:
    """Parameters of the nerve tracing (mm unless stated).

    Attributes
    ----------
    rez_below_mm, rez_above_mm : float
        Root-exit-zone window around the pontomedullary junction.
    max_rise_mm : float
        Paths are kept from rising more than this above the root-exit-zone window.
    canal_above_mm : float
        The internal auditory canal is searched up to this height above the junction.
    min_canal_mm3 : float
        Smaller tunnels in the bone are not the canal (an IAC holds 100-250 mm3).
    min_canal_gap_mm : float
        The canal lies at least this far from the brainstem.
    canal_radius_mm : float
        Canals narrower than this radius are found (closing of the bone by a ball).
    max_radius_mm : float
        Largest distance from the traced path at which nerve voxels are grown.
    separation_mm : float
        The second path keeps at least this far from the first; farther when
        the first nerve is thick (its radius plus ``separation_margin_mm``, up
        to ``max_separation_mm``), so that both paths cannot run inside CN VIII.
    attached_end_mm : float
        The attached path runs down the pons at most to this height above the
        pontomedullary junction (along the brainstem's axis): 0, the junction
        itself, since the root exit point lies in the pontomedullary sulcus.
        Where the nerve leaves the brainstem is found on the image, by the
        ridge rule (``attached_gap_mm``), which ends the path higher. (Until
        version 0.1 this was 3 mm, fitted to nvc.phantom, where root exit
        points lie 2.9 mm above the waist; on an independent generator they
        lie 0-6 mm above it.)
    tube_radius_mm : float
        Half-width of the box whose grey closing fills any nerve (CN VIII is
        up to 3 mm wide): darkness is measured against it (``nvc.intensity.tube_darkness``).
    max_tube_mm : float
        The first nerve's tube, which the second path keeps out of, reaches
        this far from its path (the widest nerve's radius plus partial volume).
    converge_mm : float
        Within this distance of the brainstem or the canal, CN VII and VIII lie
        together (their roots 1-3 mm apart, in contact at the porus): there the
        second path keeps only ``separation_mm`` off the first, elsewhere off its
        whole tube.
    tof_bar_fraction : float
        Off the brainstem the paths pay for TOF signal from this fraction of the
        way from stationary tissue (0) to the brightest arteries (1) upward:
        nerves have no inflow and stay at or below tissue, while a small
        artery's flow void, as dark on T2 as a nerve, is only partly bright
        on TOF (partial volume).
    tof_bright_fraction : float
        TOF signal from this fraction of the way from stationary tissue to the
        brightest arteries is an artery's lumen (a 1 mm artery at half its
        peak, partial volume): never nerve, in the attached-segment ridge and
        in the grown nerve masks.
    cpa_lateral_mm, cpa_posterior_mm, cpa_anterior_mm : float
        The cerebellopontine angle searched: from the midline to this far
        lateral (the fundus of the internal auditory canal lies 30-40 mm from
        the midline), and this far behind and in front of the brainstem's
        centre at the junction (mm).
    cpa_below_mm, cpa_above_canal_mm : float
        It reaches this far below the pontomedullary junction (the root exit
        zone lies 0-6 mm above it; the flocculus and CN IX/X below), and this
        far above the highest canal searched (``canal_above_mm``), mm.
    canal_lateral_margin_mm : float
        The canal lies at least this far beyond the brainstem's half width (mm;
        the cisternal segment is 12-17 mm long).
    radius_reach_mm : float
        A path's dark tube is measured within this distance of it (mm; the
        widest nerve, CN VIII, is up to 3 mm across, plus partial volume).
    cost_floor, cost_light : float
        Cost per mm of the paths on the darkest tube voxels, and the added cost
        for a voxel as bright as CSF (``cost_light * (1 - darkness)**3``): a
        path prefers a long dark course to a short bright shortcut.
    cost_off_csf_per_mm : float
        Added cost per mm for every mm a voxel lies beyond 1 mm from CSF (the
        cisternal nerve floats in CSF; tissue is dark too).
    cost_bulky_bone, cost_bone : float
        Added cost in bulky bone (survives an opening by two voxels), and in any
        voxel darker than the bone level (thin bone and flow voids are darker
        than any nerve).
    cost_artery, artery_ramp_fraction : float
        Added cost in TOF-bright voxels, ramping from ``tof_bar_fraction`` over
        ``artery_ramp_fraction`` of the TOF span (soft at the arteries' walls).
    cost_brainstem_interior, cost_rise : float
        Added cost inside the brainstem (beyond its outer voxel layer) and above
        the root-exit-zone window plus ``max_rise_mm`` (CN V climbs there; CN
        VII/VIII do not).
    cost_barrier : float
        Added cost where a path may not go (outside the attached band, inside
        the first nerve for the second one): far above any nerve's whole cost.
    attached_gap_mm : float
        The attached segment, followed from the RDP down the pons, ends (at the
        root exit point) before the first stretch longer than this off a thin
        dark ridge.
    min_seen_attached_mm, typical_attached_mm : float
        Attached segments run 8-10 mm on the pons (Tomii et al., Neurosurgery
        2003; Campos-Benitez & Kaufmann, J Neurosurg 2008); none shorter than
        about 4 mm is reported. A ridge that ends sooner is taken as not seen on
        the image, and the root exit point is placed ``typical_attached_mm``
        down the pons from the detachment point (flagged for review).
    ridge_resolving_mm : float
        A nerve lying on the pons shows as a ridge only where the image
        resolves the CSF groove beside it, about as deep as the nerve's radius
        (0.75 mm for a facial nerve root 1-2 mm across). On a grid whose largest
        voxel side is coarser, partial volume fills the groove and the ridge
        breaks up well before the root exit point: there a ridge ending before
        ``typical_attached_mm`` is not taken as the nerve's end, and the root
        exit point is placed ``typical_attached_mm`` down the pons (flagged
        for review); a ridge followed farther down is kept.
    attached_bridge_mm, attached_bridge_span_mm : float
        An artery lying on the attached segment interrupts its ridge: path
        voxels within ``attached_bridge_mm`` of a TOF-bright voxel do not count
        toward the gap, over stretches up to ``attached_bridge_span_mm`` (a
        vertebral artery is up to 4 mm wide).
    canal_nerve_mm : float
        The nerves are followed into the internal auditory canal, along its
        axis, up to this far or to the canal's end (the canal is 8-12 mm deep;
        the nerves reach its fundus).
    ridge_width_mm : float
        Dark structures narrower than this are nerves or vessels, not brainstem.
    attached_band_mm, attached_depth_mm : float
        The attached segment is traced within this distance outside, and this
        depth inside, the brainstem mask.
    surface_smoothing_mm : float
        The brainstem's smooth surface is its mask opened by a ball of this
        radius (a nerve lying on the pons merges with its mask at clinical
        resolution; the opening takes it off again).
    attached_lift_mm, attached_lift_cost : float
        The attached nerve's centre lies on, not in, the pons: the attached
        path pays ``attached_lift_cost`` per mm of cost for every mm it runs
        lower than ``attached_lift_mm`` above the smooth surface.
    """

    rez_below_mm: float = 6.0
    rez_above_mm: float = 10.0
    max_rise_mm: float = 3.0
    canal_above_mm: float = 14.0
    min_canal_mm3: float = 60.0
    min_canal_gap_mm: float = 4.0
    canal_radius_mm: float = 3.6
    max_radius_mm: float = 1.4
    separation_mm: float = 1.1
    separation_margin_mm: float = 0.45
    max_separation_mm: float = 1.6
    pair_corridor_mm: float = 8.0
    ridge_width_mm: float = 3.0
    attached_band_mm: float = 1.6
    attached_depth_mm: float = 1.0
    surface_smoothing_mm: float = 2.0
    attached_lift_mm: float = 0.4
    attached_lift_cost: float = 10.0
    attached_gap_mm: float = 1.5
    attached_end_mm: float = 0.0
    min_seen_attached_mm: float = 4.0
    typical_attached_mm: float = 9.0
    ridge_resolving_mm: float = 0.75
    attached_bridge_mm: float = 2.0
    attached_bridge_span_mm: float = 5.0
    canal_nerve_mm: float = 12.0
    tube_radius_mm: float = 2.0
    max_tube_mm: float = 2.0
    tof_bar_fraction: float = 0.15
    tof_bright_fraction: float = 0.35
    cpa_lateral_mm: float = 45.0
    cpa_posterior_mm: float = 22.0
    cpa_anterior_mm: float = 30.0
    cpa_below_mm: float = 14.0
    cpa_above_canal_mm: float = 6.0
    canal_lateral_margin_mm: float = 3.0
    radius_reach_mm: float = 2.5
    cost_floor: float = 0.05
    cost_light: float = 20.0
    cost_off_csf_per_mm: float = 50.0
    cost_bulky_bone: float = 200.0
    cost_bone: float = 30.0
    cost_artery: float = 300.0
    artery_ramp_fraction: float = 0.3
    cost_brainstem_interior: float = 200.0
    cost_rise: float = 100.0
    cost_barrier: float = 1000.0
    converge_mm: float = 3.0
    max_path_cost: float = 400.0
    second_path_cost: float = 9.0
