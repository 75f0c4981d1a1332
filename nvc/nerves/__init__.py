"""CN VII and CN VIII from the brainstem into the internal auditory canal, on a normalised T2.

Per side: find the internal auditory canal (CSF surrounded by bone, lateral
to the brainstem), trace the cheapest path of dark-in-CSF voxels from the
root exit zone on the brainstem surface to the canal (the CN VII/VIII
complex), trace a second path in a corridor beside it and call the
anterior-superior one CN VII, follow CN VII's attached segment down the
brainstem surface to the pontomedullary sulcus, continue both nerves along
the canal's axis, and grow each nerve's cross-section around its course.

Works on a closest-canonical grid (axes i, j, k closest to R, A, S).
"""

from nvc.nerves.params import NerveParams
from nvc.nerves.trace import NerveTrace, trace_nerves

__all__ = ["NerveParams", "NerveTrace", "trace_nerves"]
