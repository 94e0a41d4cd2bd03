"""Cross-reference lines and slice finding on the demo phantom, checked against geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spineviewer.dicom import scan
from spineviewer.geometry import Plane
from spineviewer.viewing.crossref import crossref_lines, linked_slice, plane_centre, same_frame
from spineviewer.viewing.source import StackListSource, nearest_slice


@pytest.fixture(scope="module")
def sources(demo_study_dir: Path) -> dict[str, StackListSource]:
    study = scan(demo_study_dir).studies[0]
    sag, angled, continuous = (StackListSource.from_stacks(s.stacks) for s in study.series)
    return {"sag": sag, "angled": angled, "continuous": continuous}


def test_series_of_angled_stacks_reads_as_one_source_ordered_inferior_to_superior(sources) -> None:
    angled = sources["angled"]
    assert len(angled) == 22 and len(angled.stacks) == 5
    z = [angled.info(i).plane.origin[2] for i in range(len(angled))]
    centres = [np.mean(z[i : i + 4]) for i in range(0, 20, 4)]
    assert centres == sorted(centres)  # feet first: L5-S1 stack first
    # Each slice keeps its own, angled plane.
    normals = {tuple(np.round(angled.info(i).plane.normal, 3)) for i in range(len(angled))}
    assert len(normals) == 5


def test_current_axial_slice_line_on_the_sagittal_matches_geometry(sources) -> None:
    sag, ax = sources["sag"], sources["angled"]
    target = sag.info(len(sag) // 2).plane
    for index in (0, 7, 21):
        (line,) = crossref_lines(target, ax, index)
        assert line.current and line.index == index
        # Both end points lie on the axial plane (to 0.01 mm) and inside the sagittal image.
        for r, c in (line.segment.start, line.segment.end):
            assert abs(float(ax.info(index).plane.distance(target.to_patient(r, c)))) < 1e-6
            assert -0.5 <= r <= target.shape[0] - 0.5 and -0.5 <= c <= target.shape[1] - 0.5


def test_all_slices_mode_lists_every_crossing_slice_once(sources) -> None:
    sag, ax = sources["sag"], sources["continuous"]
    target = sag.info(len(sag) // 2).plane
    lines = crossref_lines(target, ax, 3, include_all=True)
    assert [ln.index for ln in lines] == list(range(len(ax)))
    assert [ln.current for ln in lines].count(True) == 1


def test_parallel_planes_give_no_line() -> None:
    a = Plane.from_dicom((0, 0, 0), (1, 0, 0, 0, 1, 0), (1, 1), 10, 10)

    class One:
        name = "x"

        def __len__(self) -> int:
            return 1

        def info(self, index: int):
            from spineviewer.viewing.source import SliceInfo

            return SliceInfo(
                Plane.from_dicom((0, 0, 5), (1, 0, 0, 0, 1, 0), (1, 1), 10, 10), (1, 1), None
            )

    assert crossref_lines(a, One(), 0) == []  # type: ignore[arg-type]


def test_click_on_sagittal_at_a_disc_finds_the_angled_slice_through_it(sources) -> None:
    sag, ax = sources["sag"], sources["angled"]
    for index in (2, 9, 17):
        plane = ax.info(index).plane
        point = plane.to_patient(143.5, 143.5)  # centre of that axial slice
        found = nearest_slice(ax, point)
        assert found is not None and found[0] == index and found[1] < 1e-6
    assert same_frame(sag, ax)


def test_linked_scrolling_only_between_parallel_series(sources) -> None:
    sag, cont = sources["sag"], sources["continuous"]
    assert linked_slice(sag.info(0).plane, cont) is None  # sagittal vs axial: not linked
    shown = cont.info(10).plane
    assert linked_slice(shown, cont) == 10
    assert np.allclose(shown.distance(plane_centre(shown)), 0.0)
