"""The dark theme is applied to the application, and the dialogs show under it."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette

from spineviewer.gui import theme
from spineviewer.gui.dialogs import AboutDialog, ShortcutsDialog


@pytest.fixture
def dark_app(qapp):
    """The application with the dark theme, restored to its previous look afterwards."""
    palette, sheet, style = qapp.palette(), qapp.styleSheet(), qapp.style().name()
    theme.apply_dark_theme(qapp)
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setStyle(style)
    qapp.setPalette(palette)


def luminance(color: QColor) -> float:
    return 0.2126 * color.redF() + 0.7152 * color.greenF() + 0.0722 * color.blueF()


def test_palette_is_dark_with_light_text(dark_app):
    palette = dark_app.palette()
    sheet = dark_app.styleSheet()
    dark_app.setStyleSheet("")  # a style sheet wraps the style in an unnamed proxy
    assert dark_app.style().name().lower() == "fusion"
    dark_app.setStyleSheet(sheet)
    assert palette.color(QPalette.ColorRole.Window) == QColor(theme.WINDOW)
    assert palette.color(QPalette.ColorRole.Base) == QColor(theme.BASE)
    assert palette.color(QPalette.ColorRole.Highlight) == QColor(theme.ACCENT)
    assert luminance(palette.color(QPalette.ColorRole.Base)) < 0.1
    assert luminance(palette.color(QPalette.ColorRole.Window)) < 0.15
    assert luminance(palette.color(QPalette.ColorRole.Text)) > 0.7
    tooltip_contrast = luminance(palette.color(QPalette.ColorRole.ToolTipText)) - luminance(
        palette.color(QPalette.ColorRole.ToolTipBase)
    )
    assert tooltip_contrast > 0.5


def test_disabled_text_is_dimmer(dark_app):
    palette = dark_app.palette()
    active = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Text)
    disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    assert luminance(disabled) < luminance(active) - 0.2


def test_stylesheet_covers_the_panels(dark_app):
    sheet = dark_app.styleSheet()
    for widget in ("QTreeWidget", "QDockWidget", "QToolBar", "QStatusBar", "QProgressBar"):
        assert widget in sheet


@pytest.mark.parametrize(
    "name",
    [
        "VIEWPORT_BACKGROUND",
        "OVERLAY_TEXT_COLOR",
        "ACTIVE_BORDER_COLOR",
        "CROSSREF_COLOR",
        "CROSSREF_DIM_COLOR",
        "CURSOR_COLOR",
        "WARNING_COLOR",
    ],
)
def test_viewport_colours_are_valid(name):
    assert QColor(getattr(theme, name)).isValid()


def test_viewport_background_is_near_black_and_dim_crossref_translucent():
    assert luminance(QColor(theme.VIEWPORT_BACKGROUND)) < 0.06
    dim = QColor(theme.CROSSREF_DIM_COLOR)
    assert 0 < dim.alpha() < 255
    assert dim.rgb() == QColor(theme.CROSSREF_COLOR).rgb()


@pytest.mark.parametrize("dialog_class", [AboutDialog, ShortcutsDialog])
def test_dialogs_show_with_the_theme(dark_app, qtbot, dialog_class):
    dialog = dialog_class()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.isVisible()
    shot = dialog.grab()
    assert not shot.isNull()
    assert shot.width() > 300
    assert shot.height() > 300
