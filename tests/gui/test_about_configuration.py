"""Help > About shows the configuration in force (file, each setting's value and source, the
file's problems; secrets only as set / not set) and the CUDA line of ``spineviewer doctor``,
which a background job computes (never the GUI thread)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLabel

from spineviewer.ai.cuda_check import cuda_report, onnxruntime_report, summary_lines
from spineviewer.gui import dialogs
from spineviewer.gui.dialogs import CUDA_CHECKING, AboutDialog

SECRET = "s3cret-Pa55word"


def shown_text(dialog: AboutDialog) -> str:
    return "\n".join(label.text() for label in dialog.findChildren(QLabel))


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "settings" / "config.toml"
    path.parent.mkdir()
    path.write_text(
        '# the viewer on the CPU, the cache beside this file\nprovider = "cpu"\n'
        'cache_dir = "cache"\nmodle_dir = "/srv/models"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SPINEVIEWER_CONFIG", str(path))
    monkeypatch.setenv("SPINEVIEWER_PACS_PASSWORD", SECRET)
    for name in ("PROVIDER", "CACHE_DIR", "PACS_TOKEN", "STARTUP_PROBE", "MODEL_DIR", "VERTEBRAE"):
        monkeypatch.delenv(f"SPINEVIEWER_{name}", raising=False)
    return path


def test_about_shows_each_setting_its_value_and_source(qtbot, config_file: Path) -> None:
    about = AboutDialog()
    qtbot.addWidget(about)
    rows = {name.text(): (value.text(), source.text()) for name, value, source in about.config_rows}
    assert list(rows) == [
        "workspace",
        "provider",
        "model_dir",
        "vertebrae",
        "cache_dir",
        "pacs_config",
        "pacs_password",
        "pacs_token",
        "startup_probe",
    ]
    assert rows["provider"] == ("cpu", "config file, line 2")
    assert rows["cache_dir"] == (str(config_file.parent / "cache"), "config file, line 3")
    workspace = Path(rows["workspace"][0])  # the suite's SPINEVIEWER_WORKSPACE wins
    assert rows["workspace"][1] == "SPINEVIEWER_WORKSPACE" and workspace.name == "workspace"
    assert rows["model_dir"][1] == "default"
    assert rows["pacs_password"] == ("set", "SPINEVIEWER_PACS_PASSWORD")
    assert rows["pacs_token"] == ("not set", "default")
    assert rows["startup_probe"] == ("no", "default")
    assert rows["vertebrae"] == ("detector", "default")
    text = shown_text(about)
    assert str(config_file) in text and "read; from SPINEVIEWER_CONFIG" in text
    # the file's problem, with its file and line
    (problem,) = about.config_problems
    assert f"{config_file}, line 4" in problem.text() and "'modle_dir'" in problem.text()
    # the secret itself is nowhere: not shown, not in what "Copy details" copies
    assert SECRET not in text and SECRET not in about.details_text()
    assert "pacs_password = set (SPINEVIEWER_PACS_PASSWORD)" in about.details_text()


def test_about_without_a_config_file_says_the_defaults_apply(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("SPINEVIEWER_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("SPINEVIEWER_PROVIDER", raising=False)
    about = AboutDialog()
    qtbot.addWidget(about)
    assert "none there: defaults and environment" in shown_text(about)
    assert about.config_problems == []
    rows = {name.text(): (value.text(), source.text()) for name, value, source in about.config_rows}
    assert rows["provider"] == ("auto", "default")


def test_the_cuda_line_arrives_from_a_background_job(qtbot, config_file: Path) -> None:
    about = AboutDialog()
    qtbot.addWidget(about)
    about.show()
    # the check is not made on the GUI thread: the box is up and says it is checking (its
    # answer comes through the event loop, which has not run yet)
    assert about.cuda_label.text() == CUDA_CHECKING
    qtbot.waitUntil(lambda: about.cuda_label.text() != CUDA_CHECKING, timeout=60000)
    ort, module = onnxruntime_report()
    cuda = cuda_report(module, ort)
    lines = about.cuda_label.text().splitlines()
    assert lines[0] == summary_lines(cuda)[0]  # what spineviewer doctor prints
    if not cuda["available"]:  # no GPU here: one line says so and why, then how to get it
        assert lines[0].startswith(f"CUDA: not available ({cuda['reason']})")
        assert lines[1:] == [f"To use the GPU: {cuda['hint']}"]
    assert about.cuda_label.text() in about.details_text()
    # the whole CUDA text is visible: the box grew for it
    label = about.cuda_label
    assert label.height() >= label.heightForWidth(label.width())
    QApplication.processEvents()


def test_an_about_box_closed_before_the_check_answers_is_harmless(qtbot, config_file) -> None:
    about = AboutDialog()
    job = about.cuda_job
    about.close()
    about.deleteLater()
    qtbot.waitUntil(lambda: job.done, timeout=60000)
    QApplication.processEvents()  # the answer reaches no dialog, and nothing breaks
    qtbot.waitUntil(lambda: job not in dialogs._CHECKS)  # and the job is let go once ended
