"""The label map in the window: open, show, outline, export as DICOM SEG, one label to a polygon.

A label map (a segmentation model's, a DICOM SEG read back, a phantom's truth
``labels.nii.gz``) is shown read-only on every viewport by :class:`~spineviewer.gui.
label_map_overlay.LabelMapOverlay`; the "Label map" row of the Layers box shows, hides and
fades it. The View > Label map menu opens one (onto the series it names, else the active
viewport's), switches fill and outline, exports it as a DICOM Segmentation of its series
(:mod:`spineviewer.annotations.seg_labelmap`) and turns one label of the active slice into a
proposed polygon annotation of the map's model (:mod:`spineviewer.annotations.label_polygon`),
which the reader reviews as any proposal. :meth:`LabelMapUi.label_volumes` gives the report
its per-label volumes. After an analysis that ran a segmentation model, the map it made is
shown by itself (:meth:`LabelMapUi.show_findings`, called by the AI's
:class:`~spineviewer.gui.analysis_ui.AnalysisUi`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu

from spineviewer.ai.findings import Findings, LabelMapFinding
from spineviewer.annotations.annotation import Annotation, ImageRef
from spineviewer.annotations.frames import source_headers
from spineviewer.annotations.label_map_file import read_nifti_label_map
from spineviewer.annotations.label_polygon import label_polygon
from spineviewer.dicom import Stack
from spineviewer.dicom.volume import stack_affine
from spineviewer.gui.annotate.ui import AnnotationUi
from spineviewer.gui.label_map_overlay import LabelMapOverlay
from spineviewer.gui.shell import Shell
from spineviewer.reports.label_volumes import LabelVolume, label_volumes
from spineviewer.viewing.label_layer import SeriesLabelMap, labels_present, on_grid
from spineviewer.viewing.source import StackListSource

__all__ = ["LabelMapUi", "installed_demo_model", "series_label_map", "stack_grid"]

FILE_FILTER = "Label maps (*.nii *.nii.gz *.dcm);;NIfTI (*.nii *.nii.gz);;DICOM SEG (*.dcm)"


def stack_grid(stack: Stack) -> tuple[np.ndarray, tuple[int, int, int]]:
    """The index (k, j, i) -> patient affine of a stack's images and its shape, from the
    headers (no pixels read); ValueError for a stack without geometry."""
    first = stack.frames[0]
    positions = [f.position for f in stack.frames]
    spacing = stack.pixel_spacing
    if first.orientation is None or spacing is None or any(p is None for p in positions):
        raise ValueError(f"{stack.name}: the images have no geometry for a label map")
    points = np.asarray(positions, dtype=np.float64)
    affine = stack_affine(points[0], first.orientation, spacing, points, first.slice_thickness)
    rows, cols = stack.shape
    return affine, (len(stack), rows, cols)


def series_label_map(found: LabelMapFinding, demo: bool = True) -> SeriesLabelMap:
    """The layer of an analysis' label map (``demo``: its model is a demonstration model);
    ValueError when it carries no labels (read back from a findings file)."""
    if found.labels is None or not found.affine:
        raise ValueError(f"the label map of {found.description} is not in memory")
    return SeriesLabelMap(
        found.labels,
        np.asarray(found.affine, dtype=np.float64),
        found.values,
        found.frame_of_reference_uid,
        found.series_uid,
        found.model_id,
        found.model_version,
        found.description,
        not_for_clinical_use=demo,
    )


def installed_demo_model(model_id: str) -> bool:
    """Whether ``model_id`` names an installed model that is a demonstration model (a map
    from a model that is not installed here makes no such claim)."""
    if not model_id:
        return False
    from spineviewer.ai.registry import find_models

    return any(
        entry.id == model_id
        and entry.manifest is not None
        and entry.manifest.provenance.not_for_clinical_use
        for entry in find_models()
    )


class LabelMapUi(QObject):
    """The label map's menu and its overlay, for the window ``shell``."""

    def __init__(self, shell: Shell, annotation: AnnotationUi) -> None:
        super().__init__(shell.widget)
        self.shell = shell
        self.annotation = annotation
        self.overlay = LabelMapOverlay(shell.grid.viewports, annotation.tools.layers)
        window = shell.widget
        self.open_action = QAction("&Open label map...", window)
        self.open_action.triggered.connect(lambda *_: self.open_dialog())
        self.outline_action = QAction("Label map &outline only", window)
        self.outline_action.setCheckable(True)
        self.outline_action.toggled.connect(self.overlay.set_outline)
        self.export_action = QAction("&Export label map as DICOM SEG...", window)
        self.export_action.triggered.connect(lambda *_: self.export_dialog())
        self.close_action = QAction("&Close label map", window)
        self.close_action.triggered.connect(lambda *_: self.show_label_map(None))
        self.polygon_menu = QMenu("Label to &polygon (this slice)", window)
        self.polygon_menu.aboutToShow.connect(self._fill_polygon_menu)
        self._enable()

    @property
    def label_map(self) -> SeriesLabelMap | None:
        return self.overlay.label_map

    def build_menu(self) -> QMenu:
        """View > Label map."""
        menu = QMenu("&Label map", self.shell.widget)
        menu.addActions([self.open_action, self.outline_action])
        menu.addMenu(self.polygon_menu)
        menu.addActions([self.export_action, self.close_action])
        return menu

    def _enable(self) -> None:
        shown = self.label_map is not None
        for action in (self.outline_action, self.export_action, self.close_action):
            action.setEnabled(shown)
        self.polygon_menu.setEnabled(shown)

    # -- showing ---------------------------------------------------------------------------

    def show_label_map(self, label_map: SeriesLabelMap | None) -> None:
        """Show ``label_map`` (None: close it) on every viewport."""
        self.overlay.set_label_map(label_map)
        self._enable()
        if label_map is not None:
            demo = " (demo model, not for clinical use)" if label_map.not_for_clinical_use else ""
            self.shell.show_status(
                f"Label map {label_map.description or label_map.model_id}{demo}: "
                f"{len(label_map.values)} labels",
                8000,
            )

    def show_findings(self, findings: Findings) -> SeriesLabelMap | None:
        """Show the first label map an analysis made (its segmentation model's); the layer is
        left as it is when the analysis made none."""
        demo = {m.id: m.not_for_clinical_use for m in findings.models}
        for found in findings.label_maps:
            if found.labels is not None:
                label_map = series_label_map(found, demo.get(found.model_id, True))
                self.show_label_map(label_map)
                return label_map
        return None

    def _stack(self, series_uid: str) -> Stack | None:
        for study in self.shell.studies():
            for series in study.series:
                if series.uid == series_uid:
                    return series.stacks[0]
        return None

    def _active_stack(self) -> Stack | None:
        vp = self.shell.grid.active
        source = vp.source
        if isinstance(source, StackListSource):
            return source.locate(vp.index)[0]
        return None

    def open_path(self, path: str | Path) -> SeriesLabelMap:
        """Read a label map file (NIfTI with its ground truth beside it, or DICOM SEG) onto the
        series it names (else the active viewport's) and show it; ValueError says why not."""
        path = Path(path)
        if path.suffix.lower() == ".dcm":
            label_map = self._read_seg(path)
        else:
            found = read_nifti_label_map(path)
            stack = self._stack(found.series_uid) if found.series_uid else None
            stack = stack or self._active_stack()
            if stack is None:
                raise ValueError("show the series the label map belongs to first")
            label_map = SeriesLabelMap(
                found.labels,
                found.affine,
                found.values,
                stack.first.instance.frame_of_reference_uid,
                stack.series_uid,
                description=f"{path.name} (truth)" if found.series_uid else path.name,
            )
        self.show_label_map(label_map)
        return label_map

    def _read_seg(self, path: Path) -> SeriesLabelMap:
        header = pydicom.dcmread(path, stop_before_pixels=True)
        referenced = header.get("ReferencedSeriesSequence") or []
        uid = str(referenced[0].SeriesInstanceUID) if referenced else ""
        stack = self._stack(uid) if uid else None
        if stack is None:
            raise ValueError(f"{path.name}: its series is not open")
        frames = [(f.instance.sop_instance_uid, f.index + 1) for f in stack.frames]
        from spineviewer.annotations.seg_labelmap import import_label_map  # highdicom: late

        read = import_label_map(path, frames)
        affine, _ = stack_grid(stack)
        return SeriesLabelMap(
            read.labels,
            affine,
            read.values,
            stack.first.instance.frame_of_reference_uid,
            stack.series_uid,
            read.model_id,
            read.model_version,
            f"{path.name} ({read.model_id or 'SEG'})",
            not_for_clinical_use=installed_demo_model(read.model_id),
        )

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.shell.widget, "Open label map", "", FILE_FILTER)
        if not path:
            return
        try:
            self.open_path(path)
        except (ValueError, OSError, RuntimeError) as exc:
            self.shell.notify("Label map not opened", f"{Path(path).name}: {exc}")

    # -- export ----------------------------------------------------------------------------

    def export_seg(self, out_dir: str | Path) -> Path:
        """Write the label map as a DICOM SEG of its series into ``out_dir``."""
        label_map = self.label_map
        if label_map is None:
            raise ValueError("no label map is shown")
        stack = self._stack(label_map.series_uid)
        if stack is None:
            raise ValueError("the label map's series is not open")
        affine, shape = stack_grid(stack)
        labels = on_grid(label_map, affine, shape)
        headers = source_headers([stack])
        from spineviewer.annotations.seg_labelmap import export_label_map  # highdicom: late

        return export_label_map(
            labels,
            label_map.values,
            [headers[f.instance.sop_instance_uid] for f in stack.frames],
            out_dir,
            model_id=label_map.model_id,
            model_version=label_map.model_version,
        )

    def export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.shell.widget, "Export label map to")
        if not folder:
            return
        try:
            path = self.export_seg(folder)
        except (ValueError, OSError) as exc:
            self.shell.notify("Label map not exported", str(exc))
            return
        self.shell.show_status(f"Label map written: {path}", 8000)

    # -- one label to a polygon ------------------------------------------------------------

    def _fill_polygon_menu(self) -> None:
        menu = self.polygon_menu
        menu.clear()
        label_map = self.label_map
        vp = self.shell.grid.active
        image = self.overlay.labels_on(vp)
        if label_map is None or image is None or not isinstance(vp.source, StackListSource):
            menu.addAction("(no label on an acquired slice here)").setEnabled(False)
            return
        for value in labels_present(image):
            label = label_map.label(value)
            text = label.display if label is not None else f"label {value}"
            action = menu.addAction(text)
            action.triggered.connect(lambda *_, v=value: self.label_to_polygon(v))

    def label_to_polygon(self, value: int) -> Annotation | None:
        """The label ``value`` on the active viewport's slice (its largest part) as a proposed
        polygon annotation, added as one undo step; None when it is not on that slice."""
        label_map, vp = self.label_map, self.shell.grid.active
        source = vp.source
        image = self.overlay.labels_on(vp)
        label = label_map.label(value) if label_map is not None else None
        if label_map is None or label is None or image is None:
            return None
        if not isinstance(source, StackListSource) or vp.info is None:
            self.shell.show_status("A polygon goes on an acquired image, not a reformat.", 6000)
            return None
        annotation = label_polygon(
            image == value,
            ImageRef.of_frame(source.frame(vp.index)),
            vp.info.plane,
            label,
            label_map.model_id or label_map.description,
            label_map.model_version,
        )
        if annotation is None:
            return None
        if not self.annotation.controller.add(annotation, f"{label.display} from the label map"):
            return None
        return annotation

    # -- report ----------------------------------------------------------------------------

    def label_volumes(self) -> tuple[LabelVolume, ...]:
        """The shown label map's per-label volumes (empty without one)."""
        label_map = self.label_map
        if label_map is None:
            return ()
        return label_volumes(
            label_map.labels,
            label_map.values,
            label_map.voxel_mm3,
            series=label_map.series_uid,
            source=label_map.description or label_map.model_id,
            not_for_clinical_use=label_map.not_for_clinical_use,
        )
