"""The nvc dock widget: pick T2 and TOF, run the pipeline in a worker thread, read the findings.

The widget calls ``nvc_pipelines.case.run_case`` (and ``nvc_pipelines.outputs.save_case``
when an output folder is given), exactly as ``nvc run`` does, and
``nvc_pipelines.report.write_report`` for **Export report**, exactly as ``nvc report``
does; it adds progress, cancellation, layers and a findings table, nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

import napari
import numpy as np
from qtpy.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nvc import DISCLAIMER
from nvc.findings import Findings
from nvc.io import load_volume
from nvc.report import evidence
from nvc.vocabulary import SIDES, Side, closed
from nvc.volume import Volume
from nvc_napari.layers import REVERSE, LayerData, case_layers, contact_rows
from nvc_napari.review import ReviewPanel
from nvc_napari.view import (
    DEFAULT_PRESET,
    DISPLAY_PRESETS,
    apply_display_preset,
    center_on,
    radiological_axial,
    retrosigmoid_view,
    show_legend,
    show_ras_position,
    sync_surfaces,
    three_d_view,
)
from nvc_pipelines.case import CaseResult, run_case
from nvc_pipelines.config import PRESETS, PipelineConfig, load_config
from nvc_pipelines.errors import Cancelled
from nvc_pipelines.outputs import save_case
from nvc_pipelines.report import write_report
from nvc_pipelines.results import saved_case

#: Columns of the findings table (header, key of ``contact_rows``): short headers, so that
#: every column fits the dock's default width (their full meaning is in the tooltips).
COLUMNS = (
    ("vessel", "vessel"),
    ("class", "vessel_class"),
    ("seg.", "segment"),
    ("RExP\nmm", "distance_from_rexp_mm"),
    ("gap\nmm", "min_distance_mm"),
    ("grade", "grade"),
    ("offen-\nder", "offender"),
)
#: The dock is at least this wide (px), so that every column fits it.
MIN_WIDTH_PX = 440
TOOLTIPS = (
    "vessel name",
    "artery or vein",
    "segment of CN VII (RExP, AS attached, RDP, TZ transition zone, cisternal)",
    "distance along CN VII from the root exit point (mm)",
    "minimal vessel-nerve surface distance (mm)",
    "contact, indentation or displacement (empty: apart)",
    "primary: the side's primary arterial offender",
)
#: Verdict colours per status (``nvc.report.evidence.verdict_status``): red, amber, green.
STATUS_COLOURS = {"positive": "#b00000", "review": "#b36b00", "negative": "#1d7a1d"}
FILE_ITEM = "file…"


def layer_volume(layer: Any) -> Volume:
    """An Image layer's data as a Volume (RAS mm affine).

    The layer's world is taken to be RAS mm in (z, y, x) order, as nvc's readers
    place it; the array goes back to axes (i, j, k).
    """
    from napari.utils.transforms import Affine

    data = np.asarray(layer.data)
    if data.ndim != 3:
        raise ValueError(f"layer {layer.name!r} is not 3D (shape {data.shape})")
    physical = Affine(
        scale=layer.scale, translate=layer.translate, rotate=layer.rotate, shear=layer.shear
    )
    affine = REVERSE @ layer.affine.compose(physical).affine_matrix @ REVERSE
    return Volume(data.transpose(2, 1, 0), affine, {"source": f"napari layer {layer.name}"})


@dataclass(frozen=True)
class Source:
    """An input: a file (or DICOM folder) path, or an open layer by name."""

    path: Path | None = None
    layer: Any = None

    def load(self) -> Volume:
        """The Volume (reading the file when it is one)."""
        if self.path is not None:
            return load_volume(self.path)
        return layer_volume(self.layer)


class Unsaved(NamedTuple):
    """A case analysed in memory, with what ``save_case`` needs to write it."""

    result: CaseResult
    config: PipelineConfig
    inputs: dict[str, Path]


class Analysis(NamedTuple):
    """What a run of the widget produced."""

    layers: list[LayerData]
    findings: Findings
    #: The case as analysed, and what ``save_case`` needs to write it later.
    unsaved: Unsaved | None
    #: The results folder written (None when no output folder was given).
    folder: Path | None


def analyse(
    t2: Source,
    mra: Source,
    *,
    side: Side | None,
    config: PipelineConfig,
    out: Path | None,
    progress: Callable[[str, float], None],
) -> Analysis:
    """Body of the worker: load, ``run_case``, optionally ``save_case``, build the layers."""
    progress("loading", 0.0)
    t2_volume, mra_volume = t2.load(), mra.load()
    result = run_case(
        t2_volume, mra_volume, symptomatic_side=side, config=config, progress=progress
    )
    inputs = {k: s.path for k, s in (("t2", t2), ("mra", mra)) if s.path is not None}
    if out is not None:
        save_case(result, out, config, inputs=inputs)
    progress("surfaces", 0.95)
    case = saved_case(result)
    unsaved = None if out is not None else Unsaved(result, config, inputs)
    return Analysis(case_layers(case), case.findings, unsaved, out)


def open_results(folder: Path) -> Analysis:
    """Body of the open worker: read a results folder and build its layers (off the GUI thread)."""
    from nvc_pipelines.results import load_results

    case = load_results(folder)
    return Analysis(case_layers(case), case.findings, None, Path(folder))


def export_report(folder: Path, unsaved: Unsaved | None = None) -> Path:
    """Body of the export worker: ``write_report`` (as ``nvc report``) into ``folder/report``.

    A case analysed in memory is first saved into ``folder`` with ``save_case``
    (as ``nvc run`` saves it). Returns the path of ``report.html``.
    """
    if unsaved is not None:
        save_case(unsaved.result, folder, unsaved.config, inputs=unsaved.inputs)
    return write_report(folder)


class _ProgressSignal(QObject):
    changed = Signal(str, float)


class _InputPicker(QWidget):
    """A combo box of open image layers plus files chosen with a dialog.

    Until the reader chooses an input, the picker follows the newest case's own
    image of its ``role`` (a results folder's T2 or TOF), else a layer whose name
    fits one of ``hints``, else nothing: it never falls back to whichever layer
    came first (the T2 analysed against itself).
    """

    def __init__(
        self, viewer: napari.Viewer, title: str, role: str, hints: tuple[str, ...] = ()
    ) -> None:
        super().__init__()
        self.viewer = viewer
        self.title = title
        self.role = role
        self.hints = hints
        #: What the reader chose (combo text), None while the picker chooses by itself.
        self.chosen: str | None = None
        self.combo = QComboBox()
        self.combo.activated.connect(self._activated)
        self.button = QPushButton("File…")
        self.button.clicked.connect(self._browse)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.button)
        self.files: list[Path] = []
        self.refresh()

    def refresh(self) -> None:
        self.combo.clear()
        roles = []
        for layer in self.viewer.layers:
            if isinstance(layer, napari.layers.Image) and np.ndim(layer.data) == 3:
                self.combo.addItem(layer.name, layer.name)
                roles.append(layer.metadata.get("nvc_input"))
        for path in self.files:
            self.combo.addItem(f"file: {path}", str(path))
        index = self.combo.findText(self.chosen) if self.chosen is not None else -1
        if index < 0:  # the newest case's own image, else a layer whose name fits
            own = [i for i, r in enumerate(roles) if r == self.role]
            names = [self.combo.itemText(i).lower() for i in range(len(roles))]
            fits = [i for i, n in enumerate(names) if any(h in n for h in self.hints)]
            index = own[-1] if own else fits[0] if fits else -1
        self.combo.setCurrentIndex(index)

    def follow_case(self) -> None:
        """Forget the reader's choice: take the newest case's own image again."""
        self.chosen = None
        self.refresh()

    def _activated(self, index: int) -> None:
        self.chosen = self.combo.itemText(index)

    def set_file(self, path: str | Path) -> None:
        """Choose a file (or DICOM folder) as this input."""
        path = Path(path)
        if path not in self.files:
            self.files.append(path)
        self.chosen = f"file: {path}"
        self.refresh()

    def set_layer(self, name: str) -> None:
        """Choose an open image layer as this input."""
        self.chosen = name
        self.refresh()

    def source(self) -> Source:
        text = self.combo.currentText()
        if not text:
            raise ValueError(f"choose a {self.title}")
        if text.startswith("file: "):
            return Source(path=Path(text[len("file: ") :]))
        return Source(layer=self.viewer.layers[text])

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the {self.title}")
        if path:
            self.set_file(path)


def _fit_rows(table: QTableWidget, *, most: int = 6) -> None:
    """Make ``table`` as tall as its header and rows (up to ``most`` rows, then it scrolls)."""
    header = table.horizontalHeader()
    rows = sum(table.rowHeight(i) for i in range(min(table.rowCount(), most)))
    extra = 2 * table.frameWidth() + (header.sizeHint().height() if header else 0)
    table.setFixedHeight(rows + extra + (0 if table.rowCount() else 4))


class _VerticalScroll(QScrollArea):
    """Scrolls ``content`` vertically only, never narrower than the content needs.

    A plain QScrollArea lets its dock become narrower than the content and clips
    it; this one's minimum width follows the content's (also after napari's style
    sheet or new text changes it).
    """

    def __init__(self, content: QWidget) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(content)
        content.installEventFilter(self)

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the parent layout asks minimumSizeHint again
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        content, bar = self.widget(), self.verticalScrollBar()
        if content is None or bar is None:
            return hint
        width = content.minimumSizeHint().width() + bar.sizeHint().width()
        return QSize(max(hint.width(), width), hint.height())


class NvcWidget(QWidget):
    """Dock widget: inputs, Run / Cancel with progress, findings table per side."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.worker: Any = None
        self._cancel = threading.Event()
        self._signal = _ProgressSignal()
        self._signal.changed.connect(self._on_progress)
        self.findings: Findings | None = None
        self._pending: list[LayerData] = []
        #: Results folder of the case shown (a run saved it, or it was opened).
        self.results_dir: Path | None = None
        #: The case shown when it was analysed without an output folder.
        self._unsaved: Unsaved | None = None
        self.export_worker: Any = None
        #: ``report.html`` of the last export.
        self.report_path: Path | None = None

        self.t2 = _InputPicker(napari_viewer, "T2 (CISS/FIESTA)", "t2", ("t2", "ciss", "fiesta"))
        self.mra = _InputPicker(napari_viewer, "TOF MRA", "mra", ("tof", "mra", "angio"))
        self.side = QComboBox()
        self.side.addItems(["unknown", "left", "right"])
        self.preset = QComboBox()
        self.preset.addItems(sorted(p.stem for p in PRESETS.glob("*.toml")))
        self.preset.addItem(FILE_ITEM)
        self.preset.activated.connect(self._preset_chosen)
        self.config_file: Path | None = None
        self.out = QLineEdit()
        self.out.setPlaceholderText("optional: save the results folder here")

        form = QFormLayout()
        form.addRow("T2", self.t2)
        form.addRow("TOF", self.mra)
        form.addRow("symptomatic side", self.side)
        form.addRow("preset", self.preset)
        form.addRow("output folder", self.out)

        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton("Export report")
        self.export_button.setToolTip(
            "Surgeon report (HTML, PDF), QC figures and exports, as 'nvc report' writes them"
        )
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export)
        self.open_button = QPushButton("Open results…")
        self.open_button.setToolTip(
            "open a results folder (read in the background: the window stays responsive)"
        )
        self.open_button.clicked.connect(self._choose_results)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.status = QLabel(DISCLAIMER)
        self.status.setWordWrap(True)
        self.status.setOpenExternalLinks(True)  # the written report's link opens it

        self.display = QComboBox()
        self.display.addItems(list(DISPLAY_PRESETS))
        self.display.setCurrentText(DEFAULT_PRESET)
        self.display.activated.connect(
            lambda _: apply_display_preset(self.viewer, self.display.currentText())
        )
        self.markers = QCheckBox("contact markers")
        self.markers.setChecked(True)
        self.markers.setToolTip("small crosses beside each contact, named (the offender larger)")
        self.markers.toggled.connect(self._toggle_markers)
        view_row = QHBoxLayout()
        view_row.addWidget(self.display, 1)
        view_row.addWidget(self.markers)
        cameras = QHBoxLayout()
        self.camera_buttons: dict[str, QPushButton] = {}
        for key, text, tip in (
            ("right", "3D right CPA", "retrosigmoid view of the right cerebellopontine angle"),
            ("left", "3D left CPA", "retrosigmoid view of the left cerebellopontine angle"),
            ("front", "3D front", "both sides from the front"),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, k=key: self.camera_preset(k))
            cameras.addWidget(button)
            self.camera_buttons[key] = button

        # the dock scrolls rather than squeezing the verdicts' text out of sight
        body = QWidget()
        body.setMinimumWidth(MIN_WIDTH_PX)
        scroll = _VerticalScroll(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(body)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(view_row)
        layout.addLayout(cameras)
        self.verdicts: dict[str, QLabel] = {}
        self.tables: dict[str, QTableWidget] = {}
        for side in SIDES:
            verdict = QLabel(f"{side}: no case yet")
            verdict.setWordWrap(True)
            verdict.setTextFormat(Qt.TextFormat.RichText)
            # every line of the verdict and its reasons stays readable (never clipped)
            verdict.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            table = QTableWidget(0, len(COLUMNS))
            table.setHorizontalHeaderLabels([c[0] for c in COLUMNS])
            for j, tip in enumerate(TOOLTIPS):
                item = table.horizontalHeaderItem(j)
                if item is not None:
                    item.setToolTip(tip)
            # every column in the dock's width: no horizontal scrolling to find a column
            header = table.horizontalHeader()
            assert header is not None
            header.setSectionResizeMode(QHeaderView.ResizeToContents)
            header.setStretchLastSection(True)
            header.setMinimumSectionSize(24)
            table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            rows_header = table.verticalHeader()
            assert rows_header is not None
            rows_header.setVisible(False)
            table.setEditTriggers(QAbstractItemView.NoEditTriggers)
            table.setSelectionBehavior(QAbstractItemView.SelectRows)
            table.setSelectionMode(QAbstractItemView.SingleSelection)
            table.itemSelectionChanged.connect(lambda s=side: self._row_chosen(s))
            _fit_rows(table)
            layout.addWidget(verdict)
            layout.addWidget(table)
            self.verdicts[side], self.tables[side] = verdict, table
        self._rows: dict[str, list[dict[str, Any]]] = {s: [] for s in SIDES}
        #: The Review step (nvc_napari.review): correct the anatomy, recompute, save.
        self.review = ReviewPanel(self)
        layout.addWidget(self.review)
        #: Findings of a case opened with ``open_folder``, until its layers are added.
        self._follow_findings: Findings | None = None
        #: Asked when a second case arrives while one is shown: True replaces its layers.
        self.ask_replace: Callable[[], bool] = self._ask_replace

        self.viewer.layers.events.inserted.connect(self._on_inserted)
        self.viewer.layers.events.removed.connect(self._refresh_pickers)
        for layer in self.viewer.layers:
            if layer.metadata.get("nvc_findings") is not None:
                if layer.metadata.get("nvc_results_dir") is not None:
                    self.results_dir = Path(layer.metadata["nvc_results_dir"])
                self._follow_case(layer.metadata["nvc_findings"])
                QTimer.singleShot(
                    0, lambda layer=layer: self.show_case(layer.metadata["nvc_findings"])
                )

    # ----------------------------------------------------------------- running
    def run(self) -> None:
        """Start the analysis in a worker thread (the interface stays responsive)."""
        from napari.qt.threading import create_worker

        try:
            t2, mra = self.t2.source(), self.mra.source()
            config = self._config()
        except (ValueError, KeyError) as exc:
            self.status.setText(f"cannot run: {exc}")
            return
        side = self.side.currentText()
        out = Path(self.out.text()).expanduser() if self.out.text().strip() else None
        self._cancel.clear()

        def progress(stage: str, fraction: float) -> None:
            if self._cancel.is_set():
                raise Cancelled(stage)
            self._signal.changed.emit(stage, fraction)

        self.worker = create_worker(
            analyse,
            t2,
            mra,
            side=None if side == "unknown" else closed(side, SIDES, "side"),
            config=config,
            out=out,
            progress=progress,
            _start_thread=False,
            # errors (Cancelled included) are shown in the widget, not re-raised
            _connect={
                "returned": self._on_returned,
                "errored": self._on_errored,
                "finished": self._on_finished,
            },
        )
        self.run_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)  # the one place it goes back: a new run
        self.status.setText("running…")
        self.worker.start()

    def open_folder(self, folder: str | Path) -> None:
        """Open a results folder: read in a worker thread, layers added one per event-loop turn.

        ``viewer.open`` reads on the GUI thread (the window stops for the time it
        takes to load the volumes and build the surfaces); this does not.
        """
        from napari.qt.threading import create_worker

        self.worker = create_worker(
            open_results,
            Path(folder),
            _start_thread=False,
            _connect={
                "returned": self._on_opened,
                "errored": self._on_errored,
                "finished": self._on_finished,
            },
        )
        self.run_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.status.setText(f"opening {folder}…")
        self.worker.start()

    def _on_opened(self, value: Analysis) -> None:
        self._follow_findings = value.findings  # inputs follow the opened case once it is shown
        self._on_returned(value)

    def _choose_results(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Open an nvc results folder")
        if chosen:
            self.open_folder(chosen)

    def cancel(self) -> None:
        """Ask the running analysis to stop at its next step."""
        self._cancel.set()
        self.status.setText("cancelling…")

    def _config(self) -> PipelineConfig:
        if self.preset.currentText() == FILE_ITEM:
            if self.config_file is None:
                raise ValueError("choose a config file")
            return load_config(self.config_file)
        return load_config(self.preset.currentText())

    def _preset_chosen(self, index: int) -> None:
        if self.preset.itemText(index) == FILE_ITEM:
            path, _ = QFileDialog.getOpenFileName(self, "Config (TOML)", "", "TOML (*.toml)")
            self.config_file = Path(path) if path else None

    def _on_progress(self, stage: str, fraction: float) -> None:
        if not self._cancel.is_set():
            # never backwards within a run (a later step may report a smaller fraction)
            self.progress.setValue(max(self.progress.value(), round(100 * fraction)))
            self.status.setText(f"running: {stage}")

    def _on_returned(self, value: Analysis) -> None:
        # napari adds layers on the GUI thread: one per event-loop turn keeps it responsive
        if _case_layer_names(self.viewer) and self.ask_replace():
            self._remove_case_layers()
        self._pending = list(value.layers)
        self.results_dir, self._unsaved = value.folder, value.unsaved
        self.status.setText("adding layers…")
        QTimer.singleShot(0, self._add_next_layer)

    def _add_next_layer(self) -> None:
        if self._pending:
            data, kwargs, kind = self._pending[0]
            getattr(self.viewer, f"add_{kind}")(data, **kwargs)
            self._pending.pop(0)
            if self._pending:
                QTimer.singleShot(0, self._add_next_layer)
                return
        self.progress.setValue(100)
        self.status.setText(f"done. {DISCLAIMER}")
        if self._follow_findings is not None:
            self._follow_case(self._follow_findings)
            self._follow_findings = None
        self.run_button.setEnabled(True)
        self.open_button.setEnabled(True)
        self._update_export_button()

    def _on_errored(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.status.setText("cancelled")
        else:
            self.status.setText(f"error: {_first_line(exc)}")
        self.progress.setValue(0)

    def _on_finished(self) -> None:
        self.cancel_button.setEnabled(False)
        self.worker = None
        if not self._pending:
            self.run_button.setEnabled(True)
            self.open_button.setEnabled(True)
            self._update_export_button()

    @property
    def busy(self) -> bool:
        """True while an analysis runs, its layers are being added or a report is written."""
        return self.worker is not None or bool(self._pending) or self.export_worker is not None

    # --------------------------------------------------------------- exporting
    def export(self) -> None:
        """Write the report of the case shown (``nvc report``) in a worker thread.

        A case analysed without an output folder is first saved (as ``nvc run``
        saves it) into a folder chosen in a dialog.
        """
        from napari.qt.threading import create_worker

        folder, unsaved = self.results_dir, self._unsaved
        if folder is None:
            if unsaved is None:
                self.status.setText("nothing to export: run an analysis or open a results folder")
                return
            chosen = QFileDialog.getExistingDirectory(self, "Save the results folder in")
            if not chosen:
                return
            folder = Path(chosen)
        self.export_worker = create_worker(
            export_report,
            folder,
            unsaved if self.results_dir is None else None,
            _start_thread=False,
            _connect={
                "returned": self._on_exported,
                "errored": self._on_export_errored,
                "finished": self._on_export_finished,
            },
        )
        self.export_button.setEnabled(False)
        self.run_button.setEnabled(False)
        self.status.setText(f"writing the report of {folder}…")
        self.export_worker.start()

    def _on_exported(self, html: Path) -> None:
        self.results_dir, self._unsaved = html.parent.parent, None
        self.report_path = html
        url = html.resolve().as_uri()
        self.status.setText(
            f'report written: <a href="{url}">{html}</a> (and {html.with_suffix(".pdf").name}, '
            f"qc/, export/ beside it). {DISCLAIMER}"
        )

    def _on_export_errored(self, exc: BaseException) -> None:
        self.report_path = None
        self.status.setText(f"export failed: {_first_line(exc)}")

    def _on_export_finished(self) -> None:
        self.export_worker = None
        if not self.busy:
            self.run_button.setEnabled(True)
        self._update_export_button()

    def _update_export_button(self) -> None:
        ready = self.results_dir is not None or self._unsaved is not None
        self.export_button.setEnabled(ready and not self.busy)
        self.review.refresh()

    # ----------------------------------------------------------------- showing
    def _ask_replace(self) -> bool:
        answer = QMessageBox.question(
            self,
            "nvc: another case",
            "A case is already shown. Replace its layers with the new case's?\n"
            "(No: keep both, the new case on top.)",
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.Yes,
        )
        return answer == QMessageBox.Yes

    def _remove_case_layers(self, keep: str | None = None) -> None:
        """Remove the layers of the case(s) shown, except those of case ``keep``."""
        for layer in list(self.viewer.layers):
            key = layer.metadata.get("nvc_case")
            if key is not None and key != keep:
                self.viewer.layers.remove(layer)

    def _on_inserted(self, event: Any) -> None:
        self._refresh_pickers()
        layer = event.value
        findings = layer.metadata.get("nvc_findings")
        if findings is not None and not self._pending:  # a case opened with the reader
            key = layer.metadata.get("nvc_case")
            earlier = key is not None and _case_layer_names(self.viewer, other_than=key)
            if earlier and self.ask_replace():
                self._remove_case_layers(keep=key)
        if findings is not None:  # in its own event-loop turn, after the layer is drawn
            folder = layer.metadata.get("nvc_results_dir")
            if folder is not None:  # a results folder opened with the reader
                self.results_dir, self._unsaved = Path(folder), None
            if not self._pending:  # a case opened (not this widget's own run's layers)
                self._follow_case(findings)
            QTimer.singleShot(0, lambda: self.show_case(findings))

    def _follow_case(self, findings: Findings) -> None:
        """Inputs of an opened case: its own T2 and TOF, and its symptomatic side."""
        self.t2.follow_case()
        self.mra.follow_case()
        self.side.setCurrentText(findings.symptomatic_side or "unknown")

    def _refresh_pickers(self, event: Any = None) -> None:
        self.t2.refresh()
        self.mra.refresh()

    def show_case(self, findings: Findings, *, recenter: bool = True) -> None:
        """Fill the tables, set the radiological axial view, the legend and 3D surfaces.

        ``recenter`` centres the view on the first contact (not after a recompute).
        """
        self.findings = findings
        rows = contact_rows(findings)
        for side in SIDES:
            self.verdicts[side].setText(verdict_html(findings, side))
            side_rows = [r for r in rows if r["side"] == side]
            self._rows[side] = side_rows
            table = self.tables[side]
            table.setRowCount(len(side_rows))
            for i, row in enumerate(side_rows):
                for j, (_, key) in enumerate(COLUMNS):
                    table.setItem(i, j, QTableWidgetItem(_cell(row[key])))
            _fit_rows(table)
        radiological_axial(self.viewer)
        show_ras_position(self.viewer)
        for layer in self.viewer.layers:
            table = layer.metadata.get("nvc_label_table")
            if table is not None:
                counts = np.bincount(np.asarray(layer.data, np.int64).ravel())
                present = set(np.flatnonzero(counts).tolist())
                drawn = _drawn_values(layer)  # CSF is not tinted: not in the legend
                show_legend(self.viewer, [t for t in table if t[0] in present & drawn])
        apply_display_preset(self.viewer, self.display.currentText())
        sync_surfaces(self.viewer)
        self._toggle_markers(self.markers.isChecked())
        self._update_export_button()
        self.review.case_changed(findings)
        first = next((r for r in rows if r["grade"]), rows[0] if rows else None)
        if first is not None and recenter:
            center_on(self.viewer, first["location_ras_mm"])

    def camera_preset(self, key: str) -> None:
        """3D camera: "right" / "left" along that side's retrosigmoid corridor, or "front"."""
        if key == "front" or self.findings is None:
            three_d_view(self.viewer)
            return
        rows = [r for r in contact_rows(self.findings) if r["side"] == key]
        target = next((r for r in rows if r["offender"]), rows[0] if rows else None)
        centre = target["location_ras_mm"] if target is not None else self._nerve_centre(key)
        if centre is None:
            self.status.setText(f"no {key} facial nerve to look at")
            return
        retrosigmoid_view(self.viewer, key, centre, midline_x=self._midline_x())

    def _nerve_centre(self, side: str) -> tuple[float, float, float] | None:
        layer = next((la for la in self.viewer.layers if la.name == "CN VII centerline"), None)
        if layer is None:
            return None
        sides = np.asarray(layer.features["side"])
        pts = np.asarray(layer.data)[sides == side]
        if not len(pts):
            return None
        x, y, z = pts.mean(axis=0)[::-1]
        return (float(x), float(y), float(z))

    def _midline_x(self) -> float:
        """RAS x between the two CN VII centerlines (0 when not both are traced)."""
        layer = next((la for la in self.viewer.layers if la.name == "CN VII centerline"), None)
        if layer is None or not len(layer.data):
            return 0.0
        sides = np.asarray(layer.features["side"])
        xs = [np.asarray(layer.data)[sides == s][:, 2] for s in SIDES]
        if any(len(x) == 0 for x in xs):
            return 0.0
        return float(np.mean([x.mean() for x in xs]))

    def _toggle_markers(self, on: bool) -> None:
        for layer in self.viewer.layers:
            if layer.metadata.get("nvc_findings") is not None:
                layer.visible = bool(on)

    def select_contact(self, side: str, row: int) -> None:
        """Choose a row of a side's table (as a click does)."""
        self.tables[side].selectRow(row)

    def _row_chosen(self, side: str) -> None:
        table = self.tables[side]
        model = table.selectionModel()
        selected = model.selectedRows() if model is not None else []
        if not selected:
            return
        row = self._rows[side][selected[0].row()]
        center_on(self.viewer, row["location_ras_mm"])
        if self.review.active:  # the row's vessel is the one picked for review
            self.review.pick_vessel(row["location_ras_mm"])


def _first_line(exc: BaseException) -> str:
    """An error as one line for the status (no traceback)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _symptomatic(findings: Findings, side: str) -> str:
    return " (symptomatic)" if findings.symptomatic_side == side else ""


def verdict_html(findings: Findings, side: str) -> str:
    """A side's verdict as the report words it: the finding in its colour, then the evidence.

    The finding (red arterial compression, amber review, green no), the
    confidence, the nearest arteries (also on a negative side), the
    unsegmented TOF signal near the nerve, the primary offender, then the
    reasons, as a list under it. Text is escaped.
    """
    found = findings.sides.get(side)  # type: ignore[call-overload]
    head = f"<b>{escape(side)}</b>{_symptomatic(findings, side)}"
    if found is None:
        return f"{head}: not analysed"
    s = found.to_dict()  # the evidence lines read the side's JSON block
    sym = findings.symptomatic_side
    symptomatic = None if sym is None else sym == side
    status = evidence.verdict_status(s, symptomatic)
    colour = STATUS_COLOURS[status]
    finding = evidence.finding_line(s, symptomatic)
    lines = [
        f'{head}: <span style="color:{colour}; font-weight:bold">{escape(finding)}</span>'
        f" (confidence {float(s.get('confidence', 0.0)):.2f})"
    ]
    items = [
        *evidence.nearest_lines(s),
        *(t for t in (evidence.unsegmented_tof_line(s), evidence.offender_line(s)) if t),
    ]
    items += [str(r) for r in s.get("reasons", [])]
    if items:
        lines.append("<ul style='margin:0 0 0 12px'>")
        lines += [f"<li>{escape(t)}</li>" for t in items]
        lines.append("</ul>")
    return "".join(lines)


def _case_layer_names(viewer: napari.Viewer, other_than: str | None = None) -> list[str]:
    """Names of layers that belong to an nvc case (other than case ``other_than``)."""
    return [
        layer.name
        for layer in viewer.layers
        if layer.metadata.get("nvc_case") is not None
        and layer.metadata.get("nvc_case") != other_than
    ]


def _drawn_values(layer: Any) -> set[int]:
    """Label values the layer's colormap draws (not fully transparent)."""
    colors = layer.metadata.get("nvc_label_table") or []
    out = set()
    for value, _, _ in colors:
        rgba = np.asarray(layer.colormap.map(np.array([value])))[0]
        if rgba[-1] > 0:
            out.add(int(value))
    return out
