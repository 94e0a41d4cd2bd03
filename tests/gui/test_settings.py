"""ViewerSettings: typed round-trips through an INI file and safe defaults for bad values."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow, QToolBar

from spineviewer.gui.settings import MAX_RECENT, ViewerSettings


@pytest.fixture
def ini(tmp_path):
    return str(tmp_path / "spineviewer.ini")


def store(path: str) -> QSettings:
    return QSettings(path, QSettings.Format.IniFormat)


def fresh(path: str) -> ViewerSettings:
    """Settings read back from disk by a new QSettings, as on the next start."""
    return ViewerSettings(store(path))


def test_defaults(ini):
    settings = fresh(ini)
    assert settings.recent_studies == []
    assert settings.layout == "1x2"
    assert settings.cine_fps == 10.0
    assert settings.phi_free is False
    assert settings.corner_text is True
    assert settings.crossref is True
    assert settings.crossref_all is False


def test_values_round_trip_through_the_ini_file(ini):
    settings = fresh(ini)
    settings.layout = "2x2"
    settings.cine_fps = 24.5
    settings.phi_free = True
    settings.corner_text = False
    settings.crossref = False
    settings.crossref_all = True
    settings.add_recent("/data/study-a")
    settings.sync()

    again = fresh(ini)
    assert again.layout == "2x2"
    assert again.cine_fps == 24.5
    assert again.phi_free is True
    assert again.corner_text is False
    assert again.crossref is False
    assert again.crossref_all is True
    assert again.recent_studies == ["/data/study-a"]


def test_recent_most_recent_first_deduplicated_and_capped(ini):
    settings = fresh(ini)
    for i in range(MAX_RECENT + 5):
        settings.add_recent(f"/data/study-{i}")
    settings.add_recent("/data/study-7")
    settings.sync()
    recent = fresh(ini).recent_studies
    assert len(recent) == MAX_RECENT
    assert recent[0] == "/data/study-7"
    assert recent[1:4] == ["/data/study-14", "/data/study-13", "/data/study-12"]
    assert len(set(recent)) == len(recent)
    assert "/data/study-0" not in recent


def test_single_recent_survives_ini_round_trip(ini):
    """An INI list of one item reads back as a plain string; it must stay a list."""
    settings = fresh(ini)
    settings.add_recent("/only/one")
    settings.sync()
    assert fresh(ini).recent_studies == ["/only/one"]


def test_existing_recent_prunes_missing_paths(ini, tmp_path):
    kept = tmp_path / "kept"
    kept.mkdir()
    archive = tmp_path / "study.zip"
    archive.write_bytes(b"PK")
    settings = fresh(ini)
    settings.add_recent(str(kept))
    settings.add_recent(str(tmp_path / "gone"))
    settings.add_recent(archive)
    assert settings.existing_recent() == [str(archive), str(kept)]
    settings.sync()
    assert fresh(ini).recent_studies == [str(archive), str(kept)]


def test_cine_fps_is_clamped(ini):
    settings = fresh(ini)
    settings.cine_fps = 500
    assert settings.cine_fps == 60.0
    settings.cine_fps = 0.1
    assert settings.cine_fps == 1.0
    with pytest.raises(ValueError, match="finite"):
        settings.cine_fps = float("nan")


def test_layout_setter_rejects_unknown_layouts(ini):
    with pytest.raises(ValueError, match="1x1, 1x2, 1x3, 2x2"):
        fresh(ini).layout = "3x3"


def test_bad_stored_values_fall_back_to_defaults(ini):
    with open(ini, "w", encoding="utf-8") as f:
        f.write(
            "[view]\n"
            "layout=5x7\n"
            "cine_fps=fast\n"
            "phi_free=maybe\n"
            "corner_text=42\n"
            "crossref=\n"
            "crossref_all=@Invalid()\n"
            "[recent]\n"
            "studies=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x6ogarbage)\n"
        )
    settings = fresh(ini)
    assert settings.layout == "1x2"
    assert settings.cine_fps == 10.0
    assert settings.phi_free is False
    assert settings.corner_text is True
    assert settings.crossref is True
    assert settings.crossref_all is False
    assert settings.recent_studies == []


def test_out_of_range_stored_fps_is_clamped_and_text_bools_read(ini):
    with open(ini, "w", encoding="utf-8") as f:
        f.write("[view]\ncine_fps=1000\nphi_free=true\ncorner_text=false\n")
    settings = fresh(ini)
    assert settings.cine_fps == 60.0
    assert settings.phi_free is True
    assert settings.corner_text is False


def test_default_store_is_user_ini_of_spineviewer():
    settings = ViewerSettings()  # tests/gui/conftest.py points the user scope at tmp_path
    qs = settings.qsettings
    assert qs.format() == QSettings.Format.IniFormat
    assert qs.scope() == QSettings.Scope.UserScope
    assert qs.organizationName() == "SpineViewer"
    assert qs.applicationName() == "SpineViewer"


def test_window_geometry_round_trip(qtbot, ini):
    window = QMainWindow()
    qtbot.addWidget(window)
    toolbar = QToolBar("Tools")
    toolbar.setObjectName("tools")
    window.addToolBar(toolbar)
    window.resize(640, 480)
    window.show()
    qtbot.waitExposed(window)
    settings = fresh(ini)
    settings.save_geometry(window)
    settings.sync()

    other = QMainWindow()
    qtbot.addWidget(other)
    other_toolbar = QToolBar("Tools")
    other_toolbar.setObjectName("tools")
    other.addToolBar(other_toolbar)
    assert fresh(ini).restore_geometry(other)
    assert other.size() == window.size()


def test_restore_without_saved_geometry_is_false(qtbot, ini):
    window = QMainWindow()
    qtbot.addWidget(window)
    assert fresh(ini).restore_geometry(window) is False
