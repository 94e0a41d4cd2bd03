"""A study beside its prior: File > Open prior (a folder, a zip or DICOMDIR, or from PACS by
the patient's ID), View > Compare with prior, linked scrolling by vertebral level or by a sync
point, and the measurements of both dates in one table.

The prior is another study of the same PatientID. The current (the later StudyDate) hangs on
the left, the prior on the right, the same series type side by side
(:func:`~spineviewer.viewing.hanging.prior_hanging`; View > Prior comparison: newest on the
right swaps them). Each pane's corner text gives its own study's role and date (``Prior
2023-01-08``, ``Current 2024-01-08``: :data:`~spineviewer.viewing.corners.ROLE_KEY`).

The two studies have different frames of reference, so their viewports are linked through a
:class:`~spineviewer.viewing.level_sync.FrameMap`
(:meth:`~spineviewer.viewing.viewport_links.ViewportLinks.link_frames`):

- by vertebral level when both studies have at least two vertebra labels in common (AI
  proposals or a person's level marks, :func:`~spineviewer.annotations.level_marks.body_marks`),
  recomputed whenever the annotations change;
- by a sync point otherwise: put each study on the same anatomy and choose View > Sync here;
  the active viewport's slice and the other study's most parallel visible slice are paired.
  A sync point, chosen by a person, wins over the labels until View > Sync by level.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
)

from spineviewer.ai.findings import Findings
from spineviewer.annotations.annotation import Status
from spineviewer.annotations.level_marks import body_marks
from spineviewer.dicom import Study
from spineviewer.gui.actions import make_action
from spineviewer.gui.annotate.controller import format_measurement
from spineviewer.gui.annotate.ui import AnnotationUi

if TYPE_CHECKING:
    from spineviewer.gui.pacs_dialog import QueryDialog
from spineviewer.gui.shell import Shell
from spineviewer.gui.sync import ViewportSync
from spineviewer.gui.viewport import ImageViewport
from spineviewer.reports import Report, build_report
from spineviewer.viewing.corners import ROLE_KEY
from spineviewer.viewing.hanging import Hanging, newer_first, prior_hanging
from spineviewer.viewing.level_sync import Column, FrameMap, LevelMap, OffsetMap
from spineviewer.viewing.source import StackListSource

__all__ = ["NEWEST_RIGHT_KEY", "ComparisonRow", "PriorShell", "PriorUi", "comparison_rows"]

#: QSettings key of View > Prior comparison: newest on the right.
NEWEST_RIGHT_KEY = "prior/newest_right"
#: Columns of the comparison table.
COLUMNS = ("Date", "Study", "Label", "Measurement")

ComparisonRow = tuple[str, str, str, str]


class PriorShell(Shell, Protocol):
    """What the prior comparison needs of the window beyond a :class:`Shell`."""

    sync: ViewportSync

    def apply_hanging(self, study: Study, hanging: Hanging | None = None) -> None: ...


def _date(study: Study) -> str:
    d = study.info.get("StudyDate", "")
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 else d or "-"


def _frames(study: Study) -> list[str]:
    """The frames of reference of a study's images, in series order."""
    found = (
        f.instance.frame_of_reference_uid
        for series in study.series
        for stack in series.stacks
        for f in stack.frames
    )
    return [uid for uid in dict.fromkeys(found) if uid]


def _bool(value: object) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")


def comparison_rows(ui: PriorUi) -> list[ComparisonRow]:
    """The measured annotations of both studies (rejected ones left out), one row each: the
    same label of both dates together, the later date first."""
    if ui.pair is None:
        return []
    controller = ui.annotation.controller
    rows: list[tuple[str, str, str, str, str]] = []
    for role, study in zip(("current", "prior"), ui.pair, strict=True):
        session = controller.sessions.get(study.uid)
        if session is None:
            continue
        for a in session.document:
            if a.status == Status.REJECTED:
                continue
            values = [m for m in controller.measure_all(a) if m.name != "pixels"]
            if not values:
                continue
            text = "; ".join(format_measurement(m) for m in values)
            label = ui.annotation.panel.label_of(a)  # as the Annotations panel names it
            date = study.info.get("StudyDate", "")
            rows.append((label, date, _date(study), role, text))
    rows.sort(key=lambda r: r[1], reverse=True)  # the later date first,
    rows.sort(key=lambda r: r[0])  # within each label (a stable sort)
    return [(date, role, label, text) for label, _, date, role, text in rows]


class PriorUi(QObject):
    """File > Open prior, View > Compare with prior / Sync here / Sync by level, and the
    Comparison dock."""

    def __init__(self, shell: PriorShell, annotation: AnnotationUi) -> None:
        super().__init__(shell.widget)
        self.shell = shell
        self.annotation = annotation
        #: (current, prior) while compared.
        self.pair: tuple[Study, Study] | None = None
        #: A person's sync point, current frame -> prior frame.
        self.sync_point: OffsetMap | None = None
        #: How the studies are linked now: "level", "sync point" or "" (not linked).
        self.linked_by = ""
        self._link_status = ""
        window = shell.widget
        act = make_action
        self.open_prior_action = act(window, "Open &prior folder...", self.open_prior_dialog)
        self.open_prior_zip_action = act(
            window, "Open prior &zip or DICOMDIR...", self.open_prior_file_dialog
        )
        self.open_prior_pacs_action = act(
            window, "Open prior from PAC&S...", self.open_prior_from_pacs
        )
        self.compare_action = act(window, "&Compare with prior", self.compare_with_prior)
        self.sync_here_action = act(window, "&Sync here (pair these slices)", self.sync_here)
        self.sync_level_action = act(window, "Sync by &level", self.sync_by_level)
        self.newest_right_action = act(
            window,
            "Prior comparison: &newest on the right",
            self._newest_right_toggled,
            checkable=True,
        )
        self.newest_right_action.setChecked(
            _bool(shell.settings.qsettings.value(NEWEST_RIGHT_KEY, False))
        )
        self.table = QTableWidget(0, len(COLUMNS), window)
        self.table.setObjectName("prior-comparison")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.dock = QDockWidget("Comparison", window)
        self.dock.setObjectName("comparison")
        self.dock.setWidget(self.table)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        annotation.controller.changed.connect(self._on_annotations_changed)

    @property
    def file_actions(self) -> list[QAction]:
        """File menu: open a prior."""
        return [self.open_prior_action, self.open_prior_zip_action, self.open_prior_pacs_action]

    @property
    def view_actions(self) -> list[QAction]:
        """View menu: compare, sync, the side of the newest."""
        return [
            self.compare_action,
            self.sync_here_action,
            self.sync_level_action,
            self.newest_right_action,
        ]

    # -- which studies ---------------------------------------------------------------------

    def current_study(self) -> Study | None:
        """The study in the active viewport, else the first one opened."""
        source = self.shell.grid.active.source
        if isinstance(source, StackListSource):
            study = self.shell.study_of(source.stacks[0])
            if study is not None:
                return study
        studies = self.shell.studies()
        return studies[0] if studies else None

    def priors_of(self, study: Study) -> list[Study]:
        """The other open studies of the same (non-empty) PatientID, newest first."""
        pid = study.info.get("PatientID", "")
        others = [
            s
            for s in self.shell.studies()
            if pid and s.uid != study.uid and s.info.get("PatientID", "") == pid
        ]
        return sorted(others, key=lambda s: s.info.get("StudyDate", ""), reverse=True)

    def compared_prior(self, study: Study) -> Study | None:
        """The prior ``study`` is compared with now, else None."""
        if self.pair is None or self.pair[0].uid != study.uid:
            return None
        return self.pair[1]

    def prior_report(self, study: Study, findings: Findings | None = None) -> Report | None:
        """The report of the prior ``study`` is compared with (None when it is compared with
        none): its annotations as they stand (the reader's measurements and level marks) and
        ``findings`` when the prior was analysed; File > Export report sets it beside the
        current's (:func:`spineviewer.reports.comparison.with_prior`)."""
        prior = self.compared_prior(study)
        if prior is None:
            return None
        session = self.annotation.controller.sessions.get(prior.uid)
        document = session.document if session is not None else None
        return build_report(prior, findings or Findings(prior.uid, ""), document)

    def update_actions(self) -> None:
        """Compare with prior is enabled when the current study's patient has another study."""
        study = self.current_study()
        self.compare_action.setEnabled(study is not None and bool(self.priors_of(study)))
        compared = self.pair is not None
        self.sync_here_action.setEnabled(compared)
        self.sync_level_action.setEnabled(compared)

    # -- opening ---------------------------------------------------------------------------

    def open_prior_dialog(self) -> None:
        """File > Open prior folder."""
        path = QFileDialog.getExistingDirectory(self.shell.widget, "Open prior study folder")
        if path:
            self.open_prior(path)

    def open_prior_file_dialog(self) -> None:
        """File > Open prior zip or DICOMDIR."""
        path, _ = QFileDialog.getOpenFileName(
            self.shell.widget,
            "Open prior study: zip archive or DICOMDIR",
            "",
            "DICOM sources (*.zip DICOMDIR *.dcm *);;All files (*)",
        )
        if path:
            self.open_prior(path)

    def open_prior_from_pacs(self) -> QueryDialog | None:
        """File > Open prior from PACS: the configured PACS's other studies of the current
        study's patient, with their dates; the one retrieved opens beside the current. None
        (said in the status bar) when no study is open."""
        from spineviewer.gui.pacs_dialog import QueryDialog, open_pacs

        current = self.current_study()
        if current is None:
            self.shell.show_status("Open the current study first, then its prior from PACS", 8000)
            return None
        dialog = open_pacs(self.shell, "prior")
        assert isinstance(dialog, QueryDialog)
        dialog.find_priors(current, lambda folder: self.open_prior(folder, current))
        return dialog

    def open_prior(self, path: str | Path, current: Study | None = None) -> None:
        """Open ``path`` and compare its study with ``current`` (by default the current one)
        once it is read."""
        current = current or self.current_study()
        before = {s.uid for s in self.shell.studies()}
        job = self.shell.open_paths([path])
        if job is None:
            return

        def when_read() -> None:
            # an idle signal already on its way (from before the scan) must not count
            if not job.done:
                self.shell.when_idle(when_read)
                return
            self._prior_opened(Path(path), current, before)

        self.shell.when_idle(when_read)

    def _prior_opened(self, path: Path, current: Study | None, before: set[str]) -> None:
        new = [s for s in self.shell.studies() if s.uid not in before]
        if not new:
            self.shell.show_status(f"{path}: no new study to compare", 8000)
            return
        prior = new[0]
        if current is None:
            others = self.priors_of(prior)
            if not others:
                self.shell.show_status(f"{path} opened; no other study of its patient", 8000)
                return
            current = others[0]
        pid, other = current.info.get("PatientID", ""), prior.info.get("PatientID", "")
        if pid != other:
            self.shell.notify(
                "Not the same patient",
                f"The study in {path} belongs to patient ID {other or '(none)'}, the current "
                f"one to {pid or '(none)'}; it is open but not compared.",
            )
            return
        self.compare(current, prior)

    # -- comparing -------------------------------------------------------------------------

    def compare_with_prior(self) -> bool:
        """View > Compare with prior: the current study beside the newest other study of its
        patient older than it (else the newest other); False when there is none."""
        current = self.current_study()
        others = self.priors_of(current) if current is not None else []
        if current is None or not others:
            self.shell.show_status(
                "No other study of this patient is open: File > Open prior folder", 8000
            )
            return False
        date = current.info.get("StudyDate", "")
        older = [s for s in others if s.info.get("StudyDate", "") < date]
        self.compare(current, (older or others)[0])
        return True

    def compare(self, a: Study, b: Study) -> None:
        """Hang the later of ``a`` and ``b`` beside the earlier and link their scrolling."""
        current, prior = newer_first(a, b)
        self.pair = (current, prior)
        self.sync_point = None
        hanging = prior_hanging(current, prior, self.newest_right_action.isChecked())
        self.shell.apply_hanging(current, hanging)
        self.dock.show()
        self.update_actions()
        self.shell.when_idle(self.relink)

    def _newest_right_toggled(self) -> None:
        on = self.newest_right_action.isChecked()
        self.shell.settings.qsettings.setValue(NEWEST_RIGHT_KEY, on)
        if self.pair is not None:
            self.compare(*self.pair)

    def _on_annotations_changed(self) -> None:
        if self.pair is not None:
            self.relink()

    def level_map(self) -> LevelMap | None:
        """The map from the current's labelled column to the prior's (None under two labels
        in common)."""
        if self.pair is None:
            return None
        sessions = self.annotation.controller.sessions.values()
        every = list(itertools.chain.from_iterable(s.document for s in sessions))
        columns = []
        for study in self.pair:
            frames = _frames(study)
            marks = body_marks(every, frames[0]) if frames else ()
            columns.append(Column.of((m.label, m.centre_mm) for m in marks))
        if any(len(c.labels) < 2 for c in columns):
            return None
        return LevelMap.between(columns[0], columns[1])

    def relink(self) -> None:
        """Link the two studies' viewports: a sync point, else by level, else not at all."""
        links = self.shell.sync.links
        if self.pair is None:
            return
        current, prior = (_frames(s) for s in self.pair)
        mapping: FrameMap | None = self.sync_point
        by = "sync point"
        if mapping is None:
            mapping, by = self.level_map(), "level"
        for a, b in itertools.product(current, prior):
            links.link_frames(a, b, mapping)
        self.mark_roles()
        self.linked_by = by if mapping is not None else ""
        self._fill_table()
        text = self.link_text()
        if text != self._link_status:  # said once per change, not on every edit
            self._link_status = text
            self.shell.show_status(text, 8000)

    def role_of(self, frame_of_reference_uid: str) -> str:
        """``Prior`` or ``Current`` for an image of the compared studies, else ""."""
        if self.pair is None or not frame_of_reference_uid:
            return ""
        current, prior = (_frames(s) for s in self.pair)
        if frame_of_reference_uid in prior:
            return "Prior"
        return "Current" if frame_of_reference_uid in current else ""

    def mark_roles(self) -> None:
        """Each pane of the compared studies says which one it shows in its corner text (a
        pane given another study later loses the mark with its old study's attributes)."""
        for vp in self.shell.grid.viewports:
            source = vp.source
            role = self.role_of(source.frame_of_reference_uid) if source is not None else ""
            if vp.study.get(ROLE_KEY, "") != role:
                attributes = {k: v for k, v in vp.study.items() if k != ROLE_KEY}
                vp.study = {**attributes, ROLE_KEY: role} if role else attributes
                vp.repaint_overlays()

    def link_text(self) -> str:
        """How the two studies scroll together, for the status bar."""
        if self.linked_by == "level":
            level_map = self.level_map()
            labels = level_map.labels if level_map is not None else ()
            span = f" ({labels[0]}-{labels[-1]})" if labels else ""
            return f"Current and prior linked by vertebral level{span}"
        if self.linked_by == "sync point":
            return "Current and prior linked by your sync point"
        return (
            "Current and prior not linked: label two vertebrae in each, or put both on the "
            "same anatomy and choose View > Sync here"
        )

    def _counterpart(self, vp: ImageViewport, frames: Sequence[str]) -> ImageViewport | None:
        """The visible viewport of ``frames`` whose slice is most parallel to ``vp``'s."""
        info = vp.info
        if info is None or info.plane is None:
            return None
        best: tuple[float, ImageViewport] | None = None
        for other in self.shell.grid.visible_viewports():
            source, oinfo = other.source, other.info
            if source is None or oinfo is None or oinfo.plane is None:
                continue
            if source.frame_of_reference_uid not in frames:
                continue
            score = abs(float(np.dot(info.plane.normal, oinfo.plane.normal)))
            if best is None or score > best[0]:
                best = (score, other)
        return best[1] if best is not None else None

    def sync_here(self) -> bool:
        """View > Sync here: the active viewport's slice and the other study's most parallel
        visible slice show the same anatomy from now on."""
        if self.pair is None:
            self.shell.show_status("Sync here pairs a study with its prior: compare them first")
            return False
        vp = self.shell.grid.active
        current, prior = (_frames(s) for s in self.pair)
        source = vp.source
        frame = source.frame_of_reference_uid if source is not None else ""
        other_frames = prior if frame in current else current if frame in prior else []
        other = self._counterpart(vp, other_frames)
        if other is None or vp.info is None or vp.info.plane is None:
            self.shell.show_status("Sync here needs a slice of each study on screen")
            return False
        assert other.info is not None and other.info.plane is not None
        here, there = vp.info.plane, other.info.plane
        pairing = (
            OffsetMap.pairing(here, there) if frame in current else OffsetMap.pairing(there, here)
        )
        self.sync_point = pairing
        self.relink()
        return True

    def sync_by_level(self) -> None:
        """View > Sync by level: forget the sync point, link by the labels again."""
        self.sync_point = None
        self.relink()
        self.shell.show_status(self.link_text(), 8000)

    # -- the table -------------------------------------------------------------------------

    def _fill_table(self) -> None:
        rows = comparison_rows(self)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
