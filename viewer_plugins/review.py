"""The Review step of the nvc dock widget: the reader corrects the anatomy, the verdict follows.

Editable layers (added by **Start review**, on a results folder):

- ``review landmarks``: RExP, RDP and porus of each side's CN VII; drag them
  (2D or 3D). A moved RExP or porus moves the course's end; a moved RDP is
  projected on the course (``nvc_pipelines.review``).
- ``CN VII course (left|right)``: control points every 2 mm; move, add or
  delete them, or delete all and click a new course in order, RExP first.
- ``labels``: the case's label map; paint and erase with napari's label tools
  (undo and redo are napari's own).
- ``vessel pick``: add a point on a vessel (or choose a row of the findings
  table), then **Set class/name** or **Delete vessel**.

**Recompute** calls ``nvc_pipelines.review.recompute`` (geometry, contacts,
naming where not set by hand, self-checks and the decision; no registration
or segmentation) and updates the findings table, contact sites, centerline
colours and verdict lines. **Save review** writes a review revision beside the
automated outputs (``nvc_pipelines.review.save``); **Discard review** removes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nvc import DISCLAIMER
from nvc.findings import Edit, Findings
from nvc.io.results import has_review, load_results
from nvc.labels import Label
from nvc.results import Centerline, SavedCase
from nvc.review import LANDMARKS, control_points, move_end, point_at, vessel_piece
from nvc.vocabulary import SIDES, VESSEL_CLASSES, VESSEL_NAMES, Side
from nvc.volume import Volume
from nvc_napari.layers import (
    centerline_layer,
    contacts_layer,
    display_volume,
    from_world,
    napari_volume,
    to_world,
)
from nvc_pipelines.review import (
    NERVES,
    Edits,
    Nerve,
    ReviewContext,
    Reviewed,
    course_edit,
    discard,
    edits_of_review,
    landmark_edit,
    open_review,
    recompute,
    save,
    vessel_name_edit,
)

if TYPE_CHECKING:
    from nvc_napari.widget import NvcWidget

LANDMARKS_LAYER = "review landmarks"
PICK_LAYER = "vessel pick"
LANDMARK_COLOURS = {"RExP": "orange", "RDP": "white", "porus": "cyan"}


def course_layer_name(side: str, nerve: Nerve = "CN7") -> str:
    """Name of a side's editable course layer of CN VII (or CN VIII)."""
    return f"{'CN VII' if nerve == 'CN7' else 'CN VIII'} course ({side})"


def _review_layers() -> list[str]:
    names = [LANDMARKS_LAYER, PICK_LAYER]
    return names + [course_layer_name(s, n) for s in SIDES for n in NERVES]


class ReviewPanel(QWidget):
    """Review controls inside the nvc dock widget (``NvcWidget.review``)."""

    def __init__(self, owner: NvcWidget) -> None:
        super().__init__()
        self.owner = owner
        self.viewer = owner.viewer
        self.context: ReviewContext | None = None
        self.reviewed: Reviewed | None = None
        #: Every edit so far, in order (the review block's ``edits``).
        self.log: list[Edit] = []
        #: Per side, the course as it stands (RAS mm, RExP first).
        self.courses: dict[Side, NDArray[np.float64]] = {}
        self._controls: dict[tuple[Side, Nerve], NDArray[np.float64]] = {}
        self._landmarks: NDArray[np.float64] = np.zeros((0, 3))
        self._pending_labels: list[Edit] = []
        self.pick: NDArray[np.float64] | None = None
        self.worker: Any = None

        self.reader = QLineEdit()
        self.reader.setPlaceholderText("reader's initials")
        self.vessel_class = QComboBox()
        self.vessel_class.addItems([c for c in VESSEL_CLASSES if c != "unknown"])
        self.vessel_name = QComboBox()
        self.vessel_name.addItems(["(automatic)", *(n for n in VESSEL_NAMES if n != "unknown")])
        self.start_button = QPushButton("Start review")
        self.start_button.clicked.connect(self.start)
        self.recompute_button = QPushButton("Recompute")
        self.recompute_button.clicked.connect(self._recompute_clicked)
        self.save_button = QPushButton("Save review")
        self.save_button.clicked.connect(self._save_clicked)
        self.discard_button = QPushButton("Discard review")
        self.discard_button.clicked.connect(self.discard)
        self.set_vessel_button = QPushButton("Set class/name")
        self.set_vessel_button.clicked.connect(lambda: self.set_vessel())
        self.delete_vessel_button = QPushButton("Delete vessel")
        self.delete_vessel_button.clicked.connect(lambda: self.delete_vessel())
        self.status = QLabel("Review: open a results folder (or save the run) to review it")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow("reader", self.reader)
        vessel = QHBoxLayout()
        vessel.addWidget(self.vessel_class)
        vessel.addWidget(self.vessel_name)
        vessel.addWidget(self.set_vessel_button)
        vessel.addWidget(self.delete_vessel_button)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.recompute_button, self.save_button, self.discard_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Review</b>"))
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addLayout(vessel)
        layout.addWidget(self.status)
        self._enable()

    def _recompute_clicked(self) -> None:
        self.recompute()

    def _save_clicked(self) -> None:
        self.save()

    # ------------------------------------------------------------------ state
    @property
    def folder(self) -> Path | None:
        """The results folder under review (the dock widget's)."""
        return self.owner.results_dir

    @property
    def active(self) -> bool:
        """Whether a review is under way."""
        return self.context is not None

    def refresh(self) -> None:
        """Enable the buttons that apply (a results folder shown, a review under way)."""
        self._enable()

    def _enable(self) -> None:
        ready = self.folder is not None
        self.start_button.setEnabled(ready and not self.active and self.worker is None)
        for b in (
            self.recompute_button,
            self.set_vessel_button,
            self.delete_vessel_button,
        ):
            b.setEnabled(self.active)
        self.save_button.setEnabled(self.reviewed is not None)
        self.discard_button.setEnabled(
            ready and (self.active or (self.folder is not None and has_review(self.folder)))
        )

    def case_changed(self, findings: Findings) -> None:
        """A case is shown: say whether it was reviewed; a new case ends a review under way."""
        if self.context is not None and self.context.folder != self.folder:
            self._end()
        review = findings.review
        if review is not None:
            who = review.reader or "reader"
            self.status.setText(
                f"Reviewed by {who} ({review.time_utc}), {len(review.edits)} edits. "
                "Start review to go on, or Discard review."
            )
        elif self.folder is not None:
            self.status.setText("Automated, not reviewed. Start review to correct it.")
        self._enable()

    # ------------------------------------------------------------------ start
    def start(self) -> None:
        """Prepare the case for review in a worker thread (``open_review``), then add the layers.

        Preparing normalises the T2 and finds the brainstem's frame again (seconds on a
        clinical-size case); the interface stays responsive meanwhile.
        """
        from napari.qt.threading import create_worker

        folder = self.folder
        if folder is None:
            self.status.setText("Review: save the results folder first (Export report saves it)")
            return
        self.status.setText("Review: preparing the case…")
        self.start_button.setEnabled(False)
        self.worker = create_worker(
            _prepare,
            folder,
            _start_thread=False,
            _connect={"returned": self._started, "errored": self._start_failed},
        )
        self.worker.start()

    def _start_failed(self, exc: BaseException) -> None:
        self.context, self.worker = None, None
        self.status.setText(f"Review: cannot start: {_first_line(exc)}")
        self._enable()

    def _started(self, prepared: tuple[ReviewContext, SavedCase]) -> None:
        self.worker = None
        context, current = prepared
        if context.folder != self.folder:  # another case was opened meanwhile
            self._enable()
            return
        self.context = context
        previous = edits_of_review(current)
        self.log = list(previous.log)
        if previous.reader and not self.reader.text():
            self.reader.setText(previous.reader)
        self.courses = {s: np.asarray(c.points_ras, float) for s, c in current.centerlines.items()}
        # the reader paints and recomputes on whole labels: a layer showing outlines only
        # (nvc_napari.layers.axial_outlines) gets the full label map back
        labels = self._labels_layer()
        if labels.metadata.get("nvc_outlines"):
            self._set_labels_any(current.labels)
            labels.metadata = {**labels.metadata, "nvc_outlines": False}
        self._add_layers(current)
        self.reviewed = None
        self.status.setText(
            "Review: drag landmarks, edit the course points, paint labels or pick a vessel; "
            "then Recompute."
        )
        self._enable()

    def _add_layers(self, case: SavedCase) -> None:
        for name in _review_layers():
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)
        assert self.context is not None
        cn8 = self.context.cn8_courses()
        for side in SIDES:
            for nerve in NERVES:
                pts = np.zeros((0, 3))
                if nerve == "CN7" and side in self.courses:
                    pts = control_points(self.courses[side])
                elif nerve == "CN8" and side in cn8:
                    pts = cn8[side]
                self._controls[side, nerve] = pts
                self.viewer.add_points(
                    to_world(pts),
                    name=course_layer_name(side, nerve),
                    size=1.0,
                    face_color="yellow" if nerve == "CN7" else "lime",
                    border_color="black",
                    ndim=3,
                    visible=nerve == "CN7",
                )
        names, pts = self._landmark_points(case.findings)
        self._landmarks = pts
        data, kwargs, _ = _landmarks_layer(names, pts)
        self.viewer.add_points(data, **kwargs).mode = "select"
        self.viewer.add_points(
            np.zeros((0, 3)), name=PICK_LAYER, size=1.2, face_color="magenta", ndim=3
        )

    def _landmark_points(self, findings: Findings) -> tuple[list[str], NDArray[np.float64]]:
        names, pts = [], []
        for side, course in self.courses.items():
            s = findings.sides[side].rdp_mm if side in findings.sides else None
            for lm in LANDMARKS:
                if lm == "RExP":
                    p = course[0]
                elif lm == "porus":
                    p = course[-1]
                elif s is not None:
                    p = point_at(course, s)
                else:
                    continue
                names.append(f"{side} {lm}")
                pts.append(p)
        return names, np.array(pts, float).reshape(-1, 3)

    # ---------------------------------------------------------------- editing
    def move_landmark(self, side: Side, landmark: str, ras: Any) -> None:
        """Move a landmark to a RAS mm point (as dragging it does)."""
        layer = self.viewer.layers[LANDMARKS_LAYER]
        names = list(layer.features["landmark"])
        data = np.array(layer.data)
        data[names.index(f"{side} {landmark}")] = to_world(np.asarray(ras, float))
        layer.data = data

    def set_course(self, side: Side, points: Any, nerve: Nerve = "CN7") -> None:
        """Replace a side's course points (RAS mm, brainstem end first), as clicking them does."""
        self.viewer.layers[course_layer_name(side, nerve)].data = to_world(
            np.asarray(points, float).reshape(-1, 3)
        )

    def pick_vessel(self, ras: Any) -> None:
        """Pick the vessel at (or nearest, within 2 mm of) a RAS mm point."""
        self.viewer.layers[PICK_LAYER].data = to_world(np.asarray(ras, float).reshape(1, 3))

    def _picked(self) -> tuple[NDArray[np.float64], tuple[int, int, int], NDArray[np.int_]] | None:
        """The picked point (RAS mm), the vessel voxel nearest to it and the label map (T2 grid)."""
        if PICK_LAYER not in self.viewer.layers or not len(self.viewer.layers[PICK_LAYER].data):
            self.status.setText("Review: add a point on a vessel in 'vessel pick' first")
            return None
        point = from_world(np.asarray(self.viewer.layers[PICK_LAYER].data[-1], float))
        labels = self._labels_volume()
        array = np.asarray(labels.array)
        ijk = np.round(labels.world_to_voxel(point)).astype(int)
        reach = np.ceil(2.0 / labels.spacing).astype(int)
        lo = np.maximum(ijk - reach, 0)
        hi = np.minimum(ijk + reach + 1, array.shape)
        box = array[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        vox = np.argwhere(np.isin(box, (Label.ARTERY, Label.VEIN))) + lo
        if not len(vox):
            self.status.setText("Review: no artery or vein within 2 mm of the pick")
            return None
        nearest = vox[np.argmin(np.linalg.norm((vox - ijk) * labels.spacing, axis=1))]
        return point, (int(nearest[0]), int(nearest[1]), int(nearest[2])), array

    def set_vessel(self, vessel_class: str | None = None, name: str | None = None) -> None:
        """Set the picked vessel's class (relabelled) and name (kept by the recompute)."""
        picked = self._picked()
        if picked is None:
            return
        point, seed, array = picked
        cls = vessel_class or self.vessel_class.currentText()
        name = name or self.vessel_name.currentText()
        labels = self._labels_volume()
        piece = vessel_piece(array, seed, labels.spacing)
        value = Label.ARTERY if cls == "artery" else Label.VEIN
        if int(array[seed]) != value:
            new = array.copy()
            new[piece] = value
            self._set_labels(labels.with_array(new))
            self.log.append(
                Edit(
                    "vessel_class",
                    None,
                    f"vessel set to {cls} by the reader",
                    {"ras_mm": [round(float(v), 3) for v in point], "class": cls},
                )
            )
        if name and name != "(automatic)" and cls == "artery":
            self.log.append(vessel_name_edit(point, name))
        self.status.setText(f"Review: vessel set to {cls}; Recompute to update the findings")

    def delete_vessel(self) -> None:
        """Delete the picked vessel (its piece within 10 mm of the pick) from the labels."""
        picked = self._picked()
        if picked is None:
            return
        point, seed, array = picked
        labels = self._labels_volume()
        piece = vessel_piece(array, seed, labels.spacing)
        new = array.copy()
        new[piece] = 0
        self._set_labels(labels.with_array(new))
        where = ", ".join(f"{v:.1f}" for v in point)
        self.log.append(
            Edit(
                "vessel_deleted",
                None,
                f"vessel deleted by the reader at ({where}) mm RAS ({int(piece.sum())} voxels)",
                {"ras_mm": [round(float(v), 3) for v in point]},
            )
        )
        self.status.setText("Review: vessel deleted; Recompute to update the findings")

    # ---------------------------------------------------------------- labels
    def _labels_layer(self) -> Any:
        return self.viewer.layers["labels"]

    def _labels_volume(self) -> Volume:
        """The labels layer as a Volume on the T2 grid."""
        from nvc_napari.widget import layer_volume

        assert self.context is not None
        shown = layer_volume(self._labels_layer())
        t2 = self.context.case.t2
        t2c = self.context.t2c
        if shown.shape == t2c.shape and np.allclose(shown.affine, t2c.affine, atol=1e-3):
            from nvc.volume import reorient_like

            return reorient_like(Volume(np.asarray(shown.array), t2c.affine), t2)
        from nvc.volume import resample_to

        return resample_to(shown, t2, interpolation="nearest")

    def _set_labels(self, labels: Volume) -> None:
        """Show a label map (T2 grid) in the labels layer (its undo history keeps the change)."""
        layer = self._labels_layer()
        data, _ = napari_volume(display_volume(labels, labels=True))
        data = np.asarray(data, layer.data.dtype)
        changed = np.argwhere(np.asarray(layer.data) != data)
        if not len(changed):
            return
        idx = tuple(changed.T)
        layer.data_setitem(idx, data[idx])

    # -------------------------------------------------------------- recompute
    def _collect(self) -> Edits:
        """The edits as they stand: the log, plus moved landmarks and course points.

        A vessel deletion or class change undone in the labels layer leaves the log.
        """
        labels = self._labels_volume()
        self.log = [e for e in self.log if _still_applies(e, labels)]
        for side in SIDES:
            for nerve in NERVES:
                name = course_layer_name(side, nerve)
                if name not in self.viewer.layers:
                    continue
                pts = from_world(np.asarray(self.viewer.layers[name].data, float).reshape(-1, 3))
                shown = self._controls[side, nerve]
                if pts.shape == shown.shape and np.allclose(pts, shown, atol=1e-3):
                    continue
                if len(pts) >= 2:
                    self.log.append(course_edit(side, pts, nerve=nerve))
                    if nerve == "CN7":
                        self.courses[side] = pts
                self._controls[side, nerve] = pts
        if LANDMARKS_LAYER in self.viewer.layers:
            layer = self.viewer.layers[LANDMARKS_LAYER]
            names = list(layer.features["landmark"])
            pts = from_world(np.asarray(layer.data, float).reshape(-1, 3))
            for name, p, before in zip(names, pts, self._landmarks, strict=False):
                if np.allclose(p, before, atol=1e-3):
                    continue
                side, lm = name.split()
                assert side in SIDES
                s: Side = "left" if side == "left" else "right"
                edit = landmark_edit(s, lm, p, self.courses.get(s))
                self.log.append(edit)
                if lm == "RExP":
                    self.courses[s] = move_end(self.courses[s], p, end="RExP")
                elif lm == "porus":
                    self.courses[s] = move_end(self.courses[s], p, end="porus")
            self._landmarks = pts
        return Edits(
            labels=labels,
            log=tuple(self.log),
            reader=self.reader.text().strip() or None,
        )

    def recompute(self) -> Reviewed | None:
        """Recompute the findings from the edits (``nvc_pipelines.review.recompute``), show them."""
        if self.context is None or self.folder is None:
            self.status.setText("Review: Start review first")
            return None
        try:
            edits = self._collect()
            reviewed = recompute(self.folder, edits, context=self.context)
        except Exception as exc:  # one line in the status, never a traceback
            self.status.setText(f"Review: recompute failed: {_first_line(exc)}")
            return None
        self.reviewed = reviewed
        self._show(reviewed)
        self.status.setText(
            f"Review: recomputed in {reviewed.seconds:.2f} s ({len(self.log)} edits). "
            f"Save review to keep it. {DISCLAIMER}"
        )
        self._enable()
        return reviewed

    def _show(self, reviewed: Reviewed) -> None:
        """Update the labels (a rebuilt nerve), centerline, contacts, landmarks and tables."""
        self._set_labels(reviewed.labels)
        geoms = reviewed.centerlines
        for side, g in geoms.items():
            self.courses[side] = np.asarray(g.points_ras, float)
        centerlines = {
            s: Centerline(np.asarray(g.points_ras), np.asarray(g.arc_mm), tuple(g.segments))
            for s, g in geoms.items()
        }
        _replace(self.viewer, centerline_layer(centerlines))
        _replace(self.viewer, contacts_layer(reviewed.findings, folder=self.folder))
        names, pts = self._landmark_points(reviewed.findings)
        _replace(self.viewer, _landmarks_layer(names, pts))
        self.viewer.layers[LANDMARKS_LAYER].mode = "select"
        self._landmarks = pts
        self.owner.show_case(reviewed.findings, recenter=False)
        review = reviewed.findings.review
        for side in SIDES:
            auto = review.automated.get(side) if review is not None else None
            if auto is not None:
                was = "NVC" if auto.nvc else "no NVC"
                label = self.owner.verdicts[side]
                label.setText(f"{label.text()} <i>[reviewed; automated: {was}]</i>")

    # ---------------------------------------------------------- save, discard
    def save(self) -> Path | None:
        """Write the review revision (``nvc_pipelines.review.save``); automated outputs stay."""
        if self.reviewed is None or self.folder is None:
            self.status.setText("Review: Recompute before saving")
            return None
        reviewed = self.reviewed
        if self.reader.text().strip() and reviewed.findings.review is not None:
            review = reviewed.findings.review
            from dataclasses import replace

            findings = replace(
                reviewed.findings, review=replace(review, reader=self.reader.text().strip())
            )
            reviewed = replace(reviewed, findings=findings)
        try:
            path = save(self.folder, reviewed)
        except OSError as exc:
            self.status.setText(f"Review: not saved: {_first_line(exc)}")
            return None
        self.status.setText(f"Review saved: {path.name} beside the automated findings.json")
        self._enable()
        return path

    def discard(self) -> None:
        """Remove the saved review and show the automated outputs again."""
        folder = self.folder
        if folder is None:
            return
        try:
            removed = discard(folder)
            case = load_results(folder)
        except Exception as exc:  # one line in the status, never a traceback
            self.status.setText(f"Review: discard failed: {_first_line(exc)}")
            return
        self._end()
        self._set_labels_any(case.labels)
        _replace(self.viewer, centerline_layer(case.centerlines))
        _replace(self.viewer, contacts_layer(case.findings, folder=folder))
        self.owner.show_case(case.findings, recenter=False)
        self.status.setText(f"Review discarded ({len(removed)} files removed): automated outputs")
        self._enable()

    def _set_labels_any(self, labels: Volume) -> None:
        layer = self._labels_layer()
        data, _ = napari_volume(display_volume(labels, labels=True))
        layer.data = np.asarray(data, layer.data.dtype)

    def _end(self) -> None:
        for name in _review_layers():
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)
        self.context, self.reviewed, self.log = None, None, []
        self.courses, self._controls = {}, {}


def _prepare(folder: Path) -> tuple[ReviewContext, SavedCase]:
    """Body of the start worker: the review context and the case as it stands (reviewed or not)."""
    return open_review(folder), load_results(folder)


def _landmarks_layer(names: list[str], pts: NDArray[np.float64]) -> tuple[Any, dict[str, Any], str]:
    """The editable landmarks layer tuple (Points; names as features and text)."""
    return (
        to_world(pts),
        {
            "name": LANDMARKS_LAYER,
            "size": 1.6,
            "features": {"landmark": names},
            "face_color": [LANDMARK_COLOURS[n.split()[1]] for n in names] or "white",
            "symbol": "diamond",
            "text": {"string": "{landmark}", "color": "white", "size": 10} if names else None,
            "ndim": 3,
        },
        "points",
    )


def _still_applies(edit: Edit, labels: Volume) -> bool:
    """Whether a vessel edit still shows in the labels (not undone): the vessel at its point."""
    if edit.kind not in ("vessel_deleted", "vessel_class"):
        return True
    array = np.asarray(labels.array)
    ijk = np.round(labels.world_to_voxel(np.asarray(edit.data["ras_mm"], float))).astype(int)
    reach = np.ceil(2.0 / labels.spacing).astype(int)
    lo, hi = np.maximum(ijk - reach, 0), np.minimum(ijk + reach + 1, array.shape)
    box = array[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    if edit.kind == "vessel_deleted":
        return not np.isin(box, (Label.ARTERY, Label.VEIN)).any()
    value = Label.ARTERY if edit.data.get("class") == "artery" else Label.VEIN
    return bool((box == value).any())


def _replace(viewer: Any, layer_data: tuple[Any, dict[str, Any], str]) -> None:
    """Replace a layer by a new layer tuple of the same name, at the same place in the list.

    The new layer carries no ``nvc_findings`` metadata: it is not a case opened
    (the dock widget shows the findings itself).
    """
    data, kwargs, kind = layer_data
    kwargs = dict(kwargs)
    meta = {k: v for k, v in kwargs.get("metadata", {}).items() if k != "nvc_findings"}
    kwargs["metadata"] = meta
    name = kwargs["name"]
    index = None
    if name in viewer.layers:
        index = viewer.layers.index(viewer.layers[name])
        viewer.layers.remove(name)
    layer = getattr(viewer, f"add_{kind}")(data, **kwargs)
    if index is not None:
        viewer.layers.move(viewer.layers.index(layer), index)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
