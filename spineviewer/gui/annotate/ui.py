"""Wiring the annotation tools into the window (its :class:`~spineviewer.gui.shell.Shell`):
actions, menus, docks, study sessions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMenu

from spineviewer import formats as registry
from spineviewer.annotations import (
    AnnotationFileError,
    ImageRef,
    Status,
    StudyEntry,
    Workspace,
    WorkspaceError,
)
from spineviewer.annotations.commands import AddAnnotations
from spineviewer.annotations.export import ExportResult, export_study, import_study_sr
from spineviewer.annotations.level_names import DOWN, UP
from spineviewer.dicom import ScanResult, Stack
from spineviewer.gui.actions import make_action
from spineviewer.gui.annotate.calibration_ui import CalibrationUi, calibrate_icon
from spineviewer.gui.annotate.controller import AnnotationController, image_ref
from spineviewer.gui.annotate.labelling import LabellingBar, labels_icon
from spineviewer.gui.annotate.level_overlay import LevelOverlay
from spineviewer.gui.annotate.panel import AnnotationPanel
from spineviewer.gui.annotate.tools import AnnotationTools
from spineviewer.gui.annotate.worklist_panel import WorklistPanel
from spineviewer.gui.format_checks import FormatsDialog
from spineviewer.gui.shell import Shell
from spineviewer.gui.viewport import ImageViewport
from spineviewer.gui.workers import Cancelled, Job, Progress

#: (tool, menu text, key, icon) of the annotation tools, in toolbar order.
TOOLS = (
    ("select", "&Select / edit", "S", "select"),
    ("line", "&Distance", "D", "line"),
    ("calibrate", "Calibrate on a &known length...", "Shift+D", None),  # drawn: calibrate_icon
    ("angle", "&Angle", "A", "angle"),
    ("cobb", "Cob&b angle", "K", "cobb"),
    ("rectangle", "&Rectangle", "B", "rectangle"),
    ("ellipse", "&Ellipse", "E", "ellipse"),
    ("polygon", "Pol&ygon", "G", "polygon"),
    ("freehand", "&Freehand", "N", "freehand"),
    ("point", "P&oint", "O", "point"),
    ("arrow", "Text &arrow", "Q", "arrow"),
    ("labels", "Vertebra &labels", "L", None),  # its icon is drawn (labelling.labels_icon)
)
#: The tools whose icons are drawn, not shipped.
DRAWN_ICONS = {"calibrate": calibrate_icon, "labels": labels_icon}


class AnnotationUi(QObject):
    """Everything annotation-related in one window."""

    def __init__(self, shell: Shell, workspace: Workspace | None = None) -> None:
        window = shell.widget
        super().__init__(window)
        self.shell = shell
        self.controller = AnnotationController(workspace, parent=self)
        self.tools = AnnotationTools(self.controller)
        #: The calibrate tool's question (its true length) and calibration.
        self.calibration = CalibrationUi(self.controller, self.tools, window)
        for vp in shell.grid.viewports:
            vp.tool_handler = self.tools
            vp.calibration_factor = self._calibration_factor
            vp.activated.connect(lambda vp=vp: self._on_viewport_activated(vp))
        c = self.controller
        c.pixels_of = self._pixels_on_screen
        c.changed.connect(self._on_changed)
        c.selectionChanged.connect(self._repaint)
        c.message.connect(lambda text: shell.show_status(text, 10000))
        # Another writer's changes merged in (and any conflict kept as a copy): a notice the
        # user must close, not only a status line that fades.
        c.merged.connect(
            lambda _uid, text: shell.notify(
                "Annotations merged",
                "Another writer changed this study's annotations; their changes were merged "
                "and nothing was lost.",
                text,
            )
        )
        self.panel = AnnotationPanel(c, window)
        self.panel.navigateRequested.connect(lambda ann: self.show_image(ann.image))
        self.labelling_bar = LabellingBar(self.tools.labelling, self.panel)
        self.panel.add_box(self.labelling_bar)
        #: The labels on every slice that cuts a body, and the level of axial slices.
        self.level_overlay = LevelOverlay(c, self.tools.layers)
        for vp in shell.grid.viewports:
            vp.overlays.append(self.level_overlay.paint)
        self.worklist = WorklistPanel(c, window)
        self.worklist.openRequested.connect(self._open_entry)
        self.panel_dock = self._dock("Annotations", "annotations", self.panel)
        self.worklist_dock = self._dock("Worklist", "worklist", self.worklist)
        window.tabifyDockWidget(self.panel_dock, self.worklist_dock)
        self.panel_dock.raise_()
        # wide enough for the review columns without scrolling (the user may narrow it: the
        # columns then elide, never scroll)
        window.resizeDocks(
            [self.panel_dock], [self.panel.sizeHint().width()], Qt.Orientation.Horizontal
        )

    def _dock(self, title: str, name: str, widget: QObject) -> QDockWidget:
        dock = QDockWidget(title, self.shell.widget)
        dock.setObjectName(name)
        dock.setWidget(widget)  # type: ignore[arg-type]
        self.shell.widget.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    # -- actions -----------------------------------------------------------------------------

    def build_actions(
        self, group: QActionGroup, tool_actions: dict[str, QAction]
    ) -> tuple[QMenu, QMenu]:
        """Tool actions (added to the window's exclusive tool group); returns the Edit and
        Annotate menus for the window's menu bar."""
        w = self.shell.widget
        act = partial(make_action, w)
        for name, text, key, icon_name in TOOLS:
            a = act(text, partial(self.shell.set_tool, name), key, icon_name, checkable=True)
            if icon_name is None:
                a.setIcon(DRAWN_ICONS[name]())
            group.addAction(a)
            tool_actions[name] = a
        c = self.controller
        self.shift_up_action = act("Shift labels &up one level (L3 → L2)",
                                   lambda: c.shift_levels(UP), "Alt+Up")  # fmt: skip
        self.shift_down_action = act(
            "Shift labels do&wn one level (L3 → L4; S1 stays, L5 → L6)",
            lambda: c.shift_levels(DOWN),
            "Alt+Down",
        )
        self.accept_labels_action = act("Accept AI vertebra la&bels", c.accept_labels)
        self.remove_calibration_action = act(
            "Re&move the series' calibration",
            lambda: c.remove_calibration(image_ref(self.shell.grid.active.info)),
        )
        self.undo_action = act("&Undo", c.undo, "Ctrl+Z", "undo")
        self.redo_action = act("&Redo", c.redo, "Ctrl+Y", "redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        self.delete_action = act(
            "&Delete annotation",
            lambda: self.controller.delete([c.selected] if c.selected else []),
            "Delete",
            "delete",
            global_shortcut=False,
        )
        self.accept_action = act(
            "A&ccept proposal", lambda: self.panel.review(Status.ACCEPTED), "Ctrl+Return", "accept"
        )
        self.reject_action = act(
            "Re&ject proposal",
            lambda: self.panel.review(Status.REJECTED),
            "Ctrl+Backspace",
            "reject",
        )
        self.next_action = act("&Next proposal", self.panel.next_proposal, ".", "next")
        self.previous_action = act("&Previous proposal", self.panel.previous_proposal, ",")
        self.relabel_action = act("Re&label (type the label)...", self.panel.relabel, "F2")
        #: Disc state by number (Alt+1 normal, Alt+2 bulge, Alt+3 herniation): plain digits
        #: are the window presets in a viewport; in the Annotations list they set states too.
        self.state_actions = [
            act(f"Disc state: {state.meaning}", self._state_setter(number), f"Alt+{number}")
            for number, state in enumerate(c.vocabulary.disc_states[:9], start=1)
        ]
        self.accept_all_action = act("Accept &all proposals", c.accept_all)
        self.visible_action = act(
            "Show a&nnotations", self.toggle_visible, "Shift+I", "annotations", checkable=True
        )
        self.visible_action.setChecked(True)
        self.export_action = act(
            "E&xport annotations (SR, SEG, COCO, KOS, GSPS)...",
            self.export_dialog,
            None,
            "annotations",
        )
        self.import_action = act("&Import annotations from DICOM SR...", self.import_dialog)
        edit = QMenu("&Edit", w)
        edit.addActions([self.undo_action, self.redo_action, self.delete_action])
        menu = QMenu("&Annotate", w)
        menu.addActions([tool_actions[name] for name, *_ in TOOLS])
        menu.addAction(self.remove_calibration_action)
        menu.addSeparator()
        menu.addActions(
            [
                self.accept_action,
                self.reject_action,
                self.next_action,
                self.previous_action,
                self.relabel_action,
                self.accept_all_action,
            ]
        )
        states = menu.addMenu("Disc &state")
        states.addActions(self.state_actions)
        menu.addSeparator()
        menu.addActions([self.accept_labels_action, self.shift_up_action, self.shift_down_action])
        menu.addSeparator()
        menu.addActions(
            [
                self.visible_action,
                self.panel_dock.toggleViewAction(),
                self.worklist_dock.toggleViewAction(),
            ]
        )
        self._on_changed()
        return edit, menu

    def _state_setter(self, number: int) -> Callable[[], bool]:
        return lambda: self.panel.set_disc_state(number)

    def set_phi_free(self, on: bool) -> None:
        """PHI-free mode in the worklist (the window's P toggles it with the rest)."""
        self.worklist.set_phi_free(on)

    def toolbar_actions(self, tool_actions: dict[str, QAction]) -> list[QAction]:
        return [tool_actions[name] for name, *_ in TOOLS] + [self.undo_action, self.redo_action]

    def toggle_visible(self) -> None:
        self.controller.visible = not self.controller.visible
        self.visible_action.setChecked(self.controller.visible)
        self._repaint()

    # -- exchange ------------------------------------------------------------------------------

    def study_stacks(self) -> list[Stack]:
        """The stacks of the study open for annotation."""
        uid = self.controller.current_uid
        return [
            stack
            for study in self.shell.studies()
            if study.uid == uid
            for series in study.series
            for stack in series.stacks
        ]

    def export_dialog(self) -> None:
        choice = FormatsDialog(self.shell.widget, registry.Family.ANNOTATIONS, "Export annotations")
        if not choice.exec():
            return
        folder = QFileDialog.getExistingDirectory(self.shell.widget, "Export annotations to folder")
        if folder:
            self.export_to(Path(folder), choice.formats())

    def export_to(
        self,
        folder: Path,
        formats: Sequence[str] = registry.defaults(registry.Family.ANNOTATIONS),
    ) -> Job | None:
        """Export the current study's annotations into ``folder`` in the background."""
        doc = self.controller.document
        if doc is None:
            self.controller.message.emit("No study open for annotation.")
            return None
        stacks = self.study_stacks()

        def work(progress: Progress, cancelled: Cancelled) -> ExportResult:
            return export_study(doc, stacks, folder, formats, progress)

        job = Job(f"Exporting annotations to {folder.name}", work, self.shell.widget)
        job.succeeded.connect(self._exported)
        return self.shell.start_job(job)

    def _exported(self, result: ExportResult) -> None:
        text = f"Exported {result.exported} annotations: {len(result.files)} files"
        if result.skipped:
            text += f"; {len(result.skipped)} left out (see details)"
            self.shell.notify("Export", text, "\n".join(result.skipped))
        self.controller.message.emit(text)

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.shell.widget, "Import DICOM SR", "", "DICOM SR (*.dcm);;All files (*)"
        )
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path) -> int:
        """Add the annotations of an SR to the current study (one undoable step)."""
        session = self.controller.session
        if session is None:
            self.controller.message.emit("No study open for annotation.")
            return 0
        try:
            found = import_study_sr(path, self.study_stacks())
        except (ValueError, OSError, AttributeError, KeyError) as exc:
            self.shell.notify("Import failed", f"{path.name}: {exc}")
            return 0
        doc = session.document
        new = [a for a in found if a.image.study_uid == doc.study_uid and a.uid not in doc]
        if new:
            self.controller.push(session, AddAnnotations(new, f"Import {len(new)} annotations"))
        self.controller.message.emit(
            f"Imported {len(new)} annotations from {path.name}"
            f" ({len(found) - len(new)} already present or of another study)"
        )
        return len(new)

    # -- studies -------------------------------------------------------------------------------

    def studies_opened(self, paths: Sequence[str], results: Sequence[ScanResult]) -> None:
        """Open (or reopen from the workspace) the annotation document of each new study."""
        for path, result in zip(paths, results, strict=True):
            self.panel.index_studies(result.studies)
            for study in result.studies:
                try:
                    self.controller.open_study(study, [path])
                except (WorkspaceError, AnnotationFileError, OSError) as exc:
                    self.shell.notify(
                        "Annotations unavailable",
                        f"The annotations of this study cannot be opened: {exc}. "
                        "Viewing works; drawing is disabled for it.",
                    )

    def _open_entry(self, entry: StudyEntry) -> None:
        if entry.study_uid in self.controller.sessions:
            self.controller.set_current_study(entry.study_uid)
            study = next((s for s in self.shell.studies() if s.uid == entry.study_uid), None)
            if study is not None:
                self.shell.apply_hanging(study)
            return
        if entry.source_paths:
            self.shell.open_paths(list(entry.source_paths))

    def _on_viewport_activated(self, vp: ImageViewport) -> None:
        ref = image_ref(vp.info)
        if ref is not None:
            self.controller.set_current_study(ref.study_uid)

    def _calibration_factor(self, series_uid: str) -> float | None:
        calibration = self.controller.calibration_of(series_uid)
        return calibration.factor if calibration is not None else None

    def _pixels_on_screen(self, ref: ImageRef) -> tuple[np.ndarray, str] | None:
        for vp in self.shell.grid.viewports:
            shown = image_ref(vp.info)
            if (
                shown is not None
                and vp.values is not None
                and vp.source is not None
                and (shown.sop_instance_uid, shown.frame_number)
                == (ref.sop_instance_uid, ref.frame_number)
            ):
                return vp.values, vp.source.modality
        return None

    def show_image(self, ref: ImageRef, load: bool = True) -> bool:
        """Bring the frame ``ref`` into view: a viewport showing its series, else (``load``)
        the series loaded into the active viewport."""
        grid = self.shell.grid
        for vp in [grid.active, *grid.viewports]:
            source = vp.source
            if source is None or source.series_uid != ref.series_uid:
                continue
            for index in range(len(source)):
                shown = image_ref(source.info(index))
                if shown is not None and (shown.sop_instance_uid, shown.frame_number) == (
                    ref.sop_instance_uid,
                    ref.frame_number,
                ):
                    vp.set_index(index)
                    grid.set_active(vp)
                    return True
        if not load:
            return False
        for study in self.shell.studies():
            for series in study.series:
                if series.uid == ref.series_uid:
                    target = self._viewport_for(series.stacks[0].plane)
                    self.shell.show_series(series.stacks, target, study)
                    return self.show_image(ref, load=False)
        return False

    def _viewport_for(self, plane: str | None) -> ImageViewport:
        """Where a series of ``plane`` that no viewport shows goes: a viewport showing the same
        plane (an axial stack replaces the axial series, never the sagittal one beside it),
        else the active one."""
        grid = self.shell.grid
        for vp in [grid.active, *grid.visible_viewports()]:
            if plane is not None and vp.source is not None and vp.source.plane_name == plane:
                return vp
        return grid.active

    # -- repaint ---------------------------------------------------------------------------------

    def _on_changed(self) -> None:
        session = self.controller.session
        stack = session.stack if session is not None else None
        if hasattr(self, "undo_action"):
            self.undo_action.setEnabled(stack is not None and stack.can_undo)
            self.redo_action.setEnabled(stack is not None and stack.can_redo)
            self.undo_action.setText(stack.undo_text if stack is not None else "Undo")
            self.redo_action.setText(stack.redo_text if stack is not None else "Redo")
        self._repaint()

    def _repaint(self) -> None:
        for vp in self.shell.grid.viewports:
            vp.viewport().update()
