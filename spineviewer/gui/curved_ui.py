"""View > "Curved reformat along the spine": the active CT / MR volume straightened along the
vertebra centres (:mod:`spineviewer.viewing.curved`) into the active viewport.

The centres come from the study's AI findings, else from a phantom's ground truth
(:mod:`spineviewer.viewing.spine_centres`). The reformat is a coronal sheet through the body
centres, rows down the curve and columns across it (the patient's left on the right); its
slices step from 36 mm behind the centres (the canal) to 16 mm in front of them, every 2 mm,
and it opens on the sheet through the centres. Read-only: like an MPR, it is a source of the
viewport, not a series of the study.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtGui import QAction

from spineviewer.ai.findings import Findings
from spineviewer.dicom import Stack, StackPixels, Study
from spineviewer.dicom.display import window_from_frame
from spineviewer.gui.shell import Shell
from spineviewer.gui.workers import Cancelled, Job, Progress
from spineviewer.viewing.curved import CurvedSource, curved_grid
from spineviewer.viewing.mpr import MprSource
from spineviewer.viewing.source import StackListSource, display_name
from spineviewer.viewing.spine_centres import SpineCentres, spine_centres

#: Depths of the reformat's slices (mm along tangent x left: negative is posterior).
DEPTHS_MM: tuple[float, ...] = tuple(float(d) for d in np.arange(-36.0, 16.1, 2.0))
#: Width across the curve and room above the first / below the last centre (mm).
WIDTH_MM = 140.0
MARGIN_MM = 25.0
#: Fewest centres a curve is fitted through.
MIN_CENTRES = 3
TITLE = "Curved reformat along the spine"


class CurvedReformatUi:
    """The action and the background job that shows the curved reformat."""

    def __init__(self, shell: Shell, findings: Callable[[], Findings | None]) -> None:
        self.shell = shell
        self._findings = findings
        self.job: Job | None = None
        self.action = QAction(TITLE, shell.widget)
        self.action.setObjectName("curved_reformat")
        self.action.setStatusTip(
            "Straighten the active CT or MR volume along the vertebra centres (AI findings or "
            "a phantom's truth): a scoliotic spine reads straight"
        )
        self.action.triggered.connect(self.show_curved)

    def _active_stack(self) -> Stack | None:
        source = self.shell.grid.active.source
        if isinstance(source, StackListSource) and len(source.stacks) == 1:
            return source.stacks[0]
        if isinstance(source, MprSource):  # its series' first stack is the volume's
            for study in self.shell.studies():
                for series in study.series:
                    for stack in series.stacks:
                        if stack.series_uid == source.series_uid:
                            return stack
        return None

    def show_curved(self) -> Job | None:
        """Build the reformat of the active viewport's volume in the background, then show it
        there; says in the status bar why not when it cannot."""
        stack = self._active_stack()
        study = self.shell.study_of(stack) if stack is not None else None
        if stack is None or study is None or stack.modality not in ("CT", "MR") or len(stack) < 8:
            self.shell.show_status(f"{TITLE}: show a CT or MR volume in the active viewport.")
            return None
        files = [frame.instance.ref.path for frame in stack.frames[:1]]
        frame_uid = stack.first.instance.frame_of_reference_uid
        centres = spine_centres(self._findings(), study.uid, frame_uid, files)
        if centres is None or len(centres) < MIN_CENTRES:
            self.shell.show_status(
                f"{TITLE}: needs at least {MIN_CENTRES} labelled vertebrae "
                "(run the AI, or open a phantom study with its ground truth).",
                8000,
            )
            return None
        job = Job(f"Straightening {stack.name}", _work(stack, centres), self.shell.widget)
        viewport = self.shell.grid.active
        job.succeeded.connect(lambda source: self._show(source, viewport, study, centres))
        self.job = self.shell.start_job(job)
        return self.job

    def _show(self, source: CurvedSource, viewport: object, study: Study, c: SpineCentres) -> None:
        from spineviewer.gui.viewport import ImageViewport

        assert isinstance(viewport, ImageViewport)
        viewport.set_source(source, study.info)
        viewport.set_index(DEPTHS_MM.index(0.0))
        self.shell.show_status(
            f"{TITLE}: {c.labels[0]}-{c.labels[-1]} from the {c.origin}; scroll for depth "
            "(lower slices: behind the bodies, the canal)",
            8000,
        )


def _work(stack: Stack, centres: SpineCentres) -> Callable[[Progress, Cancelled], CurvedSource]:
    def work(progress: Progress, cancelled: Cancelled) -> CurvedSource:
        def on_slice(done: int, total: int) -> None:
            progress(done, total + 1, f"Loading volume {stack.name}")

        volume = StackPixels(stack).volume(on_slice, cancelled)
        progress(len(stack), len(stack) + 1, "Straightening along the spine")
        step = float(min(volume.spacing[1:]))
        grid = curved_grid(
            centres.centres,
            plane="coronal",
            row_mm=step,
            col_mm=step,
            width_mm=WIDTH_MM,
            margin_mm=MARGIN_MM,
            depths_mm=DEPTHS_MM,
        )
        return CurvedSource(
            volume,
            grid,
            name=f"Curved coronal - {display_name(stack)}",
            series_uid=stack.series_uid,
            modality=stack.modality,
            header_window=window_from_frame(stack.first),
        )

    return work
