"""The bindings registry: complete, unambiguous, grouped."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtGui import QKeySequence

from spineviewer.gui.shortcuts import BINDINGS, GROUPS, Binding, binding_for, bindings_by_group

EXPECTED_KEYS = {
    "Navigation": {"Up / Down or wheel", "Home / End", "Page Up / Page Down", "C", "[ / ]", "Tab"},
    "Display": {
        "1-9",
        "Left drag",
        "Right drag or Ctrl+wheel",
        "Middle drag",
        "F or Space",
        "R",
        "V",
        "Alt+R",
        "Alt+Shift+R",
        "H",
        "Shift+H",
        "I",
        "P",
        "X",
        "Shift+X",
        "Shift+move",
        "Double-click",
        "Click a cross-reference line",
    },
    "Tools": {"W", "Z", "T"},
    "Annotate": {
        "S",
        "D",
        "Shift+D",
        "A",
        "K",
        "B",
        "E",
        "G",
        "N",
        "O",
        "Q",
        "L",
        "+ / -",
        "Alt+Up",
        "Alt+Down",
        "Esc",
        "Delete",
        "Double-click an edge",
        "Ctrl+click a vertex",
        "Ctrl+Shift+Up / Down",
        "Ctrl+Z",
        "Ctrl+Y or Ctrl+Shift+Z",
        "Ctrl+Return",
        "Ctrl+Backspace",
        ".",
        ",",
        "F2",
        "Alt+1 / Alt+2 / Alt+3",
        "Shift+I",
    },
    "AI": {"Ctrl+R or Ctrl+Shift+A"},
    "Layout": {"Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4"},
    "File": {
        "Ctrl+O",
        "Ctrl+Shift+O",
        "Ctrl+E",
        "Ctrl+Shift+C",
        "Ctrl+P",
        "Ctrl+Shift+Q",
        "Ctrl+Q",
        "F1",
    },
}


def test_bindings_cover_exactly_the_expected_keys():
    grouped = bindings_by_group()
    assert list(grouped) == list(GROUPS)
    assert {g: {b.keys for b in items} for g, items in grouped.items()} == EXPECTED_KEYS


def test_grouping_keeps_every_binding_once_in_order():
    flat = [b for items in bindings_by_group().values() for b in items]
    assert sorted(flat, key=BINDINGS.index) == list(BINDINGS)
    assert len(flat) == len(BINDINGS)


def test_no_key_is_bound_twice_and_actions_are_unique():
    keys = [b.keys for b in BINDINGS]
    actions = [b.action for b in BINDINGS]
    assert len(keys) == len(set(keys))
    assert len(actions) == len(set(actions))


def test_binding_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        BINDINGS[0].keys = "Q"  # type: ignore[misc]


SINGLE_SEQUENCES = (
    "C",
    "Tab",
    "R",
    "V",
    "Alt+R",
    "Alt+Shift+R",
    "Alt+Up",
    "Alt+Down",
    "Shift+D",
    "L",
    "H",
    "Shift+H",
    "I",
    "P",
    "X",
    "W",
    "Z",
    "T",
    "Ctrl+1",
    "Ctrl+2",
    "Ctrl+3",
    "Ctrl+4",
    "Ctrl+O",
    "Ctrl+Shift+O",
    "Ctrl+Q",
    "F1",
)


@pytest.mark.parametrize("keys", SINGLE_SEQUENCES)
def test_single_key_bindings_are_valid_key_sequences(keys):
    assert keys in {b.keys for b in BINDINGS}
    sequence = QKeySequence(keys)
    assert sequence.count() == 1
    assert sequence.toString() == keys


def test_binding_for_finds_actions_and_explains_misses():
    assert binding_for("Invert") == Binding("V", "Invert", "Display")
    with pytest.raises(KeyError, match="known actions"):
        binding_for("Make coffee")


def test_every_window_shortcut_is_listed(qtbot):
    """What Help > Shortcuts lists is what the window's actions do (exact key sequences)."""
    import re

    from spineviewer.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    listed = {
        token.strip()
        for b in BINDINGS
        for token in re.split(r" or | / |, ", b.keys.replace("F or Space", "F / Space"))
    }
    names = {"Del": "Delete"}
    missing = [
        f"{action.text()}: {seq.toString()}"
        for action in window.actions()
        for seq in action.shortcuts()
        if names.get(seq.toString(), seq.toString()) not in listed
    ]
    assert not missing, f"shortcuts not in BINDINGS: {missing}"
