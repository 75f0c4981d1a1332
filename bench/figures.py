"""Figures for the README: a phantom case (T2, TOF MIP, truth labels) and the brainstem
found on the real T2 in ``../shared/data/real`` (skipped where absent).

Run: ``python -m bench.figures`` (writes PNGs into docs/).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from nvc.brainstem import segment_brainstem
from nvc.intensity import normalize_t2
from nvc.io import load_volume
from nvc.phantom import make_case
from nvc.volume import reorient_canonical

DOCS = Path(__file__).resolve().parents[1] / "docs"
REAL_T2 = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "stroke_T2.nii.gz"


def phantom_figure(seed: int = 0) -> Path:
    """Axial T2 through CN VII's root exit zone, truth labels, TOF maximum-intensity projection."""
    case = make_case(seed)
    t2 = reorient_canonical(case.t2)
    lab = reorient_canonical(case.labels)
    tof = reorient_canonical(case.mra)
    side = case.truth.hfs_side
    line = case.truth.cn7_centerlines[side]
    k = round(t2.world_to_voxel(line[len(line) // 6])[2])
    fig, ax = plt.subplots(1, 3, figsize=(13, 4.6))
    extent = _extent(t2)
    ax[0].imshow(t2.array[:, :, k].T, origin="lower", cmap="gray", extent=extent)
    ax[0].set_title(f"phantom CISS-like T2, axial (seed {seed})")
    ax[1].imshow(t2.array[:, :, k].T, origin="lower", cmap="gray", extent=extent)
    masked = np.ma.masked_where(lab.array[:, :, k].T == 0, lab.array[:, :, k].T)
    ax[1].imshow(masked, origin="lower", cmap="tab10", vmin=0, vmax=9, alpha=0.55, extent=extent)
    ax[1].set_title("truth: brainstem orange, CN VII green, CN VIII red, artery purple", fontsize=9)
    ax[2].imshow(tof.array.max(axis=2).T, origin="lower", cmap="gray", extent=_extent(tof))
    ax[2].set_title("phantom TOF, axial maximum-intensity projection")
    for a in ax:
        a.set_xlabel("x (mm, patient right →)")
        a.set_ylabel("y (mm, anterior ↑)")
    fig.tight_layout()
    out = DOCS / "phantom_case.png"
    fig.savefig(out, dpi=70)
    plt.close(fig)
    return out


def real_brainstem_figure() -> Path | None:
    """Brainstem mask (red) over the real T2: mid-sagittal, axial and coronal.

    The mid-sagittal view also shows the brainstem's axis (yellow, 15 mm
    either side) and the pontomedullary junction on it (yellow dot).
    """
    if not REAL_T2.exists():
        return None
    vol = reorient_canonical(load_volume(REAL_T2))
    norm, levels = normalize_t2(vol.array, vol.spacing)
    bs = segment_brainstem(norm, levels, vol.spacing)
    c = np.argwhere(bs.mask).mean(axis=0).round().astype(int)
    views = [
        (vol.array[c[0]].T, bs.mask[c[0]].T, "mid-sagittal"),
        (vol.array[:, :, c[2]].T, bs.mask[:, :, c[2]].T, "axial"),
        (vol.array[:, c[1], :].T, bs.mask[:, c[1], :].T, "coronal"),
    ]
    fig, ax = plt.subplots(1, 3, figsize=(13, 4.6))
    for a, (img, mask, title) in zip(ax, views, strict=True):
        a.imshow(img, origin="lower", cmap="gray")
        a.contour(mask.astype(float), [0.5], colors="r", linewidths=1.2)
        a.set_title(f"real T2 (stroke_T2), brainstem found: {title}")
        a.set_axis_off()
    # the axis in the sagittal view: (j, k) voxel coordinates, 15 mm either side of the junction
    ends = bs.pmj_index + np.outer([-15.0, 15.0], bs.axis) / vol.spacing
    ax[0].plot(ends[:, 1], ends[:, 2], "y-", linewidth=1.0)
    ax[0].plot(bs.pmj_index[1], bs.pmj_index[2], "yo", markersize=5)
    fig.tight_layout()
    out = DOCS / "real_t2_brainstem.png"
    fig.savefig(out, dpi=70)
    plt.close(fig)
    return out


def _extent(vol):  # type: ignore[no-untyped-def]
    lo, hi = vol.world_bounds()
    return (lo[0], hi[0], lo[1], hi[1])


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    for path in (phantom_figure(), real_brainstem_figure()):
        print(path if path else "real data absent: skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
