"""Reading and writing volumes. The only part of ``nvc`` that touches disk."""

from nvc.io.atomic import atomic_path, staged_folder, write_text
from nvc.io.errors import VolumeLoadError
from nvc.io.labels import label_table_path, read_label_table, save_label_map
from nvc.io.loader import load_volume
from nvc.io.nifti import load_nifti, save_nifti
from nvc.io.tables import read_tsv

__all__ = [
    "VolumeLoadError",
    "atomic_path",
    "label_table_path",
    "load_nifti",
    "load_volume",
    "read_label_table",
    "read_tsv",
    "save_label_map",
    "save_nifti",
    "staged_folder",
    "write_text",
]
