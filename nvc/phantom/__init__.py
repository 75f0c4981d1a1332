"""Procedural posterior-fossa phantoms with exact ground truth.

>>> from nvc.phantom import make_case
>>> case = make_case(3)          # doctest: +SKIP
>>> case.truth.sides["right"].nvc  # doctest: +SKIP
>>> wide = make_case(3, variety="wide")  # doctest: +SKIP
"""

from nvc.phantom.case import PhantomCase, make_case
from nvc.phantom.params import (
    VARIETIES,
    AnatomyParams,
    CourseParams,
    ImagingParams,
    PhantomParams,
    SideParams,
    Variety,
    WideParams,
    draw_params,
)
from nvc.phantom.truth import ContactTruth, PhantomTruth, SideTruth

__all__ = [
    "VARIETIES",
    "AnatomyParams",
    "ContactTruth",
    "CourseParams",
    "ImagingParams",
    "PhantomCase",
    "PhantomParams",
    "PhantomTruth",
    "SideParams",
    "SideTruth",
    "Variety",
    "WideParams",
    "draw_params",
    "make_case",
]
