"""The viewer reads spineviewer.config: the config file's provider reaches the analysis when the
viewer has no choice of its own, and a bad config file is a notice at start-up naming the file
and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from spineviewer.ai.cuda_check import CUDA, cuda_status
from spineviewer.ai.registry import find_models
from spineviewer.gui import app
from spineviewer.gui.main_window import MainWindow


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty config file the viewer reads (tests write their settings into it)."""
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    monkeypatch.setenv("SPINEVIEWER_CONFIG", str(path))
    for name in ("SPINEVIEWER_PROVIDER", "SPINEVIEWER_STARTUP_PROBE"):
        monkeypatch.delenv(name, raising=False)
    return path


def provider_menu(win: MainWindow):
    """AI > Run models on."""
    ai_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&AI")
    return next(a.menu() for a in ai_menu.actions() if a.text() == "&Run models on")


def provider_actions(win: MainWindow) -> dict[str, bool]:
    """AI > Run models on: entry text -> checked."""
    return {a.text(): a.isChecked() for a in provider_menu(win).actions()}


def test_the_config_files_provider_reaches_the_sessions_when_the_viewer_chose_none(
    qtbot, config_file: Path
) -> None:
    config_file.write_text('# the GPU, please\nprovider = "cuda"\n', encoding="utf-8")
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.settings.ai_provider is None  # nothing chosen in the viewer
    assert win.settings.ai_provider_in_force == "cuda"
    assert provider_actions(win)["CU&DA"]
    sessions = win.analysis.sessions()
    assert sessions.choice == "cuda"
    # a real session asks for CUDA: it runs there, or says why not (asked for, so said)
    entry = next(e for e in find_models() if e.available and e.id == "disc-state")
    session = sessions.get(entry)
    if cuda_status().available:
        assert session.provider == CUDA
    else:
        assert sessions.provider == "cpu"
        assert any("CUDA is not available" in notice for notice in sessions.notices)

    # the viewer's own choice wins over the file's, and is remembered
    next(a for a in provider_menu(win).actions() if a.text() == "&CPU").trigger()
    assert win.settings.ai_provider == "cpu"
    assert win.analysis.sessions().choice == "cpu"
    win.close()


def test_without_a_config_file_the_viewer_runs_on_auto(qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SPINEVIEWER_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("SPINEVIEWER_PROVIDER", raising=False)
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.settings.ai_provider is None
    assert win.analysis.sessions().choice == "auto"
    assert provider_actions(win)["&Automatic (CUDA, else CPU)"]
    win.close()


def test_a_provider_variable_that_is_no_provider_is_a_notice_not_a_crash(
    qtbot, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.write_text('provider = "cpu"\n', encoding="utf-8")
    monkeypatch.setenv("SPINEVIEWER_PROVIDER", "gpu")
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.analysis.sessions().choice == "cpu"  # the file's, the variable ignored
    notice = win._notice
    assert notice is not None and notice.isVisible()
    assert "SPINEVIEWER_PROVIDER" in notice.text() and "'gpu'" in notice.text()
    win.close()


def test_a_bad_config_file_is_a_notice_naming_the_file_and_line(qtbot, config_file: Path) -> None:
    config_file.write_text('provider = "cpu"\nmodle_dir = "/srv/models"\n', encoding="utf-8")
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    app.show_config_problems(win)
    notice = win._notice
    assert notice is not None and notice.isVisible() and not notice.isModal()
    assert f"{config_file}, line 2" in notice.text()
    assert "no setting is named 'modle_dir'" in notice.text()
    assert f"{config_file}, line 2" in win.statusBar().currentMessage()
    win.close()


def test_a_config_file_that_is_not_toml_is_a_notice_at_start_up(
    qtbot, config_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config_file.write_text('provider = "cpu"\nworkspace = [unclosed\n', encoding="utf-8")
    seen: list[str] = []
    real_notify = MainWindow.notify

    def notify(self: MainWindow, title: str, text: str, details: str = "") -> None:
        seen.append(text)  # what the window was asked to say, then said for real
        real_notify(self, title, text, details)

    monkeypatch.setattr(MainWindow, "notify", notify)
    assert app.run_viewer([], screenshot=tmp_path / "window.png") == 0
    assert len(seen) == 1
    assert f"{config_file}, line 2" in seen[0] and "not valid TOML" in seen[0]


def test_no_notice_when_the_config_is_fine(qtbot, config_file: Path) -> None:
    config_file.write_text('provider = "cpu"\n', encoding="utf-8")
    win = MainWindow()
    qtbot.addWidget(win)
    app.show_config_problems(win)
    assert win._notice is None
    win.close()


@pytest.mark.parametrize("on", [True, False])
def test_the_start_up_probe_is_a_setting_of_the_config_file(
    qtbot, config_file: Path, capsys: pytest.CaptureFixture[str], on: bool
) -> None:
    from PySide6.QtWidgets import QWidget

    from spineviewer.gui.splash import report_first_paint

    config_file.write_text(f"startup_probe = {'true' if on else 'false'}\n", encoding="utf-8")
    widget = QWidget()
    qtbot.addWidget(widget)
    report_first_paint(widget, "probe window")
    widget.show()
    qtbot.waitExposed(widget)
    widget.repaint()
    qtbot.wait(50)
    assert ("painted probe window" in capsys.readouterr().out) is on
