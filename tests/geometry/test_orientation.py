"""Orientation letters from direction cosines, hand-computed."""

from __future__ import annotations

import numpy as np

from spineviewer.geometry import direction_letters, edge_letters


def test_axis_letters_follow_lps() -> None:
    assert [direction_letters(v) for v in np.eye(3)] == ["L", "P", "S"]
    assert [direction_letters(-v) for v in np.eye(3)] == ["R", "A", "I"]


def test_oblique_directions_list_strongest_first_and_drop_weak_components() -> None:
    assert direction_letters((0, -0.8, -0.6)) == "AI"
    assert direction_letters((0.1, 0.6, -0.8)) == "IP"
    assert direction_letters((0.2, 0.0, 0.98)) == "S"
    assert direction_letters((0, 0, 0)) == ""


def test_standard_planes() -> None:
    axial = edge_letters((1, 0, 0), (0, 1, 0))
    assert axial == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    sagittal = edge_letters((0, 1, 0), (0, 0, -1))
    assert sagittal == {"left": "A", "right": "P", "top": "S", "bottom": "I"}
    coronal = edge_letters((1, 0, 0), (0, 0, -1))
    assert coronal == {"left": "R", "right": "L", "top": "S", "bottom": "I"}


def test_axial_tilted_by_twenty_degrees() -> None:
    t = np.radians(20)
    col = (0, np.cos(t), -np.sin(t))  # rows run posterior and a little inferior
    assert edge_letters((1, 0, 0), col) == {"left": "R", "right": "L", "top": "AS", "bottom": "PI"}


def test_patient_orientation_codes_as_lps_vectors() -> None:
    from spineviewer.geometry.orientation import orientation_code_vector

    assert orientation_code_vector("L").tolist() == [1.0, 0.0, 0.0]
    assert orientation_code_vector("F").tolist() == [0.0, 0.0, -1.0]
    assert orientation_code_vector("H").tolist() == [0.0, 0.0, 1.0]
    oblique = orientation_code_vector("AF")
    assert np.allclose(oblique, [0.0, -(0.5**0.5), -(0.5**0.5)])
    assert orientation_code_vector("").tolist() == [0.0, 0.0, 0.0]
