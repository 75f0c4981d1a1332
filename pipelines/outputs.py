"""Writing a case's results folder (the contract documented in the README, "Outputs")."""

from __future__ import annotations

import os
import platform
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from nvc.io import save_label_map, save_nifti, staged_folder, write_text
from nvc.io.hashing import sha256_of
from nvc.io.jsonfile import write_json
from nvc.io.results import centerline_tsv
from nvc_pipelines.case import CaseResult
from nvc_pipelines.config import PipelineConfig

FINDINGS = "findings.json"
#: Every file ``save_case`` may write (``nvc run`` refuses inputs of these names in its folder).
OUTPUT_NAMES = (
    "config.toml",
    "t2.nii.gz",
    "labels.nii.gz",
    "labels.tsv",
    "mra_registered.nii.gz",
    "distance_mm.nii.gz",
    "cn7_centerline_left.tsv",
    "cn7_centerline_right.tsv",
    FINDINGS,
)
PACKAGES = ("nvc", "numpy", "scipy", "SimpleITK", "scikit-image", "nibabel")


def provenance(config: PipelineConfig, inputs: dict[str, Path]) -> dict[str, Any]:
    """Package versions, config hash and input hashes (no file paths: they may name the patient)."""
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = "not installed"
    return {
        "packages": versions,
        "python": platform.python_version(),
        "config_sha256": config.sha256(),
        "inputs_sha256": {k: sha256_of(p) for k, p in inputs.items()},
    }


def save_case(
    result: CaseResult,
    out: Path,
    config: PipelineConfig,
    *,
    inputs: dict[str, Path],
    identifiers: dict[str, dict[str, str]] | None = None,
) -> Path:
    """Write every output of a case into ``out``; findings.json last, so its presence means done.

    ``identifiers`` (per input: file name, DICOM patient name, ID, dates) are
    stored under ``identifiers`` only when given (``nvc run --include-identifiers``).
    The files are written into a staging folder beside ``out`` and renamed into
    it only when all are written (``nvc.io.staged_folder``): a failure (a full
    disk) leaves ``out`` as it was and no findings.json of this run.
    """
    with staged_folder(out, last=(FINDINGS,)) as stage:
        write_text(stage / "config.toml", config.to_toml())
        # gzip compression releases the GIL: the volumes are written side by side; the two
        # images are noisy (string matching finds little: Huffman coding alone, ~3x faster)
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            writes = [
                pool.submit(
                    save_nifti,
                    result.t2,
                    stage / "t2.nii.gz",
                    dtype=np.float32,
                    gzip_strategy="huffman",
                ),
                pool.submit(save_label_map, result.labels, stage / "labels.nii.gz"),
                pool.submit(
                    save_nifti,
                    result.mra_registered,
                    stage / "mra_registered.nii.gz",
                    dtype=np.float32,
                    gzip_strategy="huffman",
                ),
                pool.submit(
                    save_nifti, result.distance, stage / "distance_mm.nii.gz", dtype=np.float32
                ),
            ]
            for w in writes:
                w.result()
        for side, geom in result.centerlines.items():
            write_text(stage / f"cn7_centerline_{side}.tsv", centerline_tsv(geom))
        data = result.findings.to_dict()
        data["provenance"] = provenance(config, inputs)
        if identifiers is not None:
            data["identifiers"] = identifiers
        write_json(stage / FINDINGS, data)
    return out / FINDINGS
