"""The saved outputs of one case, as the report reads them (nothing is recomputed).

The report reads the one case type, ``nvc.results.SavedCase`` (``ReportCase``
is its name here), loaded by ``nvc.io.results.load_results``.
"""

from __future__ import annotations

from nvc.results import Centerline, SavedCase
from nvc.vocabulary import SIDES

ReportCase = SavedCase

__all__ = ["SIDES", "Centerline", "ReportCase", "contact_label"]


def contact_label(side: str, index: int) -> str:
    """Short name of a contact used in tables and figures: ``R1``, ``R2``, ``L1`` ..."""
    return f"{side[0].upper()}{index + 1}"
