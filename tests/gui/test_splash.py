"""The start-up splash: shown with the not-for-clinical-use notice, closed by the main window's
first paint."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from spineviewer.gui.splash import Splash, show_splash


def dark_fraction(splash: Splash) -> float:
    image = splash.grab().toImage()
    dark = sum(
        image.pixelColor(x, y).lightness() < 60
        for x in range(0, image.width(), 10)
        for y in range(0, image.height(), 10)
    )
    return dark / ((image.width() // 10 + 1) * (image.height() // 10 + 1))


def test_splash_is_a_frameless_painted_window(qtbot):
    splash = show_splash("9.9")
    qtbot.addWidget(splash)
    assert splash.isVisible()
    assert splash.windowFlags() & Qt.WindowType.SplashScreen
    assert splash.message() == "Starting…"
    assert dark_fraction(splash) > 0.7  # the dark pixmap, not an empty grey widget


def test_finish_closes_the_splash_when_the_window_paints(qtbot):
    splash = show_splash()
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    splash.finish(window)
    assert splash.isVisible()  # the window has not painted yet
    with qtbot.waitSignal(splash.destroyed):  # closed, and deleted on close
        window.repaint()


def test_finish_with_a_hidden_window_closes_at_once(qtbot):
    splash = show_splash()
    window = QMainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(splash.destroyed):
        splash.finish(window)


def test_the_splash_closes_even_when_the_window_never_paints(qtbot, monkeypatch):
    from spineviewer.gui import splash as splash_module

    monkeypatch.setattr(splash_module, "FINISH_LIMIT_S", 0.05)
    splash = show_splash()
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    window.setUpdatesEnabled(False)  # no paint event reaches the filter
    with qtbot.waitSignal(splash.destroyed, timeout=3000):
        splash.finish(window)
