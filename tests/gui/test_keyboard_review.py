"""Reviewing the AI's proposals on the demo study with the keyboard only: next / previous
proposal (. and ,), accept (Ctrl+Return), reject (Ctrl+Backspace), relabel by typing (F2),
disc state by number (Alt+1 normal, Alt+2 bulge, Alt+3 herniation; plain digits in the
Annotations list). The keys go through the window's shortcut map, as a person's would.

The scripted review prints how many keys and seconds it took (informational, not asserted).
"""

from __future__ import annotations

import time

import pytest
from gui_helpers import open_analysed
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from spineviewer.annotations import Status
from spineviewer.gui.annotate.labelling import LabelPicker
from spineviewer.gui.main_window import MainWindow
from spineviewer.phantom import load_ground_truth

K = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
STATE_KEYS = {"normal": K.Key_1, "bulge": K.Key_2, "herniation": K.Key_3}


@pytest.fixture
def analysed(qtbot, demo_study_dir):
    """The demo study open and analysed (real models, CPU), the window active, the sagittal
    viewport focused: what a reader sees before reviewing."""
    win = open_analysed(qtbot, demo_study_dir)
    win.activateWindow()  # window shortcuts need the active window
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    win.grid.viewports[0].setFocus()
    yield win, load_ground_truth(demo_study_dir)
    win.close()


def selected(win: MainWindow):
    c = win.annotation.controller
    return c.find(c.selected)


class Keys:
    """Presses keys on the focused widget and counts them (a chord is one key)."""

    def __init__(self, qtbot, win: MainWindow) -> None:
        self.qtbot, self.win, self.count = qtbot, win, 0

    def press(self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier):
        target = QApplication.focusWidget() or self.win
        self.qtbot.keyClick(target, key, modifier)
        self.count += 1

    def type(self, widget, text: str) -> None:
        self.qtbot.keyClicks(widget, text)
        self.count += len(text)


def test_the_demo_proposals_are_reviewed_by_keys_alone(qtbot, analysed) -> None:
    win, truth = analysed
    doc = win.annotation.controller.document
    pending = list(doc.proposed())
    assert len(pending) >= 10  # vertebrae and discs
    true_levels = {v.label for v in truth.vertebrae}
    true_states = {d.level: d.state for d in truth.discs}
    keys = Keys(qtbot, win)
    start = time.perf_counter()
    keys.press(K.Key_Period)  # the first proposal
    reviewed = 0
    while doc.proposed() and reviewed < 3 * len(pending):
        ann = selected(win)
        assert ann is not None and ann.status == Status.PROPOSED
        if ann.label in true_states:  # a disc: its state by number (confirms or corrects)
            keys.press(STATE_KEYS[true_states[ann.label]], ALT)
        elif ann.label in true_levels:
            keys.press(K.Key_Return, CTRL)
        else:
            keys.press(K.Key_Backspace, CTRL)
        reviewed += 1
    seconds = time.perf_counter() - start
    assert not doc.proposed()
    assert reviewed == len(pending)  # each decision took one key and moved on by itself
    for a in doc:
        if a.label in true_states:
            assert a.state == true_states[a.label] and a.status in (Status.ACCEPTED, Status.EDITED)
        elif a.label in true_levels:
            assert a.status == Status.ACCEPTED
        else:
            assert a.status == Status.REJECTED
    print(
        f"\nkeyboard review of the demo study: {len(pending)} proposals, "
        f"{keys.count} keystrokes, {seconds:.2f} s"
    )


def test_previous_relabel_and_reject_by_keys(qtbot, analysed) -> None:
    win, _truth = analysed
    doc = win.annotation.controller.document
    keys = Keys(qtbot, win)
    order = [a.uid for a in doc.proposed()]
    keys.press(K.Key_Period)
    assert selected(win).uid == order[0]
    keys.press(K.Key_Period)
    assert selected(win).uid == order[1]
    keys.press(K.Key_Comma)  # previous
    assert selected(win).uid == order[0]
    keys.press(K.Key_Comma)  # wraps to the last
    assert selected(win).uid == order[-1]
    # relabel: F2 opens the picker, typing narrows it, Enter takes the best match
    vertebra = next(a for a in doc.proposed() if a.kind.value == "rectangle")
    win.annotation.controller.select(vertebra.uid)
    keys.press(K.Key_F2)
    picker = win.annotation.panel.picker
    assert isinstance(picker, LabelPicker) and picker.isVisible()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is picker.edit, timeout=5000)
    keys.type(picker.edit, "l6")
    assert picker.keys()[0] == "L6"
    keys.press(K.Key_Return)
    assert not picker.isVisible()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)  # the keys go back to the window
    assert doc[vertebra.uid].label == "L6" and doc[vertebra.uid].status == Status.EDITED
    assert selected(win).uid != vertebra.uid  # on to the next proposal
    win.annotation.undo_action.trigger()
    assert doc[vertebra.uid].label == vertebra.label
    # a disc's state by Alt+digit: a different state corrects it, then the next proposal
    disc = next(a for a in doc.proposed() if a.kind.value == "ellipse")
    other = next(s for s in STATE_KEYS if s != disc.state)
    win.annotation.controller.select(disc.uid)
    win.grid.viewports[0].setFocus()
    keys.press(STATE_KEYS[other], ALT)
    assert doc[disc.uid].state == other and doc[disc.uid].status == Status.EDITED
    # reject
    target = selected(win)
    keys.press(K.Key_Backspace, CTRL)
    assert doc[target.uid].status == Status.REJECTED
    # plain digits are window presets in a viewport, the disc state in the Annotations list
    win.annotation.controller.select(disc.uid)
    win.grid.viewports[0].setFocus()
    keys.press(STATE_KEYS[next(s for s in STATE_KEYS if s != other)])
    assert doc[disc.uid].state == other  # unchanged: the digit was a window preset there
    tree = win.annotation.panel.tree
    tree.setFocus()
    back = next(s for s in STATE_KEYS if s != other)
    win.annotation.controller.select(disc.uid)
    keys.press(STATE_KEYS[back])
    assert doc[disc.uid].state == back
