"""About and shortcuts dialogs show what they promise."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QLabel, QMainWindow

import spineviewer
from spineviewer.gui import dialogs
from spineviewer.gui.dialogs import AboutDialog, ShortcutsDialog, component_versions
from spineviewer.gui.shortcuts import BINDINGS, bindings_by_group


def label_text(widget) -> str:
    return "\n".join(label.text() for label in widget.findChildren(QLabel))


@pytest.fixture
def about(qtbot):
    dialog = AboutDialog(model_info="L-spine disc model 1.2.0 (CUDAExecutionProvider)")
    qtbot.addWidget(dialog)
    return dialog


def test_about_says_not_for_clinical_use(about):
    text = label_text(about).lower()
    assert "not for clinical use" in text
    assert "synthetic phantoms" in text
    assert about.notice.isVisibleTo(about)


def test_about_shows_version_model_info_and_license(about):
    text = label_text(about)
    assert f"SpineViewer {spineviewer.__version__}" in text
    assert "Models and inference" in text
    assert "L-spine disc model 1.2.0 (CUDAExecutionProvider)" in text
    assert "Apache-2.0" in text


def test_about_default_model_info(qtbot):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert "No AI models loaded yet." in label_text(dialog)


def test_about_lists_library_versions(about):
    text = label_text(about)
    for name in (
        "Python",
        "Qt",
        "PySide6",
        "pyqtgraph",
        "pydicom",
        "numpy",
        "SimpleITK",
        "onnxruntime",
        "onnxruntime providers",
    ):
        assert name in about.versions
        assert name in text
    assert about.versions["numpy"] == __import__("numpy").__version__
    assert "CPUExecutionProvider" in about.versions["onnxruntime providers"]
    assert "numpy: " in about.versions_text()


def test_missing_library_reads_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import now raises ImportError
    monkeypatch.setitem(sys.modules, "SimpleITK", None)
    versions = component_versions()
    assert versions["onnxruntime"] == "not installed"
    assert versions["SimpleITK"] == "not installed"
    assert versions["onnxruntime providers"] == "not installed"
    assert dialogs.onnxruntime_providers() is None


def test_shortcuts_dialog_lists_every_binding(qtbot):
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    assert not dialog.isModal()
    shown = [(item.text(0), item.text(1)) for item in dialog.binding_items()]
    assert shown == [(b.keys, b.action) for b in _in_group_order()]
    assert set(dialog.visible_bindings()) == set(BINDINGS)
    groups = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    assert groups == list(dict.fromkeys(b.group for b in BINDINGS))


def _in_group_order():
    return [b for items in bindings_by_group().values() for b in items]


def test_shortcuts_search_filters_keys_actions_and_groups(qtbot):
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    dialog.search.setText("rotate")
    assert {b.keys for b in dialog.visible_bindings()} == {"Alt+R", "Alt+Shift+R"}
    dialog.search.setText("LAYOUT")
    assert {b.group for b in dialog.visible_bindings()} == {"Layout"}
    dialog.search.setText("zzz no match")
    assert dialog.visible_bindings() == []
    assert all(
        dialog.tree.topLevelItem(i).isHidden() for i in range(dialog.tree.topLevelItemCount())
    )
    dialog.search.clear()
    assert len(dialog.visible_bindings()) == len(BINDINGS)


def test_shortcuts_dialog_is_non_modal_when_shown(qtbot):
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.isVisible()
    assert not dialog.isModal()


def test_about_takes_parent_first_like_any_widget(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    dialog = AboutDialog(window, model_info="two models")
    assert dialog.parent() is window
    assert "two models" in label_text(dialog)
