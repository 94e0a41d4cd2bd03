"""Linked scrolling and cross-reference bookkeeping on viewport models, without Qt or widgets:
the demo's sagittal series in two models (parallel) and its continuous axial in a third."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from spineviewer.dicom import Study, scan
from spineviewer.viewing import StackListSource, ViewportLinks, ViewportModel


@pytest.fixture(scope="module")
def study(demo_study_dir: Path) -> Study:
    return scan(demo_study_dir).studies[0]


@pytest.fixture
def models(study) -> tuple[ViewportModel, ViewportModel, ViewportModel]:
    sag, sag2, ax = ViewportModel(), ViewportModel(), ViewportModel()
    sag.set_source(StackListSource.from_stacks(study.series[0].stacks), index=3)
    sag2.set_source(StackListSource.from_stacks(study.series[0].stacks), index=9)
    ax.set_source(StackListSource.from_stacks(study.series[2].stacks))
    return sag, sag2, ax


def test_a_parallel_partner_follows_and_a_crossing_one_stays(models) -> None:
    sag, sag2, ax = models
    links = ViewportLinks(models)
    assert links.partners(sag) == [sag2, ax]
    ax_index = ax.index
    sag.set_index(6)  # without a scheduler the partners follow at once
    assert sag2.index == 6  # the same series' slice through the same plane
    assert ax.index == ax_index  # the axial crosses: it gets a line, not a new slice
    assert links.pending == []
    links.linked = False
    sag.set_index(2)
    assert sag2.index == 6


def test_following_is_deferred_and_coalesced(models) -> None:
    sag, sag2, _ = models
    later: list[Callable[[], None]] = []
    links = ViewportLinks(models, defer=later.append)
    for index in (4, 5, 7):
        sag.set_index(index)
    assert sag2.index == 9 and len(later) == 1 and links.pending == [sag, sag, sag]
    later.pop()()
    assert sag2.index == 7 and links.pending == []


def test_lines_are_asked_for_where_a_slice_changed(models) -> None:
    sag, sag2, ax = models
    links = ViewportLinks(models)
    asked: list[tuple[ViewportModel, ViewportModel]] = []
    links.events.lines.connect(lambda target, owner: asked.append((target, owner)))
    ax.set_index(ax.index + 1)
    # the lines on the axial are re-cut first, then the axial's line goes to its partners
    assert asked == [(ax, sag), (ax, sag2), (sag, ax), (sag2, ax)]
    (line,) = links.lines_on(sag, ax)
    sag_info, ax_info = sag.info, ax.info
    assert sag_info is not None and ax_info is not None
    expected = sag_info.plane.intersect(ax_info.plane)
    assert line.current and line.index == ax.index
    assert np.allclose(line.segment.start, expected.start)
    assert links.lines_on(sag, sag2) == []  # parallel planes never cross
    links.show_all = True
    assert len(links.lines_on(sag, ax)) > 1


def test_going_to_a_patient_point(models) -> None:
    sag, _, ax = models
    links = ViewportLinks(models)
    target = ax.source.info(1).plane
    point = target.to_patient(10.0, 12.0)
    assert links.go_to_point(ax, point) == 1 and ax.index == 1
    assert links.go_to_point(ViewportModel(), point) is None
    assert sag.index == 3  # the others stay: going to a point moves only the model asked
