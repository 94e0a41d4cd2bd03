"""The main window: study browser, viewport grid, menus and toolbar, background loading."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QToolButton,
)

from spineviewer.dicom import ScanResult, SkippedFile, Stack, Study, Volume
from spineviewer.dicom.display import window_from_frame
from spineviewer.gui.actions import make_action
from spineviewer.gui.analysis_ui import AnalysisUi
from spineviewer.gui.annotate.ui import AnnotationUi
from spineviewer.gui.browser import StudyBrowser
from spineviewer.gui.curved_ui import CurvedReformatUi
from spineviewer.gui.dialogs import AboutDialog, ShortcutsDialog
from spineviewer.gui.export_ui import ExportUi
from spineviewer.gui.grid import LAYOUTS, ViewportGrid, layout_name
from spineviewer.gui.icons import icon
from spineviewer.gui.label_map_ui import LabelMapUi
from spineviewer.gui.loading import (
    SCANNER,
    first_image_study,
    load_volume,
    prefetch,
    scan_paths,
)
from spineviewer.gui.presentation_ui import PresentationUi
from spineviewer.gui.prior_ui import PriorUi
from spineviewer.gui.settings import ViewerSettings
from spineviewer.gui.steps import StepQueue
from spineviewer.gui.study_export_ui import StudyExportUi
from spineviewer.gui.sync import ViewportSync
from spineviewer.gui.viewport import ImageViewport
from spineviewer.gui.workers import Job
from spineviewer.viewing.hanging import Hanging, ViewportSpec, choose_hanging, reformat_hanging
from spineviewer.viewing.mpr import MprSource, is_volumetric
from spineviewer.viewing.source import SliceSource, StackListSource, display_name

TITLE = "SpineViewer (not for clinical use)"


class MainWindow(QMainWindow):
    """A reading workstation window: browse studies, hang series, read them.

    The features (annotation, AI, reports, PACS) see it as their
    :class:`~spineviewer.gui.shell.Shell`."""

    #: Emitted when every background job has ended (tests and screenshots wait for it).
    idle = Signal()

    def __init__(self, settings: ViewerSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or ViewerSettings()
        self.setWindowTitle(TITLE)
        self.setWindowIcon(icon("spineviewer"))
        self.setAcceptDrops(True)
        self.results: list[ScanResult] = []
        self.jobs: list[Job] = []
        self.volumes: dict[str, Volume] = {}
        self._volume_jobs: dict[str, Job] = {}
        #: Viewports waiting for a loading volume: (viewport, spec, study) per volume key.
        self._volume_waiters: dict[str, list[tuple[ImageViewport, ViewportSpec, Study]]] = {}
        self._steps = StepQueue(self._maybe_idle, self)
        self._preview_shown = False  # the first viewport shows a preview of an opening folder
        self._preview_job: Job | None = None
        self._notice: QMessageBox | None = None
        self.grid = ViewportGrid(self)
        self.setCentralWidget(self.grid)
        self.sync = ViewportSync(self.grid.viewports, self)
        self.browser = StudyBrowser(self)
        self.browser.stacksActivated.connect(self._on_browser_stacks_activated)
        dock = QDockWidget("Studies", self)
        dock.setObjectName("studies")
        dock.setWidget(self.browser)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.browser_dock = dock
        for vp in self.grid.viewports:
            vp.mimeDropped.connect(lambda mime, vp=vp: self._on_viewport_mime_dropped(vp, mime))
            vp.seriesStepRequested.connect(lambda step, vp=vp: self.step_series(vp, step))
        self._build_status_bar()
        self.annotation = AnnotationUi(self)
        self.presentation = PresentationUi(self, self.annotation)
        self.analysis = AnalysisUi(self, self.annotation)
        self.label_maps = LabelMapUi(self, self.annotation)
        self.export = ExportUi(self)
        self.study_export = StudyExportUi(self)
        self.prior = PriorUi(self, self.annotation)
        self.analysis.prior_report = self.prior.prior_report  # reports list both dates
        self.curved = CurvedReformatUi(self, lambda: self.analysis.last)
        self._build_actions()
        self._apply_settings()
        self.settings.restore_geometry(self)
        # the header-reading process imports pydicom (about a second, in its own process):
        # started now, it is ready by the time a study is opened
        QTimer.singleShot(0, SCANNER.start)

    # -- building ----------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress_label = QLabel(self)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self.cancel_jobs)
        for w in (self.progress_label, self.progress, self.cancel_button):
            bar.addPermanentWidget(w)
            w.hide()

    def _build_actions(self) -> None:
        act = partial(make_action, self)
        vp = lambda: self.grid.active  # noqa: E731 (short alias for the active viewport)
        self.open_folder_action = act(
            "Open &folder...", self.open_folder_dialog, "Ctrl+O", "open-folder"
        )
        self.open_file_action = act(
            "Open &zip or DICOMDIR...", self.open_file_dialog, "Ctrl+Shift+O", "open-file"
        )
        quit_action = act("&Quit", self.close, "Ctrl+Q")
        self.layout_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for number, name in enumerate(LAYOUTS, start=1):
            a = act(
                f"Layout {name}",
                partial(self.set_layout, name),
                f"Ctrl+{number}",
                f"layout-{name}",
                checkable=True,
            )
            group.addAction(a)
            self.layout_actions[name] = a
        self.hanging_action = act("Apply &hanging protocol", self.apply_hanging_to_current)
        self.reformat_action = act(
            "Multiplanar &reformats", self.show_reformats, None, "layout-1x3"
        )
        self.corner_action = act(
            "Corner &text",
            lambda: self.set_option("corner_text", None),
            "I",
            "corner-text",
            checkable=True,
            global_shortcut=False,
        )
        self.phi_action = act(
            "&PHI-free mode",
            lambda: self.set_option("phi_free", None),
            "P",
            "phi",
            checkable=True,
            global_shortcut=False,
        )
        self.crossref_action = act(
            "Cross-reference &lines",
            lambda: self.set_option("crossref", None),
            "X",
            "crossref",
            checkable=True,
        )
        self.crossref_all_action = act(
            "Cross-reference: &all slices (dimmed)",
            lambda: self.set_option("crossref_all", None),
            "Shift+X",
            checkable=True,
        )
        self.preset_menu = QMenu("Window &presets", self)
        self.preset_menu.setIcon(icon("window-level"))
        self.preset_menu.aboutToShow.connect(self._fill_preset_menu)
        self.preset_button = QToolButton(self)
        self.preset_button.setObjectName("window-presets")
        self.preset_button.setText("Presets")
        self.preset_button.setToolTip("Window presets of the active viewport (keys 1-9)")
        self.preset_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.preset_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.preset_button.setMenu(self.preset_menu)
        fit = act("&Fit to window", lambda: vp().fit(), "F", "fit", global_shortcut=False)
        reset = act("&Reset view", lambda: vp().reset(), "R", "reset", global_shortcut=False)
        invert = act("&Invert", lambda: vp().toggle_invert(), "V", "invert", global_shortcut=False)
        rot_cw = act(
            "Rotate clockwise",
            lambda: vp().rotate(True),
            "Alt+R",
            "rotate-cw",
            global_shortcut=False,
        )
        rot_ccw = act(
            "Rotate counter-clockwise",
            lambda: vp().rotate(False),
            "Alt+Shift+R",
            "rotate-ccw",
            global_shortcut=False,
        )
        flip_h = act(
            "Flip horizontal", lambda: vp().flip(True), "H", "flip-h", global_shortcut=False
        )
        flip_v = act(
            "Flip vertical", lambda: vp().flip(False), "Shift+H", "flip-v", global_shortcut=False
        )
        cine = act("&Cine", lambda: vp().toggle_cine(), "C", "cine", global_shortcut=False)
        tools = self.tool_group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for name, text, key, icon_name in (
            ("window", "&Window/level", "W", "window-level"),
            ("zoom", "&Zoom", "Z", "zoom"),
            ("pan", "&Pan", "T", "pan"),
        ):
            a = act(
                text,
                partial(self.set_tool, name),
                key,
                icon_name,
                checkable=True,
                global_shortcut=False,
            )
            tools.addAction(a)
            self.tool_actions[name] = a
        self.tool_actions["window"].setChecked(True)
        edit_menu, annotate_menu = self.annotation.build_actions(tools, self.tool_actions)
        edit_menu.addSeparator()
        edit_menu.addAction(self.export.copy_view_action)
        # PHI-free mode hides names in the lists too, not only on the images
        self.phi_action.toggled.connect(self._set_lists_phi_free)
        self._set_lists_phi_free(self.phi_action.isChecked())
        pacs = [
            act("Query/Retrieve from &PACS...", lambda: self.open_pacs("query"), "Ctrl+Shift+Q"),
            act("Send results to PA&CS...", lambda: self.open_pacs("send")),
            act("PACS &nodes...", lambda: self.open_pacs("nodes")),
        ]
        shortcuts = act("&Shortcuts", self.show_shortcuts, "F1", "shortcuts")
        about = act("&About SpineViewer", self.show_about, None, "about")

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addActions([self.open_folder_action, self.open_file_action])
        file_menu.addActions(self.prior.file_actions)
        self.recent_menu = file_menu.addMenu(icon("recent"), "Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.annotation.export_action, self.annotation.import_action])
        file_menu.addActions(self.presentation.actions)
        file_menu.addAction(self.analysis.report_action)
        export = self.export
        file_menu.addActions([export.export_view_action, export.export_series_action])
        file_menu.addAction(self.study_export.export_study_action)
        file_menu.addAction(export.print_view_action)
        file_menu.addSeparator()
        file_menu.addActions(pacs)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        view_menu = menu.addMenu("&View")
        view_menu.addActions(list(self.layout_actions.values()))
        view_menu.addActions([self.hanging_action, self.reformat_action, self.curved.action])
        view_menu.addSeparator()
        view_menu.addActions(self.prior.view_actions)
        view_menu.aboutToShow.connect(self.prior.update_actions)
        view_menu.addSeparator()
        view_menu.addActions(
            [self.corner_action, self.phi_action, self.crossref_action, self.crossref_all_action]
        )
        view_menu.addMenu(self.label_maps.build_menu())
        view_menu.addSeparator()
        view_menu.addMenu(self.preset_menu)
        view_menu.addActions([fit, reset, invert, rot_cw, rot_ccw, flip_h, flip_v, cine])
        view_menu.addSeparator()
        view_menu.addAction(self.browser_dock.toggleViewAction())
        tools_menu = menu.addMenu("&Tools")
        tools_menu.addActions([self.tool_actions[n] for n in ("window", "zoom", "pan")])
        menu.insertMenu(tools_menu.menuAction(), annotate_menu)
        menu.insertMenu(view_menu.menuAction(), edit_menu)
        menu.addMenu(self.analysis.build_menu())
        help_menu = menu.addMenu("&Help")
        help_menu.addActions([shortcuts, about])

        bar = self.addToolBar("Main")
        bar.setObjectName("main-toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        bar.addActions([self.open_folder_action, self.open_file_action])
        bar.addSeparator()
        bar.addActions(list(self.layout_actions.values()))
        bar.addSeparator()
        bar.addActions([self.tool_actions[n] for n in ("window", "zoom", "pan")])
        bar.addWidget(self.preset_button)
        bar.addSeparator()
        bar.addActions(self.annotation.toolbar_actions(self.tool_actions))
        bar.addSeparator()
        bar.addActions([fit, reset, invert, rot_cw, flip_h, cine])
        bar.addSeparator()
        bar.addActions([self.crossref_action, self.corner_action, self.phi_action])
        bar.addSeparator()
        bar.addAction(self.analysis.analyze_action)
        for a in bar.actions():
            if a.shortcut().toString():
                a.setToolTip(f"{a.text().replace('&', '')} ({a.shortcut().toString()})")

        for v in self.grid.viewports:
            v.displayOptionToggled.connect(self._on_viewport_option_toggled)
            v.toolRequested.connect(self.set_tool)

    def _set_lists_phi_free(self, on: bool) -> None:
        """PHI-free mode in the study browser and the worklist (the viewports have their own)."""
        self.browser.set_phi_free(on)
        self.annotation.set_phi_free(on)

    def _apply_settings(self) -> None:
        s = self.settings
        self.corner_action.setChecked(s.corner_text)
        self.phi_action.setChecked(s.phi_free)
        self.crossref_action.setChecked(s.crossref)
        self.crossref_all_action.setChecked(s.crossref_all)
        for v in self.grid.viewports:
            v.show_corner_text = s.corner_text
            v.phi_free = s.phi_free
            v.show_crossref = s.crossref
            v.set_cine_fps(s.cine_fps)
        self.sync.show_all = s.crossref_all
        self.set_layout(s.layout if s.layout in LAYOUTS else "1x2")

    # -- options -----------------------------------------------------------------------

    def set_option(self, name: str, value: bool | None) -> None:
        """Set (or toggle, when ``value`` is None) a display option on every viewport."""
        current = bool(getattr(self.settings, name))
        value = (not current) if value is None else value
        setattr(self.settings, name, value)
        attr = {
            "corner_text": "show_corner_text",
            "phi_free": "phi_free",
            "crossref": "show_crossref",
        }
        for v in self.grid.viewports:
            if name in attr:
                setattr(v, attr[name], value)
            v.update()
        action = {
            "corner_text": self.corner_action,
            "phi_free": self.phi_action,
            "crossref": self.crossref_action,
            "crossref_all": self.crossref_all_action,
        }[name]
        action.setChecked(value)
        if name in ("crossref", "crossref_all"):
            self.sync.show_all = self.settings.crossref_all
            self.sync.refresh()

    def _fill_preset_menu(self) -> None:
        """The active viewport's window presets, with the keys (1-9) that apply them."""
        menu = self.preset_menu
        menu.clear()
        vp = self.grid.active
        if not vp.presets:
            menu.addAction("(no image)").setEnabled(False)
            return
        for number, preset in enumerate(vp.presets, start=1):
            w = preset.window
            text = f"{preset.name}  (C {w.center:.0f} / W {w.width:.0f})\t{number}"
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(vp.voi_window == w)
            action.triggered.connect(lambda *_, vp=vp, n=number: vp.apply_preset(n))

    def _on_viewport_option_toggled(self, name: str) -> None:
        self.set_option(name, None)

    def set_layout(self, name: str) -> None:
        """Switch the viewport grid layout and remember it; viewports it shows empty get the
        series of the shown study that are not on screen yet, in series order."""
        self._set_grid_layout(name)
        self._fill_empty_viewports()

    def _set_grid_layout(self, name: str) -> None:
        self.grid.set_layout(name)
        self.layout_actions[name].setChecked(True)
        self.settings.layout = name
        self.sync.refresh()

    def _fill_empty_viewports(self) -> None:
        visible = self.grid.visible_viewports()
        empty = [v for v in visible if v.source is None]
        shown = [v.source for v in visible if v.source is not None]
        study = next((st for st in map(self._study_of_source, shown) if st is not None), None)
        if not empty or study is None:
            return
        on_screen = {source.series_uid for source in shown}
        remaining = [
            s
            for s in sorted(study.series, key=lambda s: (s.number is None, s.number or 0))
            if s.stacks and s.stacks[0].series_uid not in on_screen
        ]
        if not remaining:
            return
        for vp, series in zip(empty, remaining, strict=False):
            self._defer(partial(self.show_stacks, series.stacks, vp, study))

        def finish() -> None:
            self.sync.refresh()
            self._prefetch_shown()

        self._defer(finish)

    def _study_of_source(self, source: SliceSource) -> Study | None:
        """The study a viewport's source (acquired stacks or a reformat) comes from."""
        if isinstance(source, StackListSource):
            return self.study_of(source.stacks[0])
        for result in self.results:
            for study in result.studies:
                if any(
                    st.series_uid == source.series_uid for se in study.series for st in se.stacks
                ):
                    return study
        return None

    def set_tool(self, tool: str) -> None:
        """Left-button tool of every viewport: 'window', 'zoom', 'pan', or an annotation tool
        ('select', 'line', 'rectangle', ...; see :mod:`spineviewer.gui.annotate.ui`)."""
        if tool in ("window", "zoom", "pan"):
            for v in self.grid.viewports:
                v.set_tool(tool)
        self.annotation.controller.set_tool(tool)
        self.tool_actions[tool].setChecked(True)

    # -- opening -----------------------------------------------------------------------

    def open_folder_dialog(self) -> None:
        """Ask for a folder and open it."""
        path = QFileDialog.getExistingDirectory(self, "Open DICOM folder")
        if path:
            self.open_paths([path])

    def open_file_dialog(self) -> None:
        """Ask for a zip archive, DICOMDIR or DICOM file and open it."""
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open zip archive, DICOMDIR or DICOM file",
            "",
            "DICOM sources (*.zip DICOMDIR *.dcm *);;All files (*)",
        )
        if path:
            self.open_paths([path])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.existing_recent()
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for path in recent:
            self.recent_menu.addAction(path, partial(self.open_paths, [path]))

    def open_paths(self, paths: Sequence[str | Path]) -> Job | None:
        """Scan ``paths`` in the background; the browser and viewports fill in when done."""
        path_texts = [str(p) for p in paths]
        if not path_texts:
            return None
        job = Job(
            "Opening " + ", ".join(Path(p).name for p in path_texts), scan_paths(path_texts), self
        )
        job.succeeded.connect(lambda results: self._on_scan_succeeded(path_texts, results))
        if all(v.source is None for v in self.grid.viewports):
            self._start_preview(path_texts[0], job)
        return self.start_job(job)

    def _start_preview(self, path: str, scan_job: Job) -> None:
        """While the headers of a large folder are read, show its first image in the first
        viewport; the hanging protocol replaces it once the scan is done."""
        preview = Job("Reading the first image", first_image_study(path), self)

        def show(study: Study | None) -> None:
            vp = self.grid.viewports[0]
            if study is None or scan_job.done or vp.source is not None:
                return
            self.show_stacks(study.series[0].stacks, vp, study)
            self._preview_shown = True

        preview.succeeded.connect(show)  # (a file it cannot read is the scan's to report)
        preview.start()
        self._preview_job = preview

    def _on_scan_succeeded(self, paths: Sequence[str], results: list[ScanResult]) -> None:
        first_new = len(self.results)
        for path, result in zip(paths, results, strict=True):
            self.results.append(result)
            self.browser.add_result(result)
            if result.studies:
                self.settings.add_recent(path)
        # Later event-loop turns, one step each: reading the annotation workspace (disk,
        # SQLite), then the hanging protocol's layout, then each viewport. Run in one turn they
        # held the GUI thread for 50 ms.
        self._defer(lambda: self.annotation.studies_opened(paths, results))
        problems = [(p, r) for p, r in zip(paths, results, strict=True) if r.skipped]
        if any(not _not_an_image(s) for _, r in problems for s in r.skipped):
            self._show_problems(problems)
        empty = all(v.source is None for v in self.grid.viewports)
        if first_new == 0 or empty or self._preview_shown:
            study = next((s for r in self.results[first_new:] for s in r.studies), None)
            if study is not None:
                self._defer(lambda: self.apply_hanging(study))
        found = sum(len(r.studies) for r in results)
        self.statusBar().showMessage(f"Opened {found} stud{'y' if found == 1 else 'ies'}", 5000)

    def _show_problems(self, problems: Sequence[tuple[str, ScanResult]]) -> None:
        """A notice for files that should have loaded (DICOM that failed, unreadable folders);
        files that are not DICOM at all (a README, the phantom's ground_truth.json) are only
        listed, in its details and in the browser's Problems entry."""
        skipped = [s for _, r in problems for s in r.skipped]
        real = [s for s in skipped if not _not_an_image(s)]
        other = [s for s in skipped if _not_an_image(s)]
        count = len(real)
        lines = [f"{s.path}: {s.reason}" for s in real]
        if other:
            lines += ["", "Not DICOM (skipped, not images):"]
            lines += [f"{s.path}: {s.reason}" for s in other]
        self.notify(
            "Some files were not loaded",
            f"{count} file{'s' if count != 1 else ''} could not be loaded; the rest is open. "
            "The Problems entry of the study browser lists them.",
            "\n".join(lines),
        )

    def notify(self, title: str, text: str, details: str = "") -> None:
        """A non-modal warning: the window keeps working while it is open."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(text)
        if details:
            box.setDetailedText(details)
        box.setModal(False)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self._notice = box

    # -- what the features see (spineviewer.gui.shell.Shell) ------------------------------

    @property
    def widget(self) -> QMainWindow:
        """This window as a Qt widget (the parent of the features' docks and dialogs)."""
        return self

    def studies(self) -> list[Study]:
        """Every study opened, in the order opened."""
        return [study for result in self.results for study in result.studies]

    def show_status(self, text: str, msecs: int = 5000) -> None:
        """A passing message in the status bar."""
        self.statusBar().showMessage(text, msecs)

    def show_series(self, stacks: Sequence[Stack], viewport: ImageViewport, study: Study) -> None:
        """Show ``stacks`` in ``viewport``, cross-reference lines updated."""
        self.show_stacks(stacks, viewport, study)
        self.sync.refresh()

    # -- hanging series ----------------------------------------------------------------

    def study_of(self, stack: Stack) -> Study | None:
        """The study a stack belongs to."""
        for result in self.results:
            for study in result.studies:
                for series in study.series:
                    if stack in series.stacks:
                        return study
        return None

    def apply_hanging(self, study: Study, hanging: Hanging | None = None) -> None:
        """Lay out ``study`` by the spine hanging protocol (or by ``hanging``; its viewports may
        show another study, a prior: each shows with its own study's corner text).

        The layout changes at once; each viewport is filled on its own event-loop turn, so
        painting and input never wait for all of them (:meth:`busy` until the last)."""
        hanging = hanging or choose_hanging(study)
        self._preview_shown = False
        self._volume_waiters.clear()  # a new hanging supersedes reformats still loading
        rows, cols = hanging.layout
        self._set_grid_layout(layout_name((rows, cols)))
        for vp in self.grid.viewports:
            vp.set_source(None)
        for vp, spec in zip(self.grid.viewports, hanging.viewports, strict=False):
            own = self.study_of(spec.stacks[0]) if spec.stacks else None
            self._defer(partial(self.show_spec, vp, spec, own or study))

        def finish() -> None:
            self.grid.set_active(self.grid.viewports[0])
            self.sync.refresh()
            self.statusBar().showMessage(f"Hanging protocol: {hanging.reason}", 8000)
            self._prefetch_shown()

        self._defer(finish)

    def apply_hanging_to_current(self) -> None:
        """Re-apply the hanging protocol to the study in the active viewport."""
        source = self.grid.active.source
        if isinstance(source, StackListSource):
            study = self.study_of(source.stacks[0])
            if study is not None:
                self.apply_hanging(study)

    def show_reformats(self) -> bool:
        """View > Multiplanar reformats: the active viewport's volume in 1x3, its acquired
        slices beside reformats in the two other planes; False (and a status line) when the
        active viewport shows no volume."""
        source = self.grid.active.source
        stack = (
            source.locate(self.grid.active.index)[0]
            if isinstance(source, StackListSource)
            else None
        )
        study = self.study_of(stack) if stack is not None else None
        if stack is None or study is None or not is_volumetric(stack):
            self.statusBar().showMessage(
                "Multiplanar reformats need a volume (closely and evenly spaced slices) "
                "in the active viewport.",
                8000,
            )
            return False
        self.apply_hanging(study, reformat_hanging(stack))
        return True

    def show_spec(self, vp: ImageViewport, spec: ViewportSpec, study: Study) -> None:
        """Put a hanging-protocol entry in a viewport (MPR volumes load in the background)."""
        if spec.mpr_plane is None:
            self.show_stacks(spec.stacks, vp, study)
            return
        stack = spec.stacks[0]
        key = volume_key(stack)
        if key in self.volumes:
            self._show_mpr(vp, self.volumes[key], spec.mpr_plane, stack, study)
            return
        if vp is self.grid.viewports[0]:
            self.show_stacks((stack,), vp, study)  # native slices while the volume loads
        # Waiters are kept here, on the GUI thread, not as connections to the job: a small
        # volume loads before a connection made after its start would see ``succeeded``.
        self._volume_waiters.setdefault(key, []).append((vp, spec, study))
        if key in self._volume_jobs:  # one load per volume, however many viewports use it
            return
        job = Job(f"Loading volume {stack.name}", load_volume(stack), self)
        job.finished.connect(lambda: self._volume_jobs.pop(key, None))
        job.succeeded.connect(lambda volume: self._on_volume_loaded(key, volume))
        job.failed.connect(lambda _message: self._volume_waiters.pop(key, None))
        job.cancelled.connect(lambda: self._volume_waiters.pop(key, None))
        self._volume_jobs[key] = job
        self.start_job(job)

    def _on_volume_loaded(self, key: str, volume: Volume) -> None:
        self.volumes[key] = volume
        for vp, spec, study in self._volume_waiters.pop(key, []):
            plane = spec.mpr_plane
            assert plane is not None

            def show(
                vp: ImageViewport = vp,
                plane: str = plane,
                spec: ViewportSpec = spec,
                study: Study = study,
            ) -> None:
                self._show_mpr(vp, volume, plane, spec.stacks[0], study)
                self.sync.refresh()

            self._defer(show)

    def _defer(self, step: Callable[[], None]) -> None:
        """Run ``step`` on a later event-loop turn, one step per turn, in order: input and
        paint stay smooth between steps (:class:`~spineviewer.gui.steps.StepQueue`)."""
        self._steps.defer(step)

    def _show_mpr(
        self, vp: ImageViewport, volume: Volume, plane: str, stack: Stack, study: Study
    ) -> None:
        first = stack.first
        source = MprSource(
            volume,
            plane,
            name=f"MPR {plane} - {display_name(stack)}",
            series_uid=stack.series_uid,
            modality=stack.modality,
            header_window=window_from_frame(first),
            photometric=first.instance.photometric,
        )
        vp.set_source(source, study.info)

    def show_stacks(
        self, stacks: Sequence[Stack], vp: ImageViewport | None = None, study: Study | None = None
    ) -> None:
        """Show ``stacks`` (one series, or one stack of it) in ``vp`` (default: active)."""
        if not stacks:
            return
        vp = vp or self.grid.active
        study = study or self.study_of(stacks[0])
        source: SliceSource = StackListSource.from_stacks(stacks)
        vp.set_source(source, study.info if study is not None else {})

    def _on_browser_stacks_activated(self, stacks: tuple[Stack, ...]) -> None:
        self.show_stacks(stacks)
        self.sync.refresh()
        self._prefetch_shown()

    def _on_viewport_mime_dropped(self, vp: ImageViewport, mime: QMimeData) -> None:
        stacks = self.browser.stacks_for_mime(mime)
        if stacks:
            self.grid.set_active(vp)
            self.show_stacks(stacks, vp)
            self.sync.refresh()
            self._prefetch_shown()

    def series_list(self, study: Study) -> list[tuple[Stack, ...]]:
        """Series of a study as stack tuples, in series order (Page Up/Down)."""
        return [series.stacks for series in study.series]

    def step_series(self, vp: ImageViewport, step: int) -> None:
        """Page Up/Down: show the previous/next series of the same study in ``vp``."""
        source = vp.source
        if not isinstance(source, StackListSource):
            return
        study = self.study_of(source.stacks[0])
        if study is None:
            return
        series = self.series_list(study)
        current = next((i for i, s in enumerate(series) if source.stacks[0] in s), 0)
        self.show_series(series[(current + step) % len(series)], vp, study)

    def _prefetch_shown(self) -> None:
        # A stack whose volume is loading is decoded by that job; decoding it twice at once
        # would only compete with the GUI thread for the interpreter.
        loading = set(self._volume_jobs)
        sources = [
            v.source
            for v in self.grid.visible_viewports()
            if isinstance(v.source, StackListSource)
            and not {volume_key(s) for s in v.source.stacks} <= loading
        ]
        if sources:
            self.start_job(Job("Decoding images", prefetch(sources), self))

    # -- jobs --------------------------------------------------------------------------

    def start_job(self, job: Job) -> Job:
        """Start ``job`` with the progress bar and Cancel button."""
        self.jobs.append(job)
        job.progress.connect(self._on_job_progress)
        job.failed.connect(self._on_job_failed)
        job.cancelled.connect(lambda: self.statusBar().showMessage(f"{job.title}: cancelled", 5000))
        job.finished.connect(lambda: self._on_job_finished(job))
        self.progress_label.setText(job.title)
        self.progress.setRange(0, 0)
        for w in (self.progress_label, self.progress, self.cancel_button):
            w.show()
        return job.start()

    def _on_job_progress(self, done: int, total: int, text: str) -> None:
        self.progress_label.setText(text)
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        else:
            self.progress.setRange(0, 0)

    def _on_job_failed(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)
        if self.isVisible():
            self.notify("SpineViewer", message)

    def _on_job_finished(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
        self._maybe_idle()

    def _maybe_idle(self) -> None:
        if not self.busy():
            for w in (self.progress_label, self.progress, self.cancel_button):
                w.hide()
            QTimer.singleShot(0, self.idle.emit)

    def cancel_jobs(self) -> None:
        """Cancel every running background job."""
        for job in list(self.jobs):
            job.cancel()

    def busy(self) -> bool:
        """True while background jobs run or deferred steps (opening a study) wait."""
        return bool(self.jobs) or bool(self._steps)

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once nothing is loading (at once when nothing is)."""
        if not self.busy():
            callback()
            return

        def once() -> None:
            self.idle.disconnect(once)
            callback()

        self.idle.connect(once)

    # -- dialogs -----------------------------------------------------------------------

    def show_shortcuts(self) -> None:
        """Help > Shortcuts (non-modal)."""
        dialog = ShortcutsDialog(self)
        dialog.show()

    def show_about(self) -> None:
        """Help > About (with the models found and the providers of this machine)."""
        from spineviewer.ai.registry import describe_models, find_models

        AboutDialog(self, model_info=describe_models(find_models())).show()

    def open_pacs(self, what: str) -> QDialog | None:
        """File > PACS: "query" (Query/Retrieve), "send" (results) or "nodes" (non-modal)."""
        from spineviewer.gui.pacs_dialog import open_pacs

        return open_pacs(self, what, self.analysis.analysed)

    # -- window events -----------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.cancel_jobs()
        for job in [*self.jobs, *([self._preview_job] if self._preview_job else [])]:
            job.wait(5000)
        self.analysis.shutdown()
        self.settings.save_geometry(self)
        self.annotation.controller.close_all()
        super().closeEvent(event)


__all__ = ["MainWindow"]


#: Names a DICOM file is given: such a file that is not DICOM is a damaged image, not a note.
DICOM_SUFFIXES = frozenset({".dcm", ".dicom", ".dic", ".ima"})


def _not_an_image(skipped: SkippedFile) -> bool:
    """True for a skipped file that is simply not DICOM (a README, a .json or .txt beside the
    images, the phantom's ground_truth.json): it is listed in the browser's Problems entry but
    raises no notice. A DICOM file that failed to decode, an unreadable folder or a file named
    like DICOM that is not DICOM still do."""
    return (
        not skipped.dicom
        and skipped.reason.startswith("not a DICOM file")
        and Path(skipped.path).suffix.lower() not in DICOM_SUFFIXES
    )


def volume_key(stack: Stack) -> str:
    """The key of a stack's volume in ``MainWindow.volumes`` and its load job."""
    return f"{stack.series_uid}/{stack.name}"
