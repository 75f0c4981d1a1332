"""Procedural posterior-fossa phantoms with exact ground truth.

>>> from nvc.phantom import make_case
>>> case = make_case(3)          # doctest: +SKIP
>>> case.truth.sides["right"].nvc  # doctest: +SKIP
"""

from nvc.phantom.case import PhantomCase, make_case
from nvc.phantom.params import AnatomyParams, ImagingParams, PhantomParams, SideParams, draw_params
from nvc.phantom.truth import ContactTruth, PhantomTruth, SideTruth

__all__ = [
    "AnatomyParams",
    "ContactTruth",
    "ImagingParams",
    "PhantomCase",
    "PhantomParams",
    "PhantomTruth",
    "SideParams",
    "SideTruth",
    "draw_params",
    "make_case",
]
