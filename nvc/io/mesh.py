"""Surface meshes on disk: binary STL and Wavefront OBJ, coordinates in RAS+ millimetres.

Both files say ``SPACE=RAS`` in their header, the marker 3D Slicer reads to
place a model in RAS (without it Slicer assumes LPS).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from nvc.io.atomic import atomic_path

_STL_DTYPE = np.dtype([("normal", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])


def face_normals(vertices: NDArray[np.floating], faces: NDArray[np.integer]) -> NDArray[np.float64]:
    """Unit normals of triangles (right-hand rule on the vertex order), shape (F, 3).

    Parameters
    ----------
    vertices : ndarray, shape (V, 3)
        Vertex coordinates (RAS+ mm).
    faces : ndarray of int, shape (F, 3)
        Vertex indices per triangle.

    Returns
    -------
    ndarray of float64, shape (F, 3)
        Unit normals (zero for degenerate triangles).
    """
    v = np.asarray(vertices, np.float64)[np.asarray(faces)]
    n = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    length = np.linalg.norm(n, axis=1, keepdims=True)
    return n / np.where(length > 0, length, 1.0)


def save_stl(
    path: str | Path, vertices: NDArray[np.floating], faces: NDArray[np.integer], *, name: str
) -> Path:
    """Write a triangle mesh as binary STL (mm, RAS+; header says ``SPACE=RAS``).

    Parameters
    ----------
    vertices : ndarray, shape (V, 3)
        RAS+ mm.
    faces : ndarray, shape (F, 3)
        Vertex indices, counter-clockwise seen from outside.
    name : str
        Structure name written into the 80-byte header.

    Returns
    -------
    Path
        ``path``.
    """
    faces = np.asarray(faces, np.int64)
    rec = np.zeros(len(faces), _STL_DTYPE)
    rec["normal"] = face_normals(vertices, faces)
    rec["v"] = np.asarray(vertices, np.float64)[faces]
    header = f"nvc {name} SPACE=RAS units=mm".encode("ascii", "replace")[:80].ljust(80, b" ")
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        fh.write(header)
        fh.write(np.uint32(len(faces)).tobytes())
        fh.write(rec.tobytes())
    return Path(path)


def load_stl(path: str | Path) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Read a binary STL: (triangles, shape (F, 3, 3) in file units; normals, shape (F, 3)).

    Parameters
    ----------
    path : str or Path
        A binary STL file.

    Returns
    -------
    triangles : ndarray of float32, shape (F, 3, 3)
        Vertex coordinates per triangle, file units (mm for nvc's files).
    normals : ndarray of float32, shape (F, 3)
    """
    raw = Path(path).read_bytes()
    n = int(np.frombuffer(raw, "<u4", count=1, offset=80)[0])
    rec = np.frombuffer(raw, _STL_DTYPE, count=n, offset=84)
    return rec["v"].copy(), rec["normal"].copy()


def save_obj(
    path: str | Path, vertices: NDArray[np.floating], faces: NDArray[np.integer], *, name: str
) -> Path:
    """Write a triangle mesh as Wavefront OBJ (mm, RAS+; comment says ``SPACE=RAS``).

    Parameters
    ----------
    path : str or Path
        The file to write.
    vertices : ndarray, shape (V, 3)
        RAS+ mm.
    faces : ndarray, shape (F, 3)
        Vertex indices, counter-clockwise seen from outside.
    name : str
        Structure name (the OBJ object name).

    Returns
    -------
    Path
        ``path``.
    """
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64) + 1
    lines = [f"# nvc surface: {name}", "# SPACE=RAS", "# units: mm", f"o {name.replace(' ', '_')}"]
    lines += [f"v {x:.4f} {y:.4f} {z:.4f}" for x, y, z in v]
    lines += [f"f {a} {b} {c}" for a, b, c in f]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="ascii")
    return Path(path)
