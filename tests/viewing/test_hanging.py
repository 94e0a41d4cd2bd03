"""The hanging protocol on phantom studies of each kind and on the real CT."""

from __future__ import annotations

from pathlib import Path

import pytest

from spineviewer.dicom import scan
from spineviewer.phantom import generate, study_folder_name
from spineviewer.viewing.hanging import choose_hanging


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hanging")
    for kind, seed in (("spine-xr", 2), ("lumbar-ct", 3)):
        generate(kind, root, seed)
    return root


def test_lumbar_mr_hangs_sagittal_t2_left_axial_t2_right(demo_study_dir: Path) -> None:
    study = scan(demo_study_dir).studies[0]
    hanging = choose_hanging(study)
    assert hanging.layout == (1, 2)
    left, right = hanging.viewports
    assert left.stacks == study.series[0].stacks
    assert right.stacks == study.series[1].stacks and len(right.stacks) == 5
    assert "sagittal T2 left" in hanging.reason


def test_radiograph_gets_a_single_view(phantoms: Path) -> None:
    study = scan(phantoms / study_folder_name("spine-xr", 2)).studies[0]
    hanging = choose_hanging(study)
    assert hanging.layout == (1, 1) and len(hanging.viewports) == 1


@pytest.mark.parametrize("which", ["phantom", "real"])
def test_ct_volume_hangs_its_acquired_slices_and_reformats_when_deep(
    which: str, phantoms: Path, request
) -> None:
    """A deep CT volume: its acquired axial slices, then sagittal and coronal reformats; the
    thin real slab (40 mm of a 500 mm field): the acquired slices alone."""
    path = (
        (phantoms / study_folder_name("lumbar-ct", 3))
        if which == "phantom"
        else (request.getfixturevalue("real_ct_dir"))
    )
    hanging = choose_hanging(scan(path).studies[0])
    if which == "phantom":
        assert hanging.layout == (1, 3)
        assert [v.mpr_plane for v in hanging.viewports] == [None, "sagittal", "coronal"]
    else:
        assert hanging.layout == (1, 1)
        assert [v.mpr_plane for v in hanging.viewports] == [None]
    assert len({v.stacks for v in hanging.viewports}) == 1
