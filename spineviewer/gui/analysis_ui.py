"""The AI in the viewer: AI > Analyze study (Ctrl+R), the provider choice, the Findings
panel, and the findings as editable proposals.

The analysis (:func:`spineviewer.ai.analysis.analyse_study`) runs as a background job with
progress and cancel; the sessions stay loaded between analyses. When it ends, its findings
become annotation proposals (one undo step; a re-run replaces the proposals nobody reviewed
yet) that the annotator accepts, edits or rejects with the annotation tools, and the Findings
panel shows what was found, which steps could not run and why, where the models ran, and the
"not for clinical use" notice of demo models. Each finding's review need (confident /
uncertain / needs review) has its own table column, and when the AI doubts its vertebra labels
(no sacrum in view, possible transitional anatomy, a missed body) a warning line above the
table says why (:mod:`.findings_rows`). The table's levels and the disc badges follow the
reader's labels: after "Shift labels" they carry the new names. When a segmentation model
ran, its label map is shown in the window's label-map layer (View > Label map) and goes into
the report's per-label volumes with the findings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QColor, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDockWidget,
    QGridLayout,
    QGroupBox,
    QLabel,
    QMenu,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from spineviewer import config
from spineviewer.ai.findings import Findings
from spineviewer.annotations.level_marks import (
    BodyMark,
    nearest_body,
    nearest_disc,
)
from spineviewer.dicom import Study
from spineviewer.gui.annotate.layers import LAYERS
from spineviewer.gui.annotate.review_style import REVIEW_COLOR
from spineviewer.gui.annotate.ui import AnnotationUi
from spineviewer.gui.disc_badges import paint_badges
from spineviewer.gui.findings_rows import (
    COLUMNS,
    REVIEW_COLORS,
    FindingRow,
    finding_rows,
    labelling_warning,
)
from spineviewer.gui.icons import icon
from spineviewer.gui.report_dialog import Analysed
from spineviewer.gui.shell import Shell
from spineviewer.gui.workers import Cancelled, Job, Progress
from spineviewer.reports import Report
from spineviewer.viewing.source import StackListSource

if TYPE_CHECKING:
    from spineviewer.ai.sessions import SessionCache
    from spineviewer.gui.report_dialog import ReportDialog
    from spineviewer.gui.viewport import ImageViewport


__all__ = ["AnalysisUi", "findings_html"]


def findings_html(findings: Findings) -> str:
    """The Findings panel's text."""
    from html import escape

    head = (
        f"<p><b>{len(findings.vertebrae)} vertebrae, {len(findings.discs)} discs, "
        f"{len(findings.implants)} implants</b><br>provider: {escape(findings.provider)}; "
        + ", ".join(f"{escape(m.id)} {escape(m.version)}" for m in findings.models)
        + "</p>"
    )
    items = "".join(f"<li>{escape(line)}</li>" for line in findings.summary_lines())
    return f"{head}<ul>{items}</ul>"


class AnalysisUi(QObject):
    """The AI menu, its action and the Findings dock of a window; the findings become
    proposals of its annotation tools (``annotation``)."""

    def __init__(self, shell: Shell, annotation: AnnotationUi) -> None:
        window = shell.widget
        super().__init__(window)
        self.shell = shell
        self.annotation = annotation
        self._sessions: SessionCache | None = None
        self.last: Findings | None = None
        #: The report of the prior a study is compared with (the window's PriorUi.prior_report).
        self.prior_report: Callable[[Study], Report | None] = lambda study: None
        self.job: Job | None = None
        self.analyze_action = QAction(icon("analyze"), "&Analyze study", window)
        self.analyze_action.setShortcuts([QKeySequence("Ctrl+R"), QKeySequence("Ctrl+Shift+A")])
        self.analyze_action.setToolTip("Analyze the study with the AI models (Ctrl+R)")
        self.analyze_action.triggered.connect(lambda *_: self.analyze_current())
        window.addAction(self.analyze_action)
        self.report_action = QAction(icon("about"), "Export &report...", window)
        self.report_action.setShortcut(QKeySequence("Ctrl+E"))
        self.report_action.triggered.connect(lambda *_: self.export_report())
        window.addAction(self.report_action)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #ffb347; font-weight: bold")
        self.notice.hide()
        #: The AI's doubts about its vertebra labels (no sacrum in view, transitional anatomy).
        self.labelling_warning = QLabel()
        self.labelling_warning.setObjectName("labelling-warning")
        self.labelling_warning.setWordWrap(True)
        self.labelling_warning.setStyleSheet(
            f"color: {REVIEW_COLOR.name()}; font-weight: bold; border: 1px solid "
            f"{REVIEW_COLOR.name()}; border-radius: 3px; padding: 3px"
        )
        self.labelling_warning.hide()
        self.rows: list[FindingRow] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        # headings over their (left-aligned) values, not centred over a stretched column
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.table.setToolTip("Click a level to show its axial slice")
        self.table.cellClicked.connect(lambda row, _col: self.show_level(row))
        self.browser = QTextBrowser()
        self.browser.setObjectName("findings")
        self.browser.setHtml("<p>Press <b>Analyze</b> (Ctrl+R) to run the AI models.</p>")
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(2, 2, 2, 2)
        for widget in (
            self.notice,
            self.labelling_warning,
            self.table,
            self._layers_box(),
            self.browser,
        ):
            layout.addWidget(widget)
        self.dock = QDockWidget("Findings", window)
        self.dock.setObjectName("findings-dock")
        self.dock.setWidget(panel)
        self._study: Study | None = None
        for vp in shell.grid.viewports:
            vp.overlays.append(self.paint_badges)
        # the levels of the table follow a shift of the labels
        annotation.controller.changed.connect(self._refill_table)
        self.status = QLabel()
        window.statusBar().addPermanentWidget(self.status)
        self._models_job: Job | None = None
        self._closed = False
        QTimer.singleShot(0, self._describe_when_idle)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        window.tabifyDockWidget(annotation.worklist_dock, self.dock)
        annotation.panel_dock.raise_()

    def build_menu(self) -> QMenu:
        """AI menu: Analyze, the provider choice, the Findings panel."""
        menu = QMenu("&AI", self.shell.widget)
        menu.addAction(self.analyze_action)
        providers = menu.addMenu("&Run models on")
        group = QActionGroup(self)
        for choice, text in (
            ("auto", "&Automatic (CUDA, else CPU)"),
            ("cuda", "CU&DA"),
            ("cpu", "&CPU"),
        ):
            action = providers.addAction(text)
            action.setCheckable(True)
            action.setChecked(self.shell.settings.ai_provider_in_force == choice)
            action.triggered.connect(lambda *_, c=choice: self.set_provider(c))
            group.addAction(action)
        menu.addSeparator()
        menu.addAction(self.dock.toggleViewAction())
        return menu

    def set_provider(self, choice: str) -> None:
        self.shell.settings.ai_provider = choice
        self._sessions = None  # the next analysis loads its sessions on the new provider

    def sessions(self) -> SessionCache:
        """The model sessions, on the provider chosen in AI > Run models on, else (None) on the
        ``provider`` setting: ``SPINEVIEWER_PROVIDER``, the config file (spineviewer.config)."""
        from spineviewer.ai.sessions import SessionCache

        if self._sessions is None:
            try:
                self._sessions = SessionCache(self.shell.settings.ai_provider)
            except ValueError as exc:  # SPINEVIEWER_PROVIDER names no provider
                fallback = config.load().provider
                self.shell.notify("AI provider", f"{exc}. The models run on: {fallback}.")
                self._sessions = SessionCache(fallback)
        return self._sessions

    def current_study(self) -> Study | None:
        """The study in the active viewport, else the first one opened."""
        source = self.shell.grid.active.source
        if isinstance(source, StackListSource) and source.stacks:
            study = self.shell.study_of(source.stacks[0])
            if study is not None:
                return study
        return next(iter(self.shell.studies()), None)

    def analyze_current(self) -> Job | None:
        """Start the analysis of the current study in the background."""
        study = self.current_study()
        if study is None:
            self.shell.show_status("Open a study to analyze first.", 5000)
            return None
        if self.job is not None and not self.job.done:
            self.shell.show_status("An analysis is already running.", 5000)
            return None
        job = Job("Analyzing the study", self._work(study), self.shell.widget)
        self.job = self.shell.start_job(job)
        self.job.succeeded.connect(lambda findings: self.show_findings(study, findings))
        return self.job

    def _work(self, study: Study) -> Callable[[Progress, Cancelled], Findings]:
        from spineviewer.ai.analysis import analyse_study
        from spineviewer.ai.pipelines import step_count
        from spineviewer.ai.pipelines.segmentation import chosen_models
        from spineviewer.ai.registry import find_models

        folders = self.shell.settings.model_dirs
        sessions = self.sessions()
        total = step_count()

        def work(progress: Progress, cancelled: Cancelled) -> Findings:
            done = [0]

            def step(name: str) -> None:
                progress(done[0], total, f"AI: {name}")
                done[0] += 1

            models = chosen_models(find_models(folders))  # the `vertebrae` setting's models
            return analyse_study(study, models, sessions, step, cancelled)

        return work

    def show_findings(self, study: Study, findings: Findings) -> None:
        """Proposals into the annotation document, the summary into the Findings panel."""
        from spineviewer.annotations.proposals import proposals_from_findings

        self.last = findings
        self._study = study
        stacks = [stack for series in study.series for stack in series.stacks]
        warning = labelling_warning(findings)
        self.labelling_warning.setText(warning)
        self.labelling_warning.setVisible(bool(warning))
        self.notice.setText(
            "NOT FOR CLINICAL USE: demonstration models trained on phantoms"
            if findings.not_for_clinical_use
            else ""
        )
        self.notice.setVisible(findings.not_for_clinical_use)
        proposals = proposals_from_findings(findings, stacks)
        if proposals:
            self.annotation.controller.add_proposals(study.uid, proposals, "Run AI models")
        self._fill_table(findings)
        self.browser.setHtml(findings_html(findings))
        self.dock.show()
        self.dock.raise_()
        done = sum(s.status == "done" for s in findings.steps)
        self.shell.show_status(
            f"AI: {len(proposals)} proposals, {done} of {len(findings.steps)} steps ran "
            f"(on {findings.provider})",
            10000,
        )
        self._show_status(len(findings.models), findings.not_for_clinical_use)
        self._show_label_maps(findings)
        for vp in self.shell.grid.viewports:
            vp.viewport().update()

    def _show_label_maps(self, findings: Findings) -> None:
        """The segmentation model's label map into the window's label-map layer (its
        :class:`~spineviewer.gui.label_map_ui.LabelMapUi`, a child of the window)."""
        from spineviewer.gui.label_map_ui import LabelMapUi

        if not findings.label_maps:
            return
        for ui in self.shell.widget.findChildren(LabelMapUi):
            ui.show_findings(findings)

    def _fill_table(self, findings: Findings) -> None:
        """One row per disc level, vertebra, implant and the Cobb angle, with the review need
        (coloured, its reasons as the tooltip); levels as the reader's labels name them."""
        self.rows = finding_rows(findings, self._rename)
        self.table.setRowCount(len(self.rows))
        review_column = COLUMNS.index("Review")
        for r, row in enumerate(self.rows):
            tip = "; ".join(row.reasons)
            for col, value in enumerate(row.cells):
                item = QTableWidgetItem(value)
                if tip:
                    item.setToolTip(tip)
                if col == review_column and row.review in REVIEW_COLORS:
                    item.setForeground(QColor(REVIEW_COLORS[row.review]))
                self.table.setItem(r, col, item)
        self.table.resizeColumnsToContents()

    def _refill_table(self) -> None:
        if self.last is not None:
            self._fill_table(self.last)

    def _marks(self) -> tuple[BodyMark, ...]:
        """The reader's labelled bodies in the analysed study's frame of reference."""
        findings, study = self.last, self._study
        if findings is None or study is None:
            return ()
        wanted = {v.series_uid for v in findings.vertebrae}
        for series in study.series:
            if series.stacks and (series.uid in wanted or not wanted):
                inst = series.stacks[0].first.instance
                overlay = self.annotation.level_overlay
                return overlay.marks_for(inst.frame_of_reference_uid, inst.series_uid)
        return ()

    def _rename(self, level: str, at: Sequence[float]) -> str | None:
        """What the reader's labels call the disc or body the AI named ``level`` at ``at``."""
        marks = self._marks()
        return nearest_disc(marks, at) if "-" in level else nearest_body(marks, at)

    def show_level(self, row: int) -> bool:
        """Bring the image of a table row into view (a disc: its nearest axial slice)."""
        from spineviewer.annotations import ImageRef

        study = self._study
        if study is None or not 0 <= row < len(self.rows):
            return False
        uid = self.rows[row].sop_instance_uid
        for series in study.series:
            for stack in series.stacks:
                for frame in stack.frames:
                    if frame.instance.sop_instance_uid == uid:
                        return self.annotation.show_image(ImageRef.of_frame(frame))
        return False

    # -- layers, badges, status ----------------------------------------------------------

    def _layers_box(self) -> QGroupBox:
        """A check box (visible) and a slider (opacity) per layer."""
        box = QGroupBox("Layers")
        grid = QGridLayout(box)
        grid.setContentsMargins(4, 4, 4, 4)
        self.layer_checks: dict[str, QCheckBox] = {}
        self.layer_sliders: dict[str, QSlider] = {}
        styles = self.annotation.tools.layers
        for row, name in enumerate(LAYERS):
            check = QCheckBox(name)
            check.setChecked(styles[name].visible)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(10, 100)
            slider.setValue(round(styles[name].opacity * 100))
            slider.setToolTip(f"Opacity of {name.lower()}")
            check.toggled.connect(lambda on, n=name: self.set_layer(n, visible=on))
            slider.valueChanged.connect(lambda v, n=name: self.set_layer(n, opacity=v / 100))
            grid.addWidget(check, row, 0)
            grid.addWidget(slider, row, 1)
            self.layer_checks[name], self.layer_sliders[name] = check, slider
        return box

    def set_layer(
        self, name: str, visible: bool | None = None, opacity: float | None = None
    ) -> None:
        layer = self.annotation.tools.layers[name]
        if visible is not None:
            layer.visible = visible
        if opacity is not None:
            layer.opacity = opacity
        for vp in self.shell.grid.viewports:
            vp.viewport().update()

    def paint_badges(self, vp: ImageViewport, painter: QPainter) -> None:
        """The disc badges (:mod:`.disc_badges`) of the last findings, with the reader's
        level names."""
        findings = self.last
        opacity = self.annotation.tools.layers.opacity("Disc badges")
        if findings is not None and findings.discs and opacity > 0:
            paint_badges(vp, painter, findings, self._marks(), opacity)

    def _describe_when_idle(self) -> None:
        """Look for the models once the window has nothing to load: importing onnxruntime
        holds the interpreter for tens of ms, which must not land while a series opens."""
        if not self._closed:
            self.shell.when_idle(self._describe_unless_closed)

    def _describe_unless_closed(self) -> None:
        if not self._closed:
            self._describe_models()

    def models_pending(self) -> bool:
        """True until the models were looked for (the status bar text is not there yet)."""
        return self._models_job is None or not self._models_job.done

    def _describe_models(self) -> None:
        """The permanent status text: the AI models found (demo ones say so) and the provider.

        Finding the models reads and hashes every model file: a background job, not the GUI
        thread."""
        from spineviewer.ai.registry import find_models

        folders = list(self.shell.settings.model_dirs)

        def work(progress: Progress, cancelled: Cancelled) -> tuple[int, bool]:
            usable = [e for e in find_models(folders) if e.available and e.manifest]
            demo = any(e.manifest.provenance.not_for_clinical_use for e in usable if e.manifest)
            return len(usable), demo

        self._models_job = Job("Finding AI models", work, self)
        self._models_job.succeeded.connect(lambda found: self._show_status(*found))
        self._models_job.start()

    def shutdown(self) -> None:
        """Wait for the model search, or never start it (the window closes)."""
        self._closed = True
        if self._models_job is not None:
            self._models_job.wait(10000)

    def _show_status(self, count: int, demo: bool) -> None:
        text = f"AI: {count} models, {self.shell.settings.ai_provider_in_force}"
        if self.last is not None:
            text = f"AI: {', '.join(m.id for m in self.last.models)} on {self.last.provider}"
        if demo or (self.last is not None and self.last.not_for_clinical_use):
            text += " · demo models: NOT FOR CLINICAL USE"
        self.status.setText(text)

    # -- reports ----------------------------------------------------------------------------

    def analysed(self) -> Analysed | None:
        """The current study with its findings and annotations as reviewed so far (what a
        report or a PACS send is made of), or None (with a message) when it was not analysed."""
        study, findings = self.current_study(), self.last
        if study is None or findings is None or findings.study_uid != study.uid:
            self.shell.show_status("Analyze the study first (Ctrl+R), then export.", 8000)
            return None
        session = self.annotation.controller.sessions.get(study.uid)
        prior = self.prior_report(study)
        if session is None:
            return Analysed(study, findings, None, prior=prior)
        return Analysed(
            study, findings, session.document, session.stack, prior
        )  # the impression: undoable

    def export_report(self, dialog: ReportDialog | None = None) -> Job | None:
        """File > Export report: preview, choose formats and folder, export in the background.
        A ``dialog`` given (already set up) is exported without being shown."""
        from spineviewer.gui.report_dialog import open_report_dialog

        if dialog is None:
            analysed = self.analysed()
            if analysed is None:
                return None
            dialog = open_report_dialog(self.shell.widget, analysed)
            if dialog.exec() != dialog.DialogCode.Accepted:
                return None
        job = self.shell.start_job(Job("Exporting the report", dialog.work(), self.shell.widget))
        job.succeeded.connect(
            lambda paths: self.shell.show_status(
                f"Report written: {len(paths)} files in {paths[0].parent}" if paths else "", 10000
            )
        )
        return job
