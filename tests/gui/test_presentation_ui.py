"""File > Save key images / Save presentation state / Open presentation state or key images
(spineviewer.gui.presentation_ui) on the demo study in a real window: the KOS names the marked
image, the GSPS carries the accepted mark and the viewport's window, flip and turn, and opening
it on a study whose marks were deleted brings the mark back as one undoable step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from gui_helpers import open_window

from spineviewer.annotations import Annotation, Status
from spineviewer.annotations.gsps import flip_and_rotation
from spineviewer.annotations.gsps_read import read_gsps_for
from spineviewer.annotations.kos import read_kos
from spineviewer.dicom.display import Window
from spineviewer.gui.annotate.controller import image_ref
from spineviewer.gui.presentation_ui import PresentationUi


def test_save_and_open_key_images_and_presentation_state(
    qtbot, demo_study_dir: Path, tmp_path: Path
) -> None:
    win = open_window(qtbot, demo_study_dir)
    ui = PresentationUi(win, win.annotation)
    ctrl = win.annotation.controller
    vp = win.grid.viewports[0]
    assert ui.save_presentation_state(tmp_path / "none.dcm") is None  # no accepted mark yet
    mark = Annotation.create("line", image_ref(vp.info), [(60.0, 60.0), (140.0, 100.0)],
                             vp.info.plane, label="L4", text="look")  # fmt: skip
    proposal = Annotation.create("point", image_ref(vp.info), [(30.0, 30.0)], vp.info.plane,
                                 status=Status.PROPOSED)  # fmt: skip
    ctrl.add(mark)
    ctrl.add(proposal)
    vp.set_window(Window(321.0, 654.0))
    vp.flip()
    vp.rotate()
    kos_job = ui.save_key_images(tmp_path / "kos.dcm")
    gsps_job = ui.save_presentation_state(tmp_path / "gsps.dcm")
    assert kos_job is not None and gsps_job is not None
    qtbot.waitUntil(lambda: kos_job.done and gsps_job.done, timeout=60000)
    keys = read_kos(tmp_path / "kos.dcm")
    assert [k.sop_instance_uid for k in keys.images] == [mark.image.sop_instance_uid]
    stacks = win.annotation.study_stacks()
    state = read_gsps_for(tmp_path / "gsps.dcm", stacks)
    assert [a.uid for a in state.annotations] == [mark.uid]  # the proposal is not presented
    assert np.allclose(state.annotations[0].points, mark.points, atol=0.5)
    assert state.windows[mark.image.sop_instance_uid] == (321.0, 654.0)
    assert (state.view.horizontal_flip, state.view.rotation) == (True, 90)
    assert pydicom.dcmread(tmp_path / "gsps.dcm").ContentLabel == "SPINEVIEWER"

    ctrl.delete([mark.uid])
    vp.reset()
    text = ui.open_file(tmp_path / "gsps.dcm")
    assert "1 marks added" in text
    assert mark.uid in ctrl.document
    assert vp.model.window == Window(321.0, 654.0)
    assert flip_and_rotation(vp.model.transform.matrix) == (True, 90)  # turned as saved
    win.annotation.undo_action.trigger()  # one undoable step
    assert mark.uid not in ctrl.document
    assert "1 key images (1 open, in 1 series)" in ui.open_file(tmp_path / "kos.dcm")
    assert "not a readable DICOM file" in ui.open_file(tmp_path / "none.txt")
    win.cancel_jobs()
    win.close()
